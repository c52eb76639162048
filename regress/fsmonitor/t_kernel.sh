# Older kernels: fsmonitor -T -K makes every worker speak the FUSE
# protocol of an older release and go without what that release lacks,
# and fsctl status says what each mount got.

. "$(atf_get_srcdir)/common.sh"

not_mounted()
{
	! fsm_is_mounted "$1"
}

# features MOUNTPOINT: "protocol feature,feature..." from status -j.
features()
{
	fsctl status -j | python3 -c '
import json, sys
m = [e for e in json.load(sys.stdin) if e["mountpoint"] == sys.argv[1]]
print(m[0]["protocol"], ",".join(m[0]["features"]))' "$1"
}

# io MOUNTPOINT SOURCE: write, read back, stat, rename, remove.
io()
{
	dd if=/dev/urandom of=data bs=64k count=40 2>/dev/null
	atf_check cp data "$1/f"
	atf_check cmp data "$1/f"
	atf_check cmp data "$2/f"
	atf_check -o inline:"2621440\n" stat -c %s "$1/f"
	atf_check mv "$1/f" "$1/g"
	atf_check test ! -e "$2/f"
	atf_check cmp data "$2/g"
	atf_check rm "$1/g"
	atf_check test ! -e "$2/g"
}

# capped KERNEL PROTOCOL FEATURES MULTIUSER_FEATURES: one mount as
# root and one multiuser, under the cap, each with what it got.
capped()
{
	FSM_KERNEL=$1
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m" "$w/ms" "$w/mm"
	atf_check fsctl mount -o restart "$w/s" "$w/m"
	atf_check_equal "$(features "$w/m")" "7.$2 $3"
	atf_check fsctl mount -o multiuser "$w/ms" "$w/mm"
	atf_check_equal "$(features "$w/mm")" "7.$2 $4"
	atf_check -o match:"$w/m .* 7\\.$2 $3\$" fsctl status -v
	io "$w/m" "$w/s"
	fsm_log | grep -q "protocol 7\\.$2, kernel 7\\.[0-9]* behaving as $1" ||
	    atf_fail "no capped INIT logged"
	# Not one of them asked for what the kernel would not have offered.
	fsm_log | grep -q "the kernel offers no passthrough\|fatal" &&
	    atf_fail "$(fsm_log | grep "offers no passthrough\|fatal")"
	# Restart needs FUSE_NOTIFY_RESEND (6.9): said once at INIT.
	fsm_log | grep -q "restart: the kernel cannot send requests again" ||
	    atf_fail "no warning about restart"
	atf_check fsctl unmount "$w/m"
	atf_check fsctl unmount "$w/mm"
}

atf_test_case cap_5_14 cleanup
cap_5_14_head()
{
	atf_set descr "-K 5.14: protocol 7.34, none of the second INIT " \
	    "word, no setxattr flags; the mount works"
	atf_set require.user root
}
cap_5_14_body()
{
	capped 5.14 34 readdirplus readdirplus
}
cap_5_14_cleanup()
{
	fsm_cleanup
}

atf_test_case cap_6_1 cleanup
cap_6_1_head()
{
	atf_set descr "-K 6.1: protocol 7.38, no supplementary group"
	atf_set require.user root
}
cap_6_1_body()
{
	capped 6.1 38 readdirplus,setxattr_ext readdirplus,setxattr_ext
}
cap_6_1_cleanup()
{
	fsm_cleanup
}

atf_test_case cap_6_8 cleanup
cap_6_8_head()
{
	atf_set descr "-K 6.8: protocol 7.39, the supplementary group; " \
	    "no passthrough, io_uring or resend"
	atf_set require.user root
}
cap_6_8_body()
{
	capped 6.8 39 readdirplus,setxattr_ext \
	    readdirplus,supp_groups,setxattr_ext
}
cap_6_8_cleanup()
{
	fsm_cleanup
}

atf_test_case uncapped cleanup
uncapped_head()
{
	atf_set descr "Without -K, this kernel's protocol and features"
	atf_set require.user root
}
uncapped_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	atf_check fsctl mount -o restart "$w/s" "$w/m"
	f=$(features "$w/m")
	echo "$f"
	case $f in
	"7.45 passthrough,"*resend*readdirplus*setxattr_ext) ;;
	*)	atf_fail "features: $f" ;;
	esac
	atf_check -o match:"FEATURES\$" fsctl status -v
	atf_check fsctl unmount "$w/m"
}
uncapped_cleanup()
{
	fsm_cleanup
}

