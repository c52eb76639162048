# The nodes a worker serves: however many the kernel remembers, and
# whoever made it remember them, the worker's descriptors and memory
# stay bounded and every user of a shared mount keeps being served.

. "$(atf_get_srcdir)/common.sh"

# Descriptors of unused nodes a worker keeps (FSWORKER_NODE_FDS), and
# the fixed ones beyond (FSWORKER_FIXED_FDS, FSWORKER_AHEAD_FDS).
NODE_FDS=4096
OTHER_FDS=1600

# mkfiles DIR N [DIRS]: N files natively, in DIRS subdirectories d0...
# (or in DIR itself), each holding its own name.
mkfiles()
{
	python3 - "$@" <<'EOF'
import os, sys
top, n = sys.argv[1], int(sys.argv[2])
dirs = int(sys.argv[3]) if len(sys.argv) > 3 else 0
for i in range(n):
    d = os.path.join(top, "d%d" % (i % dirs)) if dirs else top
    if dirs and i < dirs:
        os.mkdir(d)
    fd = os.open(os.path.join(d, "f%d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"f%d\n" % i)
    os.close(fd)
EOF
}

# shared_mount [OPTIONS [tmpfs]]: root mounts $w/S, a tmpfs if asked,
# on $w/M for every user; $pid is the worker's.
shared_mount()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir -p "$w/S" "$w/M"
	if [ "${2:-}" = tmpfs ]; then
		mount -t tmpfs -o size=4g,nr_inodes=2m fsm-nodes "$w/S" ||
		    atf_fail "cannot mount a tmpfs"
	fi
	chmod 1777 "$w/S"
	atf_check fsctl mount -o "multiuser${1:+,$1}" "$w/S" "$w/M"
	pid=$(fsm_mount_field "$w/M" pid)
}

worker_fds()
{
	ls "/proc/$pid/fd" | wc -l
}

# nodes_at_least N: the worker's status counts N nodes or more.
nodes_at_least()
{
	[ "$(fsm_mount_field "$w/M" nodes)" -ge "$1" ]
}

# fds_below N: the worker holds fewer than N descriptors.
fds_below()
{
	n=$(worker_fds)
	[ "$n" -lt "$1" ] || atf_fail "the worker holds $n descriptors"
}

# The cleanup of a case that left a process holding files open.
holder_cleanup()
{
	[ -f holder.pid ] && kill "$(cat holder.pid)" 2>/dev/null
	fsm_cleanup
}

atf_test_case shared_worker cleanup
shared_worker_head()
{
	atf_set descr "One user who makes the kernel remember more nodes" \
	    "than the worker has descriptors, and holds files open, takes" \
	    "nothing from another user of the mount"
	atf_set require.user root
	atf_set timeout 300
}
shared_worker_body()
{
	shared_mount
	atf_check as_user "$TESTUSER" mkdir "$w/S/a"
	as_user "$TESTUSER" python3 -c "$(cat <<'EOF'
import os, sys
for i in range(25000):
    os.close(os.open(sys.argv[1] + "/f%d" % i, os.O_WRONLY | os.O_CREAT))
EOF
)" "$w/S/a" || atf_fail "cannot create the files"
	atf_check -o match:"^25000$" -x \
	    "as_user $TESTUSER ls -l '$w/M/a' | grep -c ' f[0-9]*$'"
	# 200 of them held open, by a process that waits to be killed.
	as_user "$TESTUSER" python3 -c "$(cat <<'EOF'
import os, sys, time
fds = [os.open(sys.argv[1] + "/f%d" % i, os.O_RDONLY) for i in range(200)]
open(sys.argv[2], "w").close()
time.sleep(600)
EOF
)" "$w/M/a" "$w/S/held" &
	echo $! >holder.pid
	fsm_wait_until 30 test -f "$w/S/held" || atf_fail "the files are not open"
	fsm_wait_until 10 nodes_at_least 25000 ||
	    atf_fail "the worker has $(fsm_mount_field "$w/M" nodes) nodes"
	fds_below $((NODE_FDS + 2 * 200 + OTHER_FDS))

	# Each of the other user's requests finds a descriptor.
	atf_check as_user "$TESTUSER2" mkdir "$w/M/b"
	atf_check as_user "$TESTUSER2" sh -c "echo data >'$w/M/b/new'"
	atf_check -o inline:"data\n" as_user "$TESTUSER2" cat "$w/M/b/new"
	atf_check -o inline:"data\n" cat "$w/S/b/new"
	atf_check -o match:"^$TESTUSER2 " \
	    as_user "$TESTUSER2" stat -c "%U %s" "$w/M/b/new"
	atf_check -o match:"^25000$" -x \
	    "as_user $TESTUSER2 ls '$w/M/a' | wc -l"
	atf_check -o inline:"" as_user "$TESTUSER2" cat "$w/M/a/f24999"
	atf_check -o inline:"" as_user "$TESTUSER2" cat "$w/M/a/f3"
	fds_below $((NODE_FDS + 2 * 200 + OTHER_FDS))
	kill "$(cat holder.pid)"
}
shared_worker_cleanup()
{
	holder_cleanup
}

