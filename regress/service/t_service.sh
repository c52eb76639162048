# What a service manager sees of the daemon: socket activation, the
# readiness protocol, the pid file, the units and the rc script.
# systemd is not PID 1 here: svc.py plays its part.

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

SVC="$(atf_get_srcdir)/svc.py"

# svc_conf [lines...]: the test's configuration file.
svc_conf()
{
	fsm_path
	w=$(fsm_workdir)
	: >"$w/fsmonitor.conf"
	for line in "$@"; do
		echo "$line" >>"$w/fsmonitor.conf"
	done
	chmod 644 "$w/fsmonitor.conf"
}

# svc_wait_for COMMAND...: until it succeeds, for 5 seconds at most.
svc_wait_for()
{
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -gt 100 ] && return 1
		sleep 0.05
	done
}

# svc_count_is N FILE: FILE has N lines READY=1 (counted anew each time
# svc_wait_for tries).
svc_count_is()
{
	[ "$(grep -c '^READY=1' "$2")" = "$1" ]
}

svc_ready()
{
	svc_wait_for "$FSCTL" -s "$(fsm_sock)" status ||
	    atf_fail "fsmonitor did not answer; log: $(fsm_log)"
}

svc_start_notify()
{
	w=$(fsm_workdir)
	python3 "$SVC" notify "$1" "$w/notify.out" &
	echo $! >svc.notify.pid
	svc_wait_for grep -qx listening "$w/notify.out" ||
	    atf_fail "the notify listener did not start"
}

svc_cleanup()
{
	if [ -f svc.notify.pid ]; then
		kill "$(cat svc.notify.pid)" 2>/dev/null
		rm -f svc.notify.pid
	fi
	fsm_cleanup
}

atf_test_case activation cleanup
activation_head()
{
	atf_set descr "The control socket from socket activation is used, " \
	    "and fsmount still gets its channel on descriptor 3"
	atf_set require.user root
	atf_set require.progs python3
}
activation_body()
{
	svc_conf
	w=$(fsm_workdir)
	python3 "$SVC" activate "$w/ctl.sock" "$FSMONITOR" -d -T \
	    -f "$w/fsmonitor.conf" >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	svc_ready
	atf_check -o match:"control socket $w/ctl.sock" cat "$w/fsmonitor.log"
	mkdir "$w/src" "$w/mnt"
	echo data >"$w/src/f"
	atf_check fsctl mount "$w/src" "$w/mnt"
	atf_check -o inline:"data\n" cat "$w/mnt/f"
	atf_check fsctl unmount "$w/mnt"
	# The passed socket serves, moved off descriptor 3, which is now
	# the channel to fsmount.
	ino=$(awk -v p="$w/ctl.sock" '$8 == p { print $7 }' /proc/net/unix)
	[ -n "$ino" ] || atf_fail "no socket $w/ctl.sock"
	atf_check -o not-inline:"socket:[$ino]\n" \
	    readlink "/proc/$(fsm_pid)/fd/3"
	atf_check -o match:"socket:\\[$ino\\]" -x \
	    "ls -l /proc/$(fsm_pid)/fd/"
}
activation_cleanup()
{
	svc_cleanup
}

atf_test_case activation_errors cleanup
activation_errors_head()
{
	atf_set descr "A socket activation that breaks a rule is refused " \
	    "with a clear error"
	atf_set require.user root
	atf_set require.progs python3
}
activation_errors_body()
{
	svc_conf
	w=$(fsm_workdir)
	set -- "$FSMONITOR" -d -T -f "$w/fsmonitor.conf"
	atf_check -s exit:1 -e match:"LISTEN_PID=[0-9]+ is not this process" \
	    python3 "$SVC" activate --bad-pid "$w/ctl.sock" "$@"
	atf_check -s exit:1 -e match:"LISTEN_FDS=2, but exactly one socket" \
	    python3 "$SVC" activate --fds 2 "$w/ctl.sock" "$@"
	atf_check -s exit:1 -e match:"descriptor 3 is not a stream socket" \
	    python3 "$SVC" activate --dgram "$w/ctl.sock" "$@"
	atf_check -s exit:1 -e match:"descriptor 3 is not listening" \
	    python3 "$SVC" activate --nolisten "$w/ctl.sock" "$@"
	atf_check -s exit:1 -e match:"the socket passed is $w/ctl.sock, not" \
	    python3 "$SVC" activate "$w/ctl.sock" "$@" -s "$w/other.sock"
	atf_check -s exit:1 -e match:"descriptor 3 is not a unix socket" \
	    env LISTEN_FDS=1 LISTEN_PID=self sh -c \
	    'export LISTEN_PID=$$; exec "$@" 3</dev/null' sh "$@"
	atf_check -s exit:1 -e match:"must be set together" \
	    env LISTEN_FDS=1 "$@"
	atf_check -s exit:1 -e match:"LISTEN_PID=x: not a number" \
	    env LISTEN_FDS=1 LISTEN_PID=x "$@"
	# None of them left a daemon behind.
	atf_check -s exit:1 -e ignore "$FSCTL" -s "$w/ctl.sock" status
}
activation_errors_cleanup()
{
	svc_cleanup
}

