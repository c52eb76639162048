/*
 * escape: the calls t_escape.sh needs to show that nothing outside a
 * mounted tree is reached through the mount.  Results go to stdout as
 * words (ok, an errno name, same, different, ...), so that atf_check
 * can match them.
 *
 *	escape open PATH FLAGS		open(2); FLAGS: rdonly,creat,...
 *	escape openat DIR NAME FLAGS	openat(2) relative to DIR
 *	escape link OLD NEW		link(2)
 *	escape same PATH PATH		the same (st_dev, st_ino) or not
 *	escape dotdot MNT SRC		openat(MNT, "..", O_PATH): whose
 *					parent is it, MNT's or SRC's?
 *	escape fifo MNTFIFO SRCFIFO	how a FIFO opens through the mount
 *	escape creatloop DIR SECONDS	create DIR/f.N for a while
 *	escape swaploop A B SECONDS	exchange two names for a while
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char	*name;
	int		 flag;
} oflags[] = {
	{ "rdonly",	O_RDONLY },
	{ "wronly",	O_WRONLY },
	{ "rdwr",	O_RDWR },
	{ "creat",	O_CREAT },
	{ "excl",	O_EXCL },
	{ "trunc",	O_TRUNC },
	{ "nofollow",	O_NOFOLLOW },
	{ "nonblock",	O_NONBLOCK },
	{ "directory",	O_DIRECTORY },
	{ "path",	O_PATH },
};

static const char *
ename(int e)
{
	const char	*s = strerrorname_np(e);

	return s != NULL ? s : "EUNKNOWN";
}

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: escape open|openat|link|same|dotdot|fifo|"
	    "creatloop|swaploop arguments ...\n");
	exit(2);
}

static int
parse_flags(const char *s)
{
	char	*copy, *word, *last;
	size_t	 i;
	int	 flags = 0;

	if ((copy = strdup(s)) == NULL)
		err(1, "strdup");
	for (word = strtok_r(copy, ",", &last); word != NULL;
	    word = strtok_r(NULL, ",", &last)) {
		for (i = 0; i < sizeof(oflags) / sizeof(oflags[0]); i++)
			if (strcmp(word, oflags[i].name) == 0)
				break;
		if (i == sizeof(oflags) / sizeof(oflags[0]))
			errx(2, "unknown flag %s", word);
		flags |= oflags[i].flag;
	}
	free(copy);
	return flags | O_CLOEXEC;
}

/* Prints ok or the errno's name; exits 0 either way. */
static int
report(int rv)
{
	printf("%s\n", rv == -1 ? ename(errno) : "ok");
	return 0;
}

static int
cmd_open(int argc, char *argv[])
{
	int	 fd;

	if (argc != 3)
		usage();
	alarm(10);
	fd = open(argv[1], parse_flags(argv[2]), 0644);
	return report(fd);
}

