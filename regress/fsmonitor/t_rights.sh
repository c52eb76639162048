# Nothing done through a mount exceeds what the same user may do
# natively: each case does the same thing natively and through a
# mount, as the same user, and compares the outcomes.

. "$(atf_get_srcdir)/common.sh"

RGROUP=fsmrights

# $RTRY OP PATH: what one operation gives, "ok ..." or the errno's
# name: read (the contents), create (a new file), write (to an
# existing file).
rights_tools()
{
	w=$(fsm_workdir)
	cat >"$w/bin/rtry" <<'CMD'
#!/usr/bin/env python3
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "read":
        with open(path) as f:
            print("ok", f.read().strip())
    elif op == "create":
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        print("ok")
    elif op == "write":
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"more\n")
        os.close(fd)
        print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
CMD
	# nogroups USER CMD...: as USER with no supplementary group at all.
	cat >"$w/bin/nogroups" <<'CMD'
#!/bin/sh
u=$1
shift
exec setpriv --reuid="$u" --regid="$u" --clear-groups --reset-env \
    --inh-caps=-all --bounding-set=-all -- "$@"
CMD
	chmod 755 "$w/bin/rtry" "$w/bin/nogroups"
	RTRY="$w/bin/rtry"
}

# same WANT CMD...: CMD prints WANT; for native and mount results.
same()
{
	want=$1
	shift
	got=$("$@")
	[ "$got" = "$want" ] || atf_fail "$* gave '$got', not '$want'"
}


user_dirs()
{
	w=$(fsm_workdir)
	mkdir -p "$w/$1.src" "$w/$1.mnt"
	chown "$1:$1" "$w/$1.src" "$w/$1.mnt"
	chmod 755 "$w/$1.src" "$w/$1.mnt"
}

# The groups of the Groups line of a /proc/PID/status on the input.
groups_of()
{
	sed -n 's/^Groups:[[:space:]]*//p' | sed 's/[[:space:]]*$//'
}

atf_test_case dropped_groups cleanup
dropped_groups_head()
{
	atf_set descr "A group the requester dropped does not come back " \
	    "through the mount: the worker has the requester's groups"
	atf_set require.user root
	atf_set require.progs "setpriv groupadd groupdel python3"
}
dropped_groups_body()
{
	fsm_users
	groupdel "$RGROUP" >/dev/null 2>&1
	groupadd "$RGROUP" || atf_fail "groupadd"
	echo "$RGROUP" >rights.group
	usermod -a -G "$RGROUP" "$TESTUSER" || atf_fail "usermod"
	fsm_start
	rights_tools
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	s="$w/$TESTUSER.src" m="$w/$TESTUSER.mnt"
	echo secret >"$s/secret"
	chown "root:$RGROUP" "$s/secret"
	chmod 640 "$s/secret"

	for o in passthrough nopassthrough; do
		# Groups dropped: refused natively, and through the mount
		# made from that same group-less shell.
		same EACCES nogroups "$TESTUSER" "$RTRY" read "$s/secret"
		atf_check nogroups "$TESTUSER" "$FSCTL" -s "$(fsm_sock)" \
		    mount -o "$o" "$s" "$m"
		same EACCES nogroups "$TESTUSER" "$RTRY" read "$m/secret"
		pid=$(fsm_mount_field "$m" pid)
		atf_check_equal "$(groups_of <"/proc/$pid/status")" \
		    "$(nogroups "$TESTUSER" cat /proc/self/status | groups_of)"
		atf_check_equal "$(groups_of <"/proc/$pid/status")" ""
		atf_check fsctl_as "$TESTUSER" unmount "$m"

		# The groups kept: read both ways.
		same "ok secret" as_user "$TESTUSER" "$RTRY" read "$s/secret"
		atf_check fsctl_as "$TESTUSER" mount -o "$o" "$s" "$m"
		same "ok secret" as_user "$TESTUSER" "$RTRY" read "$m/secret"
		pid=$(fsm_mount_field "$m" pid)
		atf_check_equal "$(groups_of <"/proc/$pid/status")" \
		    "$(as_user "$TESTUSER" cat /proc/self/status | groups_of)"
		atf_check fsctl_as "$TESTUSER" unmount "$m"
	done
}
dropped_groups_cleanup()
{
	fsm_cleanup
	if [ -f rights.group ]; then
		groupdel "$(cat rights.group)" >/dev/null 2>&1
		rm -f rights.group
	fi
}

