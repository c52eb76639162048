# The daemon as a whole: start-up, privilege separation, shutdown,
# configuration checking and reloading.

. "$(atf_get_srcdir)/common.sh"

atf_test_case privsep cleanup
privsep_head()
{
	atf_set descr "The parent runs unprivileged, fsmount as root, " \
	    "workers as their owner without capabilities"
	atf_set require.user root
}
privsep_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	ppid=$(fsm_pid)
	atf_check_equal "$(fsm_status_field "$ppid" CapEff)" \
	    0000000000000000
	atf_check_equal "$(fsm_status_field "$ppid" NoNewPrivs)" 1
	atf_check_equal "$(fsm_status_field "$ppid" CapBnd)" \
	    0000000000000000
	atf_check_equal "$(fsm_status_field "$ppid" CapPrm)" \
	    0000000000000000
	atf_check_equal "$(fsm_status_field "$ppid" Seccomp)" 2
	set -- $(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' \
	    "/proc/$ppid/status")
	[ "$1" != 0 ] && [ "$2" != 0 ] && [ "$3" != 0 ] ||
	    atf_fail "parent still has uid 0: $*"
	atf_check_equal "$(readlink /proc/$ppid/root)" /var/empty

	fsmount_pid=$(pgrep -P "$ppid" -x fsmount)
	[ -n "$fsmount_pid" ] || atf_fail "no fsmount child"
	atf_check_equal "$(awk '$1 == "Uid:" { print $3 }' \
	    "/proc/$fsmount_pid/status")" 0
	# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_KILL, CAP_SETGID,
	# CAP_SETUID, CAP_SYS_ADMIN;
	# the bounding set adds what workers start with.
	atf_check_equal "$(fsm_status_field "$fsmount_pid" CapEff)" \
	    00000000002000e6
	atf_check_equal "$(fsm_status_field "$fsmount_pid" CapPrm)" \
	    00000000002000e6
	atf_check_equal "$(fsm_status_field "$fsmount_pid" CapBnd)" \
	    00000000882001ff
	atf_check_equal "$(fsm_status_field "$fsmount_pid" CapInh)" \
	    0000000000000000
	# Its own allowlist, without no_new_privs: root workers it executes
	# gain their capabilities.
	atf_check_equal "$(fsm_status_field "$fsmount_pid" Seccomp)" 2
	atf_check_equal "$(fsm_status_field "$fsmount_pid" NoNewPrivs)" 0

	mkdir -p "$w/src" "$w/mnt"
	chown "$TESTUSER:$TESTUSER" "$w/src" "$w/mnt"
	atf_check fsctl_as "$TESTUSER" mount "$w/src" "$w/mnt"
	wpid=$(pgrep -P "$fsmount_pid" -x fsworker)
	[ -n "$wpid" ] || atf_fail "no worker"
	uid=$(id -u "$TESTUSER")
	set -- $(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' \
	    "/proc/$wpid/status")
	atf_check_equal "$*" "$uid $uid $uid $uid"
	atf_check_equal "$(fsm_status_field "$wpid" CapEff)" \
	    0000000000000000
	atf_check_equal "$(fsm_status_field "$wpid" CapPrm)" \
	    0000000000000000
	atf_check_equal "$(fsm_status_field "$wpid" NoNewPrivs)" 1
	# fsmount's filter and its own.
	atf_check_equal "$(fsm_status_field "$wpid" Seccomp_filters)" 2
	atf_check fsctl_as "$TESTUSER" unmount "$w/mnt"
}
privsep_cleanup()
{
	fsm_cleanup
}

atf_test_case sigterm cleanup
sigterm_head()
{
	atf_set descr "SIGTERM unmounts everything, stops every worker " \
	    "and exits 0"
	atf_set require.user root
}
sigterm_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	for i in 1 2 3; do
		mkdir -p "$w/src$i" "$w/mnt$i"
		echo "data $i" >"$w/src$i/f"
		atf_check fsctl mount "$w/src$i" "$w/mnt$i"
	done
	chown "$TESTUSER" "$w/src3" "$w/mnt3"
	mkdir "$w/mnt4" && chown "$TESTUSER" "$w/mnt4"
	atf_check fsctl_as "$TESTUSER" mount "$w/src3" "$w/mnt4"
	atf_check -o inline:"data 2\n" cat "$w/mnt2/f"
	atf_check_equal "$(fsm_mounts | wc -l)" 4
	atf_check_equal "$(fsm_procs | wc -l)" 6

	pid=$(fsm_pid)
	kill -TERM "$pid"
	n=0
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt 200 ] && atf_fail "fsmonitor did not exit"
		sleep 0.05
	done
	wait "$pid"
	atf_check_equal "$?" 0
	rm -f fsm.pid
	atf_check -o empty fsm_mounts
	atf_check_equal "$(fsm_procs)" ""
	atf_check -o inline:"data 2\n" cat "$w/src2/f"
}
sigterm_cleanup()
{
	fsm_cleanup
}