atf_test_case handles_bounded cleanup
handles_bounded_head()
{
	atf_set descr "Files open through a shared worker are bounded: past" \
	    "half of them, a user's next open fails with EMFILE, and others" \
	    "can still open"
	atf_set require.user root
	atf_set timeout 300
}
handles_bounded_body()
{
	shared_mount
	mkdir "$w/S/a" && chmod 777 "$w/S/a"
	mkfiles "$w/S/a" 5000
	# FSWORKER_HANDLES is 4096: a user of a multiuser mount has half.
	as_user "$TESTUSER" "$w/bin/fsm_open" "$w/M/a" 0 5000 hold >held.out &
	echo $! >holder.pid
	fsm_wait_until 60 test -s held.out || atf_fail "nothing opened"
	atf_check -o inline:"2048 EMFILE\n" cat held.out
	atf_check -o inline:"1000 all\n" \
	    as_user "$TESTUSER2" "$w/bin/fsm_open" "$w/M/a" 0 1000
	atf_check -o inline:"f7\n" as_user "$TESTUSER2" cat "$w/M/a/f7"
	fds_below $((NODE_FDS + 2 * 2048 + OTHER_FDS))
	kill "$(cat holder.pid)"
}
handles_bounded_cleanup()
{
	holder_cleanup
}

atf_test_case refind cleanup
refind_head()
{
	atf_set descr "A node that lost its descriptor is found again where" \
	    "it was, renamed through the mount, and never confused with" \
	    "another file put at its name beside the mount"
	atf_set require.user root
	atf_set timeout 300
}
refind_body()
{
	# Entries the kernel keeps: a node is used by its id, not looked up.
	shared_mount timeout=600
	mkdir "$w/S/d" "$w/S/e" "$w/S/g"
	mkfiles "$w/S/e" 5000
	mkfiles "$w/S/g" 5000
	echo kept >"$w/S/d/kept"
	echo "old" >"$w/S/d/replaced"
	echo "moved away" >"$w/S/d/moved"
	atf_check -o ignore cat "$w/M/d/kept" "$w/M/d/replaced" "$w/M/d/moved"
	# Looked up since: more than the worker keeps descriptors for.
	atf_check -o ignore find "$w/M/e" -type f -exec stat {} +
	fds_below $((NODE_FDS + OTHER_FDS))

	atf_check -o inline:"kept\n" cat "$w/M/d/kept"
	atf_check mv "$w/M/d/moved" "$w/M/d/renamed"
	rm "$w/S/d/replaced"
	echo "new, and longer" >"$w/S/d/replaced"
	mv "$w/S/d/kept" "$w/S/d/kept2"
	atf_check -o ignore find "$w/M/g" -type f -exec stat {} +
	atf_check -o inline:"moved away\n" cat "$w/M/d/renamed"
	atf_check -s not-exit:0 -e ignore cat "$w/M/d/moved"
	atf_check -o inline:"new, and longer\n" cat "$w/M/d/replaced"
	atf_check -o inline:"16\n" stat -c %s "$w/M/d/replaced"
	# Renamed beside the mount: found again only by a lookup.
	atf_check -s not-exit:0 -e ignore cat "$w/M/d/kept"
	atf_check -o inline:"kept\n" cat "$w/M/d/kept2"
	fds_below $((NODE_FDS + OTHER_FDS))
	# Nodes were evicted and found again, and some were not.
	fsm_log | grep -q "inode_refind: node [^ ]* found again" ||
	    atf_fail "no node was found again"
	fsm_log | grep -q "inode_refind: node [^ ]* not found again" ||
	    atf_fail "no node was stale"
}
refind_cleanup()
{
	fsm_cleanup
}

