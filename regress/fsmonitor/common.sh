# Shared by the end-to-end suites: start a private fsmonitor from the
# build tree on a socket and configuration in the test's work directory,
# and leave nothing behind, whatever happened.
#
# A test calls fsm_start in its body and fsm_cleanup from its cleanup.

TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)
FSMONITOR="$TOP/fsmonitor/fsmonitor"
FSCTL="$TOP/fsctl/fsctl"
TESTUSER=fsmtest
TESTUSER2=fsmtest2

fsm_path()
{
	PATH="$(fsm_workdir)/bin:$PATH"
	export PATH
}

# The work directory is kept in a file so cleanup finds it again.  It
# holds small commands (fsctl, fsctl_as, as_user, fsm_mounts, fsm_open) that
# atf_check can run, since it cannot run shell functions.
fsm_workdir()
{
	if [ ! -f fsm.workdir ]; then
		d=$(mktemp -d /tmp/fsmonitor-test.XXXXXX)
		chmod 755 "$d"
		echo "$d" >fsm.workdir
		fsm_commands "$d"
	fi
	cat fsm.workdir
}

fsm_commands()
{
	mkdir -m 755 "$1/bin"
	cat >"$1/bin/as_user" <<CMD
#!/bin/sh
u=\$1
shift
exec setpriv --reuid="\$u" --regid="\$u" --init-groups --reset-env \\
    --inh-caps=-all --bounding-set=-all -- "\$@"
CMD
	cat >"$1/bin/fsctl" <<CMD
#!/bin/sh
exec "$FSCTL" -s "$1/ctl.sock" "\$@"
CMD
	cat >"$1/bin/fsctl_as" <<CMD
#!/bin/sh
u=\$1
shift
exec "$1/bin/as_user" "\$u" "$FSCTL" -s "$1/ctl.sock" "\$@"
CMD
	cat >"$1/bin/fsm_mounts" <<CMD
#!/bin/sh
awk -v w="$1" '{
	for (i = 7; i <= NF; i++) if (\$i == "-") break;
	if (\$(i + 1) == "fuse.fsmonitor" && index(\$5, w) == 1)
		print \$5
}' /proc/self/mountinfo
CMD
	# fsm_open DIR FROM TO [hold]: opens DIR/fFROM up to fTO until
	# refused, says how many and why, and may hold them.
	cat >"$1/bin/fsm_open" <<'CMD'
#!/usr/bin/env python3
import errno, os, resource, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
fds = []
try:
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        fds.append(os.open(sys.argv[1] + "/f%d" % i, os.O_RDONLY))
    print(len(fds), "all", flush=True)
except OSError as e:
    print(len(fds), errno.errorcode[e.errno], flush=True)
if len(sys.argv) > 4:
    time.sleep(600)
CMD
	chmod 755 "$1/bin/as_user" "$1/bin/fsctl" "$1/bin/fsctl_as" \
	    "$1/bin/fsm_mounts" "$1/bin/fsm_open"
}

fsm_sock()
{
	echo "$(fsm_workdir)/ctl.sock"
}

fsm_conf()
{
	echo "$(fsm_workdir)/fsmonitor.conf"
}

# regress/valgrind.sh sets the Kyua configuration variables fsm_wrap,
# a command fsmonitor runs under, and fsm_worker_wrap, one fsmount
# starts each worker through (FSMONITOR_WORKER_WRAP, honoured with -T
# alone); then everything is slower, and the waits longer.
fsm_wrapped()
{
	[ -n "$(atf_config_get fsm_wrap "")$(atf_config_get fsm_worker_wrap "")" ]
}

# The Kyua configuration variable fsm_kernel, or FSM_KERNEL, names an
# older kernel (5.14, 6.1, 6.8) every worker behaves as (fsmonitor -K).
fsm_kernel()
{
	echo "${FSM_KERNEL:-$(atf_config_get fsm_kernel "")}"
}

# The Kyua configuration variable fsm_enosys, or FSM_ENOSYS, names
# system calls (mount_setattr,open_tree,...) that fail with ENOSYS in
# fsmonitor and everything it starts (enosys), to take the fallbacks.
fsm_enosys()
{
	echo "${FSM_ENOSYS:-$(atf_config_get fsm_enosys "")}"
}

# fsm_start [configuration lines...]; FSM_FLAGS replaces -v, and FSM_IN
# is a command (with its arguments) the daemon is started through, such
# as regress/nsrun.sh or prlimit, which must execute it in its own
# process.
fsm_start()
{
	fsm_path
	w=$(fsm_workdir)
	wrap=$(atf_config_get fsm_wrap "")
	wwrap=$(atf_config_get fsm_worker_wrap "")
	kcap=$(fsm_kernel)
	enosys=$(fsm_enosys)
	[ -z "$enosys" ] ||
	    wrap="$TOP/regress/fsmonitor/enosys $enosys $wrap"
	limit=100
	# Out of the way of Kyua's kill of the body's process group, so
	# that fsm_stop ends it and valgrind writes its report.
	fsm_wrapped && limit=1200 && wrap="setsid $wrap"
	: >"$w/fsmonitor.conf"
	for line in "$@"; do
		echo "$line" >>"$w/fsmonitor.conf"
	done
	chmod 644 "$w/fsmonitor.conf"
	${FSM_IN:-} env ${wwrap:+FSMONITOR_WORKER_WRAP="$wwrap"} $wrap \
	    "$FSMONITOR" -d ${FSM_FLAGS--v} -T ${kcap:+-K "$kcap"} \
	    -f "$w/fsmonitor.conf" \
	    -s "$w/ctl.sock" \
	    >"$w/fsmonitor.log" 2>&1 &
	echo $! >fsm.pid
	n=0
	until "$FSCTL" -s "$w/ctl.sock" status >/dev/null 2>&1; do
		n=$((n + 1))
		if [ $n -gt $limit ] || ! kill -0 "$(cat fsm.pid)" 2>/dev/null
		then
			cat "$w/fsmonitor.log" >&2
			atf_fail "fsmonitor did not start"
		fi
		sleep 0.05
	done
}

