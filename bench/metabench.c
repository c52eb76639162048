/*
 * metabench: time the metadata operations of many small files in one
 * directory, phase by phase, and print each phase's rate.
 *
 *	metabench [-d] [-b bytes] [-n files] [-w milliseconds] directory
 *
 * The directory must exist and be empty.  The phases run in this order
 * and each prints "phase ops_per_second" on a line of its own:
 *
 *	create	open(O_CREAT|O_EXCL) and close, writing bytes if -b is given
 *	stat	fstatat(2) of every file by name
 *	restat	the same again, after -w milliseconds of sleep
 *	walk	readdir(3) of the directory and fstatat(2) of every entry
 *	rewalk	the same again, after -w milliseconds of sleep
 *	open	open(2) read-only, read(2) and close(2) of every file
 *	reopen	the same again at once
 *	rename	renameat(2) of every file to a new name
 *	unlink	unlinkat(2) of every file
 *
 * With -d (root only) the kernel's caches are dropped, untimed, before
 * stat and before walk.  Without it those phases find whatever entries
 * and attributes the previous phase left, and on FUSE whether they are
 * still valid depends on how long that phase took against the attribute
 * timeout, which makes the rate jump between runs.  The sleep before
 * restat, longer than that timeout, shows what revalidating entries costs
 * (or, with long timeouts, that they need none); the one before rewalk
 * shows the same for the walk, and whether the listing itself is cached.
 *
 * The first failure ends the run with a message and exit status 1, so a
 * half-working filesystem never reports a rate.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN	24	/* a letter, any long, the NUL */

struct phase {
	const char	*name;
	size_t		(*run)(int, long);
	int		 cold;		/* drop caches first with -d */
	int		 pause;		/* sleep -w milliseconds first */
};

__attribute__((__noreturn__)) static void usage(void);
static long	 number(const char *, long, long, const char *);
static double	 now(void);
static void	 drop_caches(void);
static void	 name(char *, char, long);
static size_t	 do_create(int, long);
static size_t	 do_stat(int, long);
static size_t	 do_walk(int, long);
static size_t	 do_open(int, long);
static size_t	 do_rename(int, long);
static size_t	 do_unlink(int, long);

static char	*content;
static size_t	 content_len;

static const struct phase phases[] = {
	{ "create",	do_create,	0, 0 },
	{ "stat",	do_stat,	1, 0 },
	{ "restat",	do_stat,	0, 1 },
	{ "walk",	do_walk,	1, 0 },
	{ "rewalk",	do_walk,	0, 1 },
	{ "open",	do_open,	0, 0 },
	{ "reopen",	do_open,	0, 0 },
	{ "rename",	do_rename,	0, 0 },
	{ "unlink",	do_unlink,	0, 0 },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: metabench [-d] [-b bytes] [-n files] [-w milliseconds] "
	    "directory\n");
	exit(2);
}

static long
number(const char *s, long min, long max, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		errx(2, "%s: %s: %ld to %ld", what, s, min, max);
	return (v);
}

static double
now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Dentries and inodes too: on FUSE that means FORGET and a new LOOKUP. */
static void
drop_caches(void)
{
	int	fd;

	sync();
	if ((fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)) ==
	    -1)
		err(1, "/proc/sys/vm/drop_caches");
	if (write(fd, "3\n", 2) != 2)
		err(1, "drop caches");
	(void)close(fd);
}

static void
name(char *buf, char prefix, long i)
{
	(void)snprintf(buf, NAME_MAX_LEN, "%c%07ld", prefix, i);
}

