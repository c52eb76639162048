# Load: many mounts at once, many clients at once, and what one worker
# costs in memory.

. "$(atf_get_srcdir)/common.sh"

fdcount()
{
	ls "/proc/$1/fd" | wc -l
}

rss_kib()
{
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

atf_test_case many_mounts cleanup
many_mounts_head()
{
	atf_set descr "200 mounts held at once by one fsmonitor, each " \
	    "usable; memory per mount reported"
	atf_set require.user root
	atf_set timeout 600
}
many_mounts_body()
{
	fsm_start "mount_max 300"
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	fpid=$(pgrep -P "$pid" -x fsmount)
	p0=$(rss_kib "$pid") f0=$(rss_kib "$fpid")
	mkdir "$w/src"
	echo shared >"$w/src/f"
	i=0
	while [ $i -lt 200 ]; do
		mkdir "$w/m$i"
		fsctl mount -o threads=1 "$w/src" "$w/m$i" ||
		    atf_fail "mount $i failed"
		i=$((i + 1))
	done
	atf_check_equal "$(fsm_mounts | wc -l)" 200
	i=0
	while [ $i -lt 200 ]; do
		[ "$(cat "$w/m$i/f")" = shared ] || atf_fail "m$i unusable"
		i=$((i + 20))
	done
	workers=$(pgrep -P "$fpid" -x fsworker)
	atf_check_equal "$(echo "$workers" | wc -l)" 200
	wsum=0
	for p in $workers; do
		wsum=$((wsum + $(rss_kib "$p")))
	done
	p1=$(rss_kib "$pid") f1=$(rss_kib "$fpid")
	echo "per mount: worker RSS $((wsum / 200)) KiB," \
	    "parent +$(((p1 - p0) * 1024 / 200)) bytes," \
	    "fsmount +$(((f1 - f0) * 1024 / 200)) bytes"
	i=0
	while [ $i -lt 200 ]; do
		fsctl unmount "$w/m$i" || atf_fail "unmount $i failed"
		i=$((i + 1))
	done
	atf_check -o empty fsm_mounts
	atf_check_equal "$(pgrep -P "$fpid" -x fsworker | wc -l)" 0
}
many_mounts_cleanup()
{
	fsm_cleanup
}

atf_test_case parallel_clients cleanup
parallel_clients_head()
{
	atf_set descr "50 clients in parallel run mount, status and " \
	    "unmount loops for 60 s: every reply right, nothing leaked"
	atf_set require.user root
	atf_set timeout 600
}
parallel_clients_body()
{
	fsm_start "mount_max 1000"
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	fpid=$(pgrep -P "$pid" -x fsmount)
	pfd=$(fdcount "$pid") ffd=$(fdcount "$fpid")
	end=$(($(date +%s) + ${FSM_LOAD_SECONDS:-60}))
	jobs=
	i=0
	while [ $i -lt 50 ]; do
		mkdir "$w/s$i" "$w/m$i"
		echo "client $i" >"$w/s$i/f"
		(
			n=0
			while [ "$(date +%s)" -lt "$end" ]; do
				fsctl mount "$w/s$i" "$w/m$i" || exit 1
				[ "$(cat "$w/m$i/f")" = "client $i" ] || exit 2
				fsctl status | grep -q " $w/m$i " || exit 3
				fsctl unmount "$w/m$i" || exit 4
				n=$((n + 1))
			done
			echo "$n" >"$w/count$i"
		) >"$w/out$i" 2>&1 &
		jobs="$jobs $!"
		i=$((i + 1))
	done
	i=0
	for j in $jobs; do
		wait "$j" || atf_fail "client $i failed: $(cat "$w/out$i")"
		i=$((i + 1))
	done
	total=$(cat "$w"/count* | awk '{ s += $1 } END { print s }')
	echo "$total mount/status/unmount rounds by 50 clients"
	[ "$total" -ge 50 ] || atf_fail "too few rounds: $total"
	atf_check -o empty fsm_mounts
	n=0
	while [ "$(fdcount "$pid")" -ne "$pfd" ] ||
	    [ "$(fdcount "$fpid")" -ne "$ffd" ]; do
		n=$((n + 1))
		[ $n -gt 50 ] && atf_fail "descriptors: parent $pfd ->" \
		    "$(fdcount "$pid"), fsmount $ffd -> $(fdcount "$fpid")"
		sleep 0.1
	done
	atf_check_equal "$(pgrep -P "$fpid" | wc -l)" 0
}
parallel_clients_cleanup()
{
	fsm_cleanup
}

atf_test_case stopped_client cleanup
stopped_client_head()
{
	atf_set descr "A client stopped in the middle of an exchange " \
	    "delays no one else"
	atf_set require.user root
}
stopped_client_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	# Half a hello, then the client stops for good.
	python3 -c '
import socket, struct, sys, os, signal
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.send(struct.pack("<II", 1, 28))
os.kill(os.getpid(), signal.SIGSTOP)' "$(fsm_sock)" &
stopped=$!
	sleep 0.2
	start=$(date +%s%N)
	atf_check fsctl mount "$w/s" "$w/m"
	atf_check -o match:"$w/m" fsctl status
	atf_check fsctl unmount "$w/m"
	ms=$((($(date +%s%N) - start) / 1000000))
	kill -KILL "$stopped"
	echo "three requests beside a stopped client took $ms ms"
	[ "$ms" -lt 5000 ] || atf_fail "delayed: $ms ms"
}
stopped_client_cleanup()
{
	fsm_cleanup
}

