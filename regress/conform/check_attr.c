/*
 * Checks on attributes: timestamps, owners, modes and the set-ID bits,
 * the umask, device nodes and FIFOs, file sizes.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

/* utimensat(2). */

static void
c_utimens_owner_now(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", NULL, 0));
	attr("", "f", A_ATIME | A_MTIME | A_CTIME);
}

static void
c_utimens_owner_set(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", t_set, 0));
	attr("", "f", A_ATIME | A_MTIME | A_CTIME);
}

static void
c_utimens_omit_atime(void)
{
	struct timespec	 ts[2] = {
	    { 0, UTIME_OMIT }, { T1_SEC, T1_NSEC } };

	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", ts, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_omit_mtime(void)
{
	struct timespec	 ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", ts, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

/* Both omitted: nothing to check and nothing changes, for anyone. */
static void
c_utimens_omit_both(void)
{
	struct timespec	 ts[2] = {
	    { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	fx_file("f", 0644, 0, 0, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", ts, 0));
	attr("", "f", A_ATIME | A_MTIME | A_CTIME);
}

static void
c_utimens_writer_null(void)
{
	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", NULL, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_writer_now_now(void)
{
	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", t_now, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_writer_now_omit(void)
{
	struct timespec	 ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", ts, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_writer_set(void)
{
	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", t_set, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_reader_null(void)
{
	fx_file("f", 0644, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", NULL, 0));
	attr("", "f", A_MTIME);
}

static void
c_utimens_reader_now_now(void)
{
	fx_file("f", 0644, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", t_now, 0));
	attr("", "f", A_MTIME);
}

static void
c_utimens_reader_set(void)
{
	fx_file("f", 0644, oth.uid, oth.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&usr, "f", t_set, 0));
	attr("", "f", A_MTIME);
}

static void
c_utimens_root_set(void)
{
	fx_file("f", 0600, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&root, "f", t_set, 0));
	attr("", "f", A_ATIME | A_MTIME);
}

static void
c_utimens_symlink_nofollow(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	fx_old("f");
	fx_old("s");
	snap("f");
	p_rv(as_utimens(&root, "s", t_set, AT_SYMLINK_NOFOLLOW));
	attr("s", "s", A_MTIME);
	attr("f", "f", A_MTIME);
}

static void
c_utimens_bad_nsec(void)
{
	struct timespec	 ts[2] = {
	    { T1_SEC, 1000000000 }, { T1_SEC, 0 } };

	fx_file("f", 0644, 0, 0, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_utimens(&root, "f", ts, 0));
	attr("", "f", A_MTIME);
}

/* chown(2). */

static void
c_chown_owner_own_group(void)
{
	fx_file("f", 0644, usr.uid, 0, NULL);
	snap("f");
	p_rv(as_chown(&usr, "f", NOUID, usr.gid, 0));
	attr("", "f", A_OWN | A_CTIME);
}

static void
c_chown_owner_other_group(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_chown(&usr, "f", NOUID, oth.gid, 0));
	attr("", "f", A_OWN);
}

static void
c_chown_owner_other_uid(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_chown(&usr, "f", oth.uid, NOGID, 0));
	attr("", "f", A_OWN);
}

static void
c_chown_owner_same(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	snap("f");
	p_rv(as_chown(&usr, "f", usr.uid, usr.gid, 0));
	attr("", "f", A_OWN | A_CTIME);
}

static void
c_chown_owner_noop(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	snap("f");
	p_rv(as_chown(&usr, "f", NOUID, NOGID, 0));
	attr("", "f", A_OWN | A_CTIME);
}

static void
c_chown_nonowner(void)
{
	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	p_rv(as_chown(&usr, "f", NOUID, usr.gid, 0));
	attr("", "f", A_OWN);
}

static void
c_chown_root_clears_setid(void)
{
	fx_file("f", 06755, usr.uid, usr.gid, NULL);
	p_rv(as_chown(&root, "f", oth.uid, oth.gid, 0));
	attr("", "f", A_MODE | A_OWN);
}

static void
c_chown_root_sgid_no_gx(void)
{
	fx_file("f", 02644, usr.uid, usr.gid, NULL);
	p_rv(as_chown(&root, "f", oth.uid, oth.gid, 0));
	attr("", "f", A_MODE | A_OWN);
}

static void
c_chown_root_noop_setid(void)
{
	fx_file("f", 06755, usr.uid, usr.gid, NULL);
	p_rv(as_chown(&root, "f", NOUID, NOGID, 0));
	attr("", "f", A_MODE | A_OWN);
}

static void
c_chown_root_dir_keeps_setid(void)
{
	fx_dir("d", 06755, usr.uid, usr.gid);
	p_rv(as_chown(&root, "d", oth.uid, oth.gid, 0));
	attr("", "d", A_MODE | A_OWN);
}

static void
c_chown_owner_clears_setid(void)
{
	fx_file("f", 06755, usr.uid, 0, NULL);
	p_rv(as_chown(&usr, "f", NOUID, usr.gid, 0));
	attr("", "f", A_MODE | A_OWN);
}

static void
c_chown_symlink_nofollow(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	p_rv(as_chown(&root, "s", usr.uid, usr.gid, AT_SYMLINK_NOFOLLOW));
	attr("s", "s", A_OWN);
	attr("f", "f", A_OWN);
}

static void
c_chown_symlink_follow(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	p_rv(as_chown(&root, "s", usr.uid, usr.gid, 0));
	attr("s", "s", A_OWN);
	attr("f", "f", A_OWN);
}

/* chmod(2). */

static void
c_chmod_owner(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_path(&usr, op_chmod, "f", 0640));
	attr("", "f", A_MODE | A_OWN | A_NLINK | A_MTIME | A_CTIME);
}

static void
c_chmod_nonowner(void)
{
	fx_file("f", 0666, oth.uid, oth.gid, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 0600));
	attr("", "f", A_MODE);
}

/* The kernel drops S_ISGID, silently, for a group the caller is not in. */
static void
c_chmod_sgid_not_in_group(void)
{
	fx_file("f", 0644, usr.uid, 0, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 02755));
	attr("", "f", A_MODE);
}

static void
c_chmod_sgid_in_group(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 02755));
	attr("", "f", A_MODE);
}

static void
c_chmod_sgid_dir_not_in_group(void)
{
	fx_dir("d", 0755, usr.uid, 0);
	p_rv(as_path(&usr, op_chmod, "d", 02755));
	attr("", "d", A_MODE);
}

static void
c_chmod_suid_owner(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 04755));
	attr("", "f", A_MODE);
}

