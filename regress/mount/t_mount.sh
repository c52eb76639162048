# mount(8), fstab and umount(8) with the type fuse.fsmonitor, through
# the helper mount.fuse.fsmonitor (fsctl under that name).

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

HELPER_LINK=/sbin/mount.fuse.fsmonitor

# The helper under its name, in the work directory.
mnt_helper()
{
	w=$(fsm_workdir)
	[ -L "$w/mount.fuse.fsmonitor" ] ||
	    ln -s "$FSCTL" "$w/mount.fuse.fsmonitor"
	echo "$w/mount.fuse.fsmonitor"
}

# mount(8) runs /sbin/mount.fuse.fsmonitor, which may be the helper of
# an installed copy: not ours to run nor to replace.  The cases that
# go through mount(8) start the daemon in a private mount namespace of
# its own where that path is this build's fsctl (regress/nsrun.sh), and
# run mount(8), umount(8) and every look at the mounts in it (in_ns),
# since the mounts are made there.  It vanishes with the daemon.
mnt_start_ns()
{
	fsm_path
	w=$(fsm_workdir)
	mnt_host_helper >mnt.host
	mkdir "$w/ns"
	FSM_IN="sh $TOP/regress/nsrun.sh $w/ns $HELPER_LINK=$FSCTL --" \
	    fsm_start
	fsm_pid >"$w/ns.pid"
	cat >"$w/bin/in_ns" <<CMD
#!/bin/sh
exec nsenter -m -t "\$(cat "$w/ns.pid")" --wd="\$PWD" -- "\$@"
CMD
	chmod 755 "$w/bin/in_ns"
	atf_check -o inline:"$FSCTL\n" in_ns readlink "$HELPER_LINK"
}

# What the host has at $HELPER_LINK, which no case may change.
mnt_host_helper()
{
	stat -c "%N %i %Y" "$HELPER_LINK" 2>/dev/null ||
	    echo "no $HELPER_LINK"
}

mnt_cleanup()
{
	fsm_cleanup
	if [ -f mnt.host ]; then
		[ "$(mnt_host_helper)" = "$(cat mnt.host)" ] ||
		    atf_fail "$HELPER_LINK changed on the host"
	fi
}

mnt_tree()
{
	w=$(fsm_workdir)
	mkdir -p "$w/src" "$w/mnt"
	echo data >"$w/src/f"
}

# Until the daemon's table has no entry for $1 and no worker is left.
mnt_wait_gone()
{
	n=0
	while fsctl status | grep -q " $1 " ||
	    pgrep -f "fsworker.* $1\$" >/dev/null; do
		n=$((n + 1))
		[ $n -gt 100 ] && atf_fail "$1 still in the table: \
$(fsctl status)"
		sleep 0.05
	done
}

atf_test_case helper cleanup
helper_head()
{
	atf_set descr "The helper, called as mount(8) calls it, mounts " \
	    "through the daemon and drops mount(8)'s own options"
	atf_set require.user root
}
helper_body()
{
	fsm_start
	mnt_tree
	w=$(fsm_workdir)
	h=$(mnt_helper)
	atf_check "$h" "$w/src" "$w/mnt" -n -o \
	    "socket=$w/ctl.sock,defaults,noauto,_netdev,x-systemd.foo,ro,nosuid,nodev,comment=x" \
	    -t fuse.fsmonitor
	atf_check -o inline:"data\n" cat "$w/mnt/f"
	atf_check -s not-exit:0 -e match:"Read-only file system" \
	    sh -c "echo x >'$w/mnt/g'"
	atf_check -o match:"$w/mnt .* ro( |$)" fsctl status
	atf_check -o inline:"fuse.fsmonitor $w/src\n" \
	    findmnt -n -o FSTYPE,SOURCE "$w/mnt"
	atf_check fsctl unmount "$w/mnt"

	# -v says what it sends; -f only pretends.
	atf_check -e match:"mounting $w/src on $w/mnt with options \"ro\" \
through $w/ctl.sock" \
	    "$h" "$w/src" "$w/mnt" -f -v -o "socket=$w/ctl.sock,ro,auto"
	fsm_is_mounted "$w/mnt" && atf_fail "-f mounted"
	return 0
}
helper_cleanup()
{
	mnt_cleanup
}

