# fsctl against fakeserver, a stand-in for fsmonitor's control socket
# that checks what fsctl sends and answers with canned replies.

fsctl_bin()
{
	echo "$(atf_get_srcdir)/../../fsctl/fsctl"
}

# fakeserver serves one client on ./sock, then exits; the socket exists
# only once it is listening.
start_server()
{
	mode=$1
	shift
	"$(atf_get_srcdir)/fakeserver" "$mode" sock "$@" \
	    >server.out 2>server.err &
	echo $! >server.pid
	n=0
	while [ ! -S sock ]; do
		n=$((n + 1))
		if [ $n -gt 200 ] || ! kill -0 "$(cat server.pid)" 2>/dev/null
		then
			atf_fail "fakeserver $mode did not start:" \
			    "$(tr '\n' ' ' <server.err)"
		fi
		sleep 0.05
	done
}

# 0 from fakeserver: fsctl sent what it must.
wait_server()
{
	if ! wait "$(cat server.pid)"; then
		rm -f server.pid
		atf_fail "fakeserver: $(cat server.out server.err | tr '\n' ' ')"
	fi
	rm -f server.pid
}

stop_server()
{
	if [ -f server.pid ]; then
		kill "$(cat server.pid)" 2>/dev/null
		rm -f server.pid
	fi
}

# fsctl, expected to fail with exactly one line on standard error.
fsctl_fails()
{
	msg="$1"
	shift
	atf_check -s exit:1 -o empty -e inline:"$msg\n" "$(fsctl_bin)" "$@"
}

atf_test_case usage
usage_head()
{
	atf_set descr "Bad command lines print the usage and exit 1"
}
usage_body()
{
	mkdir src mp
	for args in "" "bogus" "-x status" "-s" "mount" "mount src" \
	    "mount src mp extra" "mount -o" "mount -x src mp" "unmount" \
	    "unmount mp mp" "unmount -f mp" "status -x" "status extra" \
	    "reload extra" "reload -x"; do
		# shellcheck disable=SC2086
		atf_check -s exit:1 -o empty -e match:"^usage: fsctl " \
		    "$(fsctl_bin)" -s ./nosock $args
	done
}

atf_test_case noconnect
noconnect_head()
{
	atf_set descr "No daemon on the socket: one line naming the socket"
}
noconnect_body()
{
	fsctl_fails "fsctl: status: cannot connect to $PWD/nosock: No such file or directory" \
	    -s "$PWD/nosock" status
	fsctl_fails "fsctl: reload: cannot connect to nosock: No such file or directory" \
	    -s nosock reload
	touch notsock
	fsctl_fails "fsctl: status: cannot connect to notsock: Connection refused" \
	    -s notsock status
}

atf_test_case default_socket
default_socket_head()
{
	atf_set descr "Without -s, fsctl uses /run/fsmonitor.sock"
}
default_socket_body()
{
	# An installed daemon may listen there.  Root hides its socket in
	# a mount namespace of the test's own, where /run is overlaid.
	set -- "$(fsctl_bin)" status
	if [ "$(id -u)" = 0 ]; then
		mkdir scratch
		set -- sh "$(atf_get_srcdir)/../nsrun.sh" "$PWD/scratch" /run \
		    -- sh -c 'rm -f /run/fsmonitor.sock && exec "$@"' sh "$@"
	elif [ -e /run/fsmonitor.sock ]; then
		atf_skip "a real fsmonitor is listening on /run/fsmonitor.sock"
	fi
	atf_check -s exit:1 -o empty -e inline:"fsctl: status: cannot \
connect to /run/fsmonitor.sock: No such file or directory\n" "$@"
}

atf_test_case mount_ok
mount_ok_head()
{
	atf_set descr "Mount sends a read-only source directory descriptor," \
	    "an O_PATH mountpoint descriptor and the options"
}
mount_ok_body()
{
	mkdir src mp
	ln -s mp mplink
	start_server mount src mp
	# Relative paths, a symlinked mountpoint and two -o.
	atf_check -s exit:0 -o empty -e empty \
	    "$(fsctl_bin)" -s sock mount -o ro,noexec -o cache=never src mplink
	wait_server
	atf_check -o inline:"hello: versions 1 to 1
source: read-only directory, same file
mountpoint: O_PATH, same file
options: [ro,noexec,cache=never] 22 bytes
" cat server.out
}
mount_ok_cleanup()
{
	stop_server
}

