/*
 * fsctl as mount(8)'s helper for the type fuse.fsmonitor, under the
 * name mount.fuse.fsmonitor: mount(8) runs it as
 *
 *	mount.fuse.fsmonitor source mountpoint [-fnsv] [-N ns] [-o options]
 *	    [-t type]
 *
 * with its own privileges dropped, and it asks the daemon exactly as
 * fsctl mount does.  Options that mean something to mount(8) or to
 * fstab but nothing to fsmonitor are dropped here; socket=PATH names
 * the control socket; everything else goes to the daemon, which
 * refuses what it does not know.
 */

#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsctl.h"

#define MOUNT_EX_USAGE	1	/* mount(8)'s exit codes */
#define MOUNT_EX_FAIL	32

/*
 * mount(8)'s and fstab's own options, and the defaults that fsmonitor
 * applies anyway (nosuid and nodev are always forced; exec, suid and
 * dev are not, and are left for the daemon to refuse).
 */
static const char *const dropped[] = {
	"defaults", "auto", "noauto", "user", "nouser", "users", "owner",
	"group", "_netdev", "nofail", "async", "nosuid", "nodev", "exec",
	"loud", "silent",
};

__attribute__((__noreturn__)) static void
mount_helper_usage(void)
{
	fprintf(stderr, "usage: %s source mountpoint [-fnsv] [-o options] "
	    "[-t type]\n", getprogname());
	exit(MOUNT_EX_USAGE);
}

static int
mount_helper_dropped(const char *opt)
{
	size_t	i;

	if (strncmp(opt, "x-", 2) == 0 || strncmp(opt, "comment=", 8) == 0 ||
	    strncmp(opt, "user=", 5) == 0)
		return (1);
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strcmp(opt, dropped[i]) == 0)
			return (1);
	return (0);
}

/* Sort one -o list into the socket, dropped options and ours. */
static void
mount_helper_options(char *list, const char **sock, char *opts,
    size_t size)
{
	char	*opt;
	size_t	 len;

	while ((opt = strsep(&list, ",")) != NULL) {
		if (strncmp(opt, "socket=", 7) == 0) {
			if (opt[7] != '/')
				errx(MOUNT_EX_USAGE, "socket=%s: the control "
				    "socket must be an absolute path",
				    ctl_vis(opt + 7));
			*sock = opt + 7;
			continue;
		}
		if (*opt == '\0' || mount_helper_dropped(opt))
			continue;
		len = strlen(opts);
		if (snprintf(opts + len, size - len, "%s%s", len ? "," : "",
		    opt) >= (int)(size - len))
			errx(MOUNT_EX_USAGE, "option string too long (at most "
			    "%zu bytes)", size - 1);
	}
}

void
mount_helper(const char *sock, int argc, char **argv)
{
	char		 opts[FSMSG_OPTS_MAX] = "";
	const char	*source, *mountpoint;
	int		 ch, fake = 0, verbose = 0;

	/* mount(8) puts the operands first. */
	if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-')
		mount_helper_usage();
	source = argv[1];
	mountpoint = argv[2];
	optind = 3;
	while ((ch = getopt(argc, argv, "+fnN:o:st:v")) != -1) {
		switch (ch) {
		case 'f':
			fake = 1;
			break;
		case 'n':	/* there is no mtab to leave alone */
		case 's':	/* the daemon refuses unknown options anyway */
			break;
		case 'N':
			errx(MOUNT_EX_USAGE, "-N: mounting in another "
			    "namespace is not supported");
		case 'o':
			mount_helper_options(optarg, &sock, opts,
			    sizeof(opts));
			break;
		case 't':
			if (strcmp(optarg, "fuse.fsmonitor") != 0 &&
			    strcmp(optarg, "fsmonitor") != 0)
				errx(MOUNT_EX_USAGE, "-t %s: this helper mounts "
				    "the type fuse.fsmonitor only",
				    ctl_vis(optarg));
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			mount_helper_usage();
		}
	}
	if (optind != argc)
		mount_helper_usage();
	if (verbose)
		fprintf(stderr, "%s: mounting %s on %s with options \"%s\" "
		    "through %s\n", getprogname(), ctl_vis(source),
		    ctl_vis(mountpoint), ctl_vis(opts), ctl_vis(sock));
	if (fake)
		exit(0);
	ctl_exit_fail = MOUNT_EX_FAIL;
	ctl_mount(sock, source, mountpoint, opts);
	exit(0);
}