atf_test_case helper_errors cleanup
helper_errors_head()
{
	atf_set descr "The helper's errors, with mount(8)'s exit codes: " \
	    "1 for usage, 32 for a failed mount"
	atf_set require.user root
}
helper_errors_body()
{
	fsm_start
	mnt_tree
	w=$(fsm_workdir)
	h=$(mnt_helper)
	atf_check -s exit:32 -e inline:"mount.fuse.fsmonitor: mount $w/mnt: \
unknown option 'bogus'\n" "$h" "$w/src" "$w/mnt" -o "socket=$w/ctl.sock,bogus"
	atf_check -s exit:32 -e match:"unknown option 'suid'" \
	    "$h" "$w/src" "$w/mnt" -o "socket=$w/ctl.sock,suid"
	atf_check -s exit:32 -e match:"cannot connect to $w/none" \
	    "$h" "$w/src" "$w/mnt" -o "socket=$w/none"
	atf_check -s exit:32 -e match:"mount $w/nosrc: No such file" \
	    "$h" "$w/nosrc" "$w/mnt" -o "socket=$w/ctl.sock"
	atf_check -s exit:1 -e match:"must be an absolute path" \
	    "$h" "$w/src" "$w/mnt" -o "socket=ctl.sock"
	atf_check -s exit:1 -e match:"mounts the type fuse.fsmonitor only" \
	    "$h" "$w/src" "$w/mnt" -t ext4
	atf_check -s exit:1 -e match:"not supported" \
	    "$h" "$w/src" "$w/mnt" -N 1
	atf_check -s exit:1 -e match:"^usage: mount.fuse.fsmonitor source" \
	    "$h" "$w/src"
	atf_check -s exit:1 -e match:"^usage:" "$h" -o ro "$w/src" "$w/mnt"
	fsm_is_mounted "$w/mnt" && atf_fail "something was mounted"
	return 0
}
helper_errors_cleanup()
{
	mnt_cleanup
}

atf_test_case helper_user cleanup
helper_user_head()
{
	atf_set descr "A user running the helper mounts as that user, " \
	    "with the same policy as fsctl"
	atf_set require.user root
}
helper_user_body()
{
	fsm_users
	fsm_start
	mnt_tree
	w=$(fsm_workdir)
	h=$(mnt_helper)
	chown "$TESTUSER:$TESTUSER" "$w/src" "$w/mnt"
	atf_check as_user "$TESTUSER" "$h" "$w/src" "$w/mnt" \
	    -o "socket=$w/ctl.sock"
	atf_check -o match:"$w/mnt .* $TESTUSER " fsctl status
	atf_check -s exit:32 -e match:"allow_other" as_user "$TESTUSER" \
	    "$h" "$w/src" "$w/src" -o "socket=$w/ctl.sock,allow_other"
	atf_check fsctl_as "$TESTUSER" unmount "$w/mnt"
}
helper_user_cleanup()
{
	mnt_cleanup
}

atf_test_case mount8 cleanup
mount8_head()
{
	atf_set descr "mount -t fuse.fsmonitor and umount work through the " \
	    "daemon, which notices the unmount"
	atf_set require.user root
	atf_set require.progs "mount umount findmnt unshare nsenter"
}
mount8_body()
{
	mnt_start_ns
	mnt_tree
	w=$(fsm_workdir)
	atf_check in_ns mount -t fuse.fsmonitor \
	    -o "socket=$w/ctl.sock,noexec" "$w/src" "$w/mnt"
	atf_check -o inline:"data\n" in_ns cat "$w/mnt/f"
	atf_check -o match:"noexec" in_ns findmnt -n -o OPTIONS "$w/mnt"
	atf_check -o match:"$w/mnt .*running" fsctl status
	# Nothing of it outside the namespace.
	fsm_is_mounted "$w/mnt" && atf_fail "mounted outside the namespace"
	atf_check in_ns umount "$w/mnt"
	mnt_wait_gone "$w/mnt"
	atf_check -o match:"mount [0-9]+: $w/mnt was unmounted outside" \
	    cat "$w/fsmonitor.log"
	atf_check -o empty in_ns fsm_mounts
	# The place can be mounted again at once.
	atf_check in_ns mount -t fuse.fsmonitor -o "socket=$w/ctl.sock" \
	    "$w/src" "$w/mnt"
	atf_check -o inline:"data\n" in_ns cat "$w/mnt/f"
	atf_check in_ns umount "$w/mnt"
	mnt_wait_gone "$w/mnt"
}
mount8_cleanup()
{
	mnt_cleanup
}

atf_test_case fstab cleanup
fstab_head()
{
	atf_set descr "An fstab line of type fuse.fsmonitor mounts with " \
	    "mount --fstab FILE MOUNTPOINT"
	atf_set require.user root
	atf_set require.progs "mount umount unshare nsenter"
}
fstab_body()
{
	mnt_start_ns
	mnt_tree
	w=$(fsm_workdir)
	printf '# a test fstab\n%s %s fuse.fsmonitor %s 0 0\n' "$w/src" \
	    "$w/mnt" "noauto,nofail,ro,cache=never,socket=$w/ctl.sock" \
	    >"$w/fstab"
	atf_check in_ns mount --fstab "$w/fstab" "$w/mnt"
	atf_check -o inline:"data\n" in_ns cat "$w/mnt/f"
	atf_check -o match:"$w/mnt .* ro,cache=never" fsctl status
	atf_check in_ns umount "$w/mnt"
	mnt_wait_gone "$w/mnt"
}
fstab_cleanup()
{
	mnt_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case helper
	atf_add_test_case helper_errors
	atf_add_test_case helper_user
	atf_add_test_case mount8
	atf_add_test_case fstab
}