atf_test_case config_check
config_check_head()
{
	atf_set descr "fsmonitor -n reports configuration errors as " \
	    "file:line and prints a good configuration back"
}
config_check_body()
{
	FSM="$(atf_get_srcdir)/../../fsmonitor/fsmonitor"
	cat >bad.conf <<'CONF'
# comment
mount_max 5
frobnicate yes
allow user no-such-user-here
mount "relative" on "/mnt"
mount "/a" on "/b" options "ro,suid"
user_allow_other extra
CONF
	chmod 644 bad.conf
	atf_check -s exit:1 -e save:err "$FSM" -n -f bad.conf
	atf_check -o ignore grep -F "bad.conf:3: unknown keyword 'frobnicate'" err
	atf_check -o ignore grep -F "bad.conf:4: unknown user 'no-such-user-here'" err
	atf_check -o ignore grep -F "bad.conf:5: source 'relative' is not an absolute path" err
	atf_check -o ignore grep -F "bad.conf:6: unknown option 'suid'" err
	atf_check -o ignore grep -F "bad.conf:7: user_allow_other takes no argument" err

	cat >good.conf <<'CONF'
user_allow_other   # users may share
mount_max 7
allow user root
allow group 0
mount "/srv/a b" on "/mnt/x" options "allow_other,ro,cache=always"
mount /srv/c on /mnt/y
CONF
	chmod 644 good.conf
	cat >expected <<'CONF'
user_allow_other
mount_max 7
allow user 0
allow group 0
mount "/srv/a b" on "/mnt/x" options "ro,allow_other,default_permissions,cache=always"
mount "/srv/c" on "/mnt/y"
CONF
	atf_check -o file:expected -e inline:"configuration OK\n" \
	    "$FSM" -n -v -f good.conf
	# The printed form reads back to itself.
	cp expected again.conf
	atf_check -o file:expected -e ignore "$FSM" -n -v -f again.conf

	# A NUL byte inside a line is an error, not a silent cut.
	printf 'mount_max 3\nuser_allow_other\0 junk\n' >nul.conf
	atf_check -s exit:1 -e match:"nul.conf:2: NUL byte in line" \
	    "$FSM" -n -f nul.conf

	# An absent file means the built-in defaults.
	atf_check -o inline:"mount_max 1000\n" -e ignore \
	    "$FSM" -n -v -f ./absent.conf
	# A file others may write is refused.
	chmod 666 good.conf
	atf_check -s exit:1 -e match:"writable only by root" \
	    "$FSM" -n -f good.conf
}

atf_test_case reload cleanup
reload_head()
{
	atf_set descr "SIGHUP and fsctl reload bring static mounts up and " \
	    "down and leave user mounts alone"
	atf_set require.user root
}
reload_body()
{
	fsm_users
	w=$(fsm_workdir)
	mkdir -p "$w/s1" "$w/s2" "$w/m1" "$w/m2" "$w/us" "$w/um"
	echo one >"$w/s1/f"
	echo two >"$w/s2/f"
	fsm_start "mount \"$w/s1\" on \"$w/m1\" options \"allow_other\""
	n=0
	until fsm_is_mounted "$w/m1"; do
		n=$((n + 1)); [ $n -gt 100 ] && atf_fail "static mount missing"
		sleep 0.05
	done
	atf_check -o inline:"one\n" cat "$w/m1/f"
	atf_check -o match:"$w/m1 .*static|$w/m1" fsctl status
	atf_check fsctl mount "$w/us" "$w/um"

	# Replace s1 by s2 and reload with fsctl.
	echo "mount \"$w/s2\" on \"$w/m2\"" >"$(fsm_conf)"
	atf_check fsctl reload
	n=0
	while fsm_is_mounted "$w/m1" || ! fsm_is_mounted "$w/m2"; do
		n=$((n + 1)); [ $n -gt 100 ] && atf_fail "reload did not apply"
		sleep 0.05
	done
	atf_check -o inline:"two\n" cat "$w/m2/f"
	fsm_is_mounted "$w/um" || atf_fail "user mount lost on reload"

	# A broken file is refused and changes nothing.
	echo "bogus" >>"$(fsm_conf)"
	atf_check -s exit:1 -e match:"configuration has errors" fsctl reload
	fsm_is_mounted "$w/m2" || atf_fail "bad reload removed a mount"

	# SIGHUP with no static mount left.
	: >"$(fsm_conf)"
	kill -HUP "$(fsm_pid)"
	n=0
	while fsm_is_mounted "$w/m2"; do
		n=$((n + 1)); [ $n -gt 100 ] && atf_fail "SIGHUP did not apply"
		sleep 0.05
	done
	fsm_is_mounted "$w/um" || atf_fail "user mount lost on SIGHUP"

	# Only root may reload.
	atf_check -s exit:1 -e inline:"fsctl: reload: reload is for root only\n" \
	    fsctl_as "$TESTUSER" reload
}
reload_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case privsep
	atf_add_test_case sigterm
	atf_add_test_case config_check
	atf_add_test_case reload
}
