/*
 * Fixtures, made by root, in the check's directory or with -F in its
 * twin in FIXDIR.  A failure ends the check with a line that says so;
 * the next check goes on.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

void
fx_fail(const char *what, const char *path)
{
	int	 e = errno;

	if (!in_line)
		printf("?:");
	printf(" fixture=%s(%s):%s\n", what, path, ename(e));
	fflush(stdout);
	in_line = 0;
	longjmp(fxjmp, 1);
}

void
fx_own(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	fx_check_early("chown");
	if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) == -1)
		fx_fail("chown", path);
	if (mode != (mode_t)-1 && chmod(path, mode) == -1)
		fx_fail("chmod", path);
}

void
fx_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	fx_check_early("mkdir");
	if (mkdir(path, 0700) == -1)
		fx_fail("mkdir", path);
	fx_own(path, uid, gid, mode);
}

void
fx_file(const char *path, mode_t mode, uid_t uid, gid_t gid,
    const char *data)
{
	size_t	 len = data != NULL ? strlen(data) : 0;
	int	 fd;

	fx_check_early("open");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		fx_fail("open", path);
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		fx_fail("write", path);
	close(fd);
	fx_own(path, uid, gid, mode);
}

void
fx_symlink(const char *target, const char *path)
{
	fx_check_early("symlink");
	if (symlink(target, path) == -1)
		fx_fail("symlink", path);
}

void
fx_node(const char *path, mode_t mode, dev_t dev)
{
	fx_check_early("mknod");
	if (mknod(path, mode, dev) == -1)
		fx_fail("mknod", path);
}

void
fx_link(const char *path, const char *path2)
{
	fx_check_early("link");
	if (link(path, path2) == -1)
		fx_fail("link", path);
}

/* Old times, so that any change shows. */
void
fx_old(const char *path)
{
	struct timespec	 ts[2] = { { T0_SEC, 0 }, { T0_SEC, 0 } };

	fx_check_early("utimensat");
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == -1)
		fx_fail("utimensat", path);
}

void
fx_xattr(const char *path, const char *name, const void *val, size_t len)
{
	fx_check_early("setxattr");
	if (lsetxattr(path, name, val, len, 0) == -1)
		fx_fail("setxattr", path);
}

/*
 * The state the check compares with.  The pause lets a coarse clock move
 * on, so that a ctime the operation sets differs from the fixture's.
 */
void
snap(const char *path)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };

	fx_done();
	if (fstatat(AT_FDCWD, path, &before, AT_SYMLINK_NOFOLLOW) == -1)
		fx_fail("stat", path);
	nanosleep(&ts, NULL);
}