atf_test_case no_resend cleanup
no_resend_head()
{
	atf_set descr "Restart without FUSE_NOTIFY_RESEND: a killed " \
	    "worker ends the mount instead of leaving callers waiting"
	atf_set require.user root
}
no_resend_body()
{
	FSM_KERNEL=6.8
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	atf_check fsctl mount -o restart "$w/s" "$w/m"
	echo x >"$w/m/f"
	pid=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$pid"
	fsm_wait_until 10 not_mounted "$w/m" ||
	    atf_fail "still mounted: $(fsctl status)"
	fsm_log | grep -q "cannot send the lost requests again" ||
	    atf_fail "the new worker did not say why it ended the mount"
	atf_check -o inline:"x\n" cat "$w/s/f"
}
no_resend_cleanup()
{
	fsm_cleanup
}

atf_test_case bad_cap cleanup
bad_cap_head()
{
	atf_set descr "-K is refused without -T, and for a kernel it " \
	    "does not know"
	atf_set require.user root
}
bad_cap_body()
{
	fsm_path
	w=$(fsm_workdir)
	: >"$w/conf"
	atf_check -s exit:1 -e match:"-K 6.1: 5.14, 6.1 or 6.8, for tests, with -T" \
	    "$FSMONITOR" -d -K 6.1 -f "$w/conf" -s "$w/sock"
	atf_check -s exit:1 -e match:"-K 4.19: 5.14, 6.1 or 6.8" \
	    "$FSMONITOR" -d -T -K 4.19 -f "$w/conf" -s "$w/sock"
	atf_check test ! -e "$w/sock"
}
bad_cap_cleanup()
{
	fsm_cleanup
}

# worker_root_opts MOUNTPOINT: the mount options of the worker's root,
# as its own mount namespace shows them.
worker_root_opts()
{
	pid=$(fsm_mount_field "$1" pid)
	awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo"
}

# fallback CALLS OPTIONS FLAGS PATTERN...: with CALLS failing ENOSYS in
# fsmonitor and all it starts, a mount with OPTIONS works, its worker's
# root has the mount flags FLAGS (a comma-separated set), and the log
# says each PATTERN.
fallback()
{
	FSM_ENOSYS=$1
	opts=$2
	flags=$3
	shift 3
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	echo before >"$w/s/b"
	atf_check fsctl mount ${opts:+-o "$opts"} "$w/s" "$w/m"
	atf_check_equal "$(fsm_mount_field "$w/m" state)" running
	atf_check -o inline:"before\n" cat "$w/m/b"
	case $opts in
	*ro*)	atf_check -s not-exit:0 -e match:"Read-only" \
		    touch "$w/m/new" ;;
	*)	io "$w/m" "$w/s" ;;
	esac
	got=$(worker_root_opts "$w/m")
	for f in $(echo "$flags" | tr , ' '); do
		case ,$got, in
		*,$f,*)	;;
		*)	atf_fail "the worker's root is $got, not $f" ;;
		esac
	done
	for p in "$@"; do
		fsm_log | grep -q "$p" || atf_fail "no \"$p\" in the log"
	done
	atf_check fsctl unmount "$w/m"
	atf_check -s exit:1 test -n "$(fsm_mounts | grep "$w/m")"
}

atf_test_case enosys_mount_setattr cleanup
enosys_mount_setattr_head()
{
	atf_set descr "Without mount_setattr(2) the worker's copy of the " \
	    "source is remounted nosuid, nodev, nosymfollow, read-only " \
	    "by mount(2)"
	atf_set require.user root
}
enosys_mount_setattr_body()
{
	fallback mount_setattr ro ro,nosuid,nodev,nosymfollow \
	    "mount_setattr: not available, mount(2) MS_REMOUNT"
}
enosys_mount_setattr_cleanup()
{
	fsm_cleanup
}

atf_test_case enosys_open_tree cleanup
enosys_open_tree_head()
{
	atf_set descr "Without open_tree(2) the worker binds the source " \
	    "with mount(2) in its own namespace"
	atf_set require.user root
}
enosys_open_tree_body()
{
	fallback open_tree noexec rw,nosuid,nodev,noexec,nosymfollow \
	    "open_tree: not available, a bind mount"
}
enosys_open_tree_cleanup()
{
	fsm_cleanup
}

