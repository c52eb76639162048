# The suites test this build and never an installed copy: with a fake
# copy at every path bmake install uses, the suites that could meet one
# pass, and the fake is neither run nor changed.  The fake exists only
# in a mount namespace of this test's own (regress/nsrun.sh), so a real
# installation is not touched either.

TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)

# What an installation has that a test could run or read instead of
# this build's (README.md, "Installing"), and the socket of a daemon
# that runs.
INST_PATHS="/sbin/mount.fuse.fsmonitor
/usr/local/sbin/fsmonitor
/usr/local/sbin/fsctl
/usr/local/libexec/fsmonitor/fsmount
/usr/local/libexec/fsmonitor/fsworker
/usr/local/lib/systemd/system/fsmonitor.service
/usr/local/lib/systemd/system/fsmonitor.socket
/etc/init.d/fsmonitor
/etc/default/fsmonitor
/etc/fsmonitor.conf"
INST_SOCKET=/run/fsmonitor.sock

# The cases that go near those paths: mount(8) and its helper, the
# default socket, the rc script and units, installing into a DESTDIR.
INST_CASES="mount/t_mount fsctl/t_fsctl:default_socket
service/t_service:rc_script service/t_service:units_verify
install/t_install:tree"

# The fake installed copy: a program that says it ran and fails, and a
# socket that notes every connection, both into fake.log.
inst_fakes()
{
	cat >fake <<FAKE
#!/bin/sh
echo "ran \$0 \$*" >>"$PWD/fake.log"
echo "\$0: the fake installed copy ran" >&2
exit 97
FAKE
	chmod 755 fake
	cp -p fake fake.orig
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
print("listening", flush=True)
while True:
	c, _ = s.accept()
	with open(sys.argv[2], "a") as log:
		log.write("connection to the fake socket\n")
	c.close()
' "$PWD/fake.sock" "$PWD/fake.log" >fake.sock.out 2>&1 &
	echo $! >fake.sock.pid
	n=0
	until grep -qx listening fake.sock.out; do
		n=$((n + 1))
		[ $n -gt 100 ] && atf_fail "the fake socket did not start"
		sleep 0.05
	done
}

atf_test_case fake_copy cleanup
fake_copy_head()
{
	atf_set descr "With a fake installed copy in place, the suites that " \
	    "go near an installation pass without running or changing it"
	atf_set require.user root
	atf_set require.progs "kyua python3 unshare nsenter mount umount \
findmnt bmake systemd-analyze"
	atf_set timeout 600
}
fake_copy_body()
{
	inst_fakes
	mkdir scratch
	# One layer each, not one for every directory under them.
	set -- /usr/local /etc /run
	for p in $INST_PATHS; do
		set -- "$@" "$p=$PWD/fake"
	done
	set -- "$@" "$INST_SOCKET=$PWD/fake.sock"
	# What each fake path is, to compare before and after.
	cat >state <<STATE
for p in $(echo $INST_PATHS) $INST_SOCKET; do
	stat -c "%N %i %Y" "\$p"
done
STATE
	# Inside the namespace: the fakes are live, then the suites run.
	cat >inside.sh <<INSIDE
cd "$PWD"
/usr/local/libexec/fsmonitor/fsmount -T
echo "fsmount: \$?" >live
python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("$INST_SOCKET")'
n=0
until grep -q "^connection" fake.log || [ \$n -gt 100 ]; do
	n=\$((n + 1))
	sleep 0.05
done
cat fake.log >>live
: >fake.log
sh state >before
kyua test --results-file="$PWD/inner.db" -k "$TOP/regress/Kyuafile" \
    $(echo $INST_CASES) >inner.out 2>&1
echo \$? >inner.rv
kyua report --results-file="$PWD/inner.db" --verbose \
    --results-filter=broken,failed,skipped >inner.report 2>&1
sh state >after
INSIDE
	atf_check -e ignore sh "$TOP/regress/nsrun.sh" "$PWD/scratch" "$@" \
	    -- sh inside.sh
	# The fakes were there and would have told.
	atf_check -o inline:"fsmount: 97
ran /usr/local/libexec/fsmonitor/fsmount -T
connection to the fake socket
" cat live
	atf_check -o match:"^'/sbin/mount.fuse.fsmonitor' -> '$PWD/fake'" \
	    cat before
	# Every case passed, and no fake ran or changed.
	if [ "$(cat inner.rv)" != 0 ] ||
	    ! grep -q "0 skipped, 0 expected failures, 0 broken, 0 failed" \
	    inner.report; then
		cat inner.out inner.report >&2
		atf_fail "a case failed beside the fake installed copy"
	fi
	atf_check -o match:"mount/t_mount:fstab  ->  passed" \
	    -o match:"mount/t_mount:mount8  ->  passed" \
	    -o match:"fsctl/t_fsctl:default_socket  ->  passed" cat inner.out
	atf_check -o empty cat fake.log
	atf_check cmp before after
	atf_check cmp fake fake.orig
}
fake_copy_cleanup()
{
	if [ -f fake.sock.pid ]; then
		kill "$(cat fake.sock.pid)" 2>/dev/null
		rm -f fake.sock.pid
	fi
}

atf_init_test_cases()
{
	atf_add_test_case fake_copy
}
