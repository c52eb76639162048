# Mounts by unprivileged users: what they may do, and every refusal,
# each with its reason and with nothing mounted.

. "$(atf_get_srcdir)/common.sh"

# user_dirs USER: a source and a mountpoint owned by USER
user_dirs()
{
	w=$(fsm_workdir)
	mkdir -p "$w/$1.src" "$w/$1.mnt"
	chown "$1:$1" "$w/$1.src" "$w/$1.mnt"
}

atf_test_case user_mount cleanup
user_mount_head()
{
	atf_set descr "A user mounts a directory of theirs and uses it"
	atf_set require.user root
}
user_mount_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	s="$w/$TESTUSER.src" m="$w/$TESTUSER.mnt"
	# Relative paths work: fsctl opens them itself.
	atf_check as_user "$TESTUSER" sh -c "cd '$w' && '$FSCTL' -s \
	    '$(fsm_sock)' mount '$TESTUSER.src' '$TESTUSER.mnt'"
	fsm_is_mounted "$m" || atf_fail "not mounted"
	# The kernel shows the source path and our type, nosuid,nodev.
	atf_check -o match:"nosuid,nodev" -o match:"fuse.fsmonitor $s" \
	    awk -v m="$m" '$5 == m' /proc/self/mountinfo

	atf_check as_user "$TESTUSER" sh -c "echo hello >'$m/file' &&
	    mkdir '$m/dir' && echo more >>'$m/file' && mv '$m/file' '$m/dir/'"
	atf_check -o inline:"hello\nmore\n" cat "$s/dir/file"
	atf_check -o inline:"$TESTUSER $TESTUSER\n" \
	    stat -c "%U %G" "$s/dir/file"
	atf_check -o inline:"hello\nmore\n" \
	    as_user "$TESTUSER" cat "$m/dir/file"
	# Without allow_other, other users cannot look in.
	atf_check -s not-exit:0 -e match:"Permission denied" \
	    as_user "$TESTUSER2" ls "$m"

	atf_check fsctl_as "$TESTUSER" unmount "$m"
	fsm_is_mounted "$m" && atf_fail "still mounted"
	atf_check -o inline:"hello\nmore\n" cat "$s/dir/file"
}
user_mount_cleanup()
{
	fsm_cleanup
}

# refused MESSAGE fsctl-arguments...: the user's fsctl fails with exactly
# this reason and nothing new is mounted.
refused()
{
	msg=$1
	shift
	before=$(fsm_mounts | wc -l)
	atf_check -s exit:1 -o empty -e inline:"$msg\n" \
	    fsctl_as "$TESTUSER" "$@"
	atf_check_equal "$(fsm_mounts | wc -l)" "$before"
}

atf_test_case user_refusals cleanup
user_refusals_head()
{
	atf_set descr "Mounts a user may not make are refused with " \
	    "their reason"
	atf_set require.user root
}
user_refusals_body()
{
	fsm_users
	fsm_start "mount_max 2"
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	s="$w/$TESTUSER.src"
	mkdir -p "$w/rootdir" "$w/ro" "$w/sticky"
	chown "$TESTUSER" "$w/ro"
	chmod 555 "$w/ro"
	chmod 1777 "$w/sticky"

	refused "fsctl: mount /etc: mountpoint not owned by you" \
	    mount "$s" /etc
	refused "fsctl: mount $w/rootdir: mountpoint not owned by you" \
	    mount "$s" "$w/rootdir"
	refused "fsctl: mount $w/ro: no write access to mountpoint" \
	    mount "$s" "$w/ro"
	refused "fsctl: mount /proc/self/fd: no write access to mountpoint" \
	    mount "$s" /proc/self/fd
	refused "fsctl: mount $w/sticky: mountpoint not owned by you" \
	    mount "$s" "$w/sticky"
	refused "fsctl: mount $w/$TESTUSER.mnt: option allow_other needs user_allow_other in fsmonitor.conf" \
	    mount -o allow_other "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: unknown option 'suid'" \
	    mount -o suid "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: unknown option 'user_id'" \
	    mount -o user_id=0 "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: threads must be 1 to 64" \
	    mount -o threads=0 "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: spin must be 0 to 1000 microseconds" \
	    mount -o spin=1001 "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: option 'spin' needs a value" \
	    mount -o spin "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: passthrough_min must be 0 to 1073741824 bytes" \
	    mount -o passthrough_min=1073741825 "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: option 'passthrough_min' needs a value" \
	    mount -o passthrough_min "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: invalid character in options" \
	    mount -o 'ro\,dev' "$s" "$w/$TESTUSER.mnt"
	refused "fsctl: mount $w/$TESTUSER.mnt: option multiuser is for root only" \
	    mount -o multiuser "$s" "$w/$TESTUSER.mnt"
	touch "$w/file"
	chown "$TESTUSER" "$w/file"
	refused "fsctl: mount $w/file: mountpoint is not a directory" \
	    mount "$s" "$w/file"

	# A file the user may not read is refused by the kernel already.
	mkdir -m 700 "$w/private"
	refused "fsctl: mount $w/private: Permission denied" \
	    mount "$w/private" "$w/$TESTUSER.mnt"

	# mount_max is 2.
	for i in 1 2 3; do
		mkdir "$w/m$i"
		chown "$TESTUSER" "$w/m$i"
	done
	atf_check fsctl_as "$TESTUSER" mount "$s" "$w/m1"
	atf_check fsctl_as "$TESTUSER" mount "$s" "$w/m2"
	refused "fsctl: mount $w/m3: too many mounts (mount_max is 2)" \
	    mount "$s" "$w/m3"
	# Root is not limited.
	atf_check fsctl mount "$s" "$w/m3"
}
user_refusals_cleanup()
{
	fsm_cleanup
}