static void
c_chmod_sticky_file(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	p_rv(as_path(&usr, op_chmod, "f", 01644));
	attr("", "f", A_MODE);
}

static void
c_chmod_root_sgid(void)
{
	fx_file("f", 0644, usr.uid, oth.gid, NULL);
	p_rv(as_path(&root, op_chmod, "f", 02755));
	attr("", "f", A_MODE);
}

static void
c_chmod_symlink_nofollow(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	p_rv(run(&root, op_chmod, &(struct op){ .path = "s", .mode = 0600,
	    .flags = AT_SYMLINK_NOFOLLOW }));
	attr("s", "s", A_MODE);
	attr("f", "f", A_MODE);
}

/* Set-group-ID directories. */

static void
c_sgid_dir_creat(void)
{
	fx_dir("d", 02777, 0, oth.gid);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0666, NULL));
	attr("", "d/f", A_NODE);
}

static void
c_sgid_dir_mkdir(void)
{
	fx_dir("d", 02777, 0, oth.gid);
	p_rv(as_path(&usr, op_mkdir, "d/sub", 0777));
	attr("", "d/sub", A_NODE);
}

/* Not in the inherited group: S_ISGID asked for is dropped. */
static void
c_sgid_dir_creat_sgid(void)
{
	fx_dir("d", 02777, 0, oth.gid);
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 02755, NULL));
	attr("", "d/f", A_NODE);
}

static void
c_sgid_dir_mknod(void)
{
	fx_dir("d", 02777, 0, oth.gid);
	p_rv(as_mknod(&usr, "d/p", S_IFIFO | 0666, 0));
	attr("", "d/p", A_TYPE | A_NODE);
}

static void
c_sgid_dir_symlink(void)
{
	fx_dir("d", 02777, 0, oth.gid);
	p_rv(as_paths(&usr, op_symlink, "target", "d/s", 0));
	attr("", "d/s", A_NODE);
}

