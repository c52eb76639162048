# Root's reserved blocks: a user who fills a file system through a mount
# stops where the same user stops natively, with passthrough I/O (the
# kernel's, with the credentials fsmount registered the file with) and
# without (the worker's own writes), in owner and multiuser mode; root
# goes on into the reserve through a mount of root's as natively.  And
# fsmount's own credentials come back after every registration.

. "$(atf_get_srcdir)/common.sh"

# 64 MiB of ext4 with 10% for root: 6.4 MiB between a user's ENOSPC and
# root's.  A fill may differ from another by the blocks of metadata a
# file's size needs; 1 MiB is far less than the reserve.
SLACK=1048576

# reserve_fs: the ext4, with a directory of the test user's on it, and
# a mountpoint of theirs.
reserve_fs()
{
	w=$(fsm_workdir)
	fsm_fs ext4 "$w/fs" -m 10
	mkdir -m 755 "$w/fs/u" "$w/mnt"
	chown "$TESTUSER:$TESTUSER" "$w/fs/u" "$w/mnt"
}

# fill WHO FILE BACKING [DD-OPTIONS]: writes zeros to FILE as WHO (a
# user, or root), more than the file system holds, and syncs them; the
# file system must refuse.  Prints the bytes BACKING, the file as the
# backing tree has it, takes on the disk: with the writeback cache the
# refusal may come only with fsync(2), and the size the kernel sets
# may go past what was written.
fill()
{
	who=$1
	f=$2
	b=$3
	shift 3
	set -- dd if=/dev/zero of="$f" bs=65536 count=1024 conv=fsync "$@"
	if [ "$who" = root ]; then
		"$@" 2>dd.err
	else
		as_user "$who" "$@" 2>dd.err
	fi
	grep -q "No space left on device" dd.err ||
	    atf_fail "$who filling $f: $(cat dd.err)"
	set -- $(stat -c "%b %B" "$b")
	echo $(($1 * $2))
}

# near NATIVE MOUNTED WHAT: the fill through the mount is the native one
# within SLACK, neither into root's reserve nor short of it.
near()
{
	[ -n "$1" ] && [ -n "$2" ] || atf_fail "$3: a fill failed"
	d=$(($2 - $1))
	[ ${d#-} -le $SLACK ] ||
	    atf_fail "$3: $2 bytes through the mount, $1 natively"
}

# reserve_case OPTIONS: the test user fills natively, then through a
# mount of their own (or root's multiuser one) with OPTIONS.
reserve_case()
{
	fsm_users
	fsm_start
	reserve_fs
	w=$(fsm_workdir)
	native=$(fill "$TESTUSER" "$w/fs/u/native" "$w/fs/u/native")
	rm -f "$w/fs/u/native"
	sync
	case ",$1," in
	*,multiuser,*)
		chown root:root "$w/mnt"
		atf_check fsctl mount -o "$1" "$w/fs/u" "$w/mnt"
		;;
	*)
		atf_check fsctl_as "$TESTUSER" mount ${1:+-o "$1"} \
		    "$w/fs/u" "$w/mnt"
		;;
	esac
	mounted=$(fill "$TESTUSER" "$w/mnt/f" "$w/fs/u/f")
	near "$native" "$mounted" "${1:-default options}"
	# Again in place, through the registration kept since the close.
	mounted=$(fill "$TESTUSER" "$w/mnt/f" "$w/fs/u/f" conv=notrunc)
	near "$native" "$mounted" "${1:-default options}, again"
	atf_check fsctl unmount "$w/mnt"
	rm -f "$w/fs/u/f"
	sync
	# Root natively still has its reserve left.
	root=$(fill root "$w/fs/root" "$w/fs/root")
	[ "$root" -gt $((native + 4 * SLACK)) ] ||
	    atf_fail "root wrote $root bytes, the user $native"
}

atf_test_case owner cleanup
owner_head()
{
	atf_set descr "Through a user's own mount with passthrough, the " \
	    "user stops where root's reserve begins, as natively"
	atf_set require.user root
}
owner_body()
{
	reserve_case ""
}
owner_cleanup()
{
	fsm_cleanup
}

