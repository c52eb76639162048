/*
 * fsop: the file operations t_ops.sh needs and no shell tool offers.
 * Each prints its result on stdout, or the errno's name (EEXIST, ...)
 * and exits 1 when the call fails.
 *
 *	fsop rename2 noreplace|exchange|whiteout old new
 *	fsop xattr set|get|size|list|remove path [name [value]]
 *	fsop xattr lget|lset path name [value]	 on a symlink itself
 *	fsop lock path r|w seconds		 hold a POSIX lock
 *	fsop trylock path r|w			 F_SETLK once
 *	fsop getlk path r|w			 what F_GETLK says
 *	fsop waitlock path r|w [timeout]	 F_SETLKW; SIGALRM
 *	fsop flock path sh|ex seconds		 hold a flock(2) lock
 *	fsop tryflock path sh|ex		 LOCK_NB
 *	fsop seek path data|hole offset		 SEEK_DATA, SEEK_HOLE
 *	fsop copy src dst length		 copy_file_range
 *	fsop tmpfile dir [linkname]		 O_TMPFILE, maybe linked
 *	fsop utimens path atime mtime		 sec.nsec, now, omit
 *	fsop times path				 atime and mtime
 *	fsop btime path				 statx has a btime?
 *	fsop mksock path			 a socket, by mknod(2)
 *	fsop count dir				 entries but . and ..
 *	fsop write path offset length		 pwrite 'x's, then fsync
 *	fsop fallocate path offset length	 mode 0
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((__noreturn__)) static void
fail(void)
{
	const char	*name = strerrorname_np(errno);

	printf("%s\n", name != NULL ? name : "EUNKNOWN");
	exit(1);
}

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: fsop operation arguments ...\n");
	exit(2);
}

static void
need(int argc, int n)
{
	if (argc < n)
		usage();
}

static int
op_write(int argc, char *argv[])
{
	char		 buf[65536];
	long long	 off, len, done = 0;
	ssize_t		 n;
	size_t		 chunk;
	int		 fd;

	need(argc, 4);
	off = atoll(argv[2]);
	len = atoll(argv[3]);
	memset(buf, 'x', sizeof(buf));
	if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fail();
	while (done < len) {
		chunk = len - done < (long long)sizeof(buf) ?
		    (size_t)(len - done) : sizeof(buf);
		if ((n = pwrite(fd, buf, chunk, off + done)) == -1)
			fail();
		done += n;
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		fail();
	printf("%lld\n", done);
	return 0;
}

static int
op_fallocate(int argc, char *argv[])
{
	int	 fd;

	need(argc, 4);
	if ((fd = open(argv[1], O_WRONLY | O_CLOEXEC)) == -1)
		fail();
	if (fallocate(fd, 0, atoll(argv[2]), atoll(argv[3])) == -1)
		fail();
	printf("ok\n");
	return 0;
}

static int
op_rename2(int argc, char *argv[])
{
	unsigned int	 flags;

	need(argc, 4);
	if (strcmp(argv[1], "noreplace") == 0)
		flags = RENAME_NOREPLACE;
	else if (strcmp(argv[1], "exchange") == 0)
		flags = RENAME_EXCHANGE;
	else if (strcmp(argv[1], "whiteout") == 0)
		flags = RENAME_WHITEOUT;
	else
		usage();
	if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) == -1)
		fail();
	printf("ok\n");
	return 0;
}

static void
print_list(const char *buf, ssize_t n)
{
	ssize_t	 i;

	for (i = 0; i < n; i += strlen(buf + i) + 1)
		printf("%s\n", buf + i);
}

static int
op_xattr(int argc, char *argv[])
{
	char	 buf[65536];
	ssize_t	 n;
	const char *op;

	need(argc, 3);
	op = argv[1];
	if (strcmp(op, "list") == 0) {
		if ((n = listxattr(argv[2], buf, sizeof(buf))) == -1)
			fail();
		print_list(buf, n);
		return 0;
	}
	need(argc, 4);
	if (strcmp(op, "get") == 0 || strcmp(op, "lget") == 0) {
		n = op[0] == 'l' ? lgetxattr(argv[2], argv[3], buf,
		    sizeof(buf) - 1) : getxattr(argv[2], argv[3], buf,
		    sizeof(buf) - 1);
		if (n == -1)
			fail();
		buf[n] = '\0';
		printf("%s\n", buf);
	} else if (strcmp(op, "size") == 0) {
		if ((n = getxattr(argv[2], argv[3], NULL, 0)) == -1)
			fail();
		printf("%zd\n", n);
	} else if (strcmp(op, "remove") == 0) {
		if (removexattr(argv[2], argv[3]) == -1)
			fail();
		printf("ok\n");
	} else if (strcmp(op, "set") == 0 || strcmp(op, "lset") == 0) {
		need(argc, 5);
		if ((op[0] == 'l' ? lsetxattr(argv[2], argv[3], argv[4],
		    strlen(argv[4]), 0) : setxattr(argv[2], argv[3], argv[4],
		    strlen(argv[4]), 0)) == -1)
			fail();
		printf("ok\n");
	} else
		usage();
	return 0;
}

static short
lock_type(const char *s)
{
	if (strcmp(s, "r") == 0)
		return F_RDLCK;
	if (strcmp(s, "w") == 0)
		return F_WRLCK;
	usage();
}

static int
open_for_lock(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_RDWR)) == -1)
		fail();
	return fd;
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static int
op_lock(int argc, char *argv[], int cmd)
{
	struct sigaction sa;
	struct flock	 fl;
	int		 fd;

	need(argc, 3);
	fd = open_for_lock(argv[1]);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = lock_type(argv[2]);
	fl.l_whence = SEEK_SET;
	if (cmd == F_SETLKW && argc > 3) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;	/* no SA_RESTART: EINTR */
		sigaction(SIGALRM, &sa, NULL);
		alarm(atoi(argv[3]));
	}
	if (fcntl(fd, cmd, &fl) == -1)
		fail();
	if (cmd == F_GETLK) {
		if (fl.l_type == F_UNLCK)
			printf("unlocked\n");
		else
			printf("locked-%s\n", fl.l_type == F_WRLCK ? "w" : "r");
		return 0;
	}
	printf("ok\n");
	fflush(stdout);
	if (argc > 3 && cmd == F_SETLK)
		sleep(atoi(argv[3]));
	return 0;
}

