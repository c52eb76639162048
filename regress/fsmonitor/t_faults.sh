# Faults: one thing breaks, everything else goes on.

. "$(atf_get_srcdir)/common.sh"

not_mounted()
{
	! fsm_is_mounted "$1"
}

no_mounts()
{
	[ -z "$(fsm_mounts)" ]
}

no_procs()
{
	[ -z "$(fsm_procs)" ]
}

shows_failed()
{
	"$FSCTL" -s "$(fsm_sock)" status | grep -q failed
}

atf_test_case worker_killed cleanup
worker_killed_head()
{
	atf_set descr "A worker killed with SIGKILL: the mount is detached " \
	    "within a second, status says failed and why, the owner can " \
	    "mount again at once and other mounts are untouched"
	atf_set require.user root
}
worker_killed_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s1" "$w/m1" "$w/s2" "$w/m2"
	chown "$TESTUSER" "$w/s1" "$w/m1"
	echo other >"$w/s2/f"
	atf_check fsctl_as "$TESTUSER" mount "$w/s1" "$w/m1"
	atf_check fsctl mount "$w/s2" "$w/m2"
	wpid=$(fsm_mount_field "$w/m1" pid)
	kill -KILL "$wpid"
	fsm_wait_until 1 not_mounted "$w/m1" ||
	    atf_fail "the mount is still there after a second"
	# No "Transport endpoint is not connected" entry is left.
	atf_check -s exit:1 grep -q " $w/m1 " /proc/self/mountinfo
	atf_check -o match:"$w/m1 .*failed \\(killed by signal 9\\)" \
	    fsctl status
	atf_check -o inline:"other\n" cat "$w/m2/f"
	# The owner mounts again at once, which clears the failed entry.
	atf_check fsctl_as "$TESTUSER" mount "$w/s1" "$w/m1"
	atf_check -o not-match:"failed" fsctl status
	atf_check as_user "$TESTUSER" touch "$w/m1/again"
	atf_check test -f "$w/s1/again"
}
worker_killed_cleanup()
{
	fsm_cleanup
}

atf_test_case worker_seccomp cleanup
worker_seccomp_head()
{
	atf_set descr "A worker killed by its seccomp filter is handled as " \
	    "a killed one: detached within a second, failed with signal " \
	    "31, the owner mounts again at once (in a SECCOMP_LOG build " \
	    "the call is let through and the mount keeps serving)"
	atf_set require.user root
}
worker_seccomp_body()
{
	inject="$(atf_get_srcdir)/sysinject"
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	echo data >"$w/s/f"
	chown -R "$TESTUSER" "$w/s" "$w/m"
	atf_check fsctl_as "$TESTUSER" mount "$w/s" "$w/m"
	atf_check -o inline:"data\n" as_user "$TESTUSER" cat "$w/m/f"
	wpid=$(fsm_mount_field "$w/m" pid)
	[ "$(fsm_status_field "$wpid" Seccomp)" = 2 ] ||
	    atf_fail "the worker has no seccomp filter"
	# The worker's next system call becomes one its list lacks.
	atf_check "$inject" "$wpid"
	if [ "$("$inject" -m)" = log ]; then
		sleep 1
		kill -0 "$wpid" || atf_fail "the worker died in a log build"
		atf_check -o inline:"data\n" as_user "$TESTUSER" cat "$w/m/f"
		return
	fi
	fsm_wait_until 1 not_mounted "$w/m" ||
	    atf_fail "the mount is still there after a second"
	atf_check -s exit:1 grep -q " $w/m " /proc/self/mountinfo
	atf_check -o match:"$w/m .*failed \\(killed by signal 31\\)" \
	    fsctl status
	atf_check fsctl_as "$TESTUSER" mount "$w/s" "$w/m"
	atf_check -o not-match:"failed" fsctl status
	atf_check -o inline:"data\n" as_user "$TESTUSER" cat "$w/m/f"
}
worker_seccomp_cleanup()
{
	fsm_cleanup
}