atf_test_case mount_noopts
mount_noopts_head()
{
	atf_set descr "Without -o the options are an empty string"
}
mount_noopts_body()
{
	mkdir src mp
	start_server mount "$PWD/src" "$PWD/mp"
	atf_check -s exit:0 -o empty -e empty \
	    "$(fsctl_bin)" -s sock mount src "$PWD/mp"
	wait_server
	atf_check -o match:"^options: \[\] 1 bytes$" cat server.out
}
mount_noopts_cleanup()
{
	stop_server
}

atf_test_case mount_error
mount_error_head()
{
	atf_set descr "A refusal is reported against the mountpoint as typed"
}
mount_error_body()
{
	mkdir src mp
	start_server mounterr src mp
	fsctl_fails "fsctl: mount ./mp: mountpoint not owned by you" \
	    -s sock mount src ./mp
	wait_server
}
mount_error_cleanup()
{
	stop_server
}

atf_test_case mount_early_refusal
mount_early_refusal_head()
{
	atf_set descr "A daemon that refuses the source and hangs up is" \
	    "heard, not reported as a broken pipe"
}
mount_early_refusal_body()
{
	mkdir src mp
	start_server mountearly
	fsctl_fails "fsctl: mount mp: too many mounts" -s sock mount src mp
	wait_server
}
mount_early_refusal_cleanup()
{
	stop_server
}

atf_test_case mount_bad_paths
mount_bad_paths_head()
{
	atf_set descr "A source or mountpoint fsctl cannot open is reported" \
	    "before any connection"
}
mount_bad_paths_body()
{
	mkdir src mp
	touch file
	# No socket: the open error must come first.
	fsctl_fails "fsctl: mount nosuch: No such file or directory" \
	    -s nosock mount nosuch mp
	fsctl_fails "fsctl: mount file: Not a directory" \
	    -s nosock mount file mp
	fsctl_fails "fsctl: mount nosuch/mp: No such file or directory" \
	    -s nosock mount src nosuch/mp
}

atf_test_case mount_long_options
mount_long_options_head()
{
	atf_set descr "Options of FSMSG_OPTS_MAX bytes with the NUL pass;" \
	    "one more is refused before connecting"
}
mount_long_options_body()
{
	mkdir src mp
	long=$(printf '%01023d' 0)
	fsctl_fails "fsctl: mount mp: option string too long (at most 1023 bytes)" \
	    -s nosock mount -o "${long}x" src mp
	fsctl_fails "fsctl: mount mp: option string too long (at most 1023 bytes)" \
	    -s nosock mount -o "${long%??}" -o ab src mp
	start_server mount src mp
	atf_check -s exit:0 -o empty -e empty \
	    "$(fsctl_bin)" -s sock mount -o "$long" src mp
	wait_server
	atf_check -o match:"^options: \[0+\] 1024 bytes$" cat server.out
}
mount_long_options_cleanup()
{
	stop_server
}

atf_test_case unmount_flags
unmount_flags_head()
{
	atf_set descr "Unmount sends an O_PATH descriptor and the lazy flag" \
	    "only with -l"
}
unmount_flags_body()
{
	mkdir mp
	ln -s mp mplink
	start_server unmount mp
	atf_check -s exit:0 -o empty -e empty \
	    "$(fsctl_bin)" -s sock unmount -l mplink
	wait_server
	atf_check -o inline:"hello: versions 1 to 1
mountpoint: O_PATH, same file
flags: 1
" cat server.out

	start_server unmount mp
	atf_check -s exit:0 -o empty -e empty \
	    "$(fsctl_bin)" -s sock unmount mp
	wait_server
	atf_check -o match:"^flags: 0$" cat server.out
}
unmount_flags_cleanup()
{
	stop_server
}

atf_test_case unmount_error
unmount_error_head()
{
	atf_set descr "Unmount refusals and unopenable mountpoints"
}
unmount_error_body()
{
	mkdir mp
	start_server unmounterr
	fsctl_fails "fsctl: unmount mp/: not your mount" -s sock unmount mp/
	wait_server
	fsctl_fails "fsctl: unmount gone: No such file or directory" \
	    -s nosock unmount gone
}
unmount_error_cleanup()
{
	stop_server
}