atf_test_case owner_served cleanup
owner_served_head()
{
	atf_set descr "The same with nopassthrough"
	atf_set require.user root
}
owner_served_body()
{
	reserve_case nopassthrough
}
owner_served_cleanup()
{
	fsm_cleanup
}

atf_test_case multiuser cleanup
multiuser_head()
{
	atf_set descr "Through root's multiuser mount with passthrough, a " \
	    "user stops where root's reserve begins, as natively"
	atf_set require.user root
}
multiuser_body()
{
	reserve_case multiuser
}
multiuser_cleanup()
{
	fsm_cleanup
}

atf_test_case multiuser_served cleanup
multiuser_served_head()
{
	atf_set descr "The same with nopassthrough: the worker writes as " \
	    "the caller"
	atf_set require.user root
}
multiuser_served_body()
{
	reserve_case multiuser,nopassthrough
}
multiuser_served_cleanup()
{
	fsm_cleanup
}

atf_test_case multiuser_writeback cleanup
multiuser_writeback_head()
{
	atf_set descr "The same with the writeback cache, whose writes " \
	    "the kernel sends as root: the worker writes as the opener"
	atf_set require.user root
}
multiuser_writeback_body()
{
	reserve_case multiuser,writeback
}
multiuser_writeback_cleanup()
{
	fsm_cleanup
}

atf_test_case root_owner cleanup
root_owner_head()
{
	atf_set descr "Root writes into its reserve through a mount of " \
	    "root's, as natively"
	atf_set require.user root
}
root_owner_body()
{
	fsm_users
	fsm_start
	reserve_fs
	w=$(fsm_workdir)
	chown root:root "$w/fs/u" "$w/mnt"
	native=$(fill root "$w/fs/u/native" "$w/fs/u/native")
	rm -f "$w/fs/u/native"
	sync
	for o in "" nopassthrough; do
		atf_check fsctl mount ${o:+-o "$o"} "$w/fs/u" "$w/mnt"
		mounted=$(fill root "$w/mnt/f" "$w/fs/u/f")
		near "$native" "$mounted" "root, ${o:-default options}"
		atf_check fsctl unmount "$w/mnt"
		rm -f "$w/fs/u/f"
		sync
	done
}
root_owner_cleanup()
{
	fsm_cleanup
}

# The credentials lines of a process's status: ids, groups, capabilities.
creds()
{
	grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' \
	    "/proc/$1/status"
}

atf_test_case fsmount_creds cleanup
fsmount_creds_head()
{
	atf_set descr "fsmount's ids, groups and capabilities are its own " \
	    "again after registering files as their openers"
	atf_set require.user root
}
fsmount_creds_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	fsmount_pid=$(pgrep -P "$(fsm_pid)" -x fsmount)
	[ -n "$fsmount_pid" ] || atf_fail "no fsmount"
	creds "$fsmount_pid" >before
	mkdir -m 755 "$w/src" "$w/mnt" "$w/msrc" "$w/mmnt"
	chown "$TESTUSER:$TESTUSER" "$w/src" "$w/mnt" "$w/msrc"
	atf_check fsctl_as "$TESTUSER" mount "$w/src" "$w/mnt"
	atf_check fsctl mount -o multiuser "$w/msrc" "$w/mmnt"
	for i in 1 2 3 4 5 6 7 8; do
		as_user "$TESTUSER" dd if=/dev/zero of="$w/mnt/f$i" bs=65536 \
		    count=4 2>/dev/null || atf_fail "write f$i"
		as_user "$TESTUSER" dd if=/dev/zero of="$w/mmnt/f$i" \
		    bs=65536 count=4 2>/dev/null || atf_fail "write mf$i"
	done
	creds "$fsmount_pid" >after
	atf_check -o file:before cat after
	# Its file system ids are root's (the fourth of each line).
	atf_check -o inline:"0\n0\n" awk '$1 == "Uid:" || $1 == "Gid:" \
	    { print $5 }' after
	atf_check fsctl unmount "$w/mnt"
	atf_check fsctl unmount "$w/mmnt"
}
fsmount_creds_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case owner
	atf_add_test_case owner_served
	atf_add_test_case multiuser
	atf_add_test_case multiuser_served
	atf_add_test_case multiuser_writeback
	atf_add_test_case root_owner
	atf_add_test_case fsmount_creds
}
