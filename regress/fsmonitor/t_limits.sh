# Descriptor limits: the daemon raises its own at start, refuses the
# mount that would not fit, and keeps serving what it holds.

. "$(atf_get_srcdir)/common.sh"

# What systemd's unit leaves the daemon: no CAP_SYS_RESOURCE, so the
# hard limit it is given is the most it gets.
NOCAP="setpriv --bounding-set=-sys_resource"

fsmount_pid()
{
	pgrep -P "$(fsm_pid)" -x fsmount
}

# nofile PID: the soft and hard RLIMIT_NOFILE of a process.
nofile()
{
	awk '/^Max open files/ { print $4, $5 }' "/proc/$1/limits"
}

# mount_until_refused N: mounts src$i on m$i for i = 0... until one is
# refused or N are made; leaves the count in mounted and the refusal
# in refusal.
mount_until_refused()
{
	w=$(fsm_workdir)
	mounted=0
	refusal=
	while [ $mounted -lt "$1" ]; do
		i=$mounted
		mkdir -p "$w/src$i" "$w/m$i"
		echo "data $i" >"$w/src$i/f"
		if ! refusal=$(fsctl mount -o threads=1 "$w/src$i" \
		    "$w/m$i" 2>&1 >/dev/null); then
			return 0
		fi
		mounted=$((mounted + 1))
	done
	refusal=
}

# check_reads FROM TO: every mount from FROM to TO - 1 reads back its
# own file.
check_reads()
{
	w=$(fsm_workdir)
	i=$1
	while [ $i -lt "$2" ]; do
		[ "$(cat "$w/m$i/f")" = "data $i" ] ||
		    atf_fail "m$i does not read back its data"
		i=$((i + 1))
	done
}

# cpu_ticks PID: user and system time so far, in clock ticks.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

atf_test_case low_limit cleanup
low_limit_head()
{
	atf_set descr "At a descriptor limit of 100 the daemon refuses the " \
	    "mount that would not fit, with the limit in the message; what " \
	    "it holds keeps working, and an unmount makes room again"
	atf_set require.user root
	atf_set timeout 300
}
low_limit_body()
{
	FSM_IN="prlimit --nofile=100:100 $NOCAP" fsm_start
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	fpid=$(fsmount_pid)
	atf_check_equal "$(nofile "$pid")" "100 100"
	atf_check_equal "$(nofile "$fpid")" "100 100"
	mount_until_refused 100
	echo "$mounted mounts at a limit of 100"
	[ $mounted -ge 12 ] || atf_fail "only $mounted mounts at 100"
	[ $mounted -lt 25 ] || atf_fail "$mounted mounts: nothing refused"
	atf_check_equal "$refusal" "fsctl: mount $w/m$mounted: too many mounts \
for the daemon ($mounted held; descriptor limit 100)"
	# Refused before anything was done: not mounted, no worker.
	fsm_is_mounted "$w/m$mounted" && atf_fail "the refused mount is there"
	atf_check_equal "$(pgrep -P "$fpid" -x fsworker | wc -l)" $mounted
	check_reads 0 $mounted
	# Said at start: mount_max is 1000 by default.
	atf_check -o match:"fsmount: mount_max 1000 and 0 static mounts: the \
descriptor limit 100 holds $mounted mounts" cat "$w/fsmonitor.log"
	atf_check -o match:"$w/m0" fsctl status
	fsm_alive "$pid" || atf_fail "the parent died"
	fsm_alive "$fpid" || atf_fail "fsmount died"
	# Workers keep the limits the daemon was started with.
	wpid=$(pgrep -P "$fpid" -x fsworker | head -1)
	atf_check_equal "$(nofile "$wpid")" "100 100"

	atf_check -o ignore fsctl unmount "$w/m0"
	atf_check -o ignore fsctl mount -o threads=1 "$w/src$mounted" \
	    "$w/m$mounted"
	atf_check_equal "$(cat "$w/m$mounted/f")" "data $mounted"
	atf_check -s exit:1 -e inline:"fsctl: mount $w/m0: too many mounts \
for the daemon ($mounted held; descriptor limit 100)\n" \
	    fsctl mount -o threads=1 "$w/src0" "$w/m0"
	check_reads 1 $((mounted + 1))
}
low_limit_cleanup()
{
	fsm_cleanup
}

