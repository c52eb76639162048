# fsworker end to end: each test mounts a backing tree with wrun, works
# through the mount, and checks the result through the mount and on the
# backing tree.  Cleanup unmounts and stops the worker whatever happened.
#
# t_ops_daemon runs the same cases with W_MODE=daemon: the tree is
# mounted by a private fsmonitor through fsctl, as a user would, with
# the kernel's passthrough where it has it.  t_ops_nopt, t_ops_wb and
# t_ops_t1 run them again with W_OPTS added to every mount's options:
# nopassthrough, writeback (which excludes passthrough) and threads=1.
# t_ops_uring (W_URING=1) runs them with nopassthrough and the fuse
# module's enable_uring parameter set for each case, so that every
# request but INIT, FORGET and INTERRUPT is served through io_uring;
# cleanup puts the parameter back, and mounts made meanwhile keep their
# transport.

W_TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)
WRUN="$W_TOP/regress/fsworker/wrun"
FSOP="$W_TOP/regress/fsworker/fsop"
FSWORKER="$W_TOP/fsworker/fsworker"

W_MODE=${W_MODE:-wrun}
W_URING=${W_URING:-0}
URING_PARAM=/sys/module/fuse/parameters/enable_uring
if [ "$W_MODE" = daemon ]; then
	. "$(atf_get_srcdir)/../fsmonitor/common.sh"
fi

# w_start_daemon [-o options]: mounts ./src on ./mnt through fsmonitor.
w_start_daemon()
{
	opts=
	while [ $# -gt 0 ]; do
		case $1 in
		-o)	opts=$2; shift 2 ;;
		# Its workers log every request already (fsm_start).
		-v)	shift ;;
		*)	atf_fail "w_start: $1 is for wrun only" ;;
		esac
	done
	# A case's own options win over the run's.
	for o in $(echo "${W_OPTS:-}" | tr , ' '); do
		case ",$opts," in
		*",${o%%=*},"*|*",${o%%=*}="*) ;;
		*)	opts=${opts:+$opts,}$o ;;
		esac
	done
	[ -f fsm.pid ] || fsm_start
	atf_check fsctl mount ${opts:+-o "$opts"} "$SRC" "$MNT"
	fsctl status -j | python3 -c '
import json, sys
m = [e for e in json.load(sys.stdin) if e["mountpoint"] == sys.argv[1]]
print(m[0]["pid"], 0)' "$MNT" >pids
}

# w_uring Y|N: sets enable_uring, keeping the value cleanup restores.
w_uring()
{
	[ -w "$URING_PARAM" ] || atf_skip "$URING_PARAM is not writable"
	[ -f uring.prev ] || cat "$URING_PARAM" >uring.prev
	echo "$1" >"$URING_PARAM"
}

w_uring_restore()
{
	if [ -f uring.prev ]; then
		cat uring.prev >"$URING_PARAM"
		rm -f uring.prev
	fi
}

# w_log: what the workers logged.
w_log()
{
	if [ "$W_MODE" = daemon ]; then
		fsm_log
	else
		cat worker.log
	fi
}

# w_log_match PATTERN: the workers' log has a line matching it.
w_log_match()
{
	if ! w_log | grep -q "$1"; then
		w_log
		atf_fail "no \"$1\" in the log"
	fi
}

# w_requests OPCODES: how many requests of the opcodes (a grep pattern)
# the workers logged, which they do for each one when verbose (w_start -v).
w_requests()
{
	w_log | grep -c "fuse_dispatch: \($1\) unique"
	true
}

# w_uring_served [LINE [some]]: every worker that logged from LINE on
# served through io_uring, and said when it ended how many requests went
# that way; with "some", the last one served at least one.  (A case may
# mount and only look at the worker's process.)
w_uring_served()
{
	n=0
	until w_log | tail -n "+${1:-1}" | grep -q "requests through io_uring"
	do
		n=$((n + 1))
		[ $n -lt 50 ] || break
		sleep 0.1
	done
	w_log | tail -n "+${1:-1}" >uring.log
	if grep -q "transport /dev/fuse" uring.log ||
	    ! grep -q "transport io_uring" uring.log ||
	    ! grep -q "requests through io_uring" uring.log ||
	    { [ "${2:-}" = some ] && grep "requests through io_uring" \
	    uring.log | tail -n 1 | grep -q ": 0 requests"; }; then
		cat uring.log
		atf_fail "not served through io_uring"
	fi
}

