# Restart in place (-o restart): a killed worker is followed by another
# on the same connection, and a process working in the mount goes on.

. "$(atf_get_srcdir)/common.sh"

RWLOOP="$(atf_get_srcdir)/rwloop"

running_as()
{
	[ "$(fsm_mount_field "$1" pid)" = "$2" ] &&
	    [ "$(fsm_mount_field "$1" state)" = running ]
}

# Under a cap of fsm_kernel (fsmonitor -K), every kernel is older than
# FUSE_NOTIFY_RESEND: a death ends the mount (t_kernel:no_resend).
need_resend()
{
	[ -z "$(fsm_kernel)" ] ||
	    atf_skip "restart in place needs Linux 6.9, not $(fsm_kernel)"
}

not_mounted()
{
	! fsm_is_mounted "$1"
}

# check_records SOURCEFILE OUTPUT: every record rwloop did not report
# lost is in the backing file, whole.
check_records()
{
	python3 - "$1" "$2" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
out = open(sys.argv[2]).read().split("\n")
n = int([l for l in out if l.startswith("iterations ")][0].split()[1])
lost = {int(l.split()[1]) for l in out if l.startswith("lost ")}
bad = [i for i in range(n) if i not in lost and
    data[i * 16:i * 16 + 16] != b"rec %011d\n" % i]
if bad:
    sys.exit("records missing or wrong: %s" % bad[:10])
EOF
}

# restart_rw OPTIONS: the body of the read-and-write tests.
restart_rw()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	chown "$TESTUSER" "$w/s" "$w/m"
	atf_check fsctl_as "$TESTUSER" mount -o "$1" "$w/s" "$w/m"
	old=$(fsm_mount_field "$w/m" pid)
	as_user "$TESTUSER" "$RWLOOP" "$w/m" 6 >out 2>err &
	loop=$!
	sleep 2
	atf_check test -s "$w/s/log"
	kill -KILL "$old"
	fsm_wait_until 10 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker serves: $(fsctl status)"
	new=$(fsm_mount_field "$w/m" pid)
	wait "$loop" || atf_fail "rwloop failed: $(cat err)"
	cat out err
	grep -q "^iterations " out || atf_fail "rwloop said nothing"
	failures=$(awk '$1 == "failures" { print $2 }' out)
	[ "$failures" -le 1 ] ||
	    atf_fail "$failures failed operations: $(head err)"
	check_records "$w/s/log" out || atf_fail "synced data lost"
	# Still the same mount, served by the new worker.
	fsm_is_mounted "$w/m" || atf_fail "the mount is gone"
	[ "$(fsm_mount_field "$w/m" pid)" = "$new" ] || atf_fail "pid changed"
	[ "$(fsm_mount_field "$w/m" restarts)" = 1 ] || atf_fail "restarts"
	atf_check -o match:"running \\(restarted 1\\)" fsctl status
	fsm_log | grep -q "took over" || atf_fail "no take-over logged"
	atf_check as_user "$TESTUSER" touch "$w/m/after"
	atf_check test -f "$w/s/after"
	atf_check fsctl_as "$TESTUSER" unmount "$w/m"
	fsm_wait_until 5 not_mounted "$w/m" || atf_fail "still mounted"
}

atf_test_case rw_passthrough cleanup
rw_passthrough_head()
{
	atf_set descr "A process reading, writing and fsyncing through a " \
	    "restartable mount (passthrough on) while its worker is " \
	    "killed sees at most one failed operation and loses no " \
	    "synced data; a new worker serves the same mount"
	atf_set require.user root
	atf_set timeout 120
}
rw_passthrough_body()
{
	need_resend
	restart_rw restart
}
rw_passthrough_cleanup()
{
	fsm_cleanup
}

atf_test_case rw_served cleanup
rw_served_head()
{
	atf_set descr "The same with nopassthrough: every read and write " \
	    "goes to the worker, and the open file's handle is taken over"
	atf_set require.user root
	atf_set timeout 120
}
rw_served_body()
{
	need_resend
	restart_rw restart,nopassthrough
}
rw_served_cleanup()
{
	fsm_cleanup
}