atf_test_case allow_other_owner cleanup
allow_other_owner_head()
{
	atf_set descr "allow_other on a user's owner-mode mount implies " \
	    "default_permissions: another user gets only their own rights"
	atf_set require.user root
	atf_set require.progs "python3"
}
allow_other_owner_body()
{
	fsm_users
	fsm_start user_allow_other
	rights_tools
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	s="$w/$TESTUSER.src" m="$w/$TESTUSER.mnt"
	echo private >"$s/private"
	echo public >"$s/public"
	chown "$TESTUSER:$TESTUSER" "$s/private" "$s/public"
	chmod 600 "$s/private"
	chmod 644 "$s/public"

	for o in passthrough nopassthrough; do
		atf_check fsctl_as "$TESTUSER" mount -o "allow_other,$o" \
		    "$s" "$m"
		for p in "$s" "$m"; do
			same EACCES as_user "$TESTUSER2" "$RTRY" read "$p/private"
			same EACCES as_user "$TESTUSER2" "$RTRY" create "$p/new"
			same EACCES as_user "$TESTUSER2" "$RTRY" write "$p/public"
			same "ok public" as_user "$TESTUSER2" "$RTRY" read \
			    "$p/public"
			same "ok private" as_user "$TESTUSER" "$RTRY" read \
			    "$p/private"
		done
		atf_check -o match:"default_permissions" \
		    awk -v m="$m" '$5 == m' /proc/self/mountinfo
		fsm_mount_field "$m" options |
		    grep -q "allow_other,default_permissions" ||
		    atf_fail "options: $(fsm_mount_field "$m" options)"
		atf_check -s exit:1 test -e "$s/new"
		atf_check -o inline:"public\n" cat "$s/public"
		atf_check fsctl_as "$TESTUSER" unmount "$m"
	done
}
allow_other_owner_cleanup()
{
	fsm_cleanup
}

atf_test_case allow_other_static cleanup
allow_other_static_head()
{
	atf_set descr "allow_other on root's static mount implies " \
	    "default_permissions: a user does not read root's 0600 file"
	atf_set require.user root
	atf_set require.progs "python3"
}
allow_other_static_body()
{
	fsm_users
	w=$(fsm_workdir)
	mkdir -m 755 "$w/s" "$w/m"
	echo root >"$w/s/mine"
	chmod 600 "$w/s/mine"
	echo all >"$w/s/all"
	chmod 644 "$w/s/all"
	fsm_start "mount \"$w/s\" on \"$w/m\" options \"allow_other\""
	rights_tools
	fsm_wait_until 5 fsm_is_mounted "$w/m" ||
	    { fsm_log >&2; atf_fail "static mount missing"; }
	for p in "$w/s" "$w/m"; do
		same EACCES as_user "$TESTUSER" "$RTRY" read "$p/mine"
		same "ok all" as_user "$TESTUSER" "$RTRY" read "$p/all"
		same "ok root" "$RTRY" read "$p/mine"
	done
	atf_check -o match:"default_permissions" \
	    awk -v m="$w/m" '$5 == m' /proc/self/mountinfo
	# What others write there is root's: fsmount says so.
	fsm_log | grep -q "$w/m: other users' writes are root's" ||
	    atf_fail "no warning of root's writes for others"
}
allow_other_static_cleanup()
{
	fsm_cleanup
}

atf_test_case covered_mountpoint cleanup
covered_mountpoint_head()
{
	atf_set descr "A user's mount on a directory that root has since " \
	    "mounted over is refused, and root's mount stays on top"
	atf_set require.user root
}
covered_mountpoint_body()
{
	covered_run
}
covered_mountpoint_cleanup()
{
	fsm_cleanup
}