# w_queue_cpus: each online CPU has a worker thread kept to it alone,
# its io_uring queue's.
w_queue_cpus()
{
	wpid=$(w_worker)
	for cpu in $(seq 0 $(($(getconf _NPROCESSORS_ONLN) - 1))); do
		n=0
		until grep -qx "Cpus_allowed_list:[[:space:]]*$cpu" \
		    /proc/"$wpid"/task/*/status; do
			n=$((n + 1))
			[ $n -lt 50 ] ||
			    atf_fail "no worker thread kept to CPU $cpu"
			sleep 0.1
		done
	done
}

# w_start [wrun options]: mounts ./src on ./mnt.
w_start()
{
	mkdir -p src mnt
	if [ "$W_URING" = 1 ]; then
		w_uring Y
	fi
	SRC=$(pwd)/src
	MNT=$(pwd)/mnt
	if [ "$W_MODE" = daemon ]; then
		w_start_daemon "$@"
		return
	fi
	if ! "$WRUN" -l "$(pwd)/worker.log" -p "$(pwd)/pids" \
	    -s "$(pwd)/stats" -x "$(pwd)/exit" "$@" "$SRC" "$MNT" -- \
	    "$FSWORKER" >wpid 2>wrun.err; then
		cat wrun.err worker.log 2>/dev/null
		atf_fail "wrun failed"
	fi
}

# w_env: the paths again, in a test's cleanup.
w_env()
{
	SRC=$(pwd)/src
	MNT=$(pwd)/mnt
}

w_holder()
{
	cut -d' ' -f2 pids
}

w_worker()
{
	cut -d' ' -f1 pids
}

# w_status FIELD: a field of the worker's /proc status, words joined by
# one space ("" for an empty Groups:).
w_status()
{
	awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' \
	    "/proc/$(w_worker)/status"
}

# w_caps MASK: the worker's capability sets, MASK in the permitted,
# effective and bounding sets and nothing inheritable or ambient.
w_caps()
{
	for set in CapEff CapPrm CapBnd; do
		atf_check_equal "$set $(w_status $set)" "$set $1"
	done
	for set in CapInh CapAmb; do
		atf_check_equal "$set $(w_status $set)" "$set 0000000000000000"
	done
	atf_check_equal "NoNewPrivs $(w_status NoNewPrivs)" "NoNewPrivs 1"
	atf_check_equal "Seccomp $(w_status Seccomp)" "Seccomp 2"
}

# w_wait_exit: waits for the holder to record the worker's end.
w_wait_exit()
{
	n=0
	while [ ! -f exit ] && [ $n -lt 100 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	[ -f exit ] || atf_fail "the worker did not exit"
}

# w_ends_on SIGNAL PID STATUS PATTERN: the signal to PID ends the worker
# with that exit status and a line matching PATTERN in its log.
w_ends_on()
{
	kill -"$1" "$2"
	w_wait_exit
	atf_check -o inline:"exit $3\n" cat exit
	atf_check -o match:"$4" cat worker.log
}

# w_stop: unmounts, and the worker must exit 0.
w_stop()
{
	if [ "$W_MODE" = daemon ]; then
		wpid=$(w_worker)
		atf_check fsctl unmount "$MNT"
		atf_check -s exit:1 test -d "/proc/$wpid"
		if fsm_log | grep -q "fatal\|reply_sent\|stale node\|forget"
		then
			fsm_log
			atf_fail "the worker complained"
		fi
		[ "$W_URING" = 1 ] && w_uring_served
		return 0
	fi
	kill -TERM "$(w_holder)"
	w_wait_exit
	atf_check -o inline:"exit 0\n" cat exit
	if grep -q "fatal\|reply_sent\|stale node\|forget" worker.log; then
		cat worker.log
		atf_fail "the worker complained"
	fi
	[ "$W_URING" = 1 ] && w_uring_served
	true
}

# w_wait_held file: until a background fsop has said it holds its lock.
w_wait_held()
{
	n=0
	until grep -q ok "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || atf_fail "the lock holder did not start"
		sleep 0.1
	done
}

w_cleanup()
{
	w_env
	w_uring_restore
	if [ "$W_MODE" = daemon ]; then
		fsm_cleanup
		umount -l "$MNT" 2>/dev/null
		umount -l "$SRC" 2>/dev/null
		return 0
	fi
	if [ -f pids ]; then
		kill -TERM "$(w_holder)" 2>/dev/null
		n=0
		while [ ! -f exit ] && [ $n -lt 50 ]; do
			sleep 0.2
			n=$((n + 1))
		done
		kill -KILL "$(w_worker)" 2>/dev/null
	fi
	umount -l "$MNT" 2>/dev/null
	umount -l "$SRC" 2>/dev/null
	true
}

# w_case name description: declares a root-only test with cleanup.
w_case()
{
	atf_test_case "$1" cleanup
	eval "$1_head() {
		atf_set descr '$2'
		atf_set require.user root
		atf_set timeout 300
	}
	$1_cleanup() { w_cleanup; }"
}

w_case basic_io "create, write, read back, append, truncate"
basic_io_body()
{
	w_start
	echo hello >"$MNT/f"
	atf_check -o inline:"hello\n" cat "$MNT/f"
	atf_check -o inline:"hello\n" cat "$SRC/f"
	echo world >>"$MNT/f"
	atf_check -o inline:"hello\nworld\n" cat "$SRC/f"
	# With the writeback cache the kernel's size of a file it has cached
	# wins over the backing tree's (fsctl(8)): a change made beside the
	# mount is seen only without it.
	case ,${W_OPTS:-}, in
	*,writeback,*)	;;
	*)	echo backing >>"$SRC/f"
		atf_check -o inline:"hello\nworld\nbacking\n" cat "$MNT/f" ;;
	esac
	truncate -s 3 "$MNT/f"
	atf_check -o inline:"hel" cat "$SRC/f"
	truncate -s 0 "$MNT/f"
	atf_check -o inline:"0\n" stat -c %s "$SRC/f"
	dd if=/dev/urandom of=big bs=1M count=8 2>/dev/null
	cp big "$MNT/big"
	atf_check cmp big "$MNT/big"
	atf_check cmp big "$SRC/big"
	# Overwrite in the middle, without truncating.
	printf XYZ | dd of="$MNT/big" bs=1 seek=1000000 conv=notrunc \
	    2>/dev/null
	atf_check -o inline:"XYZ" -e ignore dd if="$SRC/big" bs=1 \
	    skip=1000000 count=3
	w_stop
}

w_case rename "rename, RENAME_NOREPLACE and RENAME_EXCHANGE"
rename_body()
{
	w_start
	echo a >"$MNT/a"
	echo b >"$MNT/b"
	mkdir "$MNT/d"
	mv "$MNT/a" "$MNT/d/a2"
	atf_check test ! -e "$SRC/a"
	atf_check -o inline:"a\n" cat "$SRC/d/a2"
	atf_check -s exit:1 -o inline:"EEXIST\n" \
	    "$FSOP" rename2 noreplace "$MNT/d/a2" "$MNT/b"
	atf_check -o inline:"ok\n" \
	    "$FSOP" rename2 noreplace "$MNT/d/a2" "$MNT/c"
	atf_check -o inline:"ok\n" "$FSOP" rename2 exchange "$MNT/b" "$MNT/c"
	atf_check -o inline:"a\n" cat "$MNT/b"
	atf_check -o inline:"b\n" cat "$SRC/c"
	mv -f "$MNT/b" "$MNT/c"
	atf_check -o inline:"a\n" cat "$SRC/c"
	atf_check test ! -e "$SRC/b"
	mv "$MNT/d" "$MNT/e"
	atf_check test -d "$SRC/e"
	w_stop
}

w_case links "link, symlink, readlink; symlinks are never followed"
links_body()
{
	w_start
	echo data >"$MNT/f"
	ln "$MNT/f" "$MNT/h"
	atf_check -o inline:"2\n" stat -c %h "$MNT/f"
	[ "$(stat -c %i "$SRC/f")" = "$(stat -c %i "$SRC/h")" ] ||
	    atf_fail "not the same inode on the backing tree"
	ln -s f "$MNT/s"
	atf_check -o inline:"f\n" readlink "$MNT/s"
	atf_check -o inline:"f\n" readlink "$SRC/s"
	atf_check -o inline:"data\n" cat "$MNT/s"
	ln -s /nonexistent/target "$MNT/abs"
	atf_check -o inline:"/nonexistent/target\n" readlink "$SRC/abs"
	# The worker does not follow it: the name is a symlink.
	atf_check -o inline:"symbolic link\n" stat -c %F "$MNT/abs"
	ln "$MNT/s" "$MNT/s2" 2>/dev/null &&
	    atf_check -o inline:"symbolic link\n" stat -c %F "$SRC/s2"
	rm "$MNT/h"
	atf_check -o inline:"1\n" stat -c %h "$SRC/f"
	w_stop
}

w_case dirs "mkdir, rmdir, unlink"
dirs_body()
{
	w_start
	mkdir "$MNT/d"
	atf_check test -d "$SRC/d"
	touch "$MNT/d/f"
	atf_check -s not-exit:0 -e match:"not empty" rmdir "$MNT/d"
	rm "$MNT/d/f"
	atf_check test ! -e "$SRC/d/f"
	rmdir "$MNT/d"
	atf_check test ! -e "$SRC/d"
	atf_check -s not-exit:0 -e match:"No such file" cat "$MNT/d"
	mkdir -m 0750 "$MNT/m"
	atf_check -o inline:"750\n" stat -c %a "$SRC/m"
	w_stop
}

w_case attrs "chmod, chown, utimensat, statfs"
attrs_body()
{
	# Only a multiuser worker may give a file away.
	w_start -o multiuser
	echo x >"$MNT/f"
	chmod 640 "$MNT/f"
	atf_check -o inline:"640\n" stat -c %a "$SRC/f"
	chown 1234:5678 "$MNT/f"
	atf_check -o inline:"1234:5678\n" stat -c %u:%g "$SRC/f"
	atf_check -o inline:"1234:5678\n" stat -c %u:%g "$MNT/f"
	atf_check -o ignore "$FSOP" utimens "$MNT/f" 1000000000.5 \
	    1200000000.25
	atf_check -o inline:"1000000000.000000005 1200000000.000000025\n" \
	    "$FSOP" times "$SRC/f"
	atf_check -o ignore "$FSOP" utimens "$MNT/f" omit 1300000000.0
	atf_check -o inline:"1000000000.000000005 1300000000.000000000\n" \
	    "$FSOP" times "$SRC/f"
	atf_check -o ignore "$FSOP" utimens "$MNT/f" now omit
	atime=$("$FSOP" times "$SRC/f" | cut -d. -f1)
	[ "$atime" -gt 1600000000 ] || atf_fail "atime not now: $atime"
	ln -s f "$MNT/s"
	atf_check -o ignore "$FSOP" utimens "$MNT/s" 5.0 6.0
	atf_check -o inline:"5.000000000 6.000000000\n" "$FSOP" times "$SRC/s"
	atf_check -o match:" 1300000000\\." "$FSOP" times "$SRC/f"
	[ "$(stat -f -c %b:%S "$MNT")" = "$(stat -f -c %b:%S "$SRC")" ] ||
	    atf_fail "statfs differs"
	# STATX came with 7.39: GETATTR has no birth time.
	if [ "$(w_minor)" -ge 39 ]; then
		atf_check -o inline:"btime\n" "$FSOP" btime "$MNT/f"
	else
		atf_check -o inline:"none\n" "$FSOP" btime "$MNT/f"
	fi
	w_stop
}

w_case xattrs "setxattr, getxattr, listxattr, removexattr"
xattrs_body()
{
	w_start
	echo x >"$MNT/f"
	atf_check -o inline:"ok\n" "$FSOP" xattr set "$MNT/f" user.color blue
	atf_check -o inline:"blue\n" "$FSOP" xattr get "$SRC/f" user.color
	atf_check -o inline:"blue\n" "$FSOP" xattr get "$MNT/f" user.color
	atf_check -o inline:"4\n" "$FSOP" xattr size "$MNT/f" user.color
	atf_check -o match:"^user.color$" "$FSOP" xattr list "$MNT/f"
	atf_check -o inline:"ok\n" "$FSOP" xattr remove "$MNT/f" user.color
	atf_check -s exit:1 -o inline:"ENODATA\n" \
	    "$FSOP" xattr get "$SRC/f" user.color
	mkdir "$MNT/d"
	atf_check -o ignore "$FSOP" xattr set "$MNT/d" user.dir yes
	atf_check -o inline:"yes\n" "$FSOP" xattr get "$SRC/d" user.dir
	# A symlink's own attributes, never its target's.
	"$FSOP" xattr set "$SRC/f" user.target t >/dev/null
	ln -s f "$MNT/s"
	atf_check -s exit:1 -o inline:"ENODATA\n" \
	    "$FSOP" xattr lget "$MNT/s" user.target
	w_stop
}

w_case noxattr "the noxattr option"
noxattr_body()
{
	w_start -o noxattr
	echo x >"$MNT/f"
	atf_check -s exit:1 -o inline:"EOPNOTSUPP\n" \
	    "$FSOP" xattr set "$MNT/f" user.a b
	atf_check -s exit:1 -o inline:"EOPNOTSUPP\n" \
	    "$FSOP" xattr get "$MNT/f" user.a
	w_stop
}

w_case locks "fcntl locks, blocking and interrupted, and flock"
locks_body()
{
	w_start
	echo l >"$MNT/l"
	"$FSOP" lock "$MNT/l" w 3 >holder.out &
	h1=$!
	w_wait_held holder.out
	atf_check -s exit:1 -o inline:"EAGAIN\n" "$FSOP" trylock "$MNT/l" w
	atf_check -s exit:1 -o inline:"EAGAIN\n" "$FSOP" trylock "$MNT/l" r
	atf_check -o inline:"locked-w\n" "$FSOP" getlk "$MNT/l" r
	# Blocks until the holder exits, then gets it.
	atf_check -o inline:"ok\n" "$FSOP" waitlock "$MNT/l" w
	wait "$h1"
	atf_check -o inline:"unlocked\n" "$FSOP" getlk "$MNT/l" w
	"$FSOP" lock "$MNT/l" r 4 >holder2.out &
	h2=$!
	w_wait_held holder2.out
	atf_check -o inline:"ok\n" "$FSOP" trylock "$MNT/l" r
	atf_check -o inline:"locked-r\n" "$FSOP" getlk "$MNT/l" w
	# Interrupted by SIGALRM after a second: INTERRUPT reaches us.
	atf_check -s exit:1 -o inline:"EINTR\n" "$FSOP" waitlock "$MNT/l" w 1
	wait "$h2"
	"$FSOP" flock "$MNT/l" ex 2 >holder3.out &
	h3=$!
	w_wait_held holder3.out
	atf_check -s exit:1 -o inline:"EAGAIN\n" "$FSOP" tryflock "$MNT/l" sh
	atf_check flock "$MNT/l" true
	atf_check -o inline:"ok\n" "$FSOP" tryflock "$MNT/l" ex
	wait "$h3"
	w_stop
}

w_case space "fallocate, SEEK_DATA and SEEK_HOLE, a file beyond 4 GiB"
space_body()
{
	w_start
	atf_check fallocate -l 1048576 "$MNT/a"
	atf_check -o inline:"1048576\n" stat -c %s "$SRC/a"
	[ "$(stat -c %b "$SRC/a")" -ge 2048 ] || atf_fail "not allocated"
	atf_check fallocate -n -o 1048576 -l 65536 "$MNT/a"
	atf_check -o inline:"1048576\n" stat -c %s "$SRC/a"
	# Data, then a hole punched in its first half.
	dd if=/dev/urandom of="$MNT/a" bs=64k count=16 conv=notrunc \
	    2>/dev/null
	atf_check fallocate -p -o 0 -l 524288 "$MNT/a"
	atf_check -o inline:"1048576\n" stat -c %s "$SRC/a"
	atf_check -o inline:"524288\n" "$FSOP" seek "$MNT/a" data 0
	atf_check -o inline:"0\n" "$FSOP" seek "$MNT/a" hole 0
	# Sparse, beyond 4 GiB.
	printf Z | dd of="$MNT/sparse" bs=1 seek=5368709120 2>/dev/null
	atf_check -o inline:"5368709121\n" stat -c %s "$SRC/sparse"
	[ "$(stat -c %b "$SRC/sparse")" -lt 1024 ] || atf_fail "not sparse"
	atf_check -o inline:"Z" -e ignore dd if="$MNT/sparse" bs=1 \
	    skip=5368709120
	atf_check -o inline:"0\n" "$FSOP" seek "$MNT/sparse" hole 0
	atf_check -o match:"^536870" "$FSOP" seek "$MNT/sparse" data 0
	atf_check -s exit:1 -o inline:"ENXIO\n" \
	    "$FSOP" seek "$MNT/sparse" data 5368709121
	w_stop
}

w_case copy_range "copy_file_range"
copy_range_body()
{
	w_start
	dd if=/dev/urandom of="$MNT/a" bs=1M count=3 2>/dev/null
	atf_check -o inline:"ok\n" "$FSOP" copy "$MNT/a" "$MNT/b" 3145728
	atf_check cmp "$SRC/a" "$SRC/b"
	w_stop
}

w_case tmpfile "O_TMPFILE, then linked into the tree"
tmpfile_body()
{
	w_start
	mkdir "$MNT/t"
	if [ "$(w_minor)" -lt 37 ]; then
		# Before TMPFILE (7.37) the kernel has no O_TMPFILE for FUSE.
		atf_check -s exit:1 -o inline:"EOPNOTSUPP\n" \
		    "$FSOP" tmpfile "$MNT/t"
		w_stop
		return
	fi
	atf_check -o inline:"ok\n" "$FSOP" tmpfile "$MNT/t"
	atf_check -o inline:"0\n" "$FSOP" count "$SRC/t"
	atf_check -o inline:"ok\n" "$FSOP" tmpfile "$MNT/t" "$MNT/t/named"
	atf_check -o inline:"tmp\n" cat "$SRC/t/named"
	atf_check -o inline:"640\n" stat -c %a "$SRC/t/named"
	w_stop
}

w_case bigdir "10 000 entries in one directory"
bigdir_body()
{
	w_start
	mkdir "$MNT/big"
	(cd "$MNT/big" && seq -f "entry-%05g" 1 10000 | xargs touch)
	atf_check -o inline:"10000\n" "$FSOP" count "$MNT/big"
	atf_check -o inline:"10000\n" "$FSOP" count "$SRC/big"
	ls "$MNT/big" >through
	ls "$SRC/big" >backing
	seq -f "entry-%05g" 1 10000 >expected
	atf_check cmp expected through
	atf_check cmp expected backing
	# With attributes: every entry is looked up (READDIRPLUS).
	atf_check -o match:"^10001$" -x "ls -l '$MNT/big' | wc -l"
	rm -r "$MNT/big"
	atf_check test ! -e "$SRC/big"
	w_stop
}

w_case deep "a tree 100 levels deep"
deep_body()
{
	w_start
	p=deep
	for i in $(seq 1 100); do
		p=$p/d$i
	done
	mkdir -p "$MNT/$p"
	echo bottom >"$MNT/$p/f"
	atf_check -o inline:"bottom\n" cat "$SRC/$p/f"
	atf_check -o inline:"101\n" -x "find '$MNT/deep' -type d | wc -l"
	atf_check -o inline:"bottom\n" -x "cd '$MNT/$p' && cat ../d100/f"
	rm -r "$MNT/deep"
	atf_check test ! -e "$SRC/deep"
	w_stop
}

w_case tools "cp -a, tar x, find, ls -l and rm -rf through the mount"
tools_body()
{
	w_start
	mkdir tree tree/sub tree/sub/deeper
	dd if=/dev/urandom of=tree/blob bs=64k count=20 2>/dev/null
	echo text >tree/sub/t
	ln -s ../blob tree/sub/link
	ln tree/blob tree/sub/deeper/hard
	chmod 750 tree/sub
	cp -a tree "$MNT/copy"
	atf_check diff -r --no-dereference tree "$MNT/copy"
	atf_check diff -r --no-dereference tree "$SRC/copy"
	tar cf tree.tar tree
	(cd "$MNT" && tar xf "$OLDPWD/tree.tar")
	atf_check diff -r --no-dereference tree "$SRC/tree"
	atf_check -o inline:"2\n" stat -c %h "$SRC/tree/blob"
	atf_check -o save:through -x "cd '$MNT' && find . | sort"
	atf_check -o save:backing -x "cd '$SRC' && find . | sort"
	atf_check cmp through backing
	atf_check -o ignore ls -lR "$MNT"
	rm -rf "$MNT/copy" "$MNT/tree"
	atf_check -o inline:"0\n" "$FSOP" count "$SRC"
	w_stop
}

w_case special "FIFOs, device nodes and sockets are created, never opened"
special_body()
{
	# Only a multiuser worker may make a device node.
	w_start -o multiuser
	mkfifo "$MNT/fifo"
	atf_check -o inline:"fifo\n" stat -c %F "$SRC/fifo"
	mknod "$MNT/null" c 1 3
	atf_check -o inline:"character special file 1:3\n" \
	    stat -c "%F %t:%T" "$SRC/null"
	atf_check -o inline:"ok\n" "$FSOP" mksock "$MNT/sock"
	atf_check -o inline:"socket\n" stat -c %F "$SRC/sock"
	# nodev: the kernel refuses the device itself.
	atf_check -s not-exit:0 -e match:"denied" -x "echo x >'$MNT/null'"
	w_stop
}

w_case killpriv "an unprivileged writer clears set-user-ID and set-group-ID"
killpriv_body()
{
	command -v setpriv >/dev/null || atf_skip "setpriv is missing"
	# A worker with CAP_FSETID, to show what a privileged writer keeps.
	w_start -o multiuser
	chmod 755 .
	echo x >"$MNT/f"
	echo x >"$MNT/g"
	chmod 6777 "$MNT/f" "$MNT/g"
	atf_check -o inline:"6777\n" stat -c %a "$SRC/f"
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	atf_check $nobody sh -c "echo y >>'$MNT/f'"
	atf_check -o inline:"777\n" stat -c %a "$SRC/f"
	atf_check $nobody truncate -s 0 "$MNT/g"
	atf_check -o inline:"777\n" stat -c %a "$SRC/g"
	# A privileged writer keeps them, as on any filesystem.
	chmod 6777 "$MNT/f"
	echo z >>"$MNT/f"
	atf_check -o inline:"6777\n" stat -c %a "$SRC/f"
	w_stop
}

w_case killpriv_owner "owner mode: a write clears set-ID bits the owner cannot"
killpriv_owner_body()
{
	command -v setpriv >/dev/null || atf_skip "setpriv is missing"
	mkdir src
	echo x >src/f
	echo x >src/g
	chown 65534:65534 src/f src/g
	chmod 6777 src/f src/g
	# The worker, root without a capability, may not chmod these; the
	# backing file system clears the bits when it writes instead.
	w_start -o allow_other,default_permissions
	chmod 755 .
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	atf_check $nobody sh -c "echo y >>'$MNT/f'"
	atf_check -o inline:"777\n" stat -c %a "$SRC/f"
	atf_check -o inline:"x\ny\n" cat "$SRC/f"
	atf_check $nobody truncate -s 0 "$MNT/g"
	atf_check -o inline:"777 0\n" stat -c "%a %s" "$SRC/g"
	# Root's CAP_FSETID does not reach the worker: root's write clears
	# them too.
	chmod 6777 src/f
	echo z >>"$MNT/f"
	atf_check -o inline:"777\n" stat -c %a "$SRC/f"
	w_stop
}

w_case list_nosearch "a directory readable but not searchable is listed"
list_nosearch_body()
{
	mkdir -p src/d
	touch src/d/a src/d/b
	chown 65534:65534 src/d
	chmod 704 src/d
	# The worker, root without a capability, may read d but not search
	# it, as anyone else: ls(1) there lists the names.
	w_start
	atf_check -o inline:"a\nb\n" ls "$SRC/d"
	atf_check -o inline:"a\nb\n" ls "$MNT/d"
	atf_check -s not-exit:0 -e match:"denied" stat "$MNT/d/a"
	w_stop
}

w_case readonly "the ro option"
readonly_body()
{
	mkdir src
	echo x >src/f
	w_start -o ro
	atf_check -o inline:"x\n" cat "$MNT/f"
	atf_check -s not-exit:0 -e match:"Read-only" touch "$MNT/g"
	atf_check -s not-exit:0 -e match:"Read-only" -x "echo y >>'$MNT/f'"
	atf_check -o inline:"x\n" cat "$SRC/f"
	w_stop
}

w_case options "threads, cache modes, timeout and writeback"
options_body()
{
	for o in threads=1 threads=8,cache=never cache=always,timeout=5 \
	    writeback,cache=auto; do
		w_start -o "$o"
		echo a >"$MNT/f"
		echo b >>"$MNT/f"
		atf_check -o inline:"a\nb\n" cat "$SRC/f"
		jobs=
		for i in 1 2 3 4; do
			dd if=/dev/urandom of="$MNT/p$i" bs=256k count=8 \
			    2>/dev/null &
			jobs="$jobs $!"
		done
		# Only these: in daemon mode fsmonitor is a child too.
		wait $jobs
		for i in 1 2 3 4; do
			atf_check cmp "$MNT/p$i" "$SRC/p$i"
		done
		w_stop
		rm -rf src exit pids
	done
}

# w_cpu: the CPU time the worker has used, all threads, in clock ticks.
w_cpu()
{
	sed 's/.*) //' "/proc/$(w_worker)/stat" | awk '{ print $12 + $13 }'
}

# w_stats N: N stat(2) of $MNT/f, 4 ms apart, each a request with
# timeout=0; prints the worker CPU time they took, in clock ticks.
w_stats()
{
	before=$(w_cpu)
	python3 -c 'import os, sys, time
for i in range(int(sys.argv[2])):
    os.stat(sys.argv[1])
    time.sleep(0.004)' "$MNT/f" "$1"
	echo $(($(w_cpu) - before))
}

w_case spin "spin: a thread watches for the next request, then sleeps"
spin_body()
{
	hz=$(getconf CLK_TCK)
	mkdir src
	echo x >src/f
	# What 200 requests cost without watching: a few ms, more under
	# the sanitizers; the other figures are measured against it.
	w_start -o spin=0,timeout=0
	base=$(w_stats 200)
	echo "spin=0: $base ticks of $hz"
	w_stop
	rm -rf exit pids
	# A worker not told to does not watch either: 200 requests of
	# 250 us would add 50 ms.
	w_start -o timeout=0
	used=$(w_stats 200)
	echo "default: $used ticks of $hz"
	[ $(((used - base) * 1000 / hz)) -lt 40 ] ||
	    atf_fail "default: $used ticks for 200 requests, $base with spin=0"
	w_stop
	rm -rf exit pids
	# 200 requests, each followed by 1 ms of watching: about 200 ms more.
	w_start -o spin=1000,timeout=0
	used=$(w_stats 200)
	echo "spin=1000: $used ticks of $hz"
	# Over io_uring the requests do not come through /dev/fuse.
	if [ "$W_URING" != 1 ] &&
	    [ $(((used - base) * 1000 / hz)) -lt 100 ]; then
		atf_fail "spin=1000: $used ticks for 200 requests, $base with spin=0"
	fi
	# Idle, it sleeps: a second costs next to nothing.
	sleep 0.1
	before=$(w_cpu)
	sleep 1
	idle=$(($(w_cpu) - before))
	[ $((idle * 1000 / hz)) -le 20 ] ||
	    atf_fail "spin=1000: $idle ticks in an idle second"
	w_stop
}

# w_listings N: N listings of $MNT/d, each compared with the expected file.
w_listings()
{
	for i in $(seq 1 "$1"); do
		atf_check -o file:expected ls "$MNT/d"
	done
}

w_case dircache "cache=always: a directory is listed once, until it changes"
dircache_body()
{
	rd='READDIR\|READDIRPLUS'
	mkdir -p src/d
	touch src/d/a src/d/b
	w_start -v -o cache=always,timeout=1
	printf 'a\nb\n' >expected
	w_listings 1
	n=$(w_requests "$rd")
	# Proves nothing if the log's wording changed: fail instead.
	[ "$n" -gt 0 ] || atf_fail "no READDIR in the log"
	w_listings 3
	atf_check_equal "$(w_requests "$rd")" "$n"
	# A change through the mount: the kernel lists it afresh, once.
	touch "$MNT/d/c"
	printf 'a\nb\nc\n' >expected
	w_listings 2
	m=$(w_requests "$rd")
	[ "$m" -gt "$n" ] || atf_fail "a create did not drop the listing"
	rm "$MNT/d/a"
	mv "$MNT/d/b" "$MNT/d/e"
	mkdir "$MNT/d/s"
	printf 'c\ne\ns\n' >expected
	w_listings 2
	n=$(w_requests "$rd")
	[ "$n" -gt "$m" ] || atf_fail "unlink and rename kept the listing"
	w_listings 2
	atf_check_equal "$(w_requests "$rd")" "$n"
	# Beside the mount: seen once the directory's attributes have timed
	# out and the lookup of d brings its new modification time.
	touch "$SRC/d/x"
	sleep 1.5
	printf 'c\ne\ns\nx\n' >expected
	w_listings 1
	w_stop
	# The other modes list through the worker every time.
	for o in auto never; do
		[ "$W_MODE" = daemon ] || rm -f exit pids
		w_start -v -o cache=$o
		n=$(w_requests "$rd")
		w_listings 3
		[ "$(w_requests "$rd")" -ge $((n + 3)) ] ||
		    atf_fail "cache=$o: a listing did not reach the worker"
		w_stop
	done
}

# w_drop_entries: has the kernel drop the dentries and inodes it can,
# and waits for the worker to be told.
w_drop_entries()
{
	forgets=$(w_requests 'FORGET\|BATCH_FORGET')
	echo 2 >/proc/sys/vm/drop_caches
	n=0
	while [ "$(w_requests 'FORGET\|BATCH_FORGET')" -le "$forgets" ]; do
		n=$((n + 1))
		[ $n -lt 50 ] || atf_fail "the kernel forgot nothing"
		sleep 0.1
	done
	sleep 0.2
}

w_case dircache_forget "cache=always: a listing whose entries were forgotten is read again, once"
dircache_forget_body()
{
	mkdir -p src/d
	for i in $(seq 200); do : >src/d/f$i; done
	w_start -v -o cache=always,timeout=60
	# Held open, the directory stays in the kernel's caches while its
	# entries go.
	exec 3<"$MNT/d"
	atf_check -o ignore ls -l "$MNT/d"
	atf_check -o ignore ls -l "$MNT/d"
	plus=$(w_requests READDIRPLUS)
	look=$(w_requests LOOKUP)
	[ "$plus" -gt 0 ] || atf_fail "no READDIRPLUS in the log"
	w_drop_entries
	# Listed again with attributes, not one LOOKUP per entry.
	atf_check -o ignore ls -l "$MNT/d"
	[ "$(w_requests READDIRPLUS)" -gt "$plus" ] ||
	    atf_fail "the listing was not read again"
	m=$(($(w_requests LOOKUP) - look))
	[ $m -lt 20 ] || atf_fail "$m LOOKUP requests for the entries"
	# What the kernel forgot before a listing was read again costs
	# that listing nothing: here the entries go between the OPENDIR
	# and the first READDIRPLUS (a change made through the mount has
	# the kernel read the listing afresh), and the next walk is served
	# from the kernel's cache.
	touch "$MNT/d/new"
	python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
open("opened", "w").close()
while not os.path.exists("go"):
    time.sleep(0.05)
for name in os.listdir(fd):
    os.stat(name, dir_fd=fd, follow_symlinks=False)
os.close(fd)
' "$MNT/d" &
	n=0
	while [ ! -f opened ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || atf_fail "the directory was not opened"
		sleep 0.1
	done
	w_drop_entries
	plus=$(w_requests READDIRPLUS)
	touch go
	wait $! || atf_fail "the listing between OPENDIR and READDIRPLUS"
	[ "$(w_requests READDIRPLUS)" -gt "$plus" ] ||
	    atf_fail "the changed listing was not read again"
	plus=$(w_requests READDIRPLUS)
	look=$(w_requests LOOKUP)
	atf_check -o ignore ls -l "$MNT/d"
	atf_check_equal "$(w_requests READDIRPLUS)" "$plus"
	m=$(($(w_requests LOOKUP) - look))
	[ $m -lt 20 ] || atf_fail "$m LOOKUP requests for the entries"
	exec 3<&-
	w_stop
}

w_case lookup_held "a name looked up again is found by its stat; a file put in its place beside the mount is the new one"
lookup_held_body()
{
	mkdir src
	echo one >src/a
	echo twotwo >src/b
	w_start -v -o timeout=0
	atf_check -o inline:"one\n" cat "$MNT/a"
	# timeout=0: every stat looks the name up again.  The first one
	# learns that the directory's names are held.
	for i in 1 2 3 4; do
		atf_check -o inline:"4\n" stat -c %s "$MNT/a"
	done
	n=$(w_log | grep -c "inode_lookup: node [0-9]* found by its stat")
	[ "$n" -ge 3 ] || atf_fail "$n of 3 lookups found by their stat"
	# Another file, then a directory, put at the name beside the mount.
	mv src/b src/a
	atf_check -o inline:"7\n" stat -c %s "$MNT/a"
	atf_check -o inline:"twotwo\n" cat "$MNT/a"
	rm src/a
	mkdir src/a
	touch src/a/x
	atf_check -o inline:"directory\n" stat -c %F "$MNT/a"
	atf_check -o inline:"x\n" ls "$MNT/a"
	rmdir src/a 2>/dev/null || rm -r src/a
	atf_check -s not-exit:0 -e match:"No such file" stat "$MNT/a"
	w_stop
}

w_case readdir_ahead "READDIRPLUS looks the next entries up ahead, and drops what it found once that is old"
readdir_ahead_body()
{
	mkdir -p src/d src/e
	for i in $(seq 1000); do printf x >src/d/f$i; printf x >src/e/f$i; done
	w_start -v -o timeout=5
	# Read one batch; change every file beside the mount once what
	# was looked up behind the batch is old; read on.  The first
	# batch's sizes are the kernel's, from before; every later one
	# is the new one.
	cat >ahead.py <<'EOF'
import os, sys, time
mnt, src = sys.argv[1], sys.argv[2]
it = os.scandir(mnt)
next(it)
time.sleep(0.5)
for name in os.listdir(src):
    with open(os.path.join(src, name), "a") as f:
        f.write("y")
sizes = [e.stat(follow_symlinks=False).st_size for e in it]
it.close()
if len(sizes) != 999:
    sys.exit("listed %d of 1000" % (len(sizes) + 1))
old = 0
while old < len(sizes) and sizes[old] == 1:
    old += 1
if old == len(sizes) or set(sizes[old:]) != {2}:
    sys.exit("sizes from before after the first batch")
print(old)
EOF
	atf_check -o save:old python3 ahead.py "$MNT/d" "$SRC/d"
	# Through io_uring a reply goes only with the thread's next
	# fetch, so nothing is looked up ahead there.
	if [ "$W_URING" = 0 ]; then
		ahead=$(w_log | sed -n \
		    's/.*dirahead_fill: node [0-9]*: \([0-9]*\) entries ahead.*/\1/p' |
		    head -1)
		[ -n "$ahead" ] || atf_fail "nothing looked up ahead"
		# As many as the first batch had, with "." and "..".
		[ "$(cat old)" -lt "$ahead" ] ||
		    atf_fail "$(cat old) old sizes, the first batch had $ahead"
	fi
	# A walk that stats every entry: what it sees is the backing tree.
	(cd src/e && stat -c "%n %s %a %F" f*) | sort >expected
	(cd "$MNT/e" && ls -U | xargs stat -c "%n %s %a %F") | sort >got
	atf_check cmp expected got
	w_stop
}

