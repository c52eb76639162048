/*
 * Permission checks: EACCES from the mode bits, EPERM from ownership,
 * supplementary groups, sticky directories.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "conform.h"

/* Permissions: EACCES from the mode bits, EPERM from ownership. */

static void
c_perm_open_read(void)
{
	fx_file("f", 0600, 0, 0, "data");
	p_rv(as_open(&usr, "f", O_RDONLY, 0, NULL));
}

static void
c_perm_open_write(void)
{
	fx_file("f", 0644, 0, 0, "data");
	p_rv(as_open(&usr, "f", O_WRONLY, 0, NULL));
	p_data("data", "f");
}

static void
c_perm_open_read_other(void)
{
	fx_file("f", 0644, 0, 0, "data");
	p_rv(as_open(&usr, "f", O_RDONLY, 0, NULL));
}

static void
c_perm_open_write_group(void)
{
	fx_file("f", 0620, 0, usr.gid, "data");
	p_rv(as_open(&usr, "f", O_WRONLY | O_TRUNC, 0, "x"));
	p_data("data", "f");
}

/* The owner class applies to the owner even when others may do more. */
static void
c_perm_owner_class_first(void)
{
	fx_file("f", 0066, usr.uid, 0, "data");
	p_rv(as_open(&usr, "f", O_RDONLY, 0, NULL));
}

static void
c_perm_create_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0644, NULL));
	p_exists("f", "d/f");
}

static void
c_perm_create_nosearch(void)
{
	fx_dir("d", 0776, 0, 0);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0644, NULL));
	p_exists("f", "d/f");
}

/* O_CREAT of a file that exists needs no write access to the dir. */
static void
c_perm_creat_existing_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0666, 0, 0, NULL);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0644, "x"));
	attr("f", "d/f", A_NODE | A_SIZE);
}

static void
c_perm_unlink_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0666, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_perm_rename_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0666, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&usr, op_rename, "d/f", "d/g", 0));
	p_exists("f", "d/f");
	p_exists("g", "d/g");
}

static void
c_perm_rename_nowrite_target(void)
{
	fx_dir("s", 0777, 0, 0);
	fx_dir("d", 0755, 0, 0);
	fx_file("s/f", 0666, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&usr, op_rename, "s/f", "d/f", 0));
	p_exists("f", "s/f");
}

static void
c_perm_rmdir_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_dir("d/sub", 0777, usr.uid, usr.gid);
	p_rv(as_path(&usr, op_rmdir, "d/sub", 0));
	p_exists("sub", "d/sub");
}

/* Moving a directory to a new parent writes its "..": it needs w on it. */
static void
c_perm_rename_dir_other_parent(void)
{
	fx_dir("s", 0777, 0, 0);
	fx_dir("t", 0777, 0, 0);
	fx_dir("s/sub", 0755, oth.uid, oth.gid);
	p_rv(as_paths(&usr, op_rename, "s/sub", "t/sub", 0));
	p_exists("sub", "s/sub");
}

static void
c_perm_rename_dir_other_same_parent(void)
{
	fx_dir("s", 0777, 0, 0);
	fx_dir("s/sub", 0755, oth.uid, oth.gid);
	p_rv(as_paths(&usr, op_rename, "s/sub", "s/sub2", 0));
	attr("sub2", "s/sub2", A_NODE);
}

static void
c_perm_chmod_other(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 0666));
	attr("", "f", A_MODE);
}

static void
c_perm_chown_other(void)
{
	fx_file("f", 0644, oth.uid, oth.gid, NULL);
	p_rv(as_chown(&usr, "f", usr.uid, NOGID, 0));
	attr("", "f", A_OWN);
}

static void
c_perm_utimens_other(void)
{
	fx_file("f", 0644, oth.uid, oth.gid, NULL);
	fx_old("f");
	p_rv(as_utimens(&usr, "f", t_set, 0));
	attr("", "f", A_MTIME);
}

static void
c_perm_truncate(void)
{
	fx_file("f", 0644, 0, 0, "data");
	p_rv(as_truncate(&usr, "f", 0));
	attr("", "f", A_SIZE);
}

static void
c_perm_link_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&usr, op_link, "d/f", "d/g", 0));
	attr("f", "d/f", A_NLINK);
}

/* The source's directory need not be writable, only the target's. */
static void
c_perm_link_into_writable(void)
{
	fx_dir("s", 0755, 0, 0);
	fx_dir("t", 0777, 0, 0);
	fx_file("s/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&usr, op_link, "s/f", "t/g", 0));
	attr("g", "t/g", A_NODE);
}

/* fs.protected_hardlinks: linking another's file one cannot write. */
static void
c_perm_link_protected(void)
{
	fx_dir("d", 0777, 0, 0);
	fx_file("d/f", 0644, 0, 0, NULL);
	p_rv(as_paths(&usr, op_link, "d/f", "d/g", 0));
	p_exists("g", "d/g");
}

static void
c_perm_mkdir_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_path(&usr, op_mkdir, "d/sub", 0755));
	p_exists("sub", "d/sub");
}

