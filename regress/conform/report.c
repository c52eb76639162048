/*
 * What a check prints: results, attributes as root sees them, and
 * timestamps only as relations, so that two runs compare line by line.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

const char *
ename(int e)
{
	static char	 buf[32];
	const char	*s;

	if ((s = strerrorname_np(e)) != NULL)
		return s;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

void
begin(const char *name)
{
	printf("%s:", name);
	in_line = 1;
}

void
end(void)
{
	printf("\n");
	fflush(stdout);
	in_line = 0;
}

void
out(const char *fmt, ...)
{
	va_list	 ap;

	putchar(' ');
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* The main result: rv=0, or rv=-1 errno=NAME. */
void
p_rv(struct res r)
{
	if (!r.done)
		out("rv=nothing");
	else if (r.rv == 0)
		out("rv=0");
	else
		out("rv=%d errno=%s", r.rv, ename(r.err));
}

/* A secondary result: label=0 or label=NAME. */
void
p_res(const char *label, struct res r)
{
	if (!r.done)
		out("%s=nothing", label);
	else if (r.rv == 0)
		out("%s=0", label);
	else
		out("%s=%s", label, ename(r.err));
}

static const char *
type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:	return "reg";
	case S_IFDIR:	return "dir";
	case S_IFLNK:	return "lnk";
	case S_IFIFO:	return "fifo";
	case S_IFCHR:	return "chr";
	case S_IFBLK:	return "blk";
	case S_IFSOCK:	return "sock";
	default:	return "unknown";
	}
}

static int
ts_eq(const struct timespec *a, long sec, long nsec)
{
	return a->tv_sec == sec && a->tv_nsec == nsec;
}

/* A timestamp as a relation to the snapshot, the set value, or now. */
static const char *
ts_rel(const struct timespec *t, const struct timespec *was)
{
	time_t	 now = time(NULL);

	if (was != NULL && ts_eq(t, was->tv_sec, was->tv_nsec))
		return "unchanged";
	if (ts_eq(t, T1_SEC, T1_NSEC))
		return "set";
	if (ts_eq(t, T0_SEC, 0))
		return "old";
	if (t->tv_sec >= now - NOW_SLACK && t->tv_sec <= now + NOW_SLACK)
		return "now";
	return "other";
}

static void
p_label(const char *label, const char *key)
{
	if (label != NULL && *label != '\0')
		out("%s.%s=", label, key);
	else
		out("%s=", key);
}

/*
 * What root sees of path (not following a last symlink); times are
 * relative to the last snap().
 */
void
attr(const char *label, const char *path, int what)
{
	struct stat	 st;

	fx_done();
	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		p_label(label, "stat");
		printf("%s", ename(errno));
		return;
	}
	if (what & A_TYPE) {
		p_label(label, "type");
		printf("%s", type_name(st.st_mode));
	}
	if (what & A_MODE) {
		p_label(label, "mode");
		printf("%04o", (unsigned int)(st.st_mode & 07777));
	}
	if (what & A_OWN) {
		p_label(label, "uid");
		printf("%u", (unsigned int)st.st_uid);
		p_label(label, "gid");
		printf("%u", (unsigned int)st.st_gid);
	}
	if (what & A_NLINK) {
		p_label(label, "nlink");
		printf("%lu", (unsigned long)st.st_nlink);
	}
	if (what & A_SIZE) {
		p_label(label, "size");
		printf("%lld", (long long)st.st_size);
	}
	if (what & A_RDEV) {
		p_label(label, "rdev");
		printf("%u,%u", major(st.st_rdev), minor(st.st_rdev));
	}
	if (what & A_ATIME) {
		p_label(label, "atime");
		printf("%s", ts_rel(&st.st_atim, &before.st_atim));
	}
	if (what & A_MTIME) {
		p_label(label, "mtime");
		printf("%s", ts_rel(&st.st_mtim, &before.st_mtim));
	}
	if (what & A_CTIME) {
		p_label(label, "ctime");
		printf("%s", ts_rel(&st.st_ctim, &before.st_ctim));
	}
}

void
p_exists(const char *label, const char *path)
{
	struct stat	 st;

	fx_done();
	out("%s=%s", label, fstatat(AT_FDCWD, path, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 ? "yes" : ename(errno));
}

/* The first bytes of a file, escaped so the line stays one line. */
void
p_data(const char *label, const char *path)
{
	unsigned char	 buf[64];
	ssize_t		 n, i;
	int		 fd;

	fx_done();
	out("%s=", label);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) == -1) {
		printf("%s", ename(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n == -1)
		printf("%s", ename(errno));
	for (i = 0; i < n; i++) {
		if (buf[i] > ' ' && buf[i] < 127 && buf[i] != '\\')
			putchar(buf[i]);
		else
			printf("\\%03o", buf[i]);
	}
	printf("%s", n == 0 ? "''" : "");
	close(fd);
}

void
p_readlink(const char *label, const char *path)
{
	char	 buf[PATH_MAX];
	ssize_t	 n;

	fx_done();
	if ((n = readlink(path, buf, sizeof(buf) - 1)) == -1) {
		out("%s=%s", label, ename(errno));
		return;
	}
	buf[n] = '\0';
	out("%s='%s'", label, buf);
}

void
p_xattr(const char *label, const char *path, const char *name)
{
	char	 buf[256];
	ssize_t	 n;

	fx_done();
	if ((n = lgetxattr(path, name, buf, sizeof(buf) - 1)) == -1) {
		out("%s=%s", label, ename(errno));
		return;
	}
	buf[n] = '\0';
	out("%s='%s'", label, buf);
}

void
p_xattrs(const char *label, const char *path)
{
	char	 buf[1024], *p;
	ssize_t	 n;

	fx_done();
	if ((n = llistxattr(path, buf, sizeof(buf))) == -1) {
		out("%s=%s", label, ename(errno));
		return;
	}
	out("%s=", label);
	/* Only user.*: security.* depends on the LSMs of the host. */
	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, "user.", 5) == 0)
			printf("%s,", p);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

void
p_names(const char *label, const char *path)
{
	char		*names[64];
	struct dirent	*de;
	DIR		*d;
	size_t		 i, n = 0;

	fx_done();
	out("%s=", label);
	if ((d = opendir(path)) == NULL) {
		printf("%s", ename(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && n < 64)
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		printf("%s%s", i ? "," : "", names[i]);
		free(names[i]);
	}
}