atf_test_case notify cleanup
notify_head()
{
	atf_set descr "READY=1 once serving, RELOADING=1 and READY=1 around " \
	    "a reload, STOPPING=1 on shutdown, in the foreground with -D"
	atf_set require.user root
	atf_set require.progs python3
}
notify_body()
{
	svc_conf
	w=$(fsm_workdir)
	svc_start_notify "$w/notify.sock"
	NOTIFY_SOCKET="$w/notify.sock" "$FSMONITOR" -D -T \
	    -f "$w/fsmonitor.conf" -s "$w/ctl.sock" >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	svc_wait_for grep -q "^READY=1" "$w/notify.out" ||
	    atf_fail "no READY=1: $(cat "$w/notify.out")"
	# Ready means serving: the socket answers at once.
	atf_check -o ignore "$FSCTL" -s "$w/ctl.sock" status
	# -D: the process started is the daemon itself.
	atf_check -o inline:"fsmonitor\n" cat "/proc/$(fsm_pid)/comm"

	kill -HUP "$(fsm_pid)"
	svc_wait_for svc_count_is 2 "$w/notify.out" ||
	    atf_fail "no READY=1 after SIGHUP: $(cat "$w/notify.out")"
	atf_check -o match:"^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|" \
	    sed -n 3p "$w/notify.out"
	atf_check "$FSCTL" -s "$w/ctl.sock" reload
	svc_wait_for svc_count_is 3 "$w/notify.out" ||
	    atf_fail "no READY=1 after fsctl reload"

	# A reload that fails is still followed by READY=1, saying so.
	echo "bogus statement" >>"$w/fsmonitor.conf"
	kill -HUP "$(fsm_pid)"
	svc_wait_for grep -q "last reload failed" "$w/notify.out" ||
	    atf_fail "no report of the failed reload"

	kill -TERM "$(fsm_pid)"
	svc_wait_for grep -q "^STOPPING=1" "$w/notify.out" ||
	    atf_fail "no STOPPING=1"
	svc_wait_for sh -c "! kill -0 $(fsm_pid)" ||
	    atf_fail "fsmonitor did not exit"
	atf_check -o match:"^listening$" -o match:"^READY=1\|STATUS=serving$" \
	    cat "$w/notify.out"
}
notify_cleanup()
{
	svc_cleanup
}

atf_test_case notify_abstract cleanup
notify_abstract_head()
{
	atf_set descr "NOTIFY_SOCKET in the abstract namespace works, and " \
	    "a bad NOTIFY_SOCKET is an error"
	atf_set require.user root
	atf_set require.progs python3
}
notify_abstract_body()
{
	svc_conf
	w=$(fsm_workdir)
	name="@fsmonitor-test-$$"
	svc_start_notify "$name"
	NOTIFY_SOCKET="$name" "$FSMONITOR" -d -T -f "$w/fsmonitor.conf" \
	    -s "$w/ctl.sock" >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	svc_wait_for grep -q "^READY=1" "$w/notify.out" ||
	    atf_fail "no READY=1 on $name"
	fsm_stop
	atf_check -s exit:1 -e match:"NOTIFY_SOCKET=relative: not a socket" \
	    env NOTIFY_SOCKET=relative "$FSMONITOR" -d -T \
	    -f "$w/fsmonitor.conf" -s "$w/ctl.sock"
	atf_check -s exit:1 -e match:"NOTIFY_SOCKET=$w/none: connect" \
	    env NOTIFY_SOCKET="$w/none" "$FSMONITOR" -d -T \
	    -f "$w/fsmonitor.conf" -s "$w/ctl.sock"
}
notify_abstract_cleanup()
{
	svc_cleanup
}