static void
c_perm_mkdir_nosearch(void)
{
	fx_dir("d", 0776, 0, 0);
	p_rv(as_path(&usr, op_mkdir, "d/sub", 0755));
	p_exists("sub", "d/sub");
}

static void
c_perm_mknod_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_mknod(&usr, "d/p", S_IFIFO | 0644, 0));
	p_exists("p", "d/p");
}

static void
c_perm_mknod_nosearch(void)
{
	fx_dir("d", 0776, 0, 0);
	p_rv(as_mknod(&usr, "d/p", S_IFIFO | 0644, 0));
	p_exists("p", "d/p");
}

static void
c_perm_symlink_nowrite(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_paths(&usr, op_symlink, "target", "d/s", 0));
	p_exists("s", "d/s");
}

static void
c_perm_symlink_nosearch(void)
{
	fx_dir("d", 0776, 0, 0);
	p_rv(as_paths(&usr, op_symlink, "target", "d/s", 0));
	p_exists("s", "d/s");
}

static void
c_perm_setxattr_other(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_setxattr(&usr, "f", "user.test", "val"));
	p_xattr("user.test", "f", "user.test");
}

static void
c_perm_setxattr_writable(void)
{
	fx_file("f", 0666, 0, 0, NULL);
	p_rv(as_setxattr(&usr, "f", "user.test", "val"));
	p_xattr("user.test", "f", "user.test");
}

static void
c_perm_setxattr_trusted(void)
{
	fx_file("f", 0666, usr.uid, usr.gid, NULL);
	p_rv(as_setxattr(&usr, "f", "trusted.test", "val"));
}

/* user.* on a sticky directory: only its owner. */
static void
c_perm_setxattr_sticky_dir(void)
{
	fx_dir("d", 01777, 0, 0);
	p_rv(as_setxattr(&usr, "d", "user.test", "val"));
}

/* user.* only on regular files and directories. */
static void
c_perm_setxattr_symlink(void)
{
	fx_symlink("target", "s");
	p_rv(as_setxattr(&root, "s", "user.test", "val"));
}

static void
c_perm_getxattr_missing(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_paths(&usr, op_getxattr, "f", "user.none", 0));
}

static void
c_perm_removexattr_owner(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_xattr("f", "user.a", "1", 1);
	fx_xattr("f", "user.b", "2", 1);
	p_rv(as_paths(&usr, op_removexattr, "f", "user.a", 0));
	p_xattrs("list", "f");
}

static void
c_perm_removexattr_other(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_xattr("f", "user.a", "1", 1);
	p_rv(as_paths(&usr, op_removexattr, "f", "user.a", 0));
	p_xattrs("list", "f");
}

/* Root may not execute what has no x bit, but may write what has no w. */
static void
c_perm_access_root(void)
{
	fx_file("f", 0444, usr.uid, usr.gid, NULL);
	p_res("x", as_access(&root, "f", X_OK));
	p_res("w", as_access(&root, "f", W_OK));
	p_res("r", as_access(&root, "f", R_OK));
}

static void
c_perm_access_user(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_res("r", as_access(&usr, "f", R_OK));
	p_res("w", as_access(&usr, "f", W_OK));
	p_res("x", as_access(&usr, "f", X_OK));
}

static void
c_perm_search_only(void)
{
	fx_dir("d", 0711, 0, 0);
	fx_file("d/f", 0644, 0, 0, NULL);
	p_res("opendir", as_path(&usr, op_opendir, "d", 0));
	p_res("stat", as_path(&usr, op_stat, "d/f", 0));
}

static void
c_perm_no_search(void)
{
	fx_dir("d", 0744, 0, 0);
	fx_file("d/f", 0644, 0, 0, NULL);
	p_res("opendir", as_path(&usr, op_opendir, "d", 0));
	p_res("stat", as_path(&usr, op_stat, "d/f", 0));
}

/* Supplementary groups count for access and for creating. */

static void
c_supp_open_read(void)
{
	fx_file("f", 0640, 0, oth.gid, "data");
	cur_extra = oth.gid;
	p_rv(as_open(&usr, "f", O_RDONLY, 0, NULL));
}

static void
c_supp_create(void)
{
	fx_dir("d", 0770, 0, oth.gid);
	cur_extra = oth.gid;
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0644, NULL));
	attr("", "d/f", A_NODE);
}

static void
c_supp_mkdir(void)
{
	fx_dir("d", 0770, 0, oth.gid);
	cur_extra = oth.gid;
	p_rv(as_path(&usr, op_mkdir, "d/sub", 0777));
	attr("", "d/sub", A_NODE);
}

