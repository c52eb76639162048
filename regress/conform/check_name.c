/*
 * Checks on names: hard links, renames, open flags, symlinks, name and
 * path lengths, directories.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

/* Hard links. */

static void
c_link_count(void)
{
	fx_dir("d", 0777, 0, 0);
	fx_file("d/f", 0644, usr.uid, usr.gid, "data");
	fx_old("d/f");
	fx_old("d");
	snap("d/f");
	p_rv(as_paths(&usr, op_link, "d/f", "d/g", 0));
	attr("f", "d/f", A_NLINK | A_MTIME | A_CTIME);
	attr("g", "d/g", A_NODE | A_SIZE);
	snap("d/f");
	p_res("unlink", as_path(&usr, op_unlink, "d/g", 0));
	attr("after", "d/f", A_NLINK | A_CTIME);
	p_exists("g", "d/g");
}

static void
c_link_dir(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_paths(&root, op_link, "d", "e", 0));
	attr("d", "d", A_NLINK);
	p_exists("e", "e");
}

static void
c_link_missing(void)
{
	p_rv(as_paths(&root, op_link, "none", "g", 0));
	p_exists("g", "g");
}

static void
c_link_exists(void)
{
	fx_file("f", 0644, 0, 0, "f");
	fx_file("g", 0644, 0, 0, "g");
	p_rv(as_paths(&root, op_link, "f", "g", 0));
	p_data("g", "g");
	attr("f", "f", A_NLINK);
}

static void
c_link_into_missing_dir(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_link, "f", "none/g", 0));
}

/* linkat without AT_SYMLINK_FOLLOW links the symlink itself. */
static void
c_link_symlink(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	p_rv(as_paths(&root, op_link, "s", "t", 0));
	attr("t", "t", A_TYPE | A_NLINK);
	attr("f", "f", A_NLINK);
}

static void
c_link_symlink_follow(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_symlink("f", "s");
	p_rv(as_paths(&root, op_link, "s", "t", AT_SYMLINK_FOLLOW));
	attr("t", "t", A_TYPE | A_NLINK);
}

static void
c_link_cross_dir(void)
{
	fx_dir("a", 0755, 0, 0);
	fx_dir("b", 0755, 0, 0);
	fx_file("a/f", 0644, 0, 0, "x");
	p_rv(as_paths(&root, op_link, "a/f", "b/f", 0));
	attr("f", "b/f", A_NODE | A_SIZE);
}

/* Renames. */

static void
c_rename_file_over_file(void)
{
	fx_file("a", 0600, usr.uid, usr.gid, "a");
	fx_file("b", 0644, oth.uid, oth.gid, "b");
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	p_exists("a", "a");
	attr("b", "b", A_NODE);
	p_data("b", "b");
}

static void
c_rename_over_hardlink(void)
{
	fx_file("a", 0644, 0, 0, "a");
	fx_link("a", "b");
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	p_exists("a", "a");
	attr("b", "b", A_NLINK);
}

static void
c_rename_ctime(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0644, 0, 0, NULL);
	fx_old("d/f");
	fx_old("d");
	snap("d/f");
	p_rv(as_paths(&root, op_rename, "d/f", "d/g", 0));
	attr("g", "d/g", A_MTIME | A_CTIME);
	attr("d", "d", A_MTIME);
}

static void
c_rename_dir_over_empty(void)
{
	fx_dir("a", 0755, 0, 0);
	fx_file("a/x", 0644, 0, 0, NULL);
	fx_dir("b", 0700, usr.uid, usr.gid);
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	p_exists("a", "a");
	attr("b", "b", A_NODE);
	p_exists("b/x", "b/x");
	attr("top", ".", A_NLINK);
}

static void
c_rename_dir_over_nonempty(void)
{
	fx_dir("a", 0755, 0, 0);
	fx_dir("b", 0755, 0, 0);
	fx_file("b/x", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	p_exists("a", "a");
	p_exists("b/x", "b/x");
}

static void
c_rename_file_over_dir(void)
{
	fx_file("a", 0644, 0, 0, NULL);
	fx_dir("b", 0755, 0, 0);
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	attr("b", "b", A_TYPE);
}

static void
c_rename_dir_over_file(void)
{
	fx_dir("a", 0755, 0, 0);
	fx_file("b", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_rename, "a", "b", 0));
	attr("b", "b", A_TYPE);
}

static void
c_rename_dir_into_self(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_paths(&root, op_rename, "d", "d/sub", 0));
	p_exists("d", "d");
}

static void
c_rename_dir_into_descendant(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_dir("d/a", 0755, 0, 0);
	p_rv(as_paths(&root, op_rename, "d", "d/a/b", 0));
	p_exists("d", "d");
}