atf_test_case restart_costs_more cleanup
restart_costs_more_head()
{
	atf_set descr "Restartable mounts hold two descriptors more in " \
	    "fsmount: fewer of them fit under the same limit"
	atf_set require.user root
	atf_set timeout 300
}
restart_costs_more_body()
{
	FSM_IN="prlimit --nofile=100:100 $NOCAP" fsm_start
	w=$(fsm_workdir)
	n=0
	while [ $n -lt 100 ]; do
		mkdir "$w/src$n" "$w/m$n"
		echo "data $n" >"$w/src$n/f"
		fsctl mount -o threads=1,restart "$w/src$n" "$w/m$n" \
		    >/dev/null 2>err || break
		n=$((n + 1))
	done
	echo "$n restartable mounts at a limit of 100"
	atf_check -o inline:"fsctl: mount $w/m$n: too many mounts for the \
daemon ($n held; descriptor limit 100)\n" cat err
	# Four descriptors a mount, six with restart (see fsmount(8)).
	[ $n -ge 8 ] && [ $n -lt 12 ] || atf_fail "$n restartable mounts"
	check_reads 0 $n
}
restart_costs_more_cleanup()
{
	fsm_cleanup
}

atf_test_case client_flood cleanup
client_flood_head()
{
	atf_set descr "Idle clients by the dozen at a descriptor limit of " \
	    "100: the parent stops accepting rather than spinning or dying, " \
	    "and serves again once they go"
	atf_set require.user root
	atf_set timeout 300
}
client_flood_body()
{
	FSM_IN="prlimit --nofile=100:100 $NOCAP" fsm_start
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	mount_until_refused 100
	[ -n "$refusal" ] || atf_fail "nothing refused"
	# 150 connections held open for 3 seconds: more than the
	# descriptors left, so most wait in the listen queue.
	t0=$(cpu_ticks "$pid")
	python3 -c '
import socket, sys, time
held = []
for i in range(150):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        continue
    held.append(s)
time.sleep(3)
print(len(held), "connections held")
' "$w/ctl.sock"
	t1=$(cpu_ticks "$pid")
	echo "parent used $((t1 - t0)) ticks while flooded"
	[ $((t1 - t0)) -lt 50 ] || atf_fail "the parent spun: $((t1 - t0)) ticks"
	fsm_alive "$pid" || atf_fail "the parent died"
	fsm_alive "$(fsmount_pid)" || atf_fail "fsmount died"
	atf_check -o match:"$w/m0" fsctl status
	check_reads 0 $mounted
	atf_check -o ignore fsctl unmount "$w/m0"
	atf_check -o ignore fsctl mount -o threads=1 "$w/src0" "$w/m0"
}
client_flood_cleanup()
{
	fsm_cleanup
}

atf_test_case worker_holds_descriptors cleanup
worker_holds_descriptors_head()
{
	atf_set descr "A worker that sends fsmount two descriptors with " \
	    "frames it never finishes is killed: a mount costs fsmount a " \
	    "bounded number of descriptors"
	atf_set require.user root
	atf_set timeout 120
}
worker_holds_descriptors_body()
{
	w=$(fsm_workdir)
	FSMONITOR_WORKER_WRAP="$(atf_get_srcdir)/badworker" fsm_start
	mkdir "$w/src" "$w/m"
	atf_check -s exit:1 -e inline:"fsctl: mount $w/m: worker killed by \
signal 9 before serving\n" fsctl mount "$w/src" "$w/m"
	atf_check -o match:"worker [0-9]* of $w/m: descriptors without \
frames; killing it" cat "$w/fsmonitor.log"
	fsm_is_mounted "$w/m" && atf_fail "still mounted"
	fsm_alive "$(fsmount_pid)" || atf_fail "fsmount died"
}
worker_holds_descriptors_cleanup()
{
	fsm_cleanup
}

