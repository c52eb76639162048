/*
 * Running an operation as someone: in a child with that user's ids,
 * groups and umask, reporting the return value and errno back.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

static void
become(const struct who *w)
{
	gid_t	 groups[2];
	int	 n = 1;

	groups[0] = w->gid;
	if (cur_extra != NOGID)
		groups[n++] = cur_extra;
	if (setgroups(n, groups) == -1 ||
	    setresgid(w->gid, w->gid, w->gid) == -1 ||
	    setresuid(w->uid, w->uid, w->uid) == -1)
		err(1, "become %s", w->name);
	umask(cur_umask);
}

struct res
run(const struct who *w, opfn *fn, const struct op *op)
{
	struct res	 r;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], status;

	fx_done();
	memset(&r, 0, sizeof(r));
	if (pipe(p) == -1)
		err(1, "pipe");
	fflush(stdout);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(p[0]);
		alarm(10);
		become(w);
		errno = 0;
		r.rv = fn(op);
		r.err = r.rv == -1 ? errno : 0;
		r.done = 1;
		_exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], &r, sizeof(r));
	if (n != (ssize_t)sizeof(r))
		memset(&r, 0, sizeof(r));
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return r;
}

/* The operations, each returning 0 or -1 with errno. */

int
op_open(const struct op *op)
{
	size_t	 len = op->data != NULL ? strlen(op->data) : 0;
	int	 fd, rv = 0;

	if ((fd = open(op->path, op->flags, op->mode)) == -1)
		return -1;
	if (op->how == HOW_FTRUNC)
		rv = ftruncate(fd, op->len);
	else if (op->how == HOW_PWRITE0)
		rv = pwrite(fd, op->data, len, 0) == (ssize_t)len ? 0 : -1;
	else if (len > 0) {
		if (op->how == HOW_SEEK0 && lseek(fd, 0, SEEK_SET) == -1)
			rv = -1;
		else if (write(fd, op->data, len) != (ssize_t)len)
			rv = -1;
	}
	if (close(fd) == -1)
		rv = -1;
	return rv;
}

/* An unnamed file in path, written, then linked as path2. */
int
op_tmpfile(const struct op *op)
{
	char	 proc[64];
	size_t	 len = op->data != NULL ? strlen(op->data) : 0;
	int	 fd, rv = 0;

	if ((fd = open(op->path, O_TMPFILE | O_WRONLY, op->mode)) == -1)
		return -1;
	if (len > 0 && write(fd, op->data, len) != (ssize_t)len)
		rv = -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (rv == 0 && linkat(AT_FDCWD, proc, AT_FDCWD, op->path2,
	    AT_SYMLINK_FOLLOW) == -1)
		rv = -1;
	close(fd);
	return rv;
}

int
op_mkdir(const struct op *op)
{
	return mkdir(op->path, op->mode);
}

int
op_mknod(const struct op *op)
{
	return mknod(op->path, op->mode, op->dev);
}

/* path is the target, path2 the link. */
int
op_symlink(const struct op *op)
{
	return symlink(op->path, op->path2);
}

int
op_link(const struct op *op)
{
	return linkat(AT_FDCWD, op->path, AT_FDCWD, op->path2, op->flags);
}

int
op_unlink(const struct op *op)
{
	return unlink(op->path);
}

int
op_rmdir(const struct op *op)
{
	return rmdir(op->path);
}

int
op_rename(const struct op *op)
{
	return renameat2(AT_FDCWD, op->path, AT_FDCWD, op->path2, op->flags);
}

int
op_chmod(const struct op *op)
{
	return fchmodat(AT_FDCWD, op->path, op->mode, op->flags);
}

int
op_chown(const struct op *op)
{
	return fchownat(AT_FDCWD, op->path, op->uid, op->gid, op->flags);
}

int
op_utimens(const struct op *op)
{
	return utimensat(AT_FDCWD, op->path, op->ts, op->flags);
}

int
op_truncate(const struct op *op)
{
	return truncate(op->path, op->len);
}

int
op_setxattr(const struct op *op)
{
	return lsetxattr(op->path, op->path2, op->data, strlen(op->data),
	    op->flags);
}

int
op_getxattr(const struct op *op)
{
	char	 buf[256];

	return lgetxattr(op->path, op->path2, buf, sizeof(buf)) == -1 ?
	    -1 : 0;
}

int
op_removexattr(const struct op *op)
{
	return lremovexattr(op->path, op->path2);
}

int
op_access(const struct op *op)
{
	return faccessat(AT_FDCWD, op->path, op->mode, op->flags);
}

int
op_stat(const struct op *op)
{
	struct stat	 st;

	return fstatat(AT_FDCWD, op->path, &st, op->flags);
}

int
op_opendir(const struct op *op)
{
	DIR	*d;

	if ((d = opendir(op->path)) == NULL)
		return -1;
	while (readdir(d) != NULL)
		;
	closedir(d);
	return 0;
}

/* Shorthands for the common calls. */

struct res
as_open(const struct who *w, const char *path, int flags, mode_t mode,
    const char *data)
{
	struct op	 op = { .path = path, .flags = flags, .mode = mode,
			    .data = data };

	return run(w, op_open, &op);
}

struct res
as_path(const struct who *w, opfn *fn, const char *path, mode_t mode)
{
	struct op	 op = { .path = path, .mode = mode };

	return run(w, fn, &op);
}

struct res
as_paths(const struct who *w, opfn *fn, const char *path,
    const char *path2, int flags)
{
	struct op	 op = { .path = path, .path2 = path2, .flags = flags };

	return run(w, fn, &op);
}

struct res
as_mknod(const struct who *w, const char *path, mode_t mode, dev_t dev)
{
	struct op	 op = { .path = path, .mode = mode, .dev = dev };

	return run(w, op_mknod, &op);
}

struct res
as_chown(const struct who *w, const char *path, uid_t uid, gid_t gid,
    int flags)
{
	struct op	 op = { .path = path, .uid = uid, .gid = gid,
			    .flags = flags };

	return run(w, op_chown, &op);
}

struct res
as_utimens(const struct who *w, const char *path,
    const struct timespec *ts, int flags)
{
	struct op	 op = { .path = path, .ts = ts, .flags = flags };

	return run(w, op_utimens, &op);
}

struct res
as_truncate(const struct who *w, const char *path, off_t len)
{
	struct op	 op = { .path = path, .len = len };

	return run(w, op_truncate, &op);
}

struct res
as_ftruncate(const struct who *w, const char *path, int flags, off_t len)
{
	struct op	 op = { .path = path, .flags = flags, .len = len,
			    .how = HOW_FTRUNC };

	return run(w, op_open, &op);
}

struct res
as_setxattr(const struct who *w, const char *path, const char *name,
    const char *value)
{
	struct op	 op = { .path = path, .path2 = name, .data = value };

	return run(w, op_setxattr, &op);
}

struct res
as_access(const struct who *w, const char *path, int mode)
{
	struct op	 op = { .path = path, .mode = mode };

	return run(w, op_access, &op);
}
