# bmake install and uninstall into a DESTDIR: the tree, the modes, the
# configuration kept or removed, and nothing of ours left behind.

TOP=$(cd "$(atf_get_srcdir)/../.." && pwd)

# ins_install DESTDIR [variables...]
ins_install()
{
	d=$1
	shift
	bmake -C "$TOP" install DESTDIR="$d" GENDIR="$PWD/gen" "$@" \
	    >install.log 2>&1 || atf_fail "install failed: $(tail install.log)"
}

ins_uninstall()
{
	d=$1
	shift
	bmake -C "$TOP" uninstall DESTDIR="$d" "$@" >uninstall.log 2>&1 ||
	    atf_fail "uninstall failed: $(tail uninstall.log)"
}

atf_test_case tree
tree_head()
{
	atf_set descr "install puts every file in place with its mode, " \
	    "and uninstall takes every one away"
	atf_set require.user root
	atf_set require.progs bmake
}
tree_body()
{
	d=$PWD/dest
	mkdir gen
	ins_install "$d"
	p=$d/usr/local
	atf_check -o inline:"-r-xr-xr-x root root\n" stat -c "%A %U %G" "$p/sbin/fsmonitor"
	atf_check -o inline:"-r-xr-xr-x root root\n" stat -c "%A %U %G" "$p/sbin/fsctl"
	# Only root runs the helpers.
	atf_check -o inline:"-r-x------ root root\n" \
	    stat -c "%A %U %G" "$p/libexec/fsmonitor/fsmount"
	atf_check -o inline:"-r-x------ root root\n" \
	    stat -c "%A %U %G" "$p/libexec/fsmonitor/fsworker"
	atf_check -o inline:"drwxr-xr-x root root\n" \
	    stat -c "%A %U %G" "$p/libexec/fsmonitor"
	for page in man3/libfsproto.3 man5/fsmonitor.conf.5 man8/fsctl.8 \
	    man8/fsmonitor.8 man8/fsmount.8 man8/fsworker.8 \
	    man8/mount.fuse.fsmonitor.8; do
		atf_check -o inline:"-r--r--r-- root root\n" \
		    stat -c "%A %U %G" "$p/share/man/$page"
	done
	for unit in fsmonitor.service fsmonitor.socket; do
		atf_check -o inline:"-r--r--r-- root root\n" \
		    stat -c "%A %U %G" "$p/lib/systemd/system/$unit"
	done
	atf_check -o match:"^ExecStart=/usr/local/sbin/fsmonitor -D$" \
	    cat "$p/lib/systemd/system/fsmonitor.service"
	atf_check -o inline:"-r-xr-xr-x root root\n" \
	    stat -c "%A %U %G" "$d/etc/init.d/fsmonitor"
	atf_check -o match:"FSMONITOR:=/usr/local/sbin/fsmonitor" \
	    cat "$d/etc/init.d/fsmonitor"
	atf_check -o inline:"-rw-r--r-- root root\n" \
	    stat -c "%A %U %G" "$d/etc/fsmonitor.conf"
	atf_check cmp "$d/etc/fsmonitor.conf" "$TOP/etc/fsmonitor.conf.sample"
	atf_check -o inline:"/usr/local/sbin/fsctl\n" \
	    readlink "$d/sbin/mount.fuse.fsmonitor"
	# The sample is a valid configuration.
	atf_check -e inline:"configuration OK\n" \
	    "$p/sbin/fsmonitor" -n -f "$d/etc/fsmonitor.conf"

	ins_uninstall "$d"
	atf_check -o empty find "$d" ! -type d
}

atf_test_case conf_kept
conf_kept_head()
{
	atf_set descr "An existing fsmonitor.conf is never overwritten, and " \
	    "uninstall keeps one that differs from the sample"
	atf_set require.user root
	atf_set require.progs bmake
}
conf_kept_body()
{
	d=$PWD/dest
	mkdir -p gen "$d/etc"
	echo "mount_max 7" >"$d/etc/fsmonitor.conf"
	ins_install "$d"
	atf_check -o inline:"mount_max 7\n" cat "$d/etc/fsmonitor.conf"
	atf_check -o match:"keeping the existing $d/etc/fsmonitor.conf" \
	    cat install.log
	ins_uninstall "$d"
	atf_check -o match:"keeping $d/etc/fsmonitor.conf: it differs" \
	    cat uninstall.log
	atf_check -o inline:"$d/etc/fsmonitor.conf\n" find "$d" ! -type d
}

atf_test_case user
user_head()
{
	atf_set descr "install makes the _fsmonitor user only on the running " \
	    "system, never for a DESTDIR"
	atf_set require.progs bmake
}
user_body()
{
	atf_check -o match:"useradd --system --user-group --no-create-home" \
	    -o match:"--home-dir /var/empty --shell /usr/sbin/nologin" \
	    -o match:"_fsmonitor" \
	    bmake -C "$TOP/etc" -n install DESTDIR= GENDIR="$PWD"
	atf_check -o not-match:"useradd" \
	    bmake -C "$TOP/etc" -n install DESTDIR="$PWD/dest" GENDIR="$PWD"
}

atf_test_case prefix
prefix_head()
{
	atf_set descr "The units and the rc script carry the paths of the " \
	    "PREFIX they are made for"
	atf_set require.progs bmake
}
prefix_body()
{
	mkdir gen
	atf_check -o ignore bmake -C "$TOP/etc" GENDIR="$PWD/gen" PREFIX=/usr \
	    RUNDIR=/var/run
	atf_check -o match:"^ExecStart=/usr/sbin/fsmonitor -D$" \
	    -o match:"^ExecStartPre=/usr/sbin/fsmonitor -n$" \
	    cat gen/fsmonitor.service
	atf_check -o match:"^ListenStream=/var/run/fsmonitor.sock$" \
	    cat gen/fsmonitor.socket
	atf_check -o match:"FSMONITOR_PIDFILE:=/var/run/fsmonitor.pid" \
	    cat gen/rc.fsmonitor
	atf_check -o inline:"/usr/lib/systemd/system\n" \
	    bmake -C "$TOP/etc" -V '${SYSTEMDUNITDIR}' PREFIX=/usr
}

atf_init_test_cases()
{
	atf_add_test_case tree
	atf_add_test_case conf_kept
	atf_add_test_case user
	atf_add_test_case prefix
}