w_case bad_option "an unknown option stops the worker before serving"
bad_option_body()
{
	mkdir src mnt
	atf_check -s exit:1 -e match:"did not start" "$WRUN" -l worker.log \
	    -o bogus "$(pwd)/src" "$(pwd)/mnt" -- "$FSWORKER"
	atf_check -o match:"unknown option 'bogus'" cat worker.log
	atf_check -s exit:1 -x "grep -q ' $(pwd)/mnt ' /proc/mounts"
}

w_case owner "owner mode: the owner ids, no capabilities, no_new_privs"
owner_body()
{
	mkdir src
	chmod 777 src
	echo secret >src/secret
	chmod 600 src/secret
	w_start -u 65534 -g 65534 -o allow_other
	st=/proc/$(w_worker)/status
	atf_check -o match:"^Uid:.65534.65534.65534.65534$" grep ^Uid: "$st"
	atf_check -o match:"^Gid:.65534.65534.65534.65534$" grep ^Gid: "$st"
	atf_check -o match:"^Groups:.65534 *$" grep ^Groups: "$st"
	w_caps 0000000000000000
	echo mine >"$MNT/new"
	atf_check -o inline:"65534:65534\n" stat -c %u:%g "$SRC/new"
	atf_check -s not-exit:0 -e match:"denied" cat "$MNT/secret"
	w_stop
}