static int
op_flock(int argc, char *argv[], int nb)
{
	int	 fd, how;

	need(argc, 3);
	fd = open_for_lock(argv[1]);
	if (strcmp(argv[2], "sh") == 0)
		how = LOCK_SH;
	else if (strcmp(argv[2], "ex") == 0)
		how = LOCK_EX;
	else
		usage();
	if (flock(fd, how | (nb ? LOCK_NB : 0)) == -1)
		fail();
	printf("ok\n");
	fflush(stdout);
	if (!nb && argc > 3)
		sleep(atoi(argv[3]));
	return 0;
}

static int
op_seek(int argc, char *argv[])
{
	off_t	 off;
	int	 fd, whence;

	need(argc, 4);
	whence = strcmp(argv[2], "data") == 0 ? SEEK_DATA : SEEK_HOLE;
	if ((fd = open(argv[1], O_RDONLY)) == -1)
		fail();
	if ((off = lseek(fd, strtoll(argv[3], NULL, 10), whence)) == -1)
		fail();
	printf("%lld\n", (long long)off);
	return 0;
}

static int
op_copy(int argc, char *argv[])
{
	ssize_t	 n;
	size_t	 left;
	int	 in, out;

	need(argc, 4);
	if ((in = open(argv[1], O_RDONLY)) == -1 ||
	    (out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		fail();
	for (left = strtoull(argv[3], NULL, 10); left > 0; left -= n) {
		if ((n = copy_file_range(in, NULL, out, NULL, left, 0)) == -1)
			fail();
		if (n == 0)
			break;
	}
	printf("ok\n");
	return 0;
}

static int
op_tmpfile(int argc, char *argv[])
{
	char	 path[64];
	int	 fd;

	need(argc, 2);
	if ((fd = open(argv[1], O_TMPFILE | O_RDWR, 0640)) == -1)
		fail();
	if (write(fd, "tmp\n", 4) != 4)
		fail();
	if (argc > 2) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, path, AT_FDCWD, argv[2],
		    AT_SYMLINK_FOLLOW) == -1)
			fail();
	}
	printf("ok\n");
	return 0;
}