atf_test_case status_table
status_table_head()
{
	atf_set descr "The status table: header, alignment, escaping, reasons"
}
status_table_body()
{
	start_server status2
	cat >expout <<'EOF'
ID  MOUNTPOINT       SOURCE                               OWNER   PID  STATE                        UPTIME  REQUESTS  OPTIONS
 1  /home/alice/mnt  /srv/data                            alice  4242  running                      3m12s      12345  ro,noexec
12  /mnt/static      /export/tab\011here "q" back\\slash  root      -  failed (killed by signal 9)  2h05m          7  -
EOF
	atf_check -s exit:0 -o file:expout -e empty "$(fsctl_bin)" -s sock status
	wait_server
	# -v: what each mount's INIT settled on, last.
	start_server status2
	cat >expout <<'EOF'
ID  MOUNTPOINT       SOURCE                               OWNER   PID  STATE                        UPTIME  REQUESTS  OPTIONS    FEATURES
 1  /home/alice/mnt  /srv/data                            alice  4242  running                      3m12s      12345  ro,noexec  7.45 passthrough,resend,readdirplus
12  /mnt/static      /export/tab\011here "q" back\\slash  root      -  failed (killed by signal 9)  2h05m          7  -          -
EOF
	atf_check -s exit:0 -o file:expout -e empty \
	    "$(fsctl_bin)" -s sock status -v
	wait_server
}
status_table_cleanup()
{
	stop_server
}

atf_test_case status_states
status_states_head()
{
	atf_set descr "Every state, every uptime unit, numeric owners and" \
	    "a clock running backwards"
}
status_states_body()
{
	start_server states
	cat >expout <<'EOF'
 ID  MOUNTPOINT  SOURCE  OWNER  PID  STATE       UPTIME              REQUESTS  OPTIONS
  3  /m/a        /s/a    bob     77  starting    42s                        0  -
  4  /m/bb       /s/bb   bob     78  running     3d04h   18446744073709551615  cache=never,threads=4
  5  /m/ccc      /s/ccc  4321    79  unmounting  2h05m                      0  rw
100  /m/d        /s/d    bob      -  failed      0s                         0  -
EOF
	atf_check -s exit:0 -o file:expout -e empty "$(fsctl_bin)" -s sock status
	wait_server
}
status_states_cleanup()
{
	stop_server
}

atf_test_case status_json
status_json_head()
{
	atf_set descr "status -j: valid JSON with every key and value"
}
status_json_body()
{
	start_server status2
	atf_check -s exit:0 -o save:out.json -e empty \
	    "$(fsctl_bin)" -s sock status -j
	wait_server
	atf_check -s exit:0 -o empty -e empty python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
keys = ["id", "mountpoint", "source", "owner", "uid", "pid", "state",
    "reason", "started", "uptime", "options", "static", "requests",
    "bytes_read", "bytes_written", "errors", "nodes", "handles",
    "restarts", "protocol", "features"]
assert len(a) == 2, a
for o in a:
    assert list(o) == keys, list(o)
want = [
    dict(id=1, mountpoint="/home/alice/mnt", source="/srv/data",
        owner="alice", uid=1000, pid=4242, state="running", reason="",
        started=1700000000, uptime=192, options="ro,noexec", static=False,
        requests=12345, bytes_read=1048576, bytes_written=2048, errors=3,
        nodes=17, handles=2, restarts=0, protocol="7.45",
        features=["passthrough", "resend", "readdirplus"]),
    dict(id=12, mountpoint="/mnt/static",
        source="/export/tab\there \"q\" back\\slash", owner="root", uid=0,
        pid=0, state="failed", reason="killed by signal 9",
        started=1699992500, uptime=7500, options="", static=True,
        requests=7, bytes_read=0, bytes_written=0, errors=1, nodes=0,
        handles=0, restarts=0, protocol=None, features=[]),
]
for got, exp in zip(a, want):
    assert got == exp, (got, exp)
' out.json
}
status_json_cleanup()
{
	stop_server
}