static void
c_sgid_dir_root_mkdir(void)
{
	fx_dir("d", 02755, usr.uid, oth.gid);
	p_rv(as_path(&root, op_mkdir, "d/sub", 0700));
	attr("", "d/sub", A_NODE);
}

static void
c_sgid_dir_root_creat_sgid(void)
{
	fx_dir("d", 02755, usr.uid, oth.gid);
	p_rv(as_open(&root, "d/f", O_WRONLY | O_CREAT, 02755, NULL));
	attr("", "d/f", A_NODE);
}

/* The umask. */

static void
umask_creat(mode_t mask)
{
	fx_dir("d", 0777, 0, 0);
	cur_umask = mask;
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0666, NULL));
	attr("", "d/f", A_NODE);
}

static void
c_umask022_creat(void)
{
	umask_creat(022);
}

static void
c_umask077_creat(void)
{
	umask_creat(077);
}

static void
umask_mkdir(mode_t mask)
{
	fx_dir("d", 0777, 0, 0);
	cur_umask = mask;
	p_rv(as_path(&usr, op_mkdir, "d/sub", 0777));
	attr("", "d/sub", A_NODE);
}

static void
c_umask022_mkdir(void)
{
	umask_mkdir(022);
}

static void
c_umask077_mkdir(void)
{
	umask_mkdir(077);
}

static void
umask_mknod(mode_t mask)
{
	fx_dir("d", 0777, 0, 0);
	cur_umask = mask;
	p_rv(as_mknod(&usr, "d/p", S_IFIFO | 0666, 0));
	attr("", "d/p", A_TYPE | A_NODE);
}

static void
c_umask022_mknod(void)
{
	umask_mknod(022);
}

static void
c_umask077_mknod(void)
{
	umask_mknod(077);
}

static void
c_umask077_tmpfile(void)
{
	fx_dir("d", 0777, 0, 0);
	cur_umask = 077;
	p_rv(run(&usr, op_tmpfile, &(struct op){ .path = "d", .path2 = "d/f",
	    .mode = 0666 }));
	attr("", "d/f", A_NODE);
}

static void
c_umask077_symlink(void)
{
	fx_dir("d", 0777, 0, 0);
	cur_umask = 077;
	p_rv(as_paths(&usr, op_symlink, "target", "d/s", 0));
	attr("", "d/s", A_MODE);
}

/*
 * A default ACL on the directory replaces the umask: the file gets the
 * mode asked for, masked by the ACL, not by the umask.
 */
static void
c_umask_default_acl(void)
{
	struct {
		uint32_t	 version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} e[3];
	} acl = { 2, {
		{ 0x01, 7, (uint32_t)-1 },	/* ACL_USER_OBJ */
		{ 0x04, 7, (uint32_t)-1 },	/* ACL_GROUP_OBJ */
		{ 0x20, 7, (uint32_t)-1 },	/* ACL_OTHER */
	} };

	fx_dir("d", 0777, 0, 0);
	fx_xattr("d", "system.posix_acl_default", &acl, sizeof(acl));
	cur_umask = 077;
	p_rv(as_open(&usr, "d/f", O_WRONLY | O_CREAT, 0666, NULL));
	attr("f", "d/f", A_MODE);
	p_res("mkdir", as_path(&usr, op_mkdir, "d/sub", 0777));
	attr("sub", "d/sub", A_MODE);
}

/* Writing and truncating clear set-ID bits unless the writer is root. */

static void
c_write_clears_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_open(&usr, "f", O_WRONLY, 0, "x"));
	attr("", "f", A_MODE);
}

static void
c_write_clears_suid_only(void)
{
	fx_file("f", 06764, usr.uid, usr.gid, "data");
	p_rv(as_open(&usr, "f", O_WRONLY, 0, "x"));
	attr("", "f", A_MODE);
}

static void
c_write_other_clears_setid(void)
{
	fx_file("f", 06777, oth.uid, oth.gid, "data");
	p_rv(as_open(&usr, "f", O_WRONLY, 0, "x"));
	attr("", "f", A_MODE);
}

