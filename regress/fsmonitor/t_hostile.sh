# Hostile control clients: each is cut off, everyone else is served,
# and nothing leaks.

. "$(atf_get_srcdir)/common.sh"

fdcount()
{
	ls "/proc/$1/fd" | wc -l
}

atf_test_case malformed_frames cleanup
malformed_frames_head()
{
	atf_set descr "1000 malformed frames of every kind while another " \
	    "client mounts and unmounts: each bad client is disconnected, " \
	    "the good one never fails, no descriptor leaks"
	atf_set require.user root
	atf_set timeout 600
}
malformed_frames_body()
{
	fsm_start
	w=$(fsm_workdir)
	mkdir "$w/src" "$w/mnt"
	echo data >"$w/src/f"
	pid=$(fsm_pid)
	before=$(fdcount "$pid")

	# The good client, until told to stop.
	(
		n=0
		while [ ! -f "$w/stop" ]; do
			fsctl mount "$w/src" "$w/mnt" || exit 1
			[ "$(cat "$w/mnt/f")" = data ] || exit 2
			fsctl status >/dev/null || exit 3
			fsctl unmount "$w/mnt" || exit 4
			n=$((n + 1))
		done
		echo "$n" >"$w/good.count"
	) >"$w/good.out" 2>&1 &
	good=$!

	atf_check -o match:"^1000 rounds of 19 kinds, 0 kept open$" \
	    "$(atf_get_srcdir)/badclient" "$(fsm_sock)" 1000
	touch "$w/stop"
	wait "$good" || atf_fail "the good client failed: $(cat "$w/good.out")"
	[ "$(cat "$w/good.count")" -gt 0 ] ||
	    atf_fail "the good client never got through"
	kill -0 "$pid" || atf_fail "the daemon died"
	fsm_log | grep -q "fatal" && atf_fail "$(fsm_log | grep fatal)"

	# Connections close asynchronously: give the count a moment.
	n=0
	while [ "$(fdcount "$pid")" -ne "$before" ]; do
		n=$((n + 1))
		[ $n -gt 50 ] && atf_fail "descriptors: $before before," \
		    "$(fdcount "$pid") after"
		sleep 0.1
	done
	atf_check -o empty fsm_mounts
}
malformed_frames_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case malformed_frames
}