atf_test_case pidfile cleanup
pidfile_head()
{
	atf_set descr "-p writes the daemon's pid, after it has detached"
	atf_set require.user root
}
pidfile_body()
{
	svc_conf
	w=$(fsm_workdir)
	atf_check "$FSMONITOR" -T -f "$w/fsmonitor.conf" -s "$w/ctl.sock" \
	    -p "$w/fsmonitor.pid"
	svc_wait_for test -s "$w/fsmonitor.pid" || atf_fail "no pid file"
	pid=$(cat "$w/fsmonitor.pid")
	echo "$pid" >fsm.pid
	atf_check -o inline:"fsmonitor\n" cat "/proc/$pid/comm"
	svc_ready
	fsm_stop
	atf_check -s exit:1 -e match:"pid file $w/none/x" "$FSMONITOR" \
	    -d -T -f "$w/fsmonitor.conf" -s "$w/ctl.sock" -p "$w/none/x"
}
pidfile_cleanup()
{
	svc_cleanup
}

# The units and the rc script as the build makes them, with the paths
# of this test: not those of an installed copy, nor its
# /etc/default/fsmonitor.
svc_generate()
{
	w=$(fsm_workdir)
	mkdir -p "$w/gen" "$w/sbin" "$w/etc" "$w/man/man5" "$w/man/man8"
	ln -sf "$FSMONITOR" "$w/sbin/fsmonitor"
	for p in fsmonitor.8 fsctl.8; do
		ln -sf "$TOP/man/$p" "$w/man/man8/$p"
	done
	ln -sf "$TOP/man/fsmonitor.conf.5" "$w/man/man5/fsmonitor.conf.5"
	bmake -C "$TOP/etc" GENDIR="$w/gen" SBINDIR="$w/sbin" RUNDIR="$w" \
	    SYSCONFDIR="$w/etc" >/dev/null || atf_fail "cannot make the units"
}

atf_test_case units_verify cleanup
units_verify_head()
{
	atf_set descr "systemd-analyze verify finds nothing to say about " \
	    "fsmonitor.service and fsmonitor.socket"
	atf_set require.progs "systemd-analyze bmake"
}
units_verify_body()
{
	svc_generate
	w=$(fsm_workdir)
	cd "$w/gen" || atf_fail "no $w/gen"
	atf_check env MANPATH="$w/man" systemd-analyze verify \
	    ./fsmonitor.socket ./fsmonitor.service
	atf_check -o match:"^Type=notify$" \
	    -o match:"^ExecStart=$w/sbin/fsmonitor -D$" cat fsmonitor.service
	atf_check -o match:"^ListenStream=$w/fsmonitor.sock$" \
	    cat fsmonitor.socket
	# Nothing that gives the service a mount namespace of its own.
	atf_check -s exit:1 -x "grep -E '^(PrivateMounts|PrivateTmp|\
PrivateDevices|ProtectSystem|ProtectHome|ProtectKernel[A-Za-z]*|\
ProtectControlGroups|ProtectProc|ProcSubset|ReadOnlyPaths|ReadWritePaths|\
InaccessiblePaths|BindPaths|BindReadOnlyPaths|TemporaryFileSystem|\
MountAPIVFS|RootDirectory|RootImage|NoNewPrivileges|PrivateUsers|\
DynamicUser|ProtectClock)=' fsmonitor.service"
}
units_verify_cleanup()
{
	svc_cleanup
}

atf_test_case units_caps cleanup
units_caps_head()
{
	atf_set descr "The unit's capability bounding set is enough for a " \
	    "user mount and a static mount"
	atf_set require.user root
	atf_set require.progs "bmake setpriv"
}
units_caps_body()
{
	fsm_users
	svc_generate
	w=$(fsm_workdir)
	mkdir -p "$w/src" "$w/mnt" "$w/ssrc" "$w/smnt"
	chown "$TESTUSER:$TESTUSER" "$w/src" "$w/mnt"
	echo static >"$w/ssrc/f"
	svc_conf "mount \"$w/ssrc\" on \"$w/smnt\" options \"ro\""
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$w/gen/fsmonitor.service" |
	    tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	[ -n "$caps" ] || atf_fail "no CapabilityBoundingSet"
	setpriv --bounding-set=-all,"$caps" --inh-caps=-all -- \
	    "$FSMONITOR" -d -T -f "$w/fsmonitor.conf" -s "$w/ctl.sock" \
	    >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	svc_ready
	svc_wait_for test -f "$w/smnt/f" || atf_fail "no static mount: \
$(fsm_log)"
	atf_check -o inline:"static\n" cat "$w/smnt/f"
	atf_check fsctl_as "$TESTUSER" mount "$w/src" "$w/mnt"
	atf_check as_user "$TESTUSER" sh -c "echo u >'$w/mnt/u'"
	atf_check -o inline:"u\n" cat "$w/src/u"
	atf_check fsctl_as "$TESTUSER" unmount "$w/mnt"
}
units_caps_cleanup()
{
	svc_cleanup
}