static void
c_write_root_keeps_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_open(&root, "f", O_WRONLY, 0, "x"));
	attr("", "f", A_MODE);
}

static void
c_truncate_clears_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_truncate(&usr, "f", 1));
	attr("", "f", A_MODE | A_SIZE);
}

static void
c_ftruncate_clears_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_ftruncate(&usr, "f", O_WRONLY, 1));
	attr("", "f", A_MODE | A_SIZE);
}

static void
c_open_trunc_clears_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_open(&usr, "f", O_WRONLY | O_TRUNC, 0, NULL));
	attr("", "f", A_MODE | A_SIZE);
}

static void
c_truncate_root_keeps_setid(void)
{
	fx_file("f", 06775, usr.uid, usr.gid, "data");
	p_rv(as_truncate(&root, "f", 1));
	attr("", "f", A_MODE | A_SIZE);
}

/* mknod(2). */

static void
c_mknod_fifo_root(void)
{
	p_rv(as_mknod(&root, "p", S_IFIFO | 0640, 0));
	attr("", "p", A_TYPE | A_NODE | A_SIZE);
}

static void
c_mknod_chr_root(void)
{
	p_rv(as_mknod(&root, "c", S_IFCHR | 0600, makedev(1, 3)));
	attr("", "c", A_TYPE | A_NODE | A_RDEV);
}

static void
c_mknod_blk_root(void)
{
	p_rv(as_mknod(&root, "b", S_IFBLK | 0640, makedev(7, 0)));
	attr("", "b", A_TYPE | A_NODE | A_RDEV);
}

static void
c_mknod_chr_user(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_mknod(&usr, "d/c", S_IFCHR | 0600, makedev(1, 3)));
	p_exists("c", "d/c");
}

static void
c_mknod_fifo_user(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_mknod(&usr, "d/p", S_IFIFO | 0644, 0));
	attr("", "d/p", A_TYPE | A_NODE);
}

static void
c_mknod_reg_user(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_mknod(&usr, "d/f", S_IFREG | 0644, 0));
	attr("", "d/f", A_TYPE | A_NODE | A_SIZE);
}

static void
c_mknod_sock_user(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_mknod(&usr, "d/s", S_IFSOCK | 0644, 0));
	attr("", "d/s", A_TYPE | A_NODE);
}

static void
c_mknod_exists(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_mknod(&root, "f", S_IFIFO | 0644, 0));
	attr("", "f", A_TYPE);
}

static void
c_mknod_dir(void)
{
	p_rv(as_mknod(&root, "d", S_IFDIR | 0755, 0));
	p_exists("d", "d");
}

/* truncate(2) and ftruncate(2). */

static void
c_truncate_grow(void)
{
	fx_file("f", 0644, 0, 0, "abc");
	fx_old("f");
	snap("f");
	p_rv(as_truncate(&root, "f", 10));
	attr("", "f", A_SIZE | A_MTIME | A_CTIME);
	p_data("data", "f");
}

static void
c_truncate_shrink(void)
{
	fx_file("f", 0644, 0, 0, "abcdef");
	p_rv(as_truncate(&root, "f", 2));
	attr("", "f", A_SIZE);
	p_data("data", "f");
}

static void
c_truncate_same_size(void)
{
	fx_file("f", 0644, 0, 0, "abc");
	fx_old("f");
	snap("f");
	p_rv(as_truncate(&root, "f", 3));
	attr("", "f", A_SIZE | A_MTIME);
}

static void
c_truncate_negative(void)
{
	fx_file("f", 0644, 0, 0, "abc");
	p_rv(as_truncate(&root, "f", -1));
	attr("", "f", A_SIZE);
}

static void
c_truncate_dir(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_truncate(&root, "d", 0));
}

static void
c_truncate_fifo(void)
{
	fx_node("p", S_IFIFO | 0666, 0);
	p_rv(as_truncate(&root, "p", 0));
}

static void
c_truncate_through_symlink(void)
{
	fx_file("f", 0644, 0, 0, "abc");
	fx_symlink("f", "s");
	p_rv(as_truncate(&root, "s", 1));
	attr("f", "f", A_SIZE);
}

static void
c_truncate_user_noperm(void)
{
	fx_file("f", 0444, usr.uid, usr.gid, "abc");
	p_rv(as_truncate(&usr, "f", 0));
	attr("", "f", A_SIZE);
}

