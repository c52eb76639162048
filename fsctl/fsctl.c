/*
 * fsctl: ask fsmonitor to mount, unmount, report and reload.
 *
 * fsctl holds no privilege: it opens the paths itself, so the kernel
 * checks the caller's own access, and passes the descriptors; the daemon
 * learns who is asking from the socket, never from anything fsctl says.
 */

#include <sys/types.h>
#include <sys/auxv.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsctl.h"

#ifndef PATH_RUN
#define PATH_RUN	"/run"
#endif
#define FSCTL_SOCKET	PATH_RUN "/fsmonitor.sock"
#define MOUNT_HELPER	"mount.fuse.fsmonitor"	/* our name as mount(8)'s */

struct ctl_cmd {
	const char	*name;
	int		(*run)(const char *, int, char **);
};

__attribute__((__noreturn__)) static void usage(void);
static int	 opts_append(char *, size_t, const char *);
static int	 open_or_fail(const char *, int);
static int	 cmd_mount(const char *, int, char **);
static int	 cmd_unmount(const char *, int, char **);
static int	 cmd_status(const char *, int, char **);
static int	 cmd_reload(const char *, int, char **);
static int	 cmd_log(const char *, int, char **);

static const struct ctl_cmd cmds[] = {
	{ "mount",	cmd_mount },
	{ "unmount",	cmd_unmount },
	{ "status",	cmd_status },
	{ "reload",	cmd_reload },
	{ "log",	cmd_log },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fsctl [-s socket] mount [-o option[,option...]] "
	    "source mountpoint\n"
	    "       fsctl [-s socket] unmount [-l] mountpoint\n"
	    "       fsctl [-s socket] status [-jv]\n"
	    "       fsctl [-s socket] reload\n"
	    "       fsctl [-s socket] log verbose | brief\n");
	exit(1);
}

/* Several -o accumulate, as with mount(8). */
static int
opts_append(char *opts, size_t size, const char *more)
{
	size_t	len = strlen(opts), need = strlen(more);

	if (len > 0)
		need++;
	if (need >= size - len)
		return (-1);
	if (len > 0)
		opts[len++] = ',';
	memcpy(opts + len, more, strlen(more) + 1);
	return (0);
}

static int
open_or_fail(const char *path, int flags)
{
	int	fd;

	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		ctl_fail_on("mount", path, strerror(errno));
	return (fd);
}

static int
cmd_mount(const char *sock, int argc, char **argv)
{
	char		 opts[FSMSG_OPTS_MAX] = "";
	int		 ch, toolong = 0;

	while ((ch = getopt(argc, argv, "+o:")) != -1) {
		switch (ch) {
		case 'o':
			if (opts_append(opts, sizeof(opts), optarg) == -1)
				toolong = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (toolong)
		errx(1, "mount %s: option string too long (at most %d bytes)",
		    ctl_vis(argv[1]), FSMSG_OPTS_MAX - 1);

	ctl_mount(sock, argv[0], argv[1], opts);
	return (0);
}

/* Shared with mount(8)'s helper: returns only if the mount was made. */
void
ctl_mount(const char *sock, const char *source, const char *mountpoint,
    const char *opts)
{
	struct ctl	 c;
	int		 srcfd, mntfd;

	srcfd = open_or_fail(source, O_RDONLY | O_DIRECTORY);
	mntfd = open_or_fail(mountpoint, O_PATH);
	ctl_open(&c, sock, "mount");
	ctl_send(&c, MSG_CTL_MOUNT_SOURCE, srcfd, NULL, 0);
	ctl_send(&c, MSG_CTL_MOUNT, mntfd, opts, strlen(opts) + 1);
	ctl_flush(&c, mountpoint);
	ctl_wait_reply(&c, mountpoint);
}

static int
cmd_unmount(const char *sock, int argc, char **argv)
{
	struct ctl	 c;
	uint32_t	 flags = 0;
	int		 ch, fd;

	while ((ch = getopt(argc, argv, "+l")) != -1) {
		switch (ch) {
		case 'l':
			flags |= FSMSG_UNMOUNT_LAZY;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	/*
	 * Following a symlink here is harmless: the daemon unmounts only
	 * the mount it made, found through what this descriptor pins.
	 */
	if ((fd = open(argv[0], O_PATH | O_CLOEXEC)) == -1)
		ctl_fail_on("unmount", argv[0], strerror(errno));
	ctl_open(&c, sock, "unmount");
	ctl_send(&c, MSG_CTL_UNMOUNT, fd, &flags, sizeof(flags));
	ctl_flush(&c, argv[0]);
	ctl_wait_reply(&c, argv[0]);
	return (0);
}

static int
cmd_status(const char *sock, int argc, char **argv)
{
	struct ctl	 c;
	int		 ch, json = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "+jv")) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	ctl_open(&c, sock, "status");
	ctl_status(&c, json, verbose);
	return (0);
}

static int
cmd_reload(const char *sock, int argc, char **argv)
{
	struct ctl	 c;

	if (getopt(argc, argv, "+") != -1 || argc != optind)
		usage();

	ctl_open(&c, sock, "reload");
	ctl_send(&c, MSG_CTL_RELOAD, -1, NULL, 0);
	ctl_flush(&c, NULL);
	ctl_wait_reply(&c, NULL);
	return (0);
}

static int
cmd_log(const char *sock, int argc, char **argv)
{
	struct ctl	 c;
	uint32_t	 level;

	if (getopt(argc, argv, "+") != -1 || argc != optind + 1)
		usage();
	if (strcmp(argv[optind], "verbose") == 0)
		level = FSMSG_LOG_VERBOSE;
	else if (strcmp(argv[optind], "brief") == 0)
		level = FSMSG_LOG_BRIEF;
	else
		usage();

	ctl_open(&c, sock, "log");
	ctl_send(&c, MSG_CTL_LOG, -1, &level, sizeof(level));
	ctl_flush(&c, NULL);
	ctl_wait_reply(&c, NULL);
	return (0);
}

int
main(int argc, char *argv[])
{
	const char	*sock = FSCTL_SOCKET;
	size_t		 i;
	int		 ch;

	/*
	 * Run set-id, fsctl would open paths with rights the caller lacks
	 * and hand the descriptors on: refuse rather than trust the install.
	 */
	if (getauxval(AT_SECURE))
		errx(1, "refusing to run set-user-ID or set-group-ID");
	if (strcmp(getprogname(), MOUNT_HELPER) == 0)
		mount_helper(sock, argc, argv);

	while ((ch = getopt(argc, argv, "+s:")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		optind = 0;	/* glibc: start a fresh scan at argv[1] */
		return (cmds[i].run(sock, argc, argv));
	}
	usage();
}