atf_test_case units_nofile cleanup
units_nofile_head()
{
	atf_set descr "The unit's LimitNOFILE is at least what its comment " \
	    "computes for mount_max's default of 1000 restartable mounts, " \
	    "and fsmount started at that much, with the unit's bounding " \
	    "set, has room for them"
	atf_set require.user root
	atf_set require.progs "bmake prlimit setpriv"
}
units_nofile_body()
{
	svc_generate
	w=$(fsm_workdir)
	unit="$w/gen/fsmonitor.service"
	nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
	need=$(sed -n 's/.*needs \([0-9]*\) in fsmount.*/\1/p' "$unit")
	[ -n "$nofile" ] || atf_fail "no LimitNOFILE"
	[ -n "$need" ] || atf_fail "the comment does not say what fsmount needs"
	[ "$nofile" -ge "$need" ] || atf_fail "LimitNOFILE=$nofile < $need"
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" |
	    tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	svc_conf
	prlimit --nofile="$need:$need" setpriv --bounding-set=-all,"$caps" \
	    --inh-caps=-all -- "$FSMONITOR" -d -T -f "$w/fsmonitor.conf" \
	    -s "$w/ctl.sock" >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	svc_ready
	# fsmount writes it on its own, maybe after the parent is ready.
	fsm_wait_until 5 grep -q "room for" "$w/fsmonitor.log" ||
	    atf_fail "fsmount did not say its room: $(fsm_log)"
	room=$(sed -n 's/.*room for [0-9]* mounts, \([0-9]*\) with restart/\1/p' \
	    "$w/fsmonitor.log")
	[ -n "$room" ] || atf_fail "fsmount did not say its room: $(fsm_log)"
	echo "LimitNOFILE=$nofile; at $need: room for $room restartable mounts"
	[ "$room" -ge 1000 ] || atf_fail "room for $room restartable mounts"
	atf_check -s exit:1 grep "descriptor limit .* holds" "$w/fsmonitor.log"
}
units_nofile_cleanup()
{
	svc_cleanup
}

atf_test_case rc_script cleanup
rc_script_head()
{
	atf_set descr "The rc script starts, reports, reloads and stops the " \
	    "daemon through its pid file"
	atf_set require.user root
	atf_set require.progs bmake
}
rc_script_body()
{
	svc_generate
	svc_conf
	w=$(fsm_workdir)
	rc="$w/gen/rc.fsmonitor"
	atf_check -o match:"^# Provides: +fsmonitor$" \
	    -o match:"^### END INIT INFO$" \
	    -o match:"^\\[ -r $w/etc/default/fsmonitor \\]" cat "$rc"
	FSMONITOR_PIDFILE="$w/fsmonitor.pid"
	FSMONITOR_FLAGS="-T -f $w/fsmonitor.conf -s $w/ctl.sock"
	export FSMONITOR_PIDFILE FSMONITOR_FLAGS

	atf_check -s exit:3 -o inline:"fsmonitor is not running\n" \
	    "$rc" status
	atf_check -o inline:"Starting fsmonitor\n" "$rc" start
	pid=$(cat "$w/fsmonitor.pid")
	echo "$pid" >fsm.pid
	atf_check -o inline:"fsmonitor is running (pid $pid)\n" "$rc" status
	atf_check -o match:"already running" "$rc" start
	svc_ready

	# reload: a static mount added to the file appears.
	mkdir "$w/ssrc" "$w/smnt"
	echo s >"$w/ssrc/f"
	echo "mount \"$w/ssrc\" on \"$w/smnt\"" >>"$w/fsmonitor.conf"
	atf_check -o inline:"Reloading fsmonitor configuration\n" \
	    "$rc" reload
	svc_wait_for test -f "$w/smnt/f" || atf_fail "reload did nothing"

	atf_check -o inline:"Stopping fsmonitor\n" "$rc" stop
	atf_check -s exit:1 -e ignore kill -0 "$pid"
	atf_check -s exit:1 test -e "$w/fsmonitor.pid"
	fsm_is_mounted "$w/smnt" && atf_fail "the static mount is left"
	atf_check -s exit:3 -o ignore "$rc" status
	atf_check -o inline:"fsmonitor not running\n" "$rc" stop
	atf_check -s exit:7 -e inline:"fsmonitor not running\n" "$rc" reload

	# A pid file left by a crash: status says so, start goes on.
	echo 999999999 >"$w/fsmonitor.pid"
	atf_check -s exit:1 -o match:"not running, but" "$rc" status
	atf_check -o ignore "$rc" restart
	echo "$(cat "$w/fsmonitor.pid")" >fsm.pid
	atf_check -o match:"is running" "$rc" status
	atf_check -o ignore "$rc" stop
	atf_check -s exit:2 -e match:"^usage:" "$rc" bogus
}
rc_script_cleanup()
{
	svc_cleanup
}