atf_test_case many_nodes cleanup
many_nodes_head()
{
	atf_set descr "A new worker takes over more nodes than it has" \
	    "descriptors: none is lost, each is opened when first used"
	atf_set require.user root
	atf_set timeout 300
}
many_nodes_body()
{
	need_resend
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m" "$w/s/a"
	python3 - "$w/s/a" <<'EOF' || atf_fail "cannot make the files"
import os, sys
for i in range(20000):
    with open(os.path.join(sys.argv[1], "f%d" % i), "w") as f:
        f.write("f%d\n" % i)
EOF
	atf_check fsctl mount -o restart,timeout=600 "$w/s" "$w/m"
	# The kernel keeps every entry: the paths below reach the nodes
	# the dead worker gave, not new lookups.
	atf_check -o inline:"20000\n" -x "ls -l '$w/m/a' | grep -c ' f[0-9]*$'"
	old=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$old"
	fsm_wait_until 10 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker serves: $(fsctl status)"
	new=$(fsm_mount_field "$w/m" pid)
	for i in 0 1 9999 13999 19999; do
		atf_check -o inline:"f$i\n" cat "$w/m/a/f$i"
	done
	fsm_log | grep "took over" >&2
	fsm_log | grep -q "took over 200[0-9][0-9] nodes.*lost 0 nodes" ||
	    atf_fail "nodes lost in the take-over"
	n=$(ls "/proc/$new/fd" | wc -l)
	[ "$n" -lt 5700 ] || atf_fail "the new worker holds $n descriptors"
	atf_check fsctl unmount "$w/m"
	fsm_wait_until 5 not_mounted "$w/m" || atf_fail "still mounted"
}
many_nodes_cleanup()
{
	fsm_cleanup
}

atf_test_case limit cleanup
limit_head()
{
	atf_set descr "A worker that keeps dying is restarted 5 times, " \
	    "then the mount fails and is detached as without restart"
	atf_set require.user root
	atf_set timeout 120
}
limit_body()
{
	need_resend
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	atf_check fsctl mount -o restart "$w/s" "$w/m"
	for i in 1 2 3 4 5; do
		old=$(fsm_mount_field "$w/m" pid)
		kill -KILL "$old"
		fsm_wait_until 10 serving_new "$w/m" "$old" ||
		    atf_fail "restart $i: $(fsctl status)"
	done
	[ "$(fsm_mount_field "$w/m" restarts)" = 5 ] || atf_fail "restarts"
	kill -KILL "$(fsm_mount_field "$w/m" pid)"
	fsm_wait_until 5 not_mounted "$w/m" ||
	    atf_fail "the mount is still there after the sixth death"
	atf_check -o match:"failed \\(killed by signal 9\\)" fsctl status
	fsm_log | grep -q "giving up" || atf_fail "no give-up logged"
}
limit_cleanup()
{
	fsm_cleanup
}

atf_test_case clean_exit cleanup
clean_exit_head()
{
	atf_set descr "A worker that exits by itself (its parent channel " \
	    "gone, unmounted) is not restarted: unmount works as before"
	atf_set require.user root
}
clean_exit_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	atf_check fsctl mount -o restart "$w/s" "$w/m"
	old=$(fsm_mount_field "$w/m" pid)
	atf_check fsctl unmount "$w/m"
	fsm_wait_until 5 not_mounted "$w/m" || atf_fail "still mounted"
	atf_check -s exit:1 -e ignore kill -0 "$old"
	! fsm_log | grep -q "restarted as" || atf_fail "restarted"
}
clean_exit_cleanup()
{
	fsm_cleanup
}

atf_test_case static_mount cleanup
static_mount_head()
{
	atf_set descr "restart in the options of a static mount in " \
	    "fsmonitor.conf works as on the command line"
	atf_set require.user root
}
static_mount_body()
{
	need_resend
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	echo data >"$w/s/f"
	fsm_start "mount \"$w/s\" on \"$w/m\" options \"restart\""
	fsm_wait_until 5 fsm_is_mounted "$w/m" || atf_fail "not mounted"
	fsm_wait_until 5 running_as "$w/m" "$(fsm_mount_field "$w/m" pid)" ||
	    atf_fail "not running"
	old=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$old"
	fsm_wait_until 10 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker: $(fsctl status)"
	atf_check -o inline:"data\n" cat "$w/m/f"
	[ "$(fsm_mount_field "$w/m" restarts)" = 1 ] || atf_fail "restarts"
}
static_mount_cleanup()
{
	fsm_cleanup
}