w_case root_owner "owner mode for root: uid 0 without any capability"
root_owner_body()
{
	w_start
	atf_check_equal "$(w_status Uid)" "0 0 0 0"
	w_caps 0000000000000000
	echo x >"$MNT/f"
	atf_check -s not-exit:0 -e match:"not permitted" chown 1234 "$MNT/f"
	atf_check -s not-exit:0 -e match:"not permitted" \
	    mknod "$MNT/null" c 1 3
	atf_check -o inline:"0:0\n" stat -c %u:%g "$SRC/f"
	w_stop
}

w_case multiuser "multiuser mode: root with exactly the eight capabilities"
multiuser_body()
{
	w_start -o multiuser
	atf_check_equal "$(w_status Uid)" "0 0 0 0"
	atf_check_equal "$(w_status Gid)" "0 0 0 0"
	atf_check_equal "Groups $(w_status Groups)" "Groups "
	# CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, SETGID 6, SETUID 7,
	# MKNOD 27, SETFCAP 31.
	w_caps 00000000880000db
	w_stop
}

w_case sandbox "the worker sees only its tree, in namespaces of its own"
sandbox_body()
{
	mkdir -p src/sub
	touch src/a src/.hidden
	w_start
	wpid=$(w_worker)
	for ns in mnt pid net ipc uts; do
		[ "$(readlink "/proc/$wpid/ns/$ns")" != \
		    "$(readlink "/proc/self/ns/$ns")" ] ||
		    atf_fail "the worker is in our $ns namespace"
	done
	ls -A "$SRC" >source
	ls -A "/proc/$wpid/root/" >root
	atf_check cmp source root
	# One mount, the tree, nosuid, nodev and nosymfollow; no procfs.
	atf_check -o inline:"1\n" -x "wc -l </proc/$wpid/mountinfo"
	atf_check -o match:" / rw,nosuid,nodev,[a-z,]*nosymfollow " \
	    cat "/proc/$wpid/mountinfo"
	ifs=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' \
	    "/proc/$wpid/net/dev" | xargs)
	atf_check_equal "interfaces $ifs" "interfaces lo"
	w_caps 0000000000000000
	w_stop
}