atf_test_case log_level cleanup
log_level_head()
{
	atf_set descr "fsctl log verbose|brief changes what the parent, " \
	    "fsmount and the workers log, for root only"
	atf_set require.user root
}
log_level_body()
{
	fsm_users
	FSM_FLAGS= fsm_start
	w=$(fsm_workdir)
	mkdir "$w/src" "$w/mnt"
	echo data >"$w/src/f"
	atf_check fsctl mount "$w/src" "$w/mnt"
	atf_check -o ignore cat "$w/mnt/f"
	atf_check -s exit:1 -o ignore grep -E "client [0-9]+: uid|fuse_dispatch" \
	    "$w/fsmonitor.log"

	atf_check -s exit:1 \
	    -e inline:"fsctl: log: only root may change what is logged\n" \
	    fsctl_as "$TESTUSER" log verbose
	atf_check -s exit:1 -e match:"^usage:" fsctl log loud
	atf_check -s exit:1 -e match:"^usage:" fsctl log
	atf_check fsctl log verbose
	atf_check -o match:"^fsmonitor: logging debugging messages too" \
	    -o match:"^fsmount: logging debugging messages too" \
	    cat "$w/fsmonitor.log"
	# Each process now logs its debugging messages: the parent its
	# clients, the running worker its requests.
	atf_check -o ignore fsctl status
	atf_check -o ignore ls -l "$w/mnt/f"
	atf_check -o match:"^fsmonitor: client [0-9]+: uid 0" \
	    -o match:"^fsworker: fuse_dispatch: [A-Z]+ unique" \
	    cat "$w/fsmonitor.log"

	atf_check fsctl log brief
	n=$(grep -c "fuse_dispatch" "$w/fsmonitor.log")
	atf_check -o ignore ls -l "$w/mnt/f"
	atf_check -o ignore fsctl status
	atf_check -o inline:"$n\n" grep -c "fuse_dispatch" "$w/fsmonitor.log"
	atf_check -o match:"^fsmount: logging without debugging messages" \
	    cat "$w/fsmonitor.log"
	atf_check fsctl unmount "$w/mnt"
}
log_level_cleanup()
{
	svc_cleanup
}

atf_test_case titles cleanup
titles_head()
{
	atf_set descr "ps shows each process's role, and each worker's " \
	    "mount point"
	atf_set require.user root
	atf_set require.progs ps
}
titles_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/src" "$w/mnt"
	atf_check fsctl mount "$w/src" "$w/mnt"
	ppid=$(fsm_pid)
	mpid=$(pgrep -P "$ppid" -x fsmount)
	wpid=$(pgrep -P "$mpid" -x fsworker)
	atf_check -o inline:"fsmonitor: parent $w/ctl.sock\n" \
	    ps -o args= -p "$ppid"
	atf_check -o inline:"fsmount: root child $w/ctl.sock\n" \
	    ps -o args= -p "$mpid"
	atf_check -o inline:"fsworker: $w/mnt\n" ps -o args= -p "$wpid"
	# The arguments were moved, not lost.
	atf_check -o match:"started, control socket $w/ctl.sock," \
	    cat "$w/fsmonitor.log"
	atf_check fsctl unmount "$w/mnt"
}
titles_cleanup()
{
	svc_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case log_level
	atf_add_test_case titles
	atf_add_test_case activation
	atf_add_test_case activation_errors
	atf_add_test_case notify
	atf_add_test_case notify_abstract
	atf_add_test_case pidfile
	atf_add_test_case units_verify
	atf_add_test_case units_caps
	atf_add_test_case units_nofile
	atf_add_test_case rc_script
}
