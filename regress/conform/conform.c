/*
 * conform: a fixed list of POSIX checks run inside a directory, one line
 * of stable facts each, so that a run on a backing tree and a run through
 * a mount of it can be compared with diff(1).
 *
 *	conform [-u user] [-U user] DIR [check ...]
 *	conform -l
 *
 * DIR is created.  Every check makes its own fixture as root in DIR/name,
 * then runs the operation in a child with the credentials it names (root,
 * the user, the other user) and reports what root sees afterwards.  The
 * report holds return values, errno names, octal modes, numeric owners,
 * link counts, sizes, contents, and timestamps only as relations to what
 * they were before (unchanged, set to the value given, now), never an
 * absolute time or an inode number.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

struct who		 root = { "root", 0, 0 };
struct who		 usr;
struct who		 oth;

mode_t			 cur_umask;
gid_t			 cur_extra;
struct stat		 before;
jmp_buf			 fxjmp;
int			 in_line;

const struct timespec	 t_now[2] = {
	{ 0, UTIME_NOW }, { 0, UTIME_NOW }
};
const struct timespec	 t_set[2] = {
	{ T1_SEC, T1_NSEC }, { T1_SEC, T1_NSEC }
};

static const struct {
	const struct check	*checks;
	const size_t		*n;
} kinds[] = {
	{ perm_checks, &perm_nchecks },
	{ name_checks, &name_nchecks },
	{ attr_checks, &attr_nchecks },
};

static int		 topfd;

static void
lookup_user(struct who *w, const char *name)
{
	struct passwd	*pw;

	if ((pw = getpwnam(name)) == NULL)
		errx(1, "no user %s", name);
	if (pw->pw_uid == 0)
		errx(1, "%s: must not be root", name);
	w->name = name;
	w->uid = pw->pw_uid;
	w->gid = pw->pw_gid;
}

static int
wanted(const char *name, int argc, char *argv[])
{
	int	 i;

	if (argc == 0)
		return 1;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static void
run_check(const struct check *c)
{
	cur_umask = 022;
	cur_extra = NOGID;
	memset(&before, 0, sizeof(before));
	if (setjmp(fxjmp) == 0) {
		begin(c->name);
		if (mkdir(c->name, 0755) == -1)
			fx_fail("mkdir", c->name);
		if (chdir(c->name) == -1)
			fx_fail("chdir", c->name);
		c->fn();
		end();
	}
	if (fchdir(topfd) == -1)
		err(1, "fchdir");
}

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: conform [-u user] [-U user] dir [check ...]\n"
	    "       conform -l\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*uname = "fsmtest", *oname = "fsmtest2";
	size_t		 k, i;
	int		 ch, list = 0;

	while ((ch = getopt(argc, argv, "lu:U:")) != -1) {
		switch (ch) {
		case 'l':
			list = 1;
			break;
		case 'u':
			uname = optarg;
			break;
		case 'U':
			oname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (list) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			for (i = 0; i < *kinds[k].n; i++)
				printf("%s\n", kinds[k].checks[i].name);
		return 0;
	}
	if (argc < 1)
		usage();
	if (geteuid() != 0)
		errx(1, "must run as root");
	lookup_user(&usr, uname);
	lookup_user(&oth, oname);
	if (usr.uid == oth.uid || usr.gid == oth.gid)
		errx(1, "%s and %s must differ in uid and gid", uname, oname);
	umask(0);
	if (mkdir(argv[0], 0755) == -1)
		err(1, "mkdir %s", argv[0]);
	if (chmod(argv[0], 0755) == -1 ||
	    (topfd = open(argv[0], O_RDONLY | O_DIRECTORY)) == -1 ||
	    fchdir(topfd) == -1)
		err(1, "%s", argv[0]);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (i = 0; i < *kinds[k].n; i++)
			if (wanted(kinds[k].checks[i].name, argc - 1, argv + 1))
				run_check(&kinds[k].checks[i]);
	return 0;
}