static void
c_supp_chown_group(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	cur_extra = oth.gid;
	p_rv(as_chown(&usr, "f", NOUID, oth.gid, 0));
	attr("", "f", A_OWN);
}

static void
c_supp_chmod_sgid(void)
{
	fx_file("f", 0644, usr.uid, oth.gid, NULL);
	cur_extra = oth.gid;
	p_rv(as_path(&usr, op_chmod, "f", 02755));
	attr("", "f", A_MODE);
}

/* Sticky directories. */

static void
c_sticky_unlink_other(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/f", 0666, oth.uid, oth.gid, NULL);
	p_rv(as_path(&usr, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_rename_other(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/f", 0666, oth.uid, oth.gid, NULL);
	p_rv(as_paths(&usr, op_rename, "d/f", "d/g", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_rename_over_other(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/a", 0666, usr.uid, usr.gid, "a");
	fx_file("d/b", 0666, oth.uid, oth.gid, "b");
	p_rv(as_paths(&usr, op_rename, "d/a", "d/b", 0));
	p_data("b", "d/b");
}

static void
c_sticky_rmdir_other(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_dir("d/sub", 0777, oth.uid, oth.gid);
	p_rv(as_path(&usr, op_rmdir, "d/sub", 0));
	p_exists("sub", "d/sub");
}

static void
c_sticky_unlink_own(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_rename_own(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&usr, op_rename, "d/f", "d/g", 0));
	p_exists("g", "d/g");
}

/* A sticky directory owned by a third user. */
static void
c_sticky_third_unlink(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0666, 0, 0, NULL);
	p_rv(as_path(&usr, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_third_rename(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0666, 0, 0, NULL);
	p_rv(as_paths(&usr, op_rename, "d/f", "d/g", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_dirowner_unlink(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&oth, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_dirowner_rename(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_paths(&oth, op_rename, "d/f", "d/g", 0));
	p_exists("g", "d/g");
}

static void
c_sticky_fileowner_unlink(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

static void
c_sticky_root_unlink(void)
{
	fx_dir("d", 01777, oth.uid, oth.gid);
	fx_file("d/f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&root, op_unlink, "d/f", 0));
	p_exists("f", "d/f");
}

/* fs.protected_regular decides; the answer must be the same either way. */
static void
c_sticky_creat_existing_other(void)
{
	fx_dir("d", 01777, 0, 0);
	fx_file("d/f", 0666, oth.uid, oth.gid, NULL);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0644, NULL));
}

const struct check perm_checks[] = {
#define C(n)	{ #n, c_##n }
	C(perm_open_read),
	C(perm_open_write),
	C(perm_open_read_other),
	C(perm_open_write_group),
	C(perm_owner_class_first),
	C(perm_create_nowrite),
	C(perm_create_nosearch),
	C(perm_creat_existing_nowrite),
	C(perm_unlink_nowrite),
	C(perm_rename_nowrite),
	C(perm_rename_nowrite_target),
	C(perm_rmdir_nowrite),
	C(perm_rename_dir_other_parent),
	C(perm_rename_dir_other_same_parent),
	C(perm_chmod_other),
	C(perm_chown_other),
	C(perm_utimens_other),
	C(perm_truncate),
	C(perm_link_nowrite),
	C(perm_link_into_writable),
	C(perm_link_protected),
	C(perm_mkdir_nowrite),
	C(perm_mkdir_nosearch),
	C(perm_mknod_nowrite),
	C(perm_mknod_nosearch),
	C(perm_symlink_nowrite),
	C(perm_symlink_nosearch),
	C(perm_setxattr_other),
	C(perm_setxattr_writable),
	C(perm_setxattr_trusted),
	C(perm_setxattr_sticky_dir),
	C(perm_setxattr_symlink),
	C(perm_getxattr_missing),
	C(perm_removexattr_owner),
	C(perm_removexattr_other),
	C(perm_access_root),
	C(perm_access_user),
	C(perm_search_only),
	C(perm_no_search),
	C(supp_open_read),
	C(supp_create),
	C(supp_mkdir),
	C(supp_chown_group),
	C(supp_chmod_sgid),
	C(sticky_unlink_other),
	C(sticky_rename_other),
	C(sticky_rename_over_other),
	C(sticky_rmdir_other),
	C(sticky_unlink_own),
	C(sticky_rename_own),
	C(sticky_third_unlink),
	C(sticky_third_rename),
	C(sticky_dirowner_unlink),
	C(sticky_dirowner_rename),
	C(sticky_fileowner_unlink),
	C(sticky_root_unlink),
	C(sticky_creat_existing_other),
#undef C
};

const size_t perm_nchecks = sizeof(perm_checks) / sizeof(perm_checks[0]);