atf_test_case enosys_fsopen_swapped cleanup
enosys_fsopen_swapped_head()
{
	atf_set descr "With mount(2) instead of fsopen(2), a mountpoint " \
	    "renamed away and replaced while mounting is refused, and " \
	    "nothing stays mounted on the directory moved away"
	atf_set require.user root
	atf_set require.progs python3
	atf_set timeout 300
}
enosys_fsopen_swapped_body()
{
	FSM_ENOSYS=fsopen
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	# Rename the mountpoint away, put another directory at its name,
	# and back, over and over; a mount refused because of it must not
	# stay behind on the directory moved away (renames of a directory
	# with a mount on it fail: the swapper retries).
	python3 -c '
import os, random, sys, time
w = sys.argv[1]
m, x = w + "/m", w + "/m.x"
while not os.path.exists(w + "/stop"):
    try:
        os.rename(m, x)
    except OSError:
        continue
    try:
        os.mkdir(m)
        time.sleep(random.uniform(0, 0.004))
        os.rmdir(m)
    except OSError:
        pass
    for i in range(1000):
        try:
            os.rename(x, m)
            time.sleep(random.uniform(0, 0.004))
            break
        except OSError:
            time.sleep(0.01)
    else:
        sys.exit("cannot put the mountpoint back")
' "$w" &
	swapper=$!
	refused=0 i=0
	while [ $i -lt 200 ]; do
		i=$((i + 1))
		if fsctl mount "$w/s" "$w/m" 2>/dev/null; then
			# Where the directory the client opened was then.
			at=$(fsctl status -j | python3 -c '
import json, sys
print(json.load(sys.stdin)[0]["mountpoint"])')
			fsctl unmount "$at" 2>unmount.err || {
				touch "$w/stop"
				fsm_log | grep fsmount: | tail -20 >&2
				atf_fail "unmount $at failed: $(cat unmount.err)"
			}
		else
			refused=$((refused + 1))
		fi
	done
	touch "$w/stop"
	wait $swapper || {
		fsm_log | grep fsmount: >&2
		grep "$w" /proc/self/mountinfo >&2
		atf_fail "the swapper failed"
	}
	echo "$refused of $i mounts refused"
	fsm_log | grep -o 'refused: .*\|undo.*' | sort | uniq -c
	# Whether or not the swap fell between check and mount this time
	# (the log says), nothing may be left mounted.
	fsm_log | grep -q "mountpoint changed" ||
	    echo "the race was not hit this time"
	atf_check -o empty fsm_mounts
	atf_check -o match:"^\[\]$" fsctl status -j
}
enosys_fsopen_swapped_cleanup()
{
	fsm_cleanup
}

atf_test_case enosys_open_tree_steered cleanup
enosys_open_tree_steered_head()
{
	atf_set descr "Without open_tree(2), the worker binds the very " \
	    "source it was given, reached through a symbolic link, even " \
	    "when its path has come to lead to another mount of it that " \
	    "does not hold its submounts"
	atf_set require.user root
}
enosys_open_tree_steered_body()
{
	[ -z "$(fsm_kernel)" ] ||
	    atf_skip "restart in place needs Linux 6.9, not $(fsm_kernel)"
	FSM_ENOSYS=open_tree
	fsm_start
	w=$(fsm_workdir)
	mkdir -p "$w/a/s/sub" "$w/m"
	echo under >"$w/a/s/sub/under"
	mount -t tmpfs fsm-sub "$w/a/s/sub" || atf_fail "cannot mount a tmpfs"
	echo over >"$w/a/s/sub/over"
	ln -s a "$w/ln"
	atf_check fsctl mount -o restart "$w/ln/s" "$w/m"
	atf_check -o inline:"over\n" cat "$w/m/sub/over"
	# The source's path now crosses a bind of a over itself, without
	# the tmpfs: a new worker that followed it would show "under".
	mount --bind "$w/a" "$w/a" || atf_fail "cannot bind"
	atf_check -o inline:"under\n" cat "$w/a/s/sub/under"
	old=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$old"
	fsm_wait_until 10 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker serves: $(fsctl status)"
	fsm_log | grep -q "open_tree: not available, a bind mount" ||
	    atf_fail "the fallback was not taken"
	atf_check -o inline:"over\n" cat "$w/m/sub/over"
	atf_check -o inline:"over\n" cat "$w/m/sub/./over"
	atf_check -s not-exit:0 -e ignore cat "$w/m/sub/under"
	atf_check fsctl unmount "$w/m"
}
enosys_open_tree_steered_cleanup()
{
	w=$(cat fsm.workdir 2>/dev/null) && {
		umount -l "$w/a" 2>/dev/null
		umount -l "$w/a/s/sub" 2>/dev/null
	}
	fsm_cleanup
}

atf_test_case enosys_all cleanup
enosys_all_head()
{
	atf_set descr "Without the new mount API and clone3(2): fsmount " \
	    "mounts with mount(2), the worker binds, remounts and mounts " \
	    "its procfs with it, threads start through clone(2)"
	atf_set require.user root
}
enosys_all_body()
{
	fallback mount_setattr,open_tree,move_mount,fsopen,fsconfig,fsmount,clone3 \
	    "" rw,nosuid,nodev,nosymfollow \
	    "mount_context: fsopen: not available, mount(2) instead" \
	    "mount_setattr: not available" "open_tree: not available" \
	    "fsopen: not available, mount(2) in the worker"
}
enosys_all_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case enosys_mount_setattr
	atf_add_test_case enosys_open_tree
	atf_add_test_case enosys_open_tree_steered
	atf_add_test_case enosys_all
	atf_add_test_case enosys_fsopen_swapped
	atf_add_test_case cap_5_14
	atf_add_test_case cap_6_1
	atf_add_test_case cap_6_8
	atf_add_test_case uncapped
	atf_add_test_case no_resend
	atf_add_test_case bad_cap
}