atf_test_case deep cleanup
deep_head()
{
	atf_set descr "Directories deeper than a search for an evicted node" \
	    "climbs are refused with ELOOP; files in the deepest allowed" \
	    "one are evicted like any other and found again quickly"
	atf_set require.user root
	atf_set timeout 600
}
deep_body()
{
	shared_mount timeout=600
	mkdir "$w/S/other"
	mkfiles "$w/S/other" 6000
	# 4100 levels natively; 8000 files in level 4095.
	python3 - "$w/S" <<'EOF'
import os, sys
os.chdir(sys.argv[1])
for i in range(1, 4101):
    os.mkdir("d")
    os.chdir("d")
    if i == 4095:
        os.chmod(".", 0o777)
        for j in range(8000):
            with open("f%d" % j, "w") as f:
                f.write("f%d\n" % j)
EOF
	[ $? -eq 0 ] || atf_fail "cannot make the tree"
	# Through the mount, as a user: the walk stops at level 4096.
	as_user "$TESTUSER" python3 - "$w/M" "$w/M/other" >deep.out <<'EOF'
import errno, os, sys, time
os.chdir(sys.argv[1])
level = 0
try:
    while True:
        os.chdir("d")
        level += 1
except OSError as e:
    print(level, errno.errorcode[e.errno])
for j in range(8000):
    os.stat("f%d" % j)
try:
    os.mkdir("x")
except OSError as e:
    print("mkdir", errno.errorcode[e.errno])
# Every node on the way evicted; f0 is then found from the root down.
for name in os.listdir(sys.argv[2]):
    os.stat(os.path.join(sys.argv[2], name))
t = time.time()
with open("f0") as f:
    sys.stdout.write(f.read())
sys.stderr.write("f0 found again in %.3f s\n" % (time.time() - t))
EOF
	atf_check -o inline:"4095 ELOOP\nmkdir ELOOP\nf0\n" cat deep.out
	fds_below $((NODE_FDS + OTHER_FDS))
}
deep_cleanup()
{
	fsm_cleanup
}

