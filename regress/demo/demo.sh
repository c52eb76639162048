#!/bin/sh
# `make demo`: the mount service end to end, from the build tree.
# fsmonitor starts with built-in defaults on a private socket; root and
# an unprivileged user each mount a tree, use it, look at the status,
# and everything is torn down again.

set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
fsmonitor="$top/fsmonitor/fsmonitor"
fsctl="$top/fsctl/fsctl"
user=fsmdemo
work=$(mktemp -d /tmp/fsmonitor-demo.XXXXXX)
chmod 755 "$work"
sock="$work/ctl.sock"
pid=

say()
{
	printf '\n==> %s\n' "$*"
}

run()
{
	printf '$ %s\n' "$*"
	"$@"
}

as_user()
{
	setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
	    -- "$@"
}

cleanup()
{
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	for m in "$work/root.mnt" "$work/user.mnt"; do
		if grep -q " $m " /proc/self/mountinfo; then
			umount -l "$m" || true
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (it starts the daemon)" >&2
	exit 1
fi
id "$user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /bin/sh --user-group "$user"

say "two processes exchanging frames and a descriptor over libfsproto"
"$top/regress/demo/fsproto_demo"

say "starting fsmonitor (built-in defaults, socket $sock)"
"$fsmonitor" -d -T -f "$work/no-such.conf" -s "$sock" \
    >"$work/fsmonitor.log" 2>&1 &
pid=$!
n=0
until "$fsctl" -s "$sock" status >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 100 ] && { cat "$work/fsmonitor.log"; exit 1; }
	sleep 0.05
done
parent_uid=$(awk '$1 == "Uid:" { print $3 }' "/proc/$pid/status")
echo "fsmonitor parent $pid runs as uid $parent_uid" \
    "with CapEff $(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")"

say "root mounts $work/root.src on $work/root.mnt"
mkdir "$work/root.src" "$work/root.mnt"
echo "hello from the backing tree" >"$work/root.src/readme"
run "$fsctl" -s "$sock" mount -o cache=auto "$work/root.src" "$work/root.mnt"
run cat "$work/root.mnt/readme"
run sh -c "echo 'written through the mount' >'$work/root.mnt/new'"
run mkdir "$work/root.mnt/dir"
run mv "$work/root.mnt/new" "$work/root.mnt/dir/new"
echo "on the backing tree:"
run ls -l "$work/root.src" "$work/root.src/dir"
run cat "$work/root.src/dir/new"

say "user $user mounts a directory of theirs"
mkdir "$work/user.src" "$work/user.mnt"
chown "$user:$user" "$work/user.src" "$work/user.mnt"
run as_user "$fsctl" -s "$sock" mount "$work/user.src" "$work/user.mnt"
run as_user sh -c "seq 1 5 >'$work/user.mnt/numbers' && \
    awk '{ s += \$1 } END { print \"sum\", s }' '$work/user.mnt/numbers'"
run stat -c '%n owned by %U, %s bytes' "$work/user.src/numbers"
echo "and $user may not mount on /etc:"
as_user "$fsctl" -s "$sock" mount "$work/user.src" /etc || true

say "fsctl status"
sleep 1.1	# the workers report their counters once a second
run "$fsctl" -s "$sock" status
run "$fsctl" -s "$sock" status -j

say "processes"
ps -o pid,user,args --ppid "$pid" --pid "$pid" |
    sed "s,$top/,,g"
ps -o pid,user,args --ppid "$(pgrep -P "$pid" -x fsmount)" |
    sed "s,$top/,,g"

say "unmounting and stopping"
run as_user "$fsctl" -s "$sock" unmount "$work/user.mnt"
run "$fsctl" -s "$sock" unmount "$work/root.mnt"
run "$fsctl" -s "$sock" status
kill -TERM "$pid"
wait "$pid"
echo "fsmonitor exited with status $?"
pid=
if grep "fuse.fsmonitor" /proc/self/mountinfo | grep -q "$work"; then
	echo "demo: a mount was left behind" >&2
	exit 1
fi
echo "no fuse.fsmonitor mount left under $work; demo done"