fsm_pid()
{
	cat fsm.pid
}

fsm_log()
{
	cat "$(fsm_workdir)/fsmonitor.log"
}




# Create the unprivileged test users once; they are kept between runs.
fsm_users()
{
	fsm_path
	for u in "$TESTUSER" "$TESTUSER2"; do
		if ! id "$u" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /bin/sh \
			    --user-group "$u" >/dev/null 2>&1 ||
			    id "$u" >/dev/null 2>&1 ||
			    atf_fail "cannot create user $u"
		fi
	done
}


fsm_is_mounted()
{
	fsm_mounts | grep -qx "$1"
}

# Pids of every process whose executable is one of ours from this tree.
fsm_procs()
{
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case "$exe" in
		"$TOP"/fsmonitor/fsmonitor|"$TOP"/fsmount/fsmount|\
		"$TOP"/fsworker/fsworker)
			# Only those started for this work directory.
			if tr '\0' ' ' <"$p/cmdline" 2>/dev/null |
			    grep -q "$(fsm_workdir)"; then
				echo "${p#/proc/}"
			fi
			;;
		esac
	done
}

# Field of /proc/PID/status, e.g. fsm_status_field 123 CapEff
fsm_status_field()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# fsm_wait_until SECONDS command...: until it succeeds, polling every
# 50 ms; fails after SECONDS.
fsm_wait_until()
{
	limit=$(($1 * 20))
	shift
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -gt $limit ] && return 1
		sleep 0.05
	done
}

# fsm_mount_field MOUNTPOINT FIELD: a field of the mount's entry in
# fsctl status -j (pid, state, restarts, ...).
fsm_mount_field()
{
	fsctl status -j | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if m["mountpoint"] == sys.argv[1]:
        print(m[sys.argv[2]])' "$1" "$2"
}

# serving_new MOUNTPOINT PID: a worker other than PID serves the mount.
serving_new()
{
	p=$(fsm_mount_field "$1" pid)
	[ -n "$p" ] && [ "$p" != "$2" ] &&
	    [ "$(fsm_mount_field "$1" state)" = running ]
}

# fsm_alive PID: the process runs.  A daemon started by a test body
# that has ended is no one's child to reap: as a zombie it is gone.
fsm_alive()
{
	[ -r "/proc/$1/status" ] &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# fsm_fs TYPE DIR [MKFS-OPTIONS...]: a small filesystem of its own
# mounted on DIR (made if missing), unmounted by fsm_cleanup.  TYPE is
# tmpfs (then the options are mount options, size=... and so on) or
# ext4 (a 64 MiB image in the work directory on a loop device; the
# options go to mkfs.ext4, such as -m 10 for root's reserve).
fsm_fs()
{
	fstype=$1
	dir=$2
	shift 2
	w=$(fsm_workdir)
	mkdir -p "$dir"
	case "$fstype" in
	tmpfs)
		o=$(echo "$*" | tr ' ' ',')
		mount -t tmpfs ${o:+-o "$o"} fsmtest "$dir" ||
		    atf_fail "cannot mount a tmpfs on $dir"
		;;
	ext4)
		img="$w/fs.$(echo "$dir" | tr / _).img"
		truncate -s 64M "$img" &&
		    mkfs.ext4 -q -F "$@" "$img" >/dev/null 2>&1 ||
		    atf_fail "cannot make ext4 on $img"
		mount -o loop "$img" "$dir" ||
		    atf_fail "cannot mount $img (loop devices?)"
		;;
	*)
		atf_fail "fsm_fs: unknown type $fstype"
		;;
	esac
	echo "$dir" >>"$w/fs.list"
}

fsm_stop()
{
	if [ -f fsm.pid ]; then
		kill -TERM "$(cat fsm.pid)" 2>/dev/null
		limit=100
		fsm_wrapped && limit=1200
		n=0
		while fsm_alive "$(cat fsm.pid)"; do
			n=$((n + 1))
			[ $n -gt $limit ] && break
			sleep 0.05
		done
		rm -f fsm.pid
	fi
}

fsm_cleanup()
{
	[ -f fsm.workdir ] || return 0
	fsm_path
	w=$(cat fsm.workdir)
	fsm_stop
	for p in $(fsm_procs); do
		kill -KILL "$p" 2>/dev/null
	done
	for m in $(fsm_mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	# Filesystems of fsm_fs, last made first; the loop devices go with
	# their last unmount (autoclear).
	if [ -f "$w/fs.list" ]; then
		for m in $(sort -r "$w/fs.list"); do
			umount -l "$m" 2>/dev/null
		done
	fi
	# Workers are matched by their mountpoint argument.
	pkill -KILL -f "fsworker.* $w/" 2>/dev/null
	rm -rf "$w"
	rm -f fsm.workdir
}