static void
c_rename_noreplace(void)
{
	fx_file("a", 0644, 0, 0, "a");
	fx_file("b", 0644, 0, 0, "b");
	p_rv(as_paths(&root, op_rename, "a", "b", RENAME_NOREPLACE));
	p_data("a", "a");
	p_data("b", "b");
}

static void
c_rename_noreplace_new(void)
{
	fx_file("a", 0644, 0, 0, "a");
	p_rv(as_paths(&root, op_rename, "a", "b", RENAME_NOREPLACE));
	p_exists("a", "a");
	p_data("b", "b");
}

static void
c_rename_exchange(void)
{
	fx_file("f", 0640, usr.uid, usr.gid, "f");
	fx_dir("d", 0750, oth.uid, oth.gid);
	fx_file("d/x", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_rename, "f", "d", RENAME_EXCHANGE));
	attr("f", "f", A_TYPE | A_NODE);
	attr("d", "d", A_TYPE | A_NODE);
	p_exists("f/x", "f/x");
	p_data("d", "d");
}

static void
c_rename_exchange_missing(void)
{
	fx_file("a", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_rename, "a", "b", RENAME_EXCHANGE));
	p_exists("a", "a");
	p_exists("b", "b");
}

static void
c_rename_self(void)
{
	fx_file("f", 0644, 0, 0, "f");
	p_rv(as_paths(&root, op_rename, "f", "f", 0));
	attr("f", "f", A_NODE);
}

static void
c_rename_dot(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_paths(&root, op_rename, "d/.", "e", 0));
	p_exists("d", "d");
}

static void
c_rename_dir_nlink(void)
{
	fx_dir("p1", 0755, 0, 0);
	fx_dir("p1/sub", 0755, 0, 0);
	fx_dir("p2", 0755, 0, 0);
	p_rv(as_paths(&root, op_rename, "p1/sub", "p2/sub", 0));
	attr("p1", "p1", A_NLINK);
	attr("p2", "p2", A_NLINK);
}

static void
c_rename_whiteout(void)
{
	fx_file("a", 0644, 0, 0, "a");
	p_rv(as_paths(&root, op_rename, "a", "b", RENAME_WHITEOUT));
	attr("a", "a", A_TYPE | A_RDEV);
	p_data("b", "b");
}

/* Open flags. */

static void
c_open_excl_existing(void)
{
	fx_file("f", 0644, 0, 0, "f");
	p_rv(as_open(&root, "f", O_WRONLY | O_CREAT | O_EXCL, 0644, NULL));
	p_data("data", "f");
}

static void
c_open_excl_dir(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_open(&root, "d", O_RDONLY | O_CREAT | O_EXCL, 0644, NULL));
}

/* O_EXCL does not follow a dangling symlink. */
static void
c_open_excl_dangling(void)
{
	fx_symlink("target", "s");
	p_rv(as_open(&root, "s", O_WRONLY | O_CREAT | O_EXCL, 0644, NULL));
	p_exists("target", "target");
}

static void
c_open_creat_dangling(void)
{
	fx_symlink("target", "s");
	p_rv(as_open(&root, "s", O_WRONLY | O_CREAT, 0644, "x"));
	attr("target", "target", A_TYPE | A_SIZE);
}

static void
c_open_trunc(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, "0123456789");
	fx_old("f");
	snap("f");
	p_rv(as_open(&usr, "f", O_WRONLY | O_TRUNC, 0, NULL));
	attr("", "f", A_SIZE | A_MTIME | A_CTIME);
}

static void
c_open_trunc_empty(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, NULL);
	fx_old("f");
	snap("f");
	p_rv(as_open(&usr, "f", O_WRONLY | O_TRUNC, 0, NULL));
	attr("", "f", A_SIZE | A_MTIME);
}

/* Linux truncates even when the file is opened only for reading. */
static void
c_open_trunc_rdonly(void)
{
	fx_file("f", 0644, usr.uid, usr.gid, "0123456789");
	p_rv(as_open(&usr, "f", O_RDONLY | O_TRUNC, 0, NULL));
	attr("", "f", A_SIZE);
}

static void
c_open_append(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	p_rv(run(&usr, op_open, &(struct op){ .path = "f",
	    .flags = O_WRONLY | O_APPEND, .data = "XY", .how = HOW_SEEK0 }));
	p_data("data", "f");
}

/* Linux appends on pwrite(2) to an O_APPEND descriptor, offset or not. */
static void
c_open_append_pwrite(void)
{
	fx_file("f", 0666, 0, 0, "abc");
	p_rv(run(&usr, op_open, &(struct op){ .path = "f",
	    .flags = O_WRONLY | O_APPEND, .data = "XY",
	    .how = HOW_PWRITE0 }));
	p_data("data", "f");
}

