# Mounts under every mount propagation a host may have: / shared, as
# systemd makes it at boot, slave, as in a container or a service with
# a namespace of its own, and private; sources and mountpoints on shared,
# slave and private mounts; a mountpoint under a shared bind mount.
#
# Each case runs a scenario script in a mount namespace of its own, so
# that the propagation of / is the case's, whatever the namespace
# running the suite has, and every bind mount the scenario makes goes
# with that namespace.  The daemon runs inside it, as it runs in the
# host's namespace when started by the unit.

. "$(atf_get_srcdir)/common.sh"

# prop_scenario: the functions every scenario starts with.
prop_scenario()
{
	w=$(fsm_workdir)
	cat <<EOF
set -u
w='$w'
FSMONITOR='$FSMONITOR'
FSCTL='$FSCTL'
TESTUSER='$TESTUSER'
PATH="\$w/bin:\$PATH"
fail() { echo "FAIL: \$*"; exit 1; }
# The propagation of the mount at \$1: shared, slave, shared+slave or
# private, from its optional fields in mountinfo.
prop() {
	awk -v m="\$1" '\$5 == m {
		s = ""; v = ""
		for (i = 7; \$i != "-"; i++) {
			if (\$i ~ /^shared:/) s = "shared"
			if (\$i ~ /^master:/) v = "slave"
		}
		if (s != "" && v != "") print s "+" v
		else if (s v != "") print s v
		else print "private"
	}' /proc/self/mountinfo | tail -1
}
# Mounts other than ours: none may come or go with ours.
nmounts() { grep -vc ' - fuse.fsmonitor ' /proc/self/mountinfo; }
fuse_mounted() {
	awk -v m="\$1" '\$5 == m' /proc/self/mountinfo |
	    grep -q ' - fuse.fsmonitor '
}
start() {
	: >"\$w/fsmonitor.conf"
	chmod 644 "\$w/fsmonitor.conf"
	"\$FSMONITOR" -d -v -T -f "\$w/fsmonitor.conf" -s "\$w/ctl.sock" \\
	    >>"\$w/fsmonitor.log" 2>&1 &
	echo \$! >"\$w/daemon.pid"
	n=0
	until fsctl status >/dev/null 2>&1; do
		n=\$((n + 1))
		[ \$n -gt 100 ] && { cat "\$w/fsmonitor.log"; fail "no daemon"; }
		sleep 0.05
	done
}
stop() {
	pid=\$(cat "\$w/daemon.pid")
	kill -TERM "\$pid"
	wait "\$pid" || fail "fsmonitor exited \$?"
}
# readback MNT SRC: written through MNT, on SRC; and back.
readback() {
	echo "through \$1" >"\$1/rb" || fail "write through \$1"
	[ "\$(cat "\$2/rb")" = "through \$1" ] || fail "not on \$2"
	echo "beside \$2" >"\$2/rb2"
	[ "\$(cat "\$1/rb2")" = "beside \$2" ] || fail "not read in \$1"
	rm "\$1/rb" "\$1/rb2" || fail "unlink through \$1"
	[ ! -e "\$2/rb" ] || fail "unlink did not reach \$2"
}
# bindprop DIR PROPAGATION: DIR becomes a mount of its own with it.
bindprop() {
	mount --bind "\$1" "\$1" || fail "bind \$1"
	case \$2 in
	slave)
		# A slave needs a master: a shared peer, mounted beside.
		mkdir -p "\$1.master" && mount --make-shared "\$1" &&
		    mount --bind "\$1" "\$1.master" &&
		    mount --make-slave "\$1" ;;
	*)	mount --make-"\$2" "\$1" ;;
	esac || fail "make \$2 \$1"
	[ "\$(prop "\$1")" = "\$2" ] || fail "\$1 is \$(prop "\$1"), not \$2"
}
EOF
}

# prop_run ROOTPROP: the scenario on standard input, with / made
# ROOTPROP (shared, slave or private) recursively in a new namespace.
prop_run()
{
	w=$(fsm_workdir)
	{ prop_scenario; cat; } >"$w/scenario.sh"
	cat >"$w/enter.sh" <<'EOF'
case $1 in
shared)
	mount --make-rshared / || exit 1 ;;
slave)
	# The master is a shared / one namespace up, as the host's is to
	# a container's; it lasts while this shell does.
	mount --make-rshared / || exit 1
	unshare -m --propagation unchanged sh "$0" inner "$2"
	exit ;;
inner)
	mount --make-rslave / || exit 1 ;;
esac
exec sh "$2"
EOF
	atf_check -o inline:"ok\n" unshare -m --propagation private \
	    sh "$w/enter.sh" "$1" "$w/scenario.sh"
}

