#!/bin/sh
# Run the end-to-end suites with the fsmonitor parent and every worker
# under valgrind's memcheck, then read every report: no error and no
# definite leak may be found.  Not part of `make test` (it takes a long
# while); run it as root from the top of the tree:
#
#	regress/valgrind.sh [test program[:case] ...]
#
# The default programs are the end-to-end suites but t_load (hundreds
# of mounts at once: hours under valgrind).  The build is a copy of the
# tree in .vg (like runtests' .san), made with SECCOMP_LOG=1 and
# VALGRIND_STUB (regress/vgstub.c): valgrind 3.19 can neither load a
# seccomp filter nor run the worker's sandbox (the new mount API), so
# there the filters and the worker's sandbox are left out.  fsmount,
# made of the new mount API, runs outside valgrind, and starts each
# worker through .vg/worker-wrap (FSMONITOR_WORKER_WRAP, honoured only
# with -T).  The reports are in .vg/valgrind-logs, one file a process.
#
# Exit 0 when every report is clean; 1 otherwise.  Test cases that fail
# only because of this build are listed but do not count, valgrind's
# verdict is in the reports: those that look for the sandbox, the
# seccomp filter or the capabilities, those that find our processes by
# their executable (valgrind's here), and any "within a second" one.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
vg="$top/.vg"
logs="$vg/valgrind-logs"
db="$vg/.kyua-results.db"
VALGRIND=${VALGRIND:-/usr/bin/valgrind}
VGOPTS="--leak-check=full --show-leak-kinds=definite \
--errors-for-leak-kinds=definite --num-callers=30 --vgdb=no \
--child-silent-after-fork=yes"

if [ ! -x "$VALGRIND" ]; then
	echo "valgrind.sh: $VALGRIND is missing (apt-get install valgrind)" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "valgrind.sh: must run as root" >&2
	exit 2
fi
[ $# -gt 0 ] || set -- fsmonitor/t_daemon fsmonitor/t_user \
    fsmonitor/t_status fsmonitor/t_hostile fsmonitor/t_faults \
    fsmonitor/t_backing fsworker/t_ops_daemon fsworker/t_shadow
# Cases valgrind cannot run: 3.19 does not count F_OFD_SETLKW among the
# calls that block, so a worker thread waiting for a lock holds
# valgrind's lock and the whole worker stops (the lock's holder can
# never be served).  Named on the command line, they run all the same.
VG_SKIP="fsworker/t_ops_daemon:locks"

echo "==> building the tree for valgrind in $vg"
rm -rf "$vg"
mkdir "$vg"
(cd "$top" && tar --exclude=./.san --exclude=./.vg --exclude=./.git \
    --exclude=./.kyua-results.db -cf - .) | (cd "$vg" && tar -xf -)
bsd=$(pkg-config --cflags libbsd-overlay 2>/dev/null)
if ! cc -std=gnu11 -D_GNU_SOURCE -g -O1 $bsd -I"$vg/libfsproto" \
    -I"$vg/fsworker" -Wall -Wextra -Werror -c "$vg/regress/vgstub.c" \
    -o "$vg/vgstub.o" ||
    ! bmake -C "$vg" clean >/dev/null 2>&1 ||
    ! bmake -C "$vg" SECCOMP_LOG=1 VALGRIND_STUB="$vg/vgstub.o" \
    >"$vg/build.log" 2>&1; then
	tail -40 "$vg/build.log"
	echo "==> the valgrind build failed"
	exit 1
fi

mkdir "$logs"
# Workers are the first process of their pid namespace: %p would be 1
# for all of them, so the wrapper names their reports itself.
cat >"$vg/worker-wrap" <<EOF
#!/bin/sh
id=\$(/usr/bin/od -An -N8 -tx8 /dev/urandom | /usr/bin/tr -d ' ')
exec $VALGRIND $VGOPTS --log-file=$logs/fsworker.\$id.log "\$@"
EOF
# Kyua's -v cannot carry an "=" in a value: the parent's options too.
cat >"$vg/fsmonitor-wrap" <<EOF
#!/bin/sh
exec $VALGRIND $VGOPTS --log-file=$logs/fsmonitor.%p.log "\$@"
EOF
chmod 755 "$vg/worker-wrap" "$vg/fsmonitor-wrap"

# Programs become their cases, less VG_SKIP.
if [ -n "$VG_SKIP" ]; then
	cases=
	for p in "$@"; do
		case $p in
		*:*)	cases="$cases $p"; continue ;;
		esac
		for c in $(cd "$vg/regress" && kyua list "$p"); do
			case " $VG_SKIP " in
			*" $c "*) echo "==> left out: $c" ;;
			*)	cases="$cases $c" ;;
			esac
		done
	done
	set -- $cases
fi

rm -f "$db"
echo "==> kyua test $*, / rshared"
# As runtests does: a namespace of its own whose / is shared, as on a
# host that systemd booted.
(cd "$vg/regress" && unshare -m --propagation private sh -c \
    'mount --make-rshared / && exec "$@"' sh kyua \
    -v "test_suites.fsmonitor.fsm_wrap=$vg/fsmonitor-wrap" \
    -v "test_suites.fsmonitor.fsm_worker_wrap=$vg/worker-wrap" \
    test --results-file="$db" "$@")
kyua report --results-file="$db" --results-filter=broken,failed |
    grep -- '->' | sed 's/^/    /'
kyua report --results-file="$db" | grep '^Test cases:'

echo "==> valgrind reports"
total=0 clean=0 bad=0 cut=0
for f in "$logs"/*.log; do
	[ -f "$f" ] || continue
	total=$((total + 1))
	if ! grep -q "ERROR SUMMARY:" "$f"; then
		# Killed (SIGKILL) before valgrind could report: the tests
		# that kill workers on purpose, or a cleanup.
		cut=$((cut + 1))
		continue
	fi
	if grep -q "ERROR SUMMARY: 0 errors" "$f" &&
	    ! grep -q "definitely lost: [1-9]" "$f"; then
		clean=$((clean + 1))
	else
		bad=$((bad + 1))
		echo "--- $f"
		grep -m1 "Command:" "$f"
		grep -E "Invalid|uninitialised|definitely lost|ERROR SUMMARY" "$f"
	fi
done
echo "==> $total processes: $clean clean, $bad with errors or definite" \
    "leaks, $cut ended before their report"
[ "$bad" -eq 0 ] && [ "$clean" -gt 0 ]
