# Conformance: every check of conform.c gives the same result on the
# backing tree and through a mount of it, as root and as other users,
# or, through an owner-mode mount, differs only as fsworker(8) says.

. "$(atf_get_srcdir)/../fsmonitor/common.sh"

CONFORM="$(atf_get_srcdir)/conform"

# Through an owner-mode mount every request is served with the owner's
# user and group IDs and groups, and without any capability, even when
# the owner is root (Owner mode in fsworker(8)).  With
# default_permissions the kernel checks the caller first, then the
# backing file system checks the owner.  These are the checks whose
# result then differs from the backing tree, one list per reason; any
# other difference fails, and so does a listed check that agrees.  A
# check is listed once.
#
# A mount owned by root: the worker is uid 0, gid 0, without a capability.

# What a user creates belongs to the owner, root: uid 0, and gid 0 or
# the group of a set-group-ID directory.
ROOT_CREATES="
supp_create supp_mkdir symlink_by_user
sgid_dir_creat sgid_dir_mkdir sgid_dir_creat_sgid sgid_dir_mknod
sgid_dir_symlink
umask022_creat umask077_creat umask022_mkdir umask077_mkdir
umask022_mknod umask077_mknod
mknod_fifo_user mknod_reg_user mknod_sock_user
"
# So does the unnamed file of O_TMPFILE, and fs.protected_hardlinks
# refuses the user's linkat(2) of a file they neither own nor may write
# (EPERM).
ROOT_TMPFILE="
open_tmpfile umask077_tmpfile
"
# Root's capabilities do not reach the worker.  CAP_CHOWN: giving a
# file away (EPERM).  CAP_FOWNER: times, modes, chown(2) to -1 and -1
# and sticky directories on files root does not own (EPERM); that chown
# succeeds, since the kernel sends it as it sends the clearing before a
# write, but leaves the set-ID bits.  CAP_DAC_OVERRIDE: writing into a
# user's directory or file that root may not write (EACCES).  CAP_MKNOD:
# device nodes (EPERM).
ROOT_CAPS="
sticky_root_unlink utimens_root_set
chown_root_clears_setid chown_root_sgid_no_gx chown_root_noop_setid
chown_root_dir_keeps_setid chown_symlink_nofollow chown_symlink_follow
chmod_root_sgid sgid_dir_root_mkdir sgid_dir_root_creat_sgid
write_root_keeps_setid truncate_root_keeps_setid
mknod_chr_root mknod_blk_root
"
# A user's rights on what they own do not reach the worker: the owner,
# root without CAP_FOWNER or CAP_DAC_OVERRIDE, may not change the times,
# mode, owner or extended attributes of another user's file, write it
# unless its mode lets others write, remove it from a sticky directory,
# or, under fs.protected_hardlinks, link it (EPERM, EACCES).
ROOT_USER_RIGHTS="
perm_link_into_writable link_count perm_removexattr_owner
supp_chown_group supp_chmod_sgid
sticky_dirowner_unlink sticky_dirowner_rename sticky_fileowner_unlink
open_trunc open_trunc_empty open_trunc_rdonly ftruncate_grow
utimens_owner_now utimens_owner_set utimens_omit_atime utimens_omit_mtime
chown_owner_own_group chown_owner_same chown_owner_clears_setid
chmod_owner chmod_sgid_not_in_group chmod_sgid_in_group
chmod_sgid_dir_not_in_group chmod_suid_owner chmod_sticky_file
write_clears_setid write_clears_suid_only truncate_clears_setid
ftruncate_clears_setid open_trunc_clears_setid
"
# What root reads back to report goes through the worker too, and the
# owner may not read a user's file or search their directory (EACCES).
ROOT_READBACK="
rename_file_over_file rename_exchange
"

# A mount owned by the user fsmtest, who is conform's user too: the
# worker has fsmtest's uid, gid and groups, and no capability.  Here
# what a user creates belongs to them either way.

# What root creates belongs to fsmtest.
USER_CREATES="
sgid_dir_root_mkdir
"
# Root's rights do not reach the worker: fsmtest may not write the
# directories and files root owns (EACCES), change a root-owned
# symbolic link's times (EPERM) or, under fs.protected_hardlinks, link
# root's files (EPERM), and has no CAP_CHOWN (EPERM).
USER_ROOT_RIGHTS="
rename_file_over_file rename_ctime rename_dir_over_empty
rename_dir_over_nonempty rename_noreplace_new rename_exchange
rename_dir_nlink rename_whiteout open_creat_dangling name_max
dir_mkdir_nlink dir_rmdir_nlink dir_rmdir_nonempty unlink_ctime_nlink
truncate_grow truncate_shrink truncate_same_size truncate_through_symlink
mknod_fifo_root mknod_chr_root mknod_blk_root utimens_symlink_nofollow
link_symlink link_symlink_follow link_cross_dir
chown_root_clears_setid chown_root_sgid_no_gx chown_root_dir_keeps_setid
chown_symlink_nofollow chown_symlink_follow
"
# Without CAP_FSETID, and not in the file's group, the worker loses or
# drops set-ID bits that root keeps: a set-group-ID bit root sets or
# asks for, and both bits when root writes or truncates.  The file of
# sgid_dir_root_creat_sgid belongs to fsmtest as well.
USER_SETID="
chmod_root_sgid sgid_dir_root_creat_sgid
write_root_keeps_setid truncate_root_keeps_setid
"
# The worker has fsmtest's groups, not the caller's: a supplementary
# group the user has at the time counts for the kernel's check only
# (EACCES, EPERM, a set-group-ID bit dropped).
USER_GROUPS="
supp_open_read supp_create supp_mkdir supp_chown_group supp_chmod_sgid
"
# What root reads back goes through the worker: fsmtest may not read a
# file only its group may write, or search a directory where others may
# not (EACCES instead of ENOENT).
USER_READBACK="
perm_open_write_group perm_create_nosearch perm_mkdir_nosearch
perm_mknod_nosearch perm_symlink_nosearch
"