w_case sandbox_options "ro and noexec apply to the tree as the worker sees it"
sandbox_options_body()
{
	w_start -o ro,noexec
	atf_check -o match:" / ro,nosuid,nodev,noexec,[a-z,]*nosymfollow " \
	    cat "/proc/$(w_worker)/mountinfo"
	w_stop
}

w_case tmpfs_source "a tmpfs as the backing tree"
tmpfs_source_body()
{
	mkdir src
	mount -t tmpfs -o size=64m fsworker-test "$(pwd)/src" ||
	    atf_skip "cannot mount a tmpfs"
	w_start
	dd if=/dev/urandom of="$MNT/f" bs=1M count=4 2>/dev/null
	atf_check cmp "$MNT/f" "$SRC/f"
	atf_check -o inline:"tmpfs\n" stat -f -c %T "$SRC"
	# An unlinked file's space comes back once the kernel forgets it,
	# though it was open (and, with passthrough, registered): a large
	# file's at once, small ones' with the closes they wait for.
	for i in $(seq 1 100); do
		head -c 8192 /dev/urandom >"$MNT/s$i"
		cat "$MNT/s$i" >/dev/null
	done
	free=$(stat -f -c %f "$SRC")
	rm "$MNT/f"
	w_free_at_least $((free + 1024))
	rm "$MNT"/s*
	w_free_at_least $((free + 1024 + 200))
	w_stop
}