atf_test_case generation cleanup
generation_head()
{
	atf_set descr "On a file system without birth times, a file removed" \
	    "beside the mount whose inode number a new file at its name" \
	    "takes is told from it by its file handle's generation"
	atf_set require.user root
	atf_set timeout 300
}
generation_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/S" "$w/M"
	# 128-byte inodes have no room for a birth time.
	truncate -s 64m ext4.img
	atf_check -o ignore -e ignore mkfs.ext4 -q -F -I 128 ext4.img
	mount -o loop ext4.img "$w/S" || atf_fail "cannot mount the image"
	echo "$w/S" >loop.mnt
	mkdir "$w/S/d" "$w/S/e"
	echo "old, and longer" >"$w/S/d/f"
	mkfiles "$w/S/e" 6000
	atf_check -o inline:"-\n" stat -c %w "$w/S/d/f"
	atf_check fsctl mount -o cache=always,timeout=600 "$w/S" "$w/M"
	atf_check -o inline:"old, and longer\n" cat "$w/M/d/f"
	# Evicted, then replaced under the same inode number.
	atf_check -o ignore find "$w/M/e" -type f -exec stat {} +
	ino=$(stat -c %i "$w/S/d/f")
	rm "$w/S/d/f"
	echo "new" >"$w/S/d/f"
	[ "$(stat -c %i "$w/S/d/f")" = "$ino" ] ||
	    atf_fail "ext4 gave the new file another inode number"
	atf_check -o inline:"new\n" cat "$w/M/d/f"
	atf_check -o inline:"4\n" stat -c %s "$w/M/d/f"
	fsm_log | grep -q "inode_refind: node [^ ]* not found again" ||
	    atf_fail "the old node was not stale"
}
generation_cleanup()
{
	[ -f loop.mnt ] && umount -l "$(cat loop.mnt)" 2>/dev/null
	fsm_cleanup
}

atf_test_case million cleanup
million_head()
{
	atf_set descr "A million nodes known to the kernel: descriptors and" \
	    "memory of the worker stay bounded, and every file is served"
	atf_set require.user root
	atf_set timeout 400
}
million_body()
{
	# Made and removed in a fraction of the time ext4 takes; a log line
	# for each request would take longer than serving it.
	FSM_FLAGS=
	shared_mount "" tmpfs
	t0=$(date +%s)
	mkfiles "$w/S" 1000000 100
	t1=$(date +%s)
	find "$w/M" -ls >find.out || atf_fail "find failed"
	t2=$(date +%s)
	atf_check -o inline:"1000000\n" -x "grep -c ' $w/M/d[0-9]*/f' find.out"
	fsm_wait_until 10 nodes_at_least 1000000 ||
	    atf_fail "the worker has $(fsm_mount_field "$w/M" nodes) nodes"
	fds_below $((NODE_FDS + OTHER_FDS))
	rss=$(fsm_status_field "$pid" VmRSS)
	echo "created in $((t1 - t0)) s, looked up in $((t2 - t1)) s;" \
	    "worker: $(worker_fds) descriptors, VmRSS $rss kB" >&2
	# What a node costs (inode.c), and a base of 64 MiB.  Under ASan
	# every allocation has its redzones and its shadow, and what was
	# freed waits in a quarantine of up to 256 MiB: the sanitizer run
	# checks the memory is used correctly, the normal one how much.
	per=400 base=65536
	if readelf -d "$TOP/fsworker/fsworker" | grep -q 'NEEDED.*libasan'
	then
		per=800 base=$((65536 + 262144))
	fi
	[ "$rss" -lt $((1000000 * per / 1024 + base)) ] ||
	    atf_fail "the worker's VmRSS is $rss kB"

	# The first found were evicted long ago.
	for i in 0 1 100 5000 777777 999999; do
		atf_check -o inline:"f$i\n" cat "$w/M/d$((i % 100))/f$i"
		atf_check -o inline:"$((${#i} + 2))\n" \
		    stat -c %s "$w/M/d$((i % 100))/f$i"
	done
	atf_check mv "$w/M/d0/f200" "$w/M/d1/moved"
	atf_check -o inline:"f200\n" cat "$w/M/d1/moved"
	atf_check -o inline:"f200\n" cat "$w/S/d1/moved"
	fds_below $((NODE_FDS + OTHER_FDS))
	echo "took $(($(date +%s) - t0)) s" >&2
}
million_cleanup()
{
	[ -f fsm.workdir ] && umount -l "$(cat fsm.workdir)/S" 2>/dev/null
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case shared_worker
	atf_add_test_case handles_bounded
	atf_add_test_case refind
	atf_add_test_case deep
	atf_add_test_case generation
	atf_add_test_case million
}