atf_test_case renamed_behind cleanup
renamed_behind_head()
{
	atf_set descr "The documented limit: a file renamed in the source " \
	    "behind the mount's back cannot be found again by the new " \
	    "worker; its open handle fails, its new name works"
	atf_set require.user root
}
renamed_behind_body()
{
	need_resend
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/s" "$w/m"
	echo one >"$w/s/f"
	atf_check fsctl mount -o restart,nopassthrough,cache=never \
	    "$w/s" "$w/m"
	exec 3<"$w/m/f"
	mv "$w/s/f" "$w/s/g"
	old=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$old"
	fsm_wait_until 10 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker: $(fsctl status)"
	# The handle is lost (EBADF), and so is the node (ESTALE).
	atf_check -s not-exit:0 -e match:"Bad file descriptor" \
	    python3 -c 'import os; os.read(3, 4)'
	atf_check -s not-exit:0 -e match:"Stale file handle" \
	    python3 -c 'import os; os.fstat(3)'
	exec 3<&-
	atf_check -o inline:"one\n" cat "$w/m/g"
	# The node is put back unopened, and found lost when the handle
	# taken over first needs it.
	fsm_log | grep -q "lost 0 nodes, 1 handles" ||
	    atf_fail "the loss is not logged"
	fsm_log | grep -q "inode_refind: node [^ ]* not found again" ||
	    atf_fail "the node was not found lost"
}
renamed_behind_cleanup()
{
	exec 3<&- 2>/dev/null
	fsm_cleanup
}

atf_test_case share_kept cleanup
share_kept_head()
{
	atf_set descr "On a multiuser mount, the handles a user holds still " \
	    "count in their share after a restart: past it, their next " \
	    "open fails with EMFILE, and another user can still open"
	atf_set require.user root
	atf_set timeout 300
}
share_kept_body()
{
	need_resend
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir -p "$w/s/a" "$w/m"
	chmod 777 "$w/s/a"
	python3 -c '
import sys
for i in range(3000):
    open(sys.argv[1] + "/f%d" % i, "w").close()' "$w/s/a"
	atf_check fsctl mount -o multiuser,restart "$w/s" "$w/m"
	# FSWORKER_HANDLES is 4096: a user of a multiuser mount has half.
	as_user "$TESTUSER" "$w/bin/fsm_open" "$w/m/a" 0 2048 hold \
	    >held.out &
	echo $! >holder.pid
	fsm_wait_until 60 test -s held.out || atf_fail "nothing opened"
	atf_check -o inline:"2048 all\n" cat held.out
	old=$(fsm_mount_field "$w/m" pid)
	kill -KILL "$old"
	fsm_wait_until 30 serving_new "$w/m" "$old" ||
	    atf_fail "no new worker serves: $(fsctl status)"
	taken="2048 handles; lost 0 nodes, 0 handles"
	fsm_wait_until 10 eval "fsm_log | grep -q '$taken'" ||
	    atf_fail "not all handles taken over: $(fsm_log | grep took)"
	atf_check -o inline:"0 EMFILE\n" \
	    as_user "$TESTUSER" "$w/bin/fsm_open" "$w/m/a" 2048 2100
	atf_check -o inline:"500 all\n" \
	    as_user "$TESTUSER2" "$w/bin/fsm_open" "$w/m/a" 2100 2600
	kill "$(cat holder.pid)"
	rm holder.pid
	atf_check fsctl unmount "$w/m"
}
share_kept_cleanup()
{
	[ -f holder.pid ] && kill "$(cat holder.pid)" 2>/dev/null
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case rw_passthrough
	atf_add_test_case rw_served
	atf_add_test_case many_nodes
	atf_add_test_case limit
	atf_add_test_case clean_exit
	atf_add_test_case static_mount
	atf_add_test_case renamed_behind
	atf_add_test_case share_kept
}