# w_free_at_least N: the backing file system has N free blocks of 4 KiB
# within 5 s.
w_free_at_least()
{
	n=0
	atf_check -o inline:"4096\n" stat -f -c %S "$SRC"
	while [ "$(stat -f -c %f "$SRC")" -lt "$1" ]; do
		n=$((n + 1))
		[ $n -lt 50 ] ||
		    atf_fail "$(stat -f -c %f "$SRC") free blocks, not $1"
		sleep 0.1
	done
}

# w_counter FIELD: a counter of this mount in fsctl status -j.
w_counter()
{
	fsctl status -j | python3 -c '
import json, sys
m = [e for e in json.load(sys.stdin) if e["mountpoint"] == sys.argv[1]]
print(m[0][sys.argv[2]])' "$MNT" "$1"
}

# w_registrations: how many files the worker has had registered for
# passthrough so far.
w_registrations()
{
	w_log | grep -c 'passthrough_open: node .*: backing'
}

# w_passthrough: 1 if this run's mounts pass files through, else 0.
# Passthrough is what a mount asks for by default; t_ops_nopt and
# t_ops_wb turn it off.
# w_kernel: the older kernel the daemon's workers behave as (fsm_kernel,
# fsmonitor -K), or nothing.
w_kernel()
{
	[ "$W_MODE" = daemon ] && fsm_kernel
	true
}

# w_minor: the FUSE minor the workers negotiate (fsworker(8)).
w_minor()
{
	case $(w_kernel) in
	5.14)	echo 34 ;;
	6.1)	echo 38 ;;
	6.8)	echo 39 ;;
	*)	echo 45 ;;
	esac
}

w_passthrough()
{
	# Every kernel a test may cap to is older than passthrough (6.9).
	[ -z "$(w_kernel)" ] || { echo 0; return; }
	case ,${W_OPTS:-}, in
	*,nopassthrough,*|*,writeback,*) echo 0 ;;
	*)	echo 1 ;;
	esac
}

w_case passthrough "reads, writes and mappings bypass the worker"
passthrough_body()
{
	w_start
	pt=$(w_passthrough)
	dd if=/dev/urandom of="$MNT/f" bs=64k count=64 conv=fsync 2>/dev/null
	atf_check cmp "$MNT/f" "$SRC/f"
	# Two opens at once share the backing file; a mapping writes to it.
	exec 3<"$MNT/f"
	python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
m[0:6] = b"mapped"
m.flush()
' "$MNT/f"
	exec 3<&-
	atf_check -o inline:"mapped" head -c 6 "$SRC/f"
	atf_check -o inline:"mapped" head -c 6 "$MNT/f"
	# Counters come once a second.
	sleep 1.5
	if [ $pt = 1 ]; then
		atf_check_equal "$(w_counter bytes_written)" 0
		atf_check_equal "$(w_counter bytes_read)" 0
	else
		[ "$(w_counter bytes_written)" -ge 4194304 ] ||
		    atf_fail "writes did not go through the worker"
	fi
	# What the worker could not write itself, it serves: a file of
	# mode 0444 for this worker (root without capabilities), and a
	# set-user-ID one.
	dd if=/dev/urandom of="$SRC/ro" bs=64k count=1 2>/dev/null
	chmod 444 "$SRC/ro"
	atf_check cmp "$MNT/ro" "$SRC/ro"
	cp "$SRC/ro" "$SRC/suid"
	chmod 4755 "$SRC/suid"
	atf_check cmp "$MNT/suid" "$SRC/suid"
	sleep 1.5
	[ "$(w_counter bytes_read)" -ge 131072 ] ||
	    atf_fail "the worker did not serve the reads"
	[ $pt = 1 ] || { w_stop; return 0; }
	# A registration lasts until the kernel forgets the file: opening
	# it again asks fsmount for nothing.
	n=$(w_registrations)
	[ "$n" -gt 0 ] || atf_fail "no registration in the log"
	for i in 1 2 3; do atf_check cmp "$MNT/f" "$SRC/f"; done
	atf_check_equal "$(w_registrations)" "$n"
	# What the kernel keeps holds no writer of the file: open for
	# reading through the mount, it runs beside it; open for writing,
	# it is busy, as on the backing file system alone.
	cp /bin/true "$SRC/true"
	exec 4<"$MNT/true"
	atf_check "$SRC/true"
	exec 4<&-
	exec 4>>"$MNT/true"
	atf_check -s exit:126 -e match:"Text file busy" \
	    sh -c 'exec "$1"' sh "$SRC/true"
	exec 4>&-
	atf_check "$SRC/true"
	# A file created write-only, of a mode that lets this worker open
	# it again for nothing: its writes still go straight to it, and
	# the caller's open may still not read.
	python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o200)
os.write(fd, b"w" * 65536)
os.fsync(fd)
try:
    os.read(fd, 1)
    sys.exit("a write-only open read")
except OSError as e:
    if e.errno != errno.EBADF:
        raise