atf_test_case status_oddnames
status_oddnames_head()
{
	atf_set descr "Terminal escapes are escaped in the table; JSON stays" \
	    "valid UTF-8 when a name is not"
}
status_oddnames_body()
{
	start_server oddnames
	atf_check -s exit:0 -o save:out.txt -e empty \
	    "$(fsctl_bin)" -s sock status
	wait_server
	atf_check -s exit:1 grep -q "$(printf '\033')" out.txt
	atf_check -o ignore grep -F '\033[31mevil' out.txt

	start_server oddnames
	atf_check -s exit:0 -o save:out.json -e empty \
	    "$(fsctl_bin)" -s sock status -j
	wait_server
	atf_check -s exit:0 -o empty -e empty python3 -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
a = json.loads(raw.decode("utf-8"))
assert a[0]["mountpoint"] == "/m/caf\u00e9", a
assert a[0]["source"] == "/s/\ufffd\ufffd\ufffdbad", a
assert a[0]["owner"] == "\x1b[31mevil", a
assert b"\x1b" not in raw
' out.json
}
status_oddnames_cleanup()
{
	stop_server
}

atf_test_case status_empty
status_empty_head()
{
	atf_set descr "No mounts: the header alone, or an empty JSON array"
}
status_empty_body()
{
	start_server status0
	atf_check -s exit:0 -e empty \
	    -o inline:"ID  MOUNTPOINT  SOURCE  OWNER  PID  STATE  UPTIME  REQUESTS  OPTIONS\n" \
	    "$(fsctl_bin)" -s sock status
	wait_server
	start_server status0
	atf_check -s exit:0 -e empty -o inline:"[]\n" \
	    "$(fsctl_bin)" -s sock status -j
	wait_server
}
status_empty_cleanup()
{
	stop_server
}

atf_test_case status_malformed
status_malformed_head()
{
	atf_set descr "An unterminated string, trailing bytes, an unknown" \
	    "state or a stray descriptor fail the whole status"
}
status_malformed_body()
{
	for mode in badframe badtrail badstate badfd; do
		for j in "" -j; do
			start_server "$mode"
			# shellcheck disable=SC2086
			fsctl_fails "fsctl: status: malformed status entry from fsmonitor" \
			    -s sock status $j
			wait_server
		done
	done
}
status_malformed_cleanup()
{
	stop_server
}

atf_test_case status_broken_exchange
status_broken_exchange_head()
{
	atf_set descr "A frame of another channel, or a hang-up before the" \
	    "reply, is an error"
}
status_broken_exchange_body()
{
	start_server badtype
	fsctl_fails "fsctl: status: unexpected message type 32 from fsmonitor" \
	    -s sock status
	wait_server
	start_server eof
	fsctl_fails "fsctl: status: connection closed by fsmonitor" \
	    -s sock status
	wait_server
}
status_broken_exchange_cleanup()
{
	stop_server
}

atf_test_case version
version_head()
{
	atf_set descr "A refused hello prints the daemon's reason; versions" \
	    "that do not overlap are named"
}
version_body()
{
	start_server badversion
	fsctl_fails "fsctl: status: protocol version not supported" \
	    -s sock status
	wait_server
	start_server oldversion
	fsctl_fails "fsctl: reload: no common protocol version: fsmonitor speaks 7 to 9, fsctl 1 to 1" \
	    -s sock reload
	wait_server
	start_server nohello
	fsctl_fails "fsctl: status: connection closed by fsmonitor" \
	    -s sock status
	wait_server
}
version_cleanup()
{
	stop_server
}

atf_test_case reload
reload_head()
{
	atf_set descr "Reload sends an empty request; a refusal without a" \
	    "message is reported by its errno"
}
reload_body()
{
	start_server reload
	atf_check -s exit:0 -o empty -e empty "$(fsctl_bin)" -s sock reload
	wait_server
	atf_check -o match:"^reload: 0 bytes$" cat server.out
	start_server reloaderr
	fsctl_fails "fsctl: reload: Operation not permitted" -s sock reload
	wait_server
}
reload_cleanup()
{
	stop_server
}

atf_init_test_cases()
{
	atf_add_test_case usage
	atf_add_test_case noconnect
	atf_add_test_case default_socket
	atf_add_test_case mount_ok
	atf_add_test_case mount_noopts
	atf_add_test_case mount_error
	atf_add_test_case mount_early_refusal
	atf_add_test_case mount_bad_paths
	atf_add_test_case mount_long_options
	atf_add_test_case unmount_flags
	atf_add_test_case unmount_error
	atf_add_test_case status_table
	atf_add_test_case status_states
	atf_add_test_case status_json
	atf_add_test_case status_oddnames
	atf_add_test_case status_empty
	atf_add_test_case status_malformed
	atf_add_test_case status_broken_exchange
	atf_add_test_case version
	atf_add_test_case reload
}