static void
c_ftruncate_grow(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, "abc");
	fx_old("f");
	snap("f");
	p_rv(as_ftruncate(&usr, "f", O_RDWR, 8192));
	attr("", "f", A_SIZE | A_MTIME | A_CTIME);
}

static void
c_ftruncate_rdonly(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	p_rv(as_ftruncate(&usr, "f", O_RDONLY, 0));
	attr("", "f", A_SIZE);
}

static void
c_ftruncate_opath(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	p_rv(as_ftruncate(&root, "f", O_PATH, 0));
	attr("", "f", A_SIZE);
}

static void
c_ftruncate_negative(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	p_rv(as_ftruncate(&root, "f", O_WRONLY, -1));
	attr("", "f", A_SIZE);
}

static void
c_write_mtime(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	fx_old("f");
	snap("f");
	p_rv(as_open(&usr, "f", O_WRONLY, 0, "x"));
	attr("", "f", A_SIZE | A_MTIME | A_CTIME);
	p_data("data", "f");
}

const struct check attr_checks[] = {
#define C(n)	{ #n, c_##n }
	C(utimens_owner_now),
	C(utimens_owner_set),
	C(utimens_omit_atime),
	C(utimens_omit_mtime),
	C(utimens_omit_both),
	C(utimens_writer_null),
	C(utimens_writer_now_now),
	C(utimens_writer_now_omit),
	C(utimens_writer_set),
	C(utimens_reader_null),
	C(utimens_reader_now_now),
	C(utimens_reader_set),
	C(utimens_root_set),
	C(utimens_symlink_nofollow),
	C(utimens_bad_nsec),
	C(chown_owner_own_group),
	C(chown_owner_other_group),
	C(chown_owner_other_uid),
	C(chown_owner_same),
	C(chown_owner_noop),
	C(chown_nonowner),
	C(chown_root_clears_setid),
	C(chown_root_sgid_no_gx),
	C(chown_root_noop_setid),
	C(chown_root_dir_keeps_setid),
	C(chown_owner_clears_setid),
	C(chown_symlink_nofollow),
	C(chown_symlink_follow),
	C(chmod_owner),
	C(chmod_nonowner),
	C(chmod_sgid_not_in_group),
	C(chmod_sgid_in_group),
	C(chmod_sgid_dir_not_in_group),
	C(chmod_suid_owner),
	C(chmod_sticky_file),
	C(chmod_root_sgid),
	C(chmod_symlink_nofollow),
	C(sgid_dir_creat),
	C(sgid_dir_mkdir),
	C(sgid_dir_creat_sgid),
	C(sgid_dir_mknod),
	C(sgid_dir_symlink),
	C(sgid_dir_root_mkdir),
	C(sgid_dir_root_creat_sgid),
	C(umask022_creat),
	C(umask077_creat),
	C(umask022_mkdir),
	C(umask077_mkdir),
	C(umask022_mknod),
	C(umask077_mknod),
	C(umask077_tmpfile),
	C(umask077_symlink),
	C(umask_default_acl),
	C(write_clears_setid),
	C(write_clears_suid_only),
	C(write_other_clears_setid),
	C(write_root_keeps_setid),
	C(truncate_clears_setid),
	C(ftruncate_clears_setid),
	C(open_trunc_clears_setid),
	C(truncate_root_keeps_setid),
	C(mknod_fifo_root),
	C(mknod_chr_root),
	C(mknod_blk_root),
	C(mknod_chr_user),
	C(mknod_fifo_user),
	C(mknod_reg_user),
	C(mknod_sock_user),
	C(mknod_exists),
	C(mknod_dir),
	C(truncate_grow),
	C(truncate_shrink),
	C(truncate_same_size),
	C(truncate_negative),
	C(truncate_dir),
	C(truncate_fifo),
	C(truncate_through_symlink),
	C(truncate_user_noperm),
	C(ftruncate_grow),
	C(ftruncate_rdonly),
	C(ftruncate_opath),
	C(ftruncate_negative),
	C(write_mtime),
#undef C
};

const size_t attr_nchecks = sizeof(attr_checks) / sizeof(attr_checks[0]);