atf_test_case raise_soft cleanup
raise_soft_head()
{
	atf_set descr "Started at a soft limit of 1024 under a hard one of " \
	    "8192, both processes raise the soft limit to the hard one and " \
	    "hold mount_max (1000) mounts; workers keep the limits given"
	atf_set require.user root
	atf_set timeout 600
}
raise_soft_body()
{
	FSM_IN="prlimit --nofile=1024:8192 $NOCAP" fsm_start
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	fpid=$(fsmount_pid)
	atf_check_equal "$(nofile "$pid")" "8192 8192"
	atf_check_equal "$(nofile "$fpid")" "8192 8192"
	start=$(date +%s)
	mount_until_refused 1000
	[ -z "$refusal" ] || atf_fail "mount $mounted refused: $refusal"
	echo "1000 mounts in $(($(date +%s) - start)) s"
	atf_check_equal "$(fsm_mounts | wc -l)" 1000
	check_reads 990 1000
	atf_check_equal "$(pgrep -P "$fpid" -x fsworker | wc -l)" 1000
	# The worker raises its own soft limit to the hard one it was given.
	wpid=$(pgrep -P "$fpid" -x fsworker | head -1)
	atf_check_equal "$(nofile "$wpid")" "8192 8192"
	atf_check -o match:"$w/m999" fsctl status
}
raise_soft_cleanup()
{
	fsm_cleanup
}

atf_test_case raise_hard cleanup
raise_hard_head()
{
	atf_set descr "Started by root at 1024:1024, both processes raise " \
	    "the hard limit to what mount_max mounts need where root has " \
	    "CAP_SYS_RESOURCE, and otherwise keep 1024, say how many " \
	    "mounts it holds and still mount; workers are started at " \
	    "1024:1024"
	atf_set require.user root
	atf_set timeout 120
}
raise_hard_body()
{
	# Containers often run root without it in the bounding set, as
	# these test machines do: setrlimit(2) fails with EPERM there.
	capable=yes
	prlimit --nofile=1024:1024 prlimit --nofile=2048:2048 true \
	    2>/dev/null || capable=no
	FSM_IN="prlimit --nofile=1024:1024" fsm_start "mount_max 1000"
	w=$(fsm_workdir)
	pid=$(fsm_pid)
	fpid=$(fsmount_pid)
	set -- $(nofile "$fpid")
	[ "$1" = "$2" ] || atf_fail "fsmount: soft $1, hard $2"
	if [ $capable = yes ]; then
		# Six descriptors for each of 1000 restartable mounts.
		[ "$1" -ge 6000 ] || atf_fail "fsmount's limit is $1"
		set -- $(nofile "$pid")
		[ "$1" = "$2" ] && [ "$1" -ge 1000 ] ||
		    atf_fail "parent: soft $1, hard $2"
	else
		atf_check_equal "$1" 1024
		atf_check_equal "$(nofile "$pid")" "1024 1024"
		# fsmount writes it on its own, maybe after the parent
		# answers.
		fsm_wait_until 5 grep -q "holds [0-9]* mounts" \
		    "$w/fsmonitor.log" || atf_fail "no warning: $(fsm_log)"
		fsm_log >log
		atf_check -o match:"descriptor limit 1024 .*: room for [0-9]+ " \
		    -o match:"mount_max 1000 and 0 static mounts: the \
descriptor limit 1024 holds [0-9]+ mounts" cat log
	fi
	mkdir "$w/src" "$w/m"
	echo data >"$w/src/f"
	atf_check -o ignore fsctl mount -o threads=1 "$w/src" "$w/m"
	wpid=$(pgrep -P "$fpid" -x fsworker)
	atf_check_equal "$(nofile "$wpid")" "1024 1024"
	atf_check_equal "$(cat "$w/m/f")" data
}
raise_hard_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case low_limit
	atf_add_test_case restart_costs_more
	atf_add_test_case client_flood
	atf_add_test_case worker_holds_descriptors
	atf_add_test_case raise_soft
	atf_add_test_case raise_hard
}