static void
c_open_nofollow(void)
{
	fx_file("f", 0644, 0, 0, "f");
	fx_symlink("f", "s");
	p_rv(as_open(&root, "s", O_RDONLY | O_NOFOLLOW, 0, NULL));
}

static void
c_open_nofollow_creat(void)
{
	fx_file("f", 0644, 0, 0, "f");
	fx_symlink("f", "s");
	p_rv(as_open(&root, "s", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644, "x"));
	p_data("f", "f");
}

static void
c_open_nofollow_path(void)
{
	fx_symlink("f", "s");
	p_rv(as_open(&root, "s", O_PATH | O_NOFOLLOW, 0, NULL));
}

static void
c_open_directory_file(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_open(&root, "f", O_RDONLY | O_DIRECTORY, 0, NULL));
}

static void
c_open_write_dir(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_open(&root, "d", O_WRONLY, 0, NULL));
}

static void
c_open_creat_slash(void)
{
	p_rv(as_open(&root, "new/", O_WRONLY | O_CREAT, 0644, NULL));
	p_exists("new", "new");
}

static void
c_open_tmpfile(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(run(&usr, op_tmpfile, &(struct op){ .path = "d", .path2 = "d/f",
	    .mode = 0640, .data = "t" }));
	attr("f", "d/f", A_TYPE | A_NODE);
	p_data("data", "d/f");
}

/* Symlinks. */

static void
c_symlink_loop_pair(void)
{
	fx_symlink("b", "a");
	fx_symlink("a", "b");
	p_rv(as_open(&root, "a", O_RDONLY, 0, NULL));
	p_res("stat", as_path(&root, op_stat, "a", 0));
	p_res("creat", as_open(&root, "a", O_WRONLY | O_CREAT, 0644, NULL));
}

static void
c_symlink_loop_self(void)
{
	fx_symlink("s", "s");
	p_rv(as_open(&root, "s", O_RDONLY, 0, NULL));
	p_res("stat", as_path(&root, op_stat, "s", 0));
	p_res("lstat", run(&root, op_stat, &(struct op){ .path = "s",
	    .flags = AT_SYMLINK_NOFOLLOW }));
}

/*
 * A chain of n symlinks ending in a file: 41 are never followed, 20 are.
 * Not 40: when a lookup falls back from RCU mode and starts again, Linux
 * (6.18) goes on counting the links the first try followed, so that a
 * chain of 21 to 40 fails with ELOOP now and then, on any file system.
 */
static void
symlink_chain(int n)
{
	char	 a[16], b[16];
	int	 i;

	fx_file("l0", 0644, 0, 0, "end");
	for (i = 1; i <= n; i++) {
		snprintf(a, sizeof(a), "l%d", i - 1);
		snprintf(b, sizeof(b), "l%d", i);
		fx_symlink(a, b);
	}
	snprintf(b, sizeof(b), "l%d", n);
	p_rv(as_open(&root, b, O_RDONLY, 0, NULL));
}

static void
c_symlink_chain_20(void)
{
	symlink_chain(20);
}

static void
c_symlink_chain_41(void)
{
	symlink_chain(41);
}

static void
c_symlink_readlink(void)
{
	fx_symlink("some/where/../target", "s");
	p_readlink("target", "s");
	attr("", "s", A_TYPE | A_MODE | A_SIZE);
}

static void
c_symlink_by_user(void)
{
	fx_dir("d", 0777, 0, 0);
	p_rv(as_paths(&usr, op_symlink, "/elsewhere", "d/s", 0));
	attr("s", "d/s", A_TYPE | A_NODE | A_SIZE);
	p_readlink("target", "d/s");
}

static void
c_symlink_exists(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_paths(&root, op_symlink, "target", "f", 0));
	attr("f", "f", A_TYPE);
}

static void
c_symlink_dir_trailing_slash(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/x", 0644, 0, 0, NULL);
	fx_symlink("d", "s");
	p_res("stat", as_path(&root, op_stat, "s/", 0));
	p_res("lstat", run(&root, op_stat, &(struct op){ .path = "s/",
	    .flags = AT_SYMLINK_NOFOLLOW }));
	p_names("names", "s/");
}

/* Name and path lengths. */

static void
c_name_too_long(void)
{
	char	 name[257];

	memset(name, 'n', 256);
	name[256] = '\0';
	p_rv(as_open(&root, name, O_WRONLY | O_CREAT, 0644, NULL));
	p_res("mkdir", as_path(&root, op_mkdir, name, 0755));
	p_res("stat", as_path(&root, op_stat, name, 0));
	p_res("symlink", as_paths(&root, op_symlink, "t", name, 0));
}

static void
c_name_max(void)
{
	char	 name[256];

	memset(name, 'n', 255);
	name[255] = '\0';
	p_rv(as_open(&root, name, O_WRONLY | O_CREAT, 0644, NULL));
	p_exists("exists", name);
	p_res("unlink", as_path(&root, op_unlink, name, 0));
}