# mount_dev_fuse SRC MNT: mounts with the options of worker_memory, again
# while the worker says it took FUSE over io_uring, which another suite
# may have turned on meanwhile (t_ops_uring): its rings stay resident.
mount_dev_fuse()
{
	n=0
	while :; do
		fsctl mount -o nopassthrough,cache=never "$1" "$2" ||
		    atf_fail "mount failed"
		pid=$(fsm_mount_field "$2" pid)
		fsm_wait_until 10 grep -q "$2: transport" \
		    "$(fsm_workdir)/fsmonitor.log" ||
		    atf_fail "the worker logged no transport"
		grep "$2: transport" "$(fsm_workdir)/fsmonitor.log" |
		    tail -1 | grep -q "transport /dev/fuse" && return
		n=$((n + 1))
		[ $n -lt 20 ] || atf_fail "every mount took io_uring"
		fsctl unmount "$2" || atf_fail "unmount failed"
		sleep 1
	done
}

# anon_back PID KIB: the worker's RssAnon is at most KIB.
anon_back()
{
	[ "$(fsm_status_field "$1" RssAnon)" -le "$2" ]
}

atf_test_case worker_memory cleanup
worker_memory_head()
{
	atf_set descr "a fresh worker is linked statically and under " \
	    "2 MiB; once idle after 1 MiB writes and reads it gives the " \
	    "pages of its buffers back"
	atf_set require.user root
	atf_set timeout 300
}
worker_memory_body()
{
	fsm_wrapped && atf_skip "the worker runs under valgrind"
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/src" "$w/mnt"
	mount_dev_fuse "$w/src" "$w/mnt"
	pid=$(fsm_mount_field "$w/mnt" pid)
	fresh=$(rss_kib "$pid")
	anon=$(fsm_status_field "$pid" RssAnon)
	echo "fresh worker: VmRSS $fresh KiB, RssAnon $anon KiB"
	# ASan cannot be linked statically, its shadow alone is larger,
	# and it keeps what the requests freed in quarantine.
	slack=512
	if readelf -d "$TOP/fsworker/fsworker" | grep -q 'NEEDED.*libasan'
	then
		echo "sanitizer build: no budget for VmRSS"
		slack=1536
	else
		readelf -l "$TOP/fsworker/fsworker" | grep -q INTERP &&
		    atf_fail "fsworker is linked dynamically"
		[ "$fresh" -lt 2048 ] ||
		    atf_fail "a fresh worker uses $fresh KiB, 2048 or more"
	fi
	# cache=never: every 1 MiB block is a request, or a reply, of 1 MiB.
	atf_check dd if=/dev/zero of="$w/mnt/f" bs=1M count=32 status=none
	atf_check -o ignore dd if="$w/mnt/f" of=/dev/null bs=1M status=none
	peak=$(fsm_status_field "$pid" VmHWM)
	echo "after the I/O: VmHWM $peak KiB"
	[ "$peak" -ge $((fresh + 1024)) ] ||
	    atf_fail "the I/O did not touch the buffers"
	fsm_wait_until 10 anon_back "$pid" $((anon + slack)) ||
	    atf_fail "RssAnon still $(fsm_status_field "$pid" RssAnon) KiB" \
	    "when idle"
	echo "idle: VmRSS $(rss_kib "$pid") KiB," \
	    "RssAnon $(fsm_status_field "$pid" RssAnon) KiB"
	# The buffers serve as before once their pages are gone.
	atf_check dd if=/dev/urandom of=data bs=1M count=4 status=none
	atf_check dd if=data of="$w/mnt/g" bs=1M status=none
	atf_check cmp data "$w/mnt/g"
	atf_check fsctl unmount "$w/mnt"
}
worker_memory_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case many_mounts
	atf_add_test_case parallel_clients
	atf_add_test_case stopped_client
	atf_add_test_case worker_memory
}