static size_t
do_create(int dfd, long n)
{
	char	buf[NAME_MAX_LEN];
	long	i;
	int	fd;

	for (i = 0; i < n; i++) {
		name(buf, 'f', i);
		fd = openat(dfd, buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (fd == -1)
			err(1, "create %s", buf);
		if (content_len > 0 &&
		    write(fd, content, content_len) != (ssize_t)content_len)
			err(1, "write %s", buf);
		if (close(fd) == -1)
			err(1, "close %s", buf);
	}
	return ((size_t)n);
}

static size_t
do_stat(int dfd, long n)
{
	struct stat	st;
	char		buf[NAME_MAX_LEN];
	long		i;

	for (i = 0; i < n; i++) {
		name(buf, 'f', i);
		if (fstatat(dfd, buf, &st, 0) == -1)
			err(1, "stat %s", buf);
		if ((size_t)st.st_size != content_len)
			errx(1, "stat %s: size %lld, wrote %zu", buf,
			    (long long)st.st_size, content_len);
	}
	return ((size_t)n);
}

/* A fresh descriptor, so the walk starts at the directory's beginning. */
static size_t
do_walk(int dfd, long n)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	size_t		 count = 0;
	int		 fd;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "open directory");
	if ((d = fdopendir(fd)) == NULL)
		err(1, "fdopendir");
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1)
			err(1, "walk: stat %s", de->d_name);
		count++;
	}
	if (errno != 0)
		err(1, "readdir");
	(void)closedir(d);
	if (count != (size_t)n)
		errx(1, "walk: %zu entries, created %ld", count, n);
	return (count);
}

/* What a build does to the files it reads: open, read all, close. */
static size_t
do_open(int dfd, long n)
{
	char	buf[NAME_MAX_LEN], data[4096];
	long	i;
	ssize_t	got;
	size_t	total;
	int	fd;

	for (i = 0; i < n; i++) {
		name(buf, 'f', i);
		if ((fd = openat(dfd, buf, O_RDONLY | O_CLOEXEC)) == -1)
			err(1, "open %s", buf);
		total = 0;
		while ((got = read(fd, data, sizeof(data))) > 0)
			total += (size_t)got;
		if (got == -1)
			err(1, "read %s", buf);
		if (total != content_len)
			errx(1, "read %s: %zu bytes, wrote %zu", buf, total,
			    content_len);
		if (close(fd) == -1)
			err(1, "close %s", buf);
	}
	return ((size_t)n);
}

static size_t
do_rename(int dfd, long n)
{
	char	from[NAME_MAX_LEN], to[NAME_MAX_LEN];
	long	i;

	for (i = 0; i < n; i++) {
		name(from, 'f', i);
		name(to, 'r', i);
		if (renameat(dfd, from, dfd, to) == -1)
			err(1, "rename %s %s", from, to);
	}
	return ((size_t)n);
}

static size_t
do_unlink(int dfd, long n)
{
	char	buf[NAME_MAX_LEN];
	long	i;

	for (i = 0; i < n; i++) {
		name(buf, 'r', i);
		if (unlinkat(dfd, buf, 0) == -1)
			err(1, "unlink %s", buf);
	}
	return ((size_t)n);
}

int
main(int argc, char *argv[])
{
	struct timespec	 ts;
	double		 t0, t1;
	size_t		 i, ops;
	long		 n = 10000, wait = 0;
	int		 ch, dfd, drop = 0;

	while ((ch = getopt(argc, argv, "b:dn:w:")) != -1) {
		switch (ch) {
		case 'b':
			content_len = (size_t)number(optarg, 0, 1 << 20,
			    "bytes");
			break;
		case 'd':
			drop = 1;
			break;
		case 'n':
			n = number(optarg, 1, 9999999, "files");
			break;
		case 'w':
			wait = number(optarg, 0, 3600000, "milliseconds");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	if (content_len > 0) {
		if ((content = malloc(content_len)) == NULL)
			err(1, NULL);
		memset(content, 'x', content_len);
	}
	if ((dfd = open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", argv[0]);

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		if (drop && phases[i].cold)
			drop_caches();
		if (wait > 0 && phases[i].pause) {
			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
		t0 = now();
		ops = phases[i].run(dfd, n);
		t1 = now();
		printf("%s %.1f\n", phases[i].name,
		    t1 > t0 ? (double)ops / (t1 - t0) : 0.0);
		(void)fflush(stdout);
	}
	return (0);
}