prop_cleanup()
{
	[ -f fsm.workdir ] && w=$(cat fsm.workdir) &&
	    [ -f "$w/daemon.pid" ] && kill -TERM "$(cat "$w/daemon.pid")" \
	    2>/dev/null
	fsm_cleanup
}

# The same scenario for each propagation of /: a mount by root and one
# by a user, used, then unmounted; the worker's own mounts stay its own.
prop_root_scenario()
{
	cat <<'EOF'
[ "$(prop /)" = "$ROOTPROP" ] || fail "/ is $(prop /), not $ROOTPROP"
mkdir -p "$w/src" "$w/mnt" "$w/usrc" "$w/umnt"
chown "$TESTUSER:$TESTUSER" "$w/usrc" "$w/umnt"
start
before=$(nmounts)
fsctl mount "$w/src" "$w/mnt" || fail "root mount"
fsctl_as "$TESTUSER" mount "$w/usrc" "$w/umnt" || fail "user mount"
fuse_mounted "$w/mnt" && fuse_mounted "$w/umnt" || fail "not in mountinfo"
# Nothing else: the worker's copy of its tree, its procfs and its old
# root stay in the worker's namespace.
[ $(nmounts) -eq $before ] || fail "$(nmounts) other mounts, not $before"
readback "$w/mnt" "$w/src"
as_user "$TESTUSER" sh -c "echo mine >'$w/umnt/f'" || fail "user write"
[ "$(stat -c %U "$w/usrc/f")" = "$TESTUSER" ] || fail "owner of f"
fsctl status | grep -q " $w/umnt .*running" || fail "status: $(fsctl status)"
fsctl unmount "$w/mnt" || fail "unmount"
fsctl_as "$TESTUSER" unmount "$w/umnt" || fail "user unmount"
fuse_mounted "$w/mnt" || fuse_mounted "$w/umnt" && fail "still mounted"
stop
echo ok
EOF
}

atf_test_case root_shared cleanup
root_shared_head()
{
	atf_set descr "With / shared, as on every systemd host, mounts work " \
	    "and nothing of the worker's sandbox appears in the host's tree"
	atf_set require.user root
}
root_shared_body()
{
	fsm_users
	{ echo ROOTPROP=shared; prop_root_scenario; } | prop_run shared
}
root_shared_cleanup()
{
	prop_cleanup
}

atf_test_case root_slave cleanup
root_slave_head()
{
	atf_set descr "With / a slave, as in a container, mounts work"
	atf_set require.user root
}
root_slave_body()
{
	fsm_users
	{ echo ROOTPROP=slave; prop_root_scenario; } | prop_run slave
}
root_slave_cleanup()
{
	prop_cleanup
}

atf_test_case root_private cleanup
root_private_head()
{
	atf_set descr "With / private, mounts work"
	atf_set require.user root
}
root_private_body()
{
	fsm_users
	{ echo ROOTPROP=private; prop_root_scenario; } | prop_run private
}
root_private_cleanup()
{
	prop_cleanup
}

atf_test_case trees cleanup
trees_head()
{
	atf_set descr "Sources and mountpoints on shared, slave and " \
	    "private mounts, every pair, by root and by a user"
	atf_set require.user root
}
trees_body()
{
	fsm_users
	prop_run shared <<'EOF'
start
for p in shared slave private; do
	mkdir -p "$w/s.$p" "$w/m.$p"
	bindprop "$w/s.$p" $p
	bindprop "$w/m.$p" $p
done
for sp in shared slave private; do
	for mp in shared slave private; do
		s="$w/s.$sp" m="$w/m.$mp"
		mkdir -p "$s/sub" "$m/r" "$m/u"
		chown "$TESTUSER:$TESTUSER" "$s/sub" "$m/u"
		before=$(nmounts)
		fsctl mount "$s" "$m/r" || fail "root: $sp source on $mp"
		fsctl_as "$TESTUSER" mount "$s/sub" "$m/u" ||
		    fail "user: $sp source on $mp"
		fuse_mounted "$m/r" && fuse_mounted "$m/u" ||
		    fail "$sp on $mp: not in mountinfo"
		[ $(nmounts) -eq $before ] ||
		    fail "$sp on $mp: $(nmounts) other mounts, not $before"
		readback "$m/r" "$s"
		as_user "$TESTUSER" sh -c "echo u >'$m/u/f'" ||
		    fail "user write, $sp on $mp"
		[ "$(cat "$s/sub/f")" = u ] || fail "user data, $sp on $mp"
		# The source's own mount gained nothing.
		[ "$(prop "$s")" = $sp ] || fail "$s is now $(prop "$s")"
		fsctl unmount "$m/r" || fail "unmount $m/r"
		fsctl_as "$TESTUSER" unmount "$m/u" || fail "unmount $m/u"
		fuse_mounted "$m/r" || fuse_mounted "$m/u" &&
		    fail "$sp on $mp: still mounted"
		rm -rf "$s/sub"
		rmdir "$m/r" "$m/u"
	done
done
stop
echo ok
EOF
}
trees_cleanup()
{
	prop_cleanup
}