os.close(fd)
' "$MNT/wo" || atf_fail "write-only create"
	atf_check -o inline:"200 65536\n" stat -c "%a %s" "$SRC/wo"
	atf_check -o inline:"65536\n" -x "tr -d w <'$SRC/wo' | wc -c | \
	    xargs expr 65536 -"
	sleep 1.5
	atf_check_equal "$(w_counter bytes_written)" 0
	w_stop
}

w_case small_reads "small files open for reading only are read by the worker"
small_reads_body()
{
	w_start
	pt=$(w_passthrough)
	served='passthrough_open: node .*: 4000 bytes, served'
	head -c 4000 /dev/urandom >"$SRC/small"
	head -c 32768 /dev/urandom >"$SRC/large"
	printf 'a\n' >"$SRC/fresh"
	# Unchanged for longer than the attribute timeout (1 s).
	sleep 2.2
	# Seen by the kernel, then changed beside the mount: the size it
	# holds is old, so the open must not read through its cache, and a
	# passthrough read sees the whole file.  (Without passthrough, the
	# read ends at the kernel's size until the attribute timeout.)
	atf_check -o inline:"2\n" stat -c %s "$MNT/fresh"
	printf 'b\n' >>"$SRC/fresh"
	[ $pt = 0 ] || atf_check -o inline:"a\nb\n" cat "$MNT/fresh"
	sleep 1.5
	read0=$(w_counter bytes_read)
	atf_check cmp "$MNT/small" "$SRC/small"
	atf_check cmp "$MNT/large" "$SRC/large"
	# A reader of the small file, then a writer of it beside it: the
	# writer follows the reader's kind and the reader sees the write.
	python3 -c '
import mmap, os, sys
r = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(r, 0, prot=mmap.PROT_READ)
w = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(w, b"written", 0)
os.close(w)
if os.pread(r, 7, 0) != b"written" or m[0:7] != b"written":
    sys.exit("the reader did not see the write")
' "$MNT/small" || atf_fail "reader and writer"
	atf_check -o inline:"written" head -c 7 "$SRC/small"
	sleep 1.5
	read1=$(w_counter bytes_read)
	if [ $pt = 1 ]; then
		# 4000 bytes by cmp, the large file by none.
		[ $((read1 - read0)) -ge 4000 ] &&
		    [ $((read1 - read0)) -lt 32768 ] ||
		    atf_fail "$((read1 - read0)) bytes read by the worker"
		w_log_match "$served"
		[ "$(w_registrations)" -ge 2 ] ||
		    atf_fail "the fresh and large files were not passed through"
		[ "$(w_counter bytes_written)" -ge 7 ] ||
		    atf_fail "the writer beside a reader was passed through"
	fi
	w_stop
	[ $pt = 1 ] || return 0
	# passthrough_min=0: every open is passed through.
	w_start -o passthrough_min=0
	atf_check cmp "$MNT/small" "$SRC/small"
	sleep 1.5
	atf_check_equal "$(w_counter bytes_read)" 0
	w_stop
	# cache=always keeps what it read of a small file from one open to
	# the next, but not across a write passed through beneath it (the
	# kernel drops its cache at an open without FOPEN_KEEP_CACHE).  With
	# restart a registration ends with its last open, so the read after
	# the write is served by the worker again.
	w_start -o cache=always,restart
	m=$(w_log | grep -c "$served")
	atf_check cmp "$MNT/small" "$SRC/small"
	[ "$(w_log | grep -c "$served")" -gt "$m" ] ||
	    atf_fail "the first read was not served by the worker"
	n=$(w_registrations)
	sleep 0.5
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"again", 0)
os.close(fd)
' "$MNT/small" || atf_fail "write"
	[ "$(w_registrations)" -gt "$n" ] ||
	    atf_fail "the write was not passed through"
	sleep 0.5
	atf_check -o inline:"again" head -c 5 "$MNT/small"
	atf_check cmp "$MNT/small" "$SRC/small"
	w_stop
}

# w_creators N SHARED: four processes at once each create N files,
# d<p>/<i> holding "p i", each in a directory of its own (a create holds
# its directory); after each of its first SHARED files, each appends its
# line to s<i>, which exists, once all four are there to open it at once.
w_creators()
{
	python3 -c '
import multiprocessing as mp, os, sys
mnt, n, shared = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run(p, barrier):
    os.mkdir("%s/d%d" % (mnt, p))
    for i in range(n):
        line = ("%d %d\n" % (p, i)).encode()
        fd = os.open("%s/d%d/%d" % (mnt, p, i),
            os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, line)
        os.close(fd)
        if i < shared:
            barrier.wait()
            fd = os.open("%s/s%d" % (mnt, i), os.O_WRONLY | os.O_APPEND)
            os.write(fd, line)
            os.close(fd)
barrier = mp.Barrier(4)
ps = [mp.Process(target=run, args=(p, barrier)) for p in range(4)]
for p in ps:
    p.start()
for p in ps:
    p.join()
sys.exit(any(p.exitcode != 0 for p in ps))
' "$MNT" "$1" "$2" || atf_fail "a creating process failed"
}

# w_created N SHARED DIR: DIR holds what w_creators N SHARED wrote.
w_created()
{
	python3 -c '
import sys
n, shared, top = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for p in range(4):
    for i in range(n):
        if open("%s/d%d/%d" % (top, p, i)).read() != "%d %d\n" % (p, i):
            sys.exit("d%d/%d holds the wrong bytes" % (p, i))
for i in range(shared):
    if sorted(open("%s/s%d" % (top, i)).readlines()) != \
        ["%d %d\n" % (p, i) for p in range(4)]:
        sys.exit("s%d holds the wrong lines" % i)
' "$1" "$2" "$3" || atf_fail "what $3 holds"
}

w_case passthrough_parallel "opens of different files register at once"
passthrough_parallel_body()
{
	w_start -o threads=4
	pt=$(w_passthrough)
	# Registrations of the files each process creates are in flight
	# at once; the opens of a shared file wait for its registration in
	# flight and share it.
	for k in $(seq 0 19); do : >"$SRC/s$k"; done
	w_creators 150 20
	w_created 150 20 "$SRC"
	if [ $pt = 1 ]; then
		[ "$(w_registrations)" -eq 620 ] ||
		    atf_fail "not one registration a file"
		w_log_match 'pt_register: [2-9] registrations in flight'
	fi
	w_stop
}

w_case passthrough_writeback "passthrough and writeback exclude each other"
passthrough_writeback_body()
{
	mkdir -p src mnt
	fsm_start
	atf_check -s exit:1 -e match:"options passthrough and writeback conflict" \
	    fsctl mount -o writeback,passthrough "$(pwd)/src" "$(pwd)/mnt"
	atf_check -s exit:1 test -n "$(fsm_mounts | grep "$(pwd)/mnt")"
}

w_case transport "io_uring with enable_uring set, /dev/fuse reads without"
transport_body()
{
	uring=$W_URING
	W_URING=0
	w_uring N
	w_start
	echo a >"$MNT/f"
	atf_check -o inline:"a\n" cat "$MNT/f"
	w_log_match "transport /dev/fuse: enable_uring is not set"
	! w_log | grep -q io_uring || atf_fail "io_uring without enable_uring"
	w_stop
	# The worker run by hand again: its files start afresh.
	[ "$W_MODE" = daemon ] || rm -f exit pids wpid stats
	from=$(($(w_log | wc -l) + 1))
	w_uring Y
	w_start
	if [ -n "$(w_kernel)" ]; then
		# A kernel before FUSE over io_uring (6.14) offers none.
		echo a >"$MNT/f"
		atf_check -o inline:"a\n" cat "$MNT/f"
		w_log_match "transport /dev/fuse: the kernel offers no io_uring"
		w_stop
		W_URING=$uring
		return
	fi
	w_log_match "transport io_uring, [1-9][0-9]* queues"
	w_queue_cpus
	# Large requests both ways (the payload buffers), names, a lock
	# that waits (answered later from another thread), a directory.
	dd if=/dev/urandom of="$SRC/big" bs=1M count=8 2>/dev/null
	atf_check cmp "$SRC/big" "$MNT/big"
	dd if="$SRC/big" of="$MNT/copy" bs=1M 2>/dev/null
	atf_check cmp "$SRC/big" "$SRC/copy"
	mkdir "$MNT/d"
	for i in 1 2 3 4 5 6 7 8; do echo $i >"$MNT/d/f$i"; done
	atf_check -o inline:"8\n" sh -c "ls '$MNT/d' | wc -l"
	"$FSOP" lock "$MNT/f" w 2 >held &
	holder=$!
	w_wait_held held
	atf_check -o inline:"ok\n" "$FSOP" waitlock "$MNT/f" w
	wait "$holder"
	atf_check rm -r "$MNT/d"
	w_stop
	w_uring_served "$from" some
	W_URING=$uring
}