atf_test_case worker_stopped cleanup
worker_stopped_head()
{
	atf_set descr "A worker stopped (SIGSTOP) with a request in hand: " \
	    "another mount keeps serving, status, mount and unmount stay " \
	    "prompt, and the stuck mount can still be unmounted, which " \
	    "ends the stuck caller and the worker"
	atf_set require.user root
}
worker_stopped_body()
{
	U="timeout 10 as_user $TESTUSER"
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	for d in sa ma sb mb sc mc; do
		mkdir "$w/$d"
	done
	echo a >"$w/sa/f"
	echo b >"$w/sb/f"
	chown -R "$TESTUSER" "$w/sa" "$w/ma" "$w/sb" "$w/mb" "$w/sc" "$w/mc"
	atf_check fsctl_as "$TESTUSER" mount "$w/sa" "$w/ma"
	atf_check fsctl_as "$TESTUSER" mount "$w/sb" "$w/mb"
	wa=$(fsm_mount_field "$w/ma" pid)
	echo "$wa" >stopped.pid
	kill -STOP "$wa"
	# A caller now waits on A for as long as A is stopped.
	timeout 60 as_user "$TESTUSER" cat "$w/ma/f" >stuck.out 2>&1 &
	echo $! >stuck.pid
	sleep 0.2
	kill -0 "$(cat stuck.pid)" || atf_fail "the read on A did not wait"
	# B and the daemon carry on.
	atf_check -o inline:"b\n" $U cat "$w/mb/f"
	atf_check $U sh -c "echo more >>'$w/mb/f'"
	atf_check -o inline:"b\nmore\n" cat "$w/sb/f"
	atf_check -o match:"$w/mb .*running" timeout 10 fsctl status
	atf_check timeout 10 fsctl_as "$TESTUSER" mount "$w/sc" "$w/mc"
	atf_check $U touch "$w/mc/new"
	atf_check timeout 10 fsctl_as "$TESTUSER" unmount "$w/mc"
	atf_check test -f "$w/sc/new"
	# A itself: a plain unmount finds it busy with the waiting caller
	# and says so at once; the lazy one detaches it at once.
	timeout 10 fsctl_as "$TESTUSER" unmount "$w/ma" >um.out 2>&1
	rv=$?
	[ $rv -eq 0 ] || grep -q "busy" um.out ||
	    atf_fail "unmount of A: exit $rv, $(cat um.out)"
	if [ $rv -ne 0 ]; then
		atf_check timeout 10 fsctl_as "$TESTUSER" unmount -l "$w/ma"
	fi
	atf_check -s exit:1 grep -q " $w/ma " /proc/self/mountinfo
	# Its worker still holds the connection for the waiting caller.
	atf_check -o match:"$w/ma .*unmounting" timeout 10 fsctl status
	# Let go, the detached mount drains: the caller gets its answer,
	# and the worker ends with the mount's last reference.
	kill -CONT "$wa"
	fsm_wait_until 10 sh -c "! kill -0 $(cat stuck.pid) 2>/dev/null" ||
	    atf_fail "the caller on A still waits"
	wait "$(cat stuck.pid)" || atf_fail "the read on A failed"
	atf_check -o inline:"a\n" cat stuck.out
	fsm_wait_until 10 sh -c "! kill -0 $wa 2>/dev/null" ||
	    atf_fail "the worker of A did not end"
	fsm_wait_until 2 sh -c "! fsctl status | grep -q '$w/ma '" ||
	    atf_fail "A is still listed"
	# A plain unmount of a stopped worker's mount with no caller
	# waiting: done, the worker killed after fsmount's grace period.
	wb=$(fsm_mount_field "$w/mb" pid)
	echo "$wb" >stopped.pid
	kill -STOP "$wb"
	atf_check timeout 15 fsctl_as "$TESTUSER" unmount "$w/mb"
	atf_check -s exit:1 grep -q " $w/mb " /proc/self/mountinfo
	fsm_wait_until 2 sh -c "! kill -0 $wb 2>/dev/null" ||
	    atf_fail "the stopped worker of B is still there"
	atf_check -o not-match:"$w/m" fsctl status
}
worker_stopped_cleanup()
{
	# Whatever happened: let go of the stopped worker and the caller.
	[ -f stuck.pid ] && kill -KILL "$(cat stuck.pid)" 2>/dev/null
	[ -f stopped.pid ] && kill -CONT "$(cat stopped.pid)" 2>/dev/null
	fsm_cleanup
}

atf_test_case failed_cleared cleanup
failed_cleared_head()
{
	atf_set descr "Unmounting a failed mount clears it from the status"
	atf_set require.user root
}
failed_cleared_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	chown "$TESTUSER" "$w/s" "$w/m"
	atf_check fsctl_as "$TESTUSER" mount "$w/s" "$w/m"
	kill -KILL "$(fsm_mount_field "$w/m" pid)"
	fsm_wait_until 2 not_mounted "$w/m" || atf_fail "not detached"
	fsm_wait_until 2 shows_failed || atf_fail "not shown as failed"
	atf_check -s exit:1 \
	    -e inline:"fsctl: unmount $w/m: not mounted by fsmonitor\n" \
	    fsctl_as "$TESTUSER2" unmount "$w/m"
	atf_check -o match:"failed" fsctl status
	atf_check fsctl_as "$TESTUSER" unmount "$w/m"
	atf_check -o not-match:"$w/m" fsctl status
}
failed_cleared_cleanup()
{
	fsm_cleanup
}

atf_test_case fsmount_killed cleanup
fsmount_killed_head()
{
	atf_set descr "fsmount killed: the parent notices and exits non-zero"
	atf_set require.user root
}
fsmount_killed_body()
{
	fsm_start
	pid=$(fsm_pid)
	fpid=$(pgrep -P "$pid" -x fsmount)
	kill -KILL "$fpid"
	fsm_wait_until 5 sh -c "! kill -0 $pid 2>/dev/null" ||
	    atf_fail "the parent did not exit"
	wait "$pid"
	rv=$?
	[ "$rv" -ne 0 ] || atf_fail "the parent exited 0"
	rm -f fsm.pid
	atf_check -o match:"fsmount died|fsmount closed" \
	    cat "$(fsm_workdir)/fsmonitor.log"
}
fsmount_killed_cleanup()
{
	fsm_cleanup
}

atf_test_case parent_killed cleanup
parent_killed_head()
{
	atf_set descr "The parent killed: fsmount and every worker exit and " \
	    "every mount is detached"
	atf_set require.user root
}
parent_killed_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s1" "$w/m1" "$w/s2" "$w/m2"
	chown "$TESTUSER" "$w/s2" "$w/m2"
	atf_check fsctl mount "$w/s1" "$w/m1"
	atf_check fsctl_as "$TESTUSER" mount "$w/s2" "$w/m2"
	kill -KILL "$(fsm_pid)"
	wait "$(fsm_pid)" 2>/dev/null
	rm -f fsm.pid
	fsm_wait_until 10 no_mounts || atf_fail "mounts left: $(fsm_mounts)"
	fsm_wait_until 10 no_procs || atf_fail "processes left: $(fsm_procs)"
}
parent_killed_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case worker_killed
	atf_add_test_case worker_seccomp
	atf_add_test_case worker_stopped
	atf_add_test_case failed_cleared
	atf_add_test_case fsmount_killed
	atf_add_test_case parent_killed
}
