/*
 * conform: a fixed list of POSIX checks run inside a directory, one line
 * of stable facts each, so that a run on a backing tree and a run through
 * a mount of it can be compared with diff(1).
 *
 *	conform [-u user] [-U user] [-F FIXDIR] DIR [check ...]
 *	conform -l
 *
 * DIR is created.  Every check makes its own fixture as root in DIR/name,
 * then runs the operation in a child with the credentials it names (root,
 * the user, the other user) and reports what root sees afterwards.  The
 * report holds return values, errno names, octal modes, numeric owners,
 * link counts, sizes, contents, and timestamps only as relations to what
 * they were before (unchanged, set to the value given, now), never an
 * absolute time or an inode number.
 *
 * With -F, FIXDIR is created instead of DIR, which must then be FIXDIR
 * reached another way: DIR in a mount, FIXDIR its backing directory.
 * The fixtures are made in FIXDIR/name, behind the mount's back, so that
 * they can be what the mount would not let root make; everything else
 * goes through DIR/name, which the mount first sees once the fixture is
 * complete.
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
static const char	*cur_name;
static int		 fxtopfd = -1;	/* -F: the backing DIR */
static const char	*pending;	/* -F: the check not yet entered */

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

/*
 * With -F, the fixture is complete once the check does anything else:
 * move from FIXDIR/name to DIR/name, which the mount has never looked up,
 * so that nothing it caches predates the fixture.
 */
void
fx_done(void)
{
	const char	*name = pending;

	if (name == NULL)
		return;
	pending = NULL;
	if (fchdir(topfd) == -1 || chdir(name) == -1)
		fx_fail("chdir", name);
}

/* A fixture must be made before the check looks through the mount. */
void
fx_check_early(const char *what)
{
	if (fxtopfd != -1 && pending == NULL)
		errx(1, "%s: a fixture (%s) after the check began",
		    cur_name, what);
}

static void
run_check(const struct check *c)
{
	int	 fromfd = fxtopfd != -1 ? fxtopfd : topfd;

	cur_name = c->name;
	cur_umask = 022;
	cur_extra = NOGID;
	memset(&before, 0, sizeof(before));
	if (setjmp(fxjmp) == 0) {
		begin(c->name);
		if (mkdirat(fromfd, c->name, 0755) == -1)
			fx_fail("mkdir", c->name);
		if (fchdir(fromfd) == -1 || chdir(c->name) == -1)
			fx_fail("chdir", c->name);
		if (fxtopfd != -1)
			pending = c->name;
		c->fn();
		end();
	}
	pending = NULL;
	if (fchdir(topfd) == -1)
		err(1, "fchdir");
}

/* Make DIR, or with -F make FIXDIR and find it again as DIR. */
static void
top_dirs(const char *dir, const char *fixdir)
{
	struct stat	 st, fst;
	const char	*made = fixdir != NULL ? fixdir : dir;
	int		 fd;

	if (mkdir(made, 0755) == -1)
		err(1, "mkdir %s", made);
	if (chmod(made, 0755) == -1 ||
	    (fd = open(made, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", made);
	if (fixdir == NULL) {
		topfd = fd;
		return;
	}
	fxtopfd = fd;
	if ((topfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", dir);
	if (fstat(topfd, &st) == -1 || fstat(fxtopfd, &fst) == -1)
		err(1, "fstat");
	if (st.st_ino != fst.st_ino)
		errx(1, "%s is not %s seen another way", dir, fixdir);
}

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: conform [-u user] [-U user] [-F fixdir] dir "
	    "[check ...]\n"
	    "       conform -l\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*uname = "fsmtest", *oname = "fsmtest2";
	const char	*fixdir = NULL;
	size_t		 k, i;
	int		 ch, list = 0;

	while ((ch = getopt(argc, argv, "F:lu:U:")) != -1) {
		switch (ch) {
		case 'F':
			fixdir = optarg;
			break;
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
	top_dirs(argv[0], fixdir);
	if (fchdir(topfd) == -1)
		err(1, "%s", argv[0]);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (i = 0; i < *kinds[k].n; i++)
			if (wanted(kinds[k].checks[i].name, argc - 1, argv + 1))
				run_check(&kinds[k].checks[i]);
	return 0;
}