atf_test_case shared_bind cleanup
shared_bind_head()
{
	atf_set descr "A mountpoint under a shared bind mount: the mount " \
	    "propagates to the peer and to a slave, and goes from all of " \
	    "them at unmount"
	atf_set require.user root
}
shared_bind_body()
{
	fsm_users
	prop_run shared <<'EOF'
mkdir -p "$w/src" "$w/a/mnt" "$w/peer" "$w/slave"
echo data >"$w/src/f"
bindprop "$w/a" shared
mount --bind "$w/a" "$w/peer" || fail "peer"
mount --bind "$w/a" "$w/slave" && mount --make-slave "$w/slave" ||
    fail "slave"
chown -R "$TESTUSER:$TESTUSER" "$w/a/mnt" "$w/src"
start
fsctl_as "$TESTUSER" mount "$w/src" "$w/a/mnt" || fail "user mount"
for d in a peer slave; do
	fuse_mounted "$w/$d/mnt" || fail "not propagated to $d"
	[ "$(as_user "$TESTUSER" cat "$w/$d/mnt/f")" = data ] ||
	    fail "not read through $d"
done
as_user "$TESTUSER" sh -c "echo more >>'$w/peer/mnt/f'"
[ "$(cat "$w/src/f" | tail -1)" = more ] || fail "write through peer"
fsctl status | grep -q " $w/a/mnt .*running" || fail "status"
fsctl_as "$TESTUSER" unmount "$w/a/mnt" || fail "unmount"
for d in a peer slave; do
	fuse_mounted "$w/$d/mnt" && fail "still mounted at $d"
done
stop
echo ok
EOF
}
shared_bind_cleanup()
{
	prop_cleanup
}

atf_test_case other_namespace cleanup
other_namespace_head()
{
	atf_set descr "A mount made while a service runs in a slave " \
	    "namespace of its own (PrivateTmp=) is seen there too"
	atf_set require.user root
}
other_namespace_body()
{
	fsm_users
	prop_run shared <<'EOF'
mkdir -p "$w/src" "$w/mnt"
echo seen >"$w/src/f"
start
# The service starts before the mount, reads the file through it once
# it appears, and reports what it read.
unshare -m --propagation slave sh -c "
	n=0
	until [ -f '$w/mnt/f' ]; do
		n=\$((n + 1)); [ \$n -gt 200 ] && exit 1; sleep 0.05
	done
	cat '$w/mnt/f' >'$w/svc.out'" &
svc=$!
sleep 0.2
fsctl mount "$w/src" "$w/mnt" || fail "mount"
wait $svc || fail "the service never saw the mount"
[ "$(cat "$w/svc.out")" = seen ] || fail "the service read $(cat "$w/svc.out")"
fsctl unmount "$w/mnt" || fail "unmount"
stop
echo ok
EOF
}
other_namespace_cleanup()
{
	prop_cleanup
}

atf_test_case dev_fuse_modes cleanup
dev_fuse_modes_head()
{
	atf_set descr "The same mounts whether /dev/fuse is 0666, as on " \
	    "most hosts, or 0600; users never open it themselves"
	atf_set require.user root
}
dev_fuse_modes_body()
{
	fsm_users
	prop_run shared <<'EOF'
mkdir -p "$w/dev" "$w/src" "$w/mnt"
chown "$TESTUSER:$TESTUSER" "$w/src" "$w/mnt"
mount -t tmpfs -o mode=755 tmpfs "$w/dev" || fail "tmpfs"
mknod "$w/dev/fuse" c 10 229 || fail "mknod"
for mode in 0666 0600; do
	chmod $mode "$w/dev/fuse"
	mount --bind "$w/dev/fuse" /dev/fuse || fail "bind /dev/fuse"
	[ "$(stat -c %a /dev/fuse)" = "${mode#0}" ] || fail "mode"
	start
	fsctl_as "$TESTUSER" mount "$w/src" "$w/mnt" || fail "mount at $mode"
	as_user "$TESTUSER" sh -c "echo $mode >'$w/mnt/f'" || fail "write"
	[ "$(cat "$w/src/f")" = $mode ] || fail "data at $mode"
	fsctl_as "$TESTUSER" unmount "$w/mnt" || fail "unmount at $mode"
	stop
	# fsmount may still be closing its copy.
	umount -l /dev/fuse
done
echo ok
EOF
}
dev_fuse_modes_cleanup()
{
	prop_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case root_shared
	atf_add_test_case root_slave
	atf_add_test_case root_private
	atf_add_test_case trees
	atf_add_test_case shared_bind
	atf_add_test_case other_namespace
	atf_add_test_case dev_fuse_modes
}