atf_test_case allow_other cleanup
allow_other_head()
{
	atf_set descr "allow_other works for users when the configuration " \
	    "says user_allow_other"
	atf_set require.user root
}
allow_other_body()
{
	fsm_users
	fsm_start user_allow_other
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	echo shared >"$w/$TESTUSER.src/f"
	chmod 644 "$w/$TESTUSER.src/f"
	atf_check fsctl_as "$TESTUSER" mount -o allow_other \
	    "$w/$TESTUSER.src" "$w/$TESTUSER.mnt"
	atf_check -o inline:"shared\n" as_user "$TESTUSER2" \
	    cat "$w/$TESTUSER.mnt/f"
	atf_check -o match:"allow_other" awk -v m="$w/$TESTUSER.mnt" \
	    '$5 == m' /proc/self/mountinfo
}
allow_other_cleanup()
{
	fsm_cleanup
}

atf_test_case allow_lines cleanup
allow_lines_head()
{
	atf_set descr "Only users or groups named in allow lines may use " \
	    "the service when there are any"
	atf_set require.user root
}
allow_lines_body()
{
	fsm_users
	fsm_start "allow user $TESTUSER"
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	user_dirs "$TESTUSER2"
	atf_check fsctl_as "$TESTUSER" mount "$w/$TESTUSER.src" \
	    "$w/$TESTUSER.mnt"
	atf_check -s exit:1 -e inline:"fsctl: mount $w/$TESTUSER2.mnt: you are not allowed to use fsmonitor\n" \
	    fsctl_as "$TESTUSER2" mount "$w/$TESTUSER2.src" "$w/$TESTUSER2.mnt"
	fsm_is_mounted "$w/$TESTUSER2.mnt" && atf_fail "mounted anyway"
	# Anyone may look at the status.
	atf_check -o match:"$TESTUSER.mnt" fsctl_as "$TESTUSER2" status
}
allow_lines_cleanup()
{
	fsm_cleanup
}

atf_test_case unmount_other cleanup
unmount_other_head()
{
	atf_set descr "A user cannot unmount another user's mount; root can"
	atf_set require.user root
}
unmount_other_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	m="$w/$TESTUSER.mnt"
	atf_check fsctl_as "$TESTUSER" mount "$w/$TESTUSER.src" "$m"
	atf_check -s exit:1 -e inline:"fsctl: unmount $m: not your mount\n" \
	    fsctl_as "$TESTUSER2" unmount "$m"
	fsm_is_mounted "$m" || atf_fail "unmounted by another user"
	atf_check -s exit:1 \
	    -e inline:"fsctl: unmount $w: not mounted by fsmonitor\n" \
	    fsctl_as "$TESTUSER" unmount "$w"
	atf_check fsctl unmount "$m"
	fsm_is_mounted "$m" && atf_fail "root could not unmount"
	true
}
unmount_other_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case user_mount
	atf_add_test_case user_refusals
	atf_add_test_case allow_other
	atf_add_test_case allow_lines
	atf_add_test_case unmount_other
}