atf_test_case covered_mountpoint_legacy cleanup
covered_mountpoint_legacy_head()
{
	atf_set descr "The same, where fsmount mounts with mount(2)"
	atf_set require.user root
}
covered_mountpoint_legacy_body()
{
	FSM_ENOSYS=fsopen
	export FSM_ENOSYS
	covered_run
}
covered_mountpoint_legacy_cleanup()
{
	fsm_cleanup
}

# covered_run: a user's shell waits in its own empty directory, root
# mounts a tmpfs over it, and the user asks to mount on ".".
covered_run()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	user_dirs "$TESTUSER"
	s="$w/$TESTUSER.src" m="$w/$TESTUSER.mnt"
	echo src >"$s/f"
	# The user's shell waits in its own directory.
	as_user "$TESTUSER" sh -c "cd '$m' &&
	    until [ -e '$w/go' ]; do sleep 0.05; done &&
	    exec '$FSCTL' -s '$(fsm_sock)' mount '$s' ." >out 2>err &
	pid=$!
	fsm_wait_until 5 sh -c "[ \"\$(readlink /proc/$pid/cwd)\" = '$m' ]" ||
	    atf_fail "the user's shell is not in $m"
	fsm_fs tmpfs "$m" size=1m
	echo root >"$m/marker"
	: >"$w/go"
	wait $pid && atf_fail "mounted on the covered directory: $(cat out)"
	atf_check -o match:"mountpoint is covered by another mount" cat err
	atf_check -o match:"mount refused: mountpoint is covered" \
	    cat "$w/fsmonitor.log"
	# root's tmpfs is still what the path shows, and nothing of ours.
	atf_check -o inline:"tmpfs\n" awk -v m="$m" '$5 == m {
		for (i = 7; $i != "-"; i++) ;
		t = $(i + 1)
	} END { print t }' /proc/self/mountinfo
	atf_check -o inline:"root\n" cat "$m/marker"
	atf_check -o empty fsm_mounts
}

# static_refused MOUNTPOINT PATTERN: the static mount of $w/s on
# MOUNTPOINT is refused with PATTERN in fsmount's log, and nothing of
# ours is mounted anywhere.
static_refused()
{
	fsm_start "mount \"$w/s\" on \"$1\""
	fsm_wait_until 5 sh -c "grep -q 'mount refused: .*$2' \
	    '$(fsm_workdir)/fsmonitor.log'" ||
	    { fsm_log >&2; atf_fail "not refused with '$2'"; }
	atf_check -o empty fsm_mounts
	fsm_stop
}

atf_test_case static_symlink cleanup
static_symlink_head()
{
	atf_set descr "A static mountpoint is resolved without following " \
	    "symbolic links: a link on its path is refused"
	atf_set require.user root
}
static_symlink_body()
{
	fsm_users
	w=$(fsm_workdir)
	mkdir -m 755 "$w/s" "$w/real" "$w/real/mp"
	echo data >"$w/s/f"
	ln -s real "$w/lnk"
	ln -s real/mp "$w/mplink"
	static_refused "$w/lnk/mp" "$w/lnk: a symbolic link, not followed"
	atf_check -s exit:1 test -e "$w/real/mp/f"
	static_refused "$w/mplink" "$w/mplink: a symbolic link, not followed"
	atf_check -s exit:1 test -e "$w/real/mp/f"
	# A link in the source is refused too.
	ln -s s "$w/slink"
	fsm_start "mount \"$w/slink\" on \"$w/real/mp\""
	fsm_wait_until 5 sh -c "grep -q 'mount refused: $w/slink: a symbolic \
link' '$w/fsmonitor.log'" || { fsm_log >&2; atf_fail "source link"; }
	atf_check -o empty fsm_mounts
	fsm_stop
	# The same path without the link mounts.
	fsm_start "mount \"$w/s\" on \"$w/real/mp\""
	fsm_wait_until 5 fsm_is_mounted "$w/real/mp" ||
	    { fsm_log >&2; atf_fail "not mounted"; }
	atf_check -o inline:"data\n" cat "$w/real/mp/f"
}
static_symlink_cleanup()
{
	fsm_cleanup
}