# conform_run DIR OUT [FIXDIR]: every check ran and said something.
conform_run()
{
	if ! "$CONFORM" ${3:+-F "$3"} "$1" >"$2" 2>conform.err; then
		cat conform.err >&2
		atf_fail "conform $1 failed"
	fi
	"$CONFORM" -l >checks.list
	sed 's/:.*//' "$2" | diff -u checks.list - >&2 ||
	    atf_fail "conform $1: not one line per check"
}

# kernel_differs MODE: what differs besides, under a cap of fsm_kernel
# (fsmonitor -K), as on such a kernel (fsworker(8)): no O_TMPFILE before
# protocol 7.37 (EOPNOTSUPP).  A multiuser creation in a directory that
# only a supplementary group of the caller may write works before Linux
# 6.2 too: the kernel checks it, and the worker does not again.
kernel_differs()
{
	case $(fsm_kernel) in
	5.14)	echo open_tmpfile umask077_tmpfile ;;
	esac
}

# The names of the checks whose lines differ between two outputs.
differing()
{
	diff "$1" "$2" | sed -n 's/^[<>] \([^:]*\):.*/\1/p' | sort -u
}

# conform_tree OPTIONS [OWNER]: the checks on the backing tree B/native,
# then through M, a mount of B with these options, in M/viafuse.  With
# an OWNER, root or a user, who makes the mount, conform makes its
# fixtures in B/viafuse behind the mount's back, since an owner-mode
# worker may not.  Leaves native.out and fuse.out.
conform_tree()
{
	fsm_users
	if [ -n "$2" ] && [ "$2" != root ]; then
		fsm_start user_allow_other
	else
		fsm_start
	fi
	w=$(fsm_workdir)
	mkdir -m 755 "$w/B" "$w/M"
	conform_run "$w/B/native" native.out
	grep "fixture=" native.out >&2 &&
	    atf_fail "a fixture failed on the backing tree"
	case $2 in
	"")
		atf_check fsctl mount -o "$1" "$w/B" "$w/M"
		conform_run "$w/M/viafuse" fuse.out
		;;
	root)
		atf_check fsctl mount -o "$1" "$w/B" "$w/M"
		conform_run "$w/M/viafuse" fuse.out "$w/B/viafuse"
		;;
	*)
		chown "$2:$2" "$w/B" "$w/M"
		atf_check fsctl_as "$2" mount -o "$1" "$w/B" "$w/M"
		conform_run "$w/M/viafuse" fuse.out "$w/B/viafuse"
		;;
	esac
	grep "fixture=" fuse.out >&2 &&
	    atf_fail "a fixture failed for the mount"
	fsm_is_mounted "$w/M" || atf_fail "the mount went away"
}

# conform_differ CHECKS: exactly these checks differ between native.out
# and fuse.out.
conform_differ()
{
	differing native.out fuse.out >diff.names
	echo $1 | tr ' ' '\n' | sed '/^$/d' | sort -u >expected.names
	unexpected=$(comm -23 diff.names expected.names | xargs)
	for c in $unexpected; do
		grep "^$c:" native.out | sed 's/^/native: /'
		grep "^$c:" fuse.out | sed 's/^/fuse:   /'
	done >&2
	[ -z "$unexpected" ] || atf_fail "unexpected differences: $unexpected"
	# The list is kept exact: a check that now agrees is taken off it.
	agree=$(comm -13 diff.names expected.names | xargs)
	[ -z "$agree" ] || atf_fail "listed as differing but the same: $agree"
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
	conform_differ "$(kernel_differs multiuser)"
}
multiuser_cleanup()
{
	fsm_cleanup
}

atf_test_case owner_mode cleanup
owner_mode_head()
{
	atf_set descr "Through an owner-mode mount of root's only the " \
	    "documented differences show"
	atf_set require.user root
}
owner_mode_body()
{
	# Without default_permissions the worker alone would decide every
	# permission; without allow_other no user but root could look.
	# Root's worker holds no capability and cannot make the fixtures.
	conform_tree allow_other,default_permissions root
	conform_differ "$ROOT_CREATES $ROOT_TMPFILE $ROOT_CAPS \
	    $ROOT_USER_RIGHTS $ROOT_READBACK $(kernel_differs root)"
}
owner_mode_cleanup()
{
	fsm_cleanup
}

atf_test_case owner_mode_user cleanup
owner_mode_user_head()
{
	atf_set descr "Through an owner-mode mount a user made only the " \
	    "documented differences show"
	atf_set require.user root
}
owner_mode_user_body()
{
	conform_tree allow_other,default_permissions "$TESTUSER"
	conform_differ "$USER_CREATES $USER_ROOT_RIGHTS $USER_SETID \
	    $USER_GROUPS $USER_READBACK $(kernel_differs user)"
}
owner_mode_user_cleanup()
{
	fsm_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case self_consistency
	atf_add_test_case multiuser
	atf_add_test_case owner_mode
	atf_add_test_case owner_mode_user
}