w_case backing_gone "fsmount gone with registrations in flight"
backing_gone_body()
{
	# wrun stands in for fsmount: it registers 8 files, then closes
	# the channel at the next registration, unanswered.
	w_start -v -b 8 -o threads=4
	w_creators 50 0
	w_created 50 0 "$SRC"
	w_created 50 0 "$MNT"
	atf_check_equal "$(w_registrations)" 8
	w_log_match "channel to fsmount, passthrough ends"
	w_log_match "registrations unanswered, their files served here"
	# The worker goes on serving, opens of a file registered before
	# included.
	echo after >"$MNT/after"
	atf_check -o inline:"after\n" cat "$SRC/after"
	echo again >>"$MNT/d0/0"
	atf_check -o inline:"0 0\nagain\n" cat "$SRC/d0/0"
	kill -0 "$(w_worker)" || atf_fail "the worker is gone"
	w_stop
}

w_case flush "FLUSH only where a close can tell something"
flush_body()
{
	# The tests' own filesystem (ext4 here) and a tmpfs: a close
	# tells nothing, the kernel is told not to send FLUSH.
	for fs in disk tmpfs; do
		mkdir src
		[ $fs = disk ] ||
		    mount -t tmpfs -o size=8m fsworker-test "$(pwd)/src" ||
		    atf_fail "cannot mount a tmpfs"
		w_start -v
		for i in 1 2 3 4 5; do echo $i >"$MNT/f"; done
		atf_check -o inline:"5\n" cat "$MNT/f"
		atf_check -o inline:"5\n" cat "$SRC/f"
		w_log_match "fuse_dispatch: RELEASE "
		atf_check_equal "$(w_requests FLUSH)" 0
		w_stop
		rm -f exit pids wpid stats worker.log
		umount src 2>/dev/null
		rm -rf src
	done
	# A filesystem not known to have no flush method (ramfs has none,
	# but is not on the list): every close is a FLUSH.
	mkdir src
	mount -t ramfs fsworker-test "$(pwd)/src" ||
	    atf_fail "cannot mount a ramfs"
	w_start -v
	for i in 1 2 3 4 5; do echo $i >"$MNT/f"; done
	atf_check -o inline:"5\n" cat "$SRC/f"
	n=$(w_requests FLUSH)
	[ "$n" -ge 6 ] || atf_fail "$n FLUSH requests"
	w_stop
	rm -f exit pids wpid stats worker.log
	# The writeback cache writes back on FLUSH.
	w_start -v -o writeback
	for i in 1 2 3 4 5; do echo $i >"$MNT/g"; done
	atf_check -o inline:"5\n" cat "$MNT/g"
	atf_check -o inline:"5\n" cat "$SRC/g"
	n=$(w_requests FLUSH)
	[ "$n" -ge 6 ] || atf_fail "$n FLUSH requests"
	w_stop
}

w_case splice "READ replies by splice(2) on /dev/fuse, copied otherwise"
splice_body()
{
	# Reads the worker serves, not the kernel's passthrough.
	w_start -v -o nopassthrough
	# Not a whole number of pages: the last read of each size is short.
	dd if=/dev/urandom of="$SRC/f" bs=64k count=40 2>/dev/null
	head -c 1000 /dev/urandom >>"$SRC/f"
	# Direct reads come as one READ each of the size asked: below the
	# spliced sizes, in them, and over what a pipe holds (copied).
	for bs in 4k 32k 128k 1M; do
		atf_check -e ignore dd if="$MNT/f" of=out bs=$bs iflag=direct
		atf_check cmp out "$SRC/f"
	done
	# Unaligned, across the end of the file, and at it.
	python3 -c '
import os, sys
a = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
b = os.open(sys.argv[2], os.O_RDONLY)
size = os.fstat(b).st_size
for off, n in ((1, 200000), (4095, 65536), (size - 5000, 131072),
    (size, 65536), (size + 4096, 65536)):
	if os.pread(a, n, off) != os.pread(b, n, off):
		sys.exit("differs at %d, %d bytes" % (off, n))
' "$MNT/f" "$SRC/f" || atf_fail "unaligned reads differ"
	# Through the page cache: readahead asks for 128 KiB at a time.
	echo 1 >/proc/sys/vm/drop_caches
	atf_check cmp "$MNT/f" "$SRC/f"
	n=$(w_log | grep -c "splice_read: unique .* bytes spliced")
	if [ "$W_URING" = 1 ]; then
		# Replies under io_uring are written in place.
		atf_check_equal "$n" 0
	else
		[ "$n" -ge 20 ] || atf_fail "$n spliced replies"
	fi
	w_stop
}

w_case sigterm "the worker, first of its pid namespace, ends on SIGTERM"
sigterm_body()
{
	w_start
	w_ends_on TERM "$(w_worker)" 0 "exiting: signal 15"
}

w_case stats_shutdown "STATS reach the parent; SHUTDOWN ends the worker"
stats_shutdown_body()
{
	w_start
	dd if=/dev/zero of="$MNT/f" bs=64k count=16 2>/dev/null
	cat "$MNT/f" >/dev/null
	# Held open, the node and its handle stay whatever the caches do.
	exec 3<"$MNT/f"
	sleep 2.5
	atf_check -o match:"^requests [1-9]" cat stats
	atf_check -o match:"^bytes_written 1048576$" cat stats
	atf_check -o match:"^nodes [2-9]" cat stats
	atf_check -o match:"^handles 1$" cat stats
	exec 3<&-
	sleep 2.5
	atf_check -o match:"^handles 0$" cat stats
	kill -USR1 "$(w_holder)"
	w_wait_exit
	atf_check -o inline:"exit 0\n" cat exit
	atf_check -o match:"shutdown requested" cat worker.log
}

w_case parent_gone "the worker exits when the parent closes the channel"
parent_gone_body()
{
	w_start
	echo x >"$MNT/f"
	kill -KILL "$(w_holder)"
	n=0
	until grep -q "parent closed the channel" worker.log; do
		n=$((n + 1))
		[ $n -lt 50 ] || atf_fail "the worker did not notice"
		sleep 0.2
	done
	atf_check -o inline:"x\n" cat "$SRC/f"
}

w_case parent_bad_frame "a message out of place from the parent is fatal"
parent_bad_frame_body()
{
	w_start
	w_ends_on USR2 "$(w_holder)" 1 "fatal.*unexpected message type"
}

atf_init_test_cases()
{
	atf_add_test_case basic_io
	atf_add_test_case rename
	atf_add_test_case links
	atf_add_test_case dirs
	atf_add_test_case attrs
	atf_add_test_case xattrs
	atf_add_test_case noxattr
	atf_add_test_case locks
	atf_add_test_case space
	atf_add_test_case copy_range
	atf_add_test_case tmpfile
	atf_add_test_case bigdir
	atf_add_test_case deep
	atf_add_test_case tools
	atf_add_test_case special
	atf_add_test_case killpriv
	atf_add_test_case killpriv_owner
	atf_add_test_case list_nosearch
	atf_add_test_case readonly
	atf_add_test_case options
	atf_add_test_case spin
	atf_add_test_case dircache
	atf_add_test_case dircache_forget
	atf_add_test_case lookup_held
	atf_add_test_case readdir_ahead
	atf_add_test_case root_owner
	atf_add_test_case multiuser
	atf_add_test_case sandbox
	atf_add_test_case sandbox_options
	atf_add_test_case tmpfs_source
	atf_add_test_case transport
	atf_add_test_case splice
	if [ "$W_MODE" = daemon ]; then
		atf_add_test_case passthrough
		atf_add_test_case passthrough_writeback
		atf_add_test_case passthrough_parallel
		atf_add_test_case small_reads
	fi
	# What only a worker run by hand can show.
	if [ "$W_MODE" = wrun ]; then
		atf_add_test_case bad_option
		atf_add_test_case backing_gone
		atf_add_test_case flush
		atf_add_test_case owner
		atf_add_test_case sigterm
		atf_add_test_case stats_shutdown
		atf_add_test_case parent_gone
		atf_add_test_case parent_bad_frame
	fi
}