atf_test_case static_writable cleanup
static_writable_head()
{
	atf_set descr "A static mountpoint with a directory on its path " \
	    "that others than root may write in is refused and logged"
	atf_set require.user root
}
static_writable_body()
{
	fsm_users
	w=$(fsm_workdir)
	mkdir -m 755 "$w/s" "$w/u" "$w/u/mp" "$w/o" "$w/o/mp" "$w/g" \
	    "$w/g/mp" "$w/t" "$w/t/mp" "$w/ok" "$w/ok/mp" "$w/self"
	echo data >"$w/s/f"
	# A directory of the user's, with root's directory inside.
	chown "$TESTUSER" "$w/u"
	static_refused "$w/u/mp" "$w/u is writable by others than root \
(owner $(id -u "$TESTUSER"), mode 0755)"
	# Writable by everyone, or by a group, without the sticky bit.
	chmod 777 "$w/o"
	static_refused "$w/o/mp" "$w/o is writable by others than root"
	chmod 775 "$w/g"
	static_refused "$w/g/mp" "$w/g is writable by others than root"
	# The mountpoint itself counts.
	chown "$TESTUSER" "$w/self"
	static_refused "$w/self" "$w/self is writable by others than root"
	# Sticky and root's, as /tmp: what root owns in it stays.
	chmod 1777 "$w/t"
	chown "$TESTUSER" "$w/t/mp"
	static_refused "$w/t/mp" "$w/t/mp is writable by others than root"
	chown root "$w/t/mp"
	fsm_start "mount \"$w/s\" on \"$w/t/mp\"" "mount \"$w/s\" on \"$w/ok/mp\""
	fsm_wait_until 5 fsm_is_mounted "$w/t/mp" ||
	    { fsm_log >&2; atf_fail "not mounted in a sticky directory"; }
	fsm_wait_until 5 fsm_is_mounted "$w/ok/mp" ||
	    { fsm_log >&2; atf_fail "not mounted"; }
	atf_check -o inline:"data\n" cat "$w/ok/mp/f"
}
static_writable_cleanup()
{
	fsm_cleanup
}

atf_test_case static_on_fuse cleanup
static_on_fuse_head()
{
	atf_set descr "A static mountpoint inside a FUSE mount is refused " \
	    "without asking its server, which may never answer"
	atf_set require.user root
}
static_on_fuse_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir -m 755 "$w/s" "$w/rs" "$w/rs/mp" "$w/rm"
	atf_check fsctl mount "$w/rs" "$w/rm"
	wpid=$(fsm_mount_field "$w/rm" pid)
	[ -n "$wpid" ] || atf_fail "no worker"
	echo "$wpid" >stopped.pid
	kill -STOP "$wpid"
	echo "mount \"$w/s\" on \"$w/rm/mp\"" >"$w/fsmonitor.conf"
	atf_check -o ignore fsctl reload
	fsm_wait_until 10 sh -c "grep -q 'mount refused: $w/rm is on a FUSE \
file system' '$w/fsmonitor.log'" ||
	    { fsm_log >&2; atf_fail "not refused"; }
	# fsmount did not wait for the stopped server: it still answers.
	atf_check -o match:"$w/rm" timeout 10 fsctl status
	kill -CONT "$wpid"
	rm stopped.pid
	atf_check fsctl unmount "$w/rm"
	atf_check -o empty fsm_mounts
}
static_on_fuse_cleanup()
{
	[ -f stopped.pid ] && kill -CONT "$(cat stopped.pid)" 2>/dev/null
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case dropped_groups
	atf_add_test_case allow_other_owner
	atf_add_test_case allow_other_static
	atf_add_test_case covered_mountpoint
	atf_add_test_case covered_mountpoint_legacy
	atf_add_test_case static_symlink
	atf_add_test_case static_writable
	atf_add_test_case static_on_fuse
}