static void
parse_time(const char *s, struct timespec *ts)
{
	char	*ep;

	if (strcmp(s, "now") == 0) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_NOW;
	} else if (strcmp(s, "omit") == 0) {
		ts->tv_sec = 0;
		ts->tv_nsec = UTIME_OMIT;
	} else {
		ts->tv_sec = strtoll(s, &ep, 10);
		ts->tv_nsec = *ep == '.' ? strtol(ep + 1, NULL, 10) : 0;
	}
}

static int
op_utimens(int argc, char *argv[])
{
	struct timespec	 ts[2];

	need(argc, 4);
	parse_time(argv[2], &ts[0]);
	parse_time(argv[3], &ts[1]);
	if (utimensat(AT_FDCWD, argv[1], ts, AT_SYMLINK_NOFOLLOW) == -1)
		fail();
	printf("ok\n");
	return 0;
}

static int
op_times(int argc, char *argv[])
{
	struct stat	 st;

	need(argc, 2);
	if (lstat(argv[1], &st) == -1)
		fail();
	printf("%lld.%09ld %lld.%09ld\n", (long long)st.st_atim.tv_sec,
	    st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec);
	return 0;
}

static int
op_btime(int argc, char *argv[])
{
	struct statx	 stx;

	need(argc, 2);
	if (statx(AT_FDCWD, argv[1], AT_SYMLINK_NOFOLLOW, STATX_BTIME,
	    &stx) == -1)
		fail();
	printf("%s\n", (stx.stx_mask & STATX_BTIME) ? "btime" : "none");
	return 0;
}

static int
op_mksock(int argc, char *argv[])
{
	need(argc, 2);
	if (mknod(argv[1], S_IFSOCK | 0644, 0) == -1)
		fail();
	printf("ok\n");
	return 0;
}

static int
op_count(int argc, char *argv[])
{
	struct dirent	*d;
	DIR		*dir;
	long		 n = 0;

	need(argc, 2);
	if ((dir = opendir(argv[1])) == NULL)
		fail();
	errno = 0;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	if (errno != 0)
		fail();
	printf("%ld\n", n);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char	*op;

	if (argc < 2)
		usage();
	op = argv[1];
	argc--;
	argv++;
	if (strcmp(op, "rename2") == 0)
		return op_rename2(argc, argv);
	if (strcmp(op, "xattr") == 0)
		return op_xattr(argc, argv);
	if (strcmp(op, "lock") == 0)
		return op_lock(argc, argv, F_SETLK);
	if (strcmp(op, "trylock") == 0)
		return op_lock(argc, argv, F_SETLK);
	if (strcmp(op, "getlk") == 0)
		return op_lock(argc, argv, F_GETLK);
	if (strcmp(op, "waitlock") == 0)
		return op_lock(argc, argv, F_SETLKW);
	if (strcmp(op, "flock") == 0)
		return op_flock(argc, argv, 0);
	if (strcmp(op, "tryflock") == 0)
		return op_flock(argc, argv, 1);
	if (strcmp(op, "seek") == 0)
		return op_seek(argc, argv);
	if (strcmp(op, "copy") == 0)
		return op_copy(argc, argv);
	if (strcmp(op, "tmpfile") == 0)
		return op_tmpfile(argc, argv);
	if (strcmp(op, "utimens") == 0)
		return op_utimens(argc, argv);
	if (strcmp(op, "times") == 0)
		return op_times(argc, argv);
	if (strcmp(op, "btime") == 0)
		return op_btime(argc, argv);
	if (strcmp(op, "mksock") == 0)
		return op_mksock(argc, argv);
	if (strcmp(op, "count") == 0)
		return op_count(argc, argv);
	if (strcmp(op, "write") == 0)
		return op_write(argc, argv);
	if (strcmp(op, "fallocate") == 0)
		return op_fallocate(argc, argv);
	usage();
}
