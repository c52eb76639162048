# Conformance: every check of conform.c gives the same result on the
# backing tree and through a mount of it, as root and as other users.

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

CONFORM="$(atf_get_srcdir)/conform"

# The checks whose result through an owner-mode mount (allow_other,
# default_permissions, no multiuser) may differ from the backing tree:
# fsworker(8) says that in owner mode whatever a user creates belongs to
# the owner, root.  These are the checks that report the owner of
# something a user created, and open_tmpfile and umask077_tmpfile, whose
# linkat(2) of the root-owned unnamed file is refused by
# fs.protected_hardlinks (EPERM) for that reason.  Any other difference
# fails.
OWNER_MODE_DIFFS="
supp_create
supp_mkdir
open_tmpfile
symlink_by_user
sgid_dir_creat
sgid_dir_mkdir
sgid_dir_creat_sgid
sgid_dir_mknod
sgid_dir_symlink
umask022_creat
umask077_creat
umask022_mkdir
umask077_mkdir
umask022_mknod
umask077_mknod
umask077_tmpfile
mknod_fifo_user
mknod_reg_user
mknod_sock_user
"

# conform_run DIR OUT: every check ran and said something.
conform_run()
{
	if ! "$CONFORM" "$1" >"$2" 2>conform.err; then
		cat conform.err >&2
		atf_fail "conform $1 failed"
	fi
	"$CONFORM" -l >checks.list
	sed 's/:.*//' "$2" | diff -u checks.list - >&2 ||
	    atf_fail "conform $1: not one line per check"
}

# The names of the checks whose lines differ between two outputs.
differing()
{
	diff "$1" "$2" | sed -n 's/^[<>] \([^:]*\):.*/\1/p' | sort -u
}

# conform_tree OPTIONS: the checks on the backing tree B/native, then
# through M, a mount of B with these options, in M/viafuse.  Leaves
# native.out and fuse.out.
conform_tree()
{
	fsm_users
	fsm_start
	w=$(fsm_workdir)
	mkdir -m 755 "$w/B" "$w/M"
	conform_run "$w/B/native" native.out
	grep "fixture=" native.out >&2 &&
	    atf_fail "a fixture failed on the backing tree"
	atf_check fsctl mount -o "$1" "$w/B" "$w/M"
	conform_run "$w/M/viafuse" fuse.out
	fsm_is_mounted "$w/M" || atf_fail "the mount went away"
}

atf_test_case self_consistency cleanup
self_consistency_head()
{
	atf_set descr "conform says the same twice on the same filesystem"
	atf_set require.user root
}
self_consistency_body()
{
	fsm_users
	w=$(fsm_workdir)
	mkdir -m 755 "$w/B"
	conform_run "$w/B/one" one.out
	conform_run "$w/B/two" two.out
	if ! diff -u one.out two.out >&2; then
		atf_fail "unstable: $(differing one.out two.out | xargs)"
	fi
	grep "fixture=" one.out >&2 && atf_fail "a fixture failed"
	true
}
self_consistency_cleanup()
{
	fsm_cleanup
}

atf_test_case multiuser cleanup
multiuser_head()
{
	atf_set descr "Through a multiuser mount every check gives what it " \
	    "gives on the backing tree"
	atf_set require.user root
}
multiuser_body()
{
	conform_tree multiuser
	if ! diff -u native.out fuse.out >&2; then
		d=$(differing native.out fuse.out)
		other=$(echo "$d" | grep -vxF "$OWNER_MODE_DIFFS" | xargs)
		echo "ownership: $(echo "$d" | grep -xF "$OWNER_MODE_DIFFS" |
		    xargs)" >&2
		echo "other: $other" >&2
		atf_fail "$(echo "$d" | wc -l) checks differ" \
		    "(not ownership: ${other:-none})"
	fi
}
multiuser_cleanup()
{
	fsm_cleanup
}

atf_test_case owner_mode cleanup
owner_mode_head()
{
	atf_set descr "Through an owner-mode mount only what the owner " \
	    "creating everything explains differs"
	atf_set require.user root
}
owner_mode_body()
{
	# Without default_permissions the worker, root, would decide every
	# permission; without allow_other no user but root could look.
	conform_tree allow_other,default_permissions
	differing native.out fuse.out >diff.names
	unexpected=$(grep -vxF "$OWNER_MODE_DIFFS" diff.names | xargs)
	if [ -n "$unexpected" ]; then
		for c in $unexpected; do
			grep "^$c:" native.out | sed 's/^/native: /'
			grep "^$c:" fuse.out | sed 's/^/fuse:   /'
		done >&2
		atf_fail "differ beyond ownership: $unexpected"
	fi
	# The list is kept exact: a check that now agrees is taken off it.
	agree=$(echo "$OWNER_MODE_DIFFS" | grep -v '^$' |
	    grep -vxF -f diff.names | xargs)
	[ -z "$agree" ] ||
	    echo "listed as differing but the same now: $agree"
}
owner_mode_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case self_consistency
	atf_add_test_case multiuser
	# owner_mode waits for conform to make its fixtures on the backing
	# tree: through a root-owned owner-mode mount, which now holds no
	# capability, root's fixture chowns fail.
}