static void
c_path_too_long(void)
{
	char	 path[PATH_MAX + 16];
	size_t	 i;

	fx_dir("d", 0755, 0, 0);
	for (i = 0; i + 2 < sizeof(path) - 1; i += 2)
		memcpy(path + i, "./", 2);
	path[i] = 'f';
	path[i + 1] = '\0';
	p_rv(as_open(&root, path, O_WRONLY | O_CREAT, 0644, NULL));
	p_res("stat", as_path(&root, op_stat, path, 0));
}

/* Directories. */

static void
c_dir_mkdir_nlink(void)
{
	fx_dir("p", 0755, 0, 0);
	fx_old("p");
	snap("p");
	p_rv(as_path(&root, op_mkdir, "p/sub", 0755));
	attr("p", "p", A_NLINK | A_MTIME | A_CTIME);
	attr("sub", "p/sub", A_NODE | A_TYPE);
}

static void
c_dir_rmdir_nlink(void)
{
	fx_dir("p", 0755, 0, 0);
	fx_dir("p/sub", 0755, 0, 0);
	fx_old("p");
	snap("p");
	p_rv(as_path(&root, op_rmdir, "p/sub", 0));
	attr("p", "p", A_NLINK | A_MTIME | A_CTIME);
}

static void
c_dir_rmdir_nonempty(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/f", 0644, 0, 0, NULL);
	p_rv(as_path(&root, op_rmdir, "d", 0));
}

static void
c_dir_rmdir_file(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_path(&root, op_rmdir, "f", 0));
}

static void
c_dir_rmdir_dot(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_path(&root, op_rmdir, "d/.", 0));
}

static void
c_dir_unlink_dir(void)
{
	fx_dir("d", 0755, 0, 0);
	p_rv(as_path(&root, op_unlink, "d", 0));
}

static void
c_dir_mkdir_exists(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	p_rv(as_path(&root, op_mkdir, "f", 0755));
}

static void
c_dir_readdir(void)
{
	fx_dir("d", 0755, 0, 0);
	fx_file("d/b", 0644, 0, 0, NULL);
	fx_file("d/a", 0644, 0, 0, NULL);
	fx_dir("d/c", 0755, 0, 0);
	fx_symlink("x", "d/l");
	fx_node("d/p", S_IFIFO | 0644, 0);
	p_names("names", "d");
}

static void
c_unlink_ctime_nlink(void)
{
	fx_file("f", 0644, 0, 0, NULL);
	fx_link("f", "g");
	snap("f");
	p_rv(as_path(&root, op_unlink, "g", 0));
	attr("f", "f", A_NLINK | A_CTIME);
}

const struct check name_checks[] = {
#define C(n)	{ #n, c_##n }
	C(link_count),
	C(link_dir),
	C(link_missing),
	C(link_exists),
	C(link_into_missing_dir),
	C(link_symlink),
	C(link_symlink_follow),
	C(link_cross_dir),
	C(rename_file_over_file),
	C(rename_over_hardlink),
	C(rename_ctime),
	C(rename_dir_over_empty),
	C(rename_dir_over_nonempty),
	C(rename_file_over_dir),
	C(rename_dir_over_file),
	C(rename_dir_into_self),
	C(rename_dir_into_descendant),
	C(rename_noreplace),
	C(rename_noreplace_new),
	C(rename_exchange),
	C(rename_exchange_missing),
	C(rename_self),
	C(rename_dot),
	C(rename_dir_nlink),
	C(rename_whiteout),
	C(open_excl_existing),
	C(open_excl_dir),
	C(open_excl_dangling),
	C(open_creat_dangling),
	C(open_trunc),
	C(open_trunc_empty),
	C(open_trunc_rdonly),
	C(open_append),
	C(open_append_pwrite),
	C(open_nofollow),
	C(open_nofollow_creat),
	C(open_nofollow_path),
	C(open_directory_file),
	C(open_write_dir),
	C(open_creat_slash),
	C(open_tmpfile),
	C(symlink_loop_pair),
	C(symlink_loop_self),
	C(symlink_chain_20),
	C(symlink_chain_41),
	C(symlink_readlink),
	C(symlink_by_user),
	C(symlink_exists),
	C(symlink_dir_trailing_slash),
	C(name_too_long),
	C(name_max),
	C(path_too_long),
	C(dir_mkdir_nlink),
	C(dir_rmdir_nlink),
	C(dir_rmdir_nonempty),
	C(dir_rmdir_file),
	C(dir_rmdir_dot),
	C(dir_unlink_dir),
	C(dir_mkdir_exists),
	C(dir_readdir),
	C(unlink_ctime_nlink),
#undef C
};

const size_t name_nchecks = sizeof(name_checks) / sizeof(name_checks[0]);