static int
cmd_openat(int argc, char *argv[])
{
	int	 dfd, fd;

	if (argc != 4)
		usage();
	alarm(10);
	if ((dfd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", argv[1]);
	fd = openat(dfd, argv[2], parse_flags(argv[3]), 0644);
	return report(fd);
}

static int
cmd_link(int argc, char *argv[])
{
	if (argc != 3)
		usage();
	return report(link(argv[1], argv[2]));
}

static int
same_fd(int a, int b)
{
	struct stat	 sa, sb;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		err(1, "fstat");
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int
open_path(const char *path)
{
	int	 fd;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	return fd;
}

/* The directory a path names the entry in, without resolving it. */
static const char *
dirname_of(const char *path, char *buf, size_t len)
{
	char	*slash;

	if (strlcpy(buf, path, len) >= len)
		errx(1, "%s: too long", path);
	while ((slash = strrchr(buf, '/')) != NULL && slash[1] == '\0' &&
	    slash != buf)
		*slash = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return ".";
	if (slash == buf)
		slash[1] = '\0';
	else
		*slash = '\0';
	return buf;
}

static int
cmd_same(int argc, char *argv[])
{
	if (argc != 3)
		usage();
	printf("%s\n", same_fd(open_path(argv[1]), open_path(argv[2])) ?
	    "same" : "different");
	return 0;
}

/*
 * The mount's root, then ".." from it as a descriptor: the kernel must
 * answer the mountpoint's parent on the host, never a directory above
 * the source.  SOURCE is given to tell the two apart.
 */
static int
cmd_dotdot(int argc, char *argv[])
{
	char	 path[PATH_MAX];
	int	 root, up, hostparent, srcparent;

	if (argc != 3)
		usage();
	if ((root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", argv[1]);
	if ((up = openat(root, "..", O_PATH | O_CLOEXEC)) == -1)
		err(1, "openat ..");
	/* The mountpoint's parent, found without going through it. */
	hostparent = open_path(dirname_of(argv[1], path, sizeof(path)));
	srcparent = open_path(dirname_of(argv[2], path, sizeof(path)));
	if (same_fd(up, hostparent))
		printf("host-parent\n");
	else if (same_fd(up, srcparent))
		printf("source-parent\n");
	else if (same_fd(up, root))
		printf("mount-root\n");
	else
		printf("other\n");
	return 0;
}

static int
open_nb(const char *path, int flags)
{
	return open(path, flags | O_NONBLOCK | O_CLOEXEC);
}

/*
 * A FIFO through the mount is the kernel's own pipe on the FUSE inode:
 * opening it sends no OPEN to the worker, so the worker never opens the
 * backing FIFO.  Shown by what a writer on the backing FIFO sees while a
 * reader holds the mount's side open: no reader (ENXIO).
 */
static int
cmd_fifo(int argc, char *argv[])
{
	char	 c = 0;
	int	 r, w, hw;

	if (argc != 3)
		usage();
	alarm(10);
	w = open_nb(argv[1], O_WRONLY);
	printf("wronly_nonblock=%s", w == -1 ? ename(errno) : "ok");
	if (w != -1)
		close(w);
	r = open_nb(argv[1], O_RDONLY);
	printf(" rdonly_nonblock=%s", r == -1 ? ename(errno) : "ok");
	hw = open_nb(argv[2], O_WRONLY);
	printf(" backing_writer=%s", hw == -1 ? ename(errno) : "ok");
	if (hw != -1)
		close(hw);
	if (r != -1) {
		w = open_nb(argv[1], O_WRONLY);
		if (w != -1 && write(w, "x", 1) == 1 && read(r, &c, 1) == 1 &&
		    c == 'x')
			printf(" pipe=ok");
		else
			printf(" pipe=%s", ename(errno));
		if (w != -1)
			close(w);
		close(r);
	}
	printf("\n");
	return 0;
}

static int
seconds(const char *s)
{
	const char	*errstr;
	int		 n;

	n = strtonum(s, 1, 60, &errstr);
	if (errstr != NULL)
		errx(2, "seconds %s: %s", s, errstr);
	return n;
}

static int
cmd_creatloop(int argc, char *argv[])
{
	char		 path[PATH_MAX];
	unsigned long	 n, ok = 0, failed = 0;
	time_t		 end;
	int		 fd;

	if (argc != 3)
		usage();
	end = time(NULL) + seconds(argv[2]);
	for (n = 0; time(NULL) < end; n++) {
		snprintf(path, sizeof(path), "%s/f.%lu", argv[1], n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd == -1)
			failed++;
		else {
			ok++;
			close(fd);
		}
	}
	printf("created=%lu failed=%lu\n", ok, failed);
	return 0;
}

/* Swaps an even number of times, so that both names end as they began. */
static int
cmd_swaploop(int argc, char *argv[])
{
	unsigned long	 n = 0;
	time_t		 end;

	if (argc != 4)
		usage();
	end = time(NULL) + seconds(argv[3]);
	while (time(NULL) < end || n % 2 != 0) {
		if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2],
		    RENAME_EXCHANGE) == -1)
			err(1, "exchange %s %s", argv[1], argv[2]);
		n++;
	}
	printf("swaps=%lu\n", n);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char *[]);
	} cmds[] = {
		{ "open",	cmd_open },
		{ "openat",	cmd_openat },
		{ "link",	cmd_link },
		{ "same",	cmd_same },
		{ "dotdot",	cmd_dotdot },
		{ "fifo",	cmd_fifo },
		{ "creatloop",	cmd_creatloop },
		{ "swaploop",	cmd_swaploop },
	};
	size_t	 i;

	if (argc < 2)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	usage();
}
