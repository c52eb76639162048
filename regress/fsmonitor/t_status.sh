# fsctl status: the table and its JSON form, with counters from the
# workers, and nothing left once a mount is gone.

. "$(atf_get_srcdir)/common.sh"

atf_test_case status cleanup
status_head()
{
	atf_set descr "status and status -j show each mount with owner, " \
	    "pid and counters; after unmount it and its worker are gone"
	atf_set require.user root
}
status_body()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir -p "$w/rs" "$w/rm" "$w/us" "$w/um"
	chown "$TESTUSER" "$w/us" "$w/um"
	atf_check -o match:"^ID +MOUNTPOINT +SOURCE +OWNER +PID +STATE +UPTIME +REQUESTS +OPTIONS" \
	    fsctl status
	atf_check -o inline:"[]\n" fsctl status -j

	atf_check fsctl mount -o ro,cache=never "$w/rs" "$w/rm"
	# Without passthrough every byte goes through the worker's counters.
	atf_check fsctl_as "$TESTUSER" mount -o nopassthrough "$w/us" "$w/um"
	dd if=/dev/zero of="$w/us/f" bs=4096 count=16 2>/dev/null
	atf_check -o ignore as_user "$TESTUSER" cat "$w/um/f"
	as_user "$TESTUSER" sh -c "echo data >'$w/um/g'"

	# Counters come once a second.
	sleep 1.5
	fsctl status >table
	cat table
	atf_check -o match:"^ *1 +$w/rm +$w/rs +root +[0-9]+ +running +[0-9]+s +[0-9]+ +ro,cache=never" \
	    cat table
	atf_check -o match:"^ *2 +$w/um +$w/us +$TESTUSER +[0-9]+ +running" \
	    cat table
	# The columns line up: each starts at the same offset on every line.
	atf_check -o inline:"1\n" sh -c "awk '{ print index(\$0, \$3) }' table | sort -u | wc -l"

	fsctl status -j >json
	cat json
	wpid=$(python3 -c '
import json, sys
m = json.load(open("json"))
assert len(m) == 2, m
a, b = m
assert a["id"] == 1 and a["owner"] == "root" and a["uid"] == 0, a
assert a["options"] == "ro,cache=never" and a["state"] == "running", a
assert b["owner"] == sys.argv[1] and b["mountpoint"].endswith("/um"), b
assert b["requests"] > 0 and b["bytes_read"] >= 65536, b
assert b["bytes_written"] >= 5 and b["errors"] >= 0, b
assert b["uptime"] >= 0 and b["static"] is False, b
print(b["pid"])
' "$TESTUSER")
	atf_check test -n "$wpid"
	atf_check_equal "$(readlink /proc/$wpid/exe)" "$TOP/fsworker/fsworker"

	atf_check fsctl_as "$TESTUSER" unmount "$w/um"
	atf_check -s exit:1 test -d "/proc/$wpid"
	atf_check -o not-match:"$w/um" fsctl status
	atf_check fsctl unmount "$w/rm"
	atf_check -o inline:"[]\n" fsctl status -j
	atf_check_equal "$(pgrep -x fsworker -P "$(pgrep -x fsmount -P \
	    "$(fsm_pid)")" | wc -l)" 0
	atf_check -o empty fsm_mounts
}
status_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case status
}
