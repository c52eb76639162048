/*
 * Where a root process finds the helper it executes: the path fixed at
 * build time, or with -T (given by root at start, never by the
 * unprivileged parent) the build tree beside the running executable.
 * Either way the file must be root's and writable by no one else.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"

#ifndef PATH_LIBEXEC
#define PATH_LIBEXEC	"/usr/local/libexec/fsmonitor"	/* Makefile.inc sets it */
#endif

/* What root executes must be root's and writable by no one else. */
static void
check_root_file(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		fatal("%s: %s", __func__, path);
	if (!S_ISREG(sb.st_mode) || sb.st_uid != 0 ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("%s: %s must be a root-owned file writable only by "
		    "root", __func__, path);
}

void
fsproto_libexec_path(const char *name, int buildtree, char *path,
    size_t len)
{
	char		self[PATH_MAX];
	ssize_t		n;
	int		rv;

	if (!buildtree)
		rv = snprintf(path, len, "%s/%s", PATH_LIBEXEC, name);
	else {
		if ((n = readlink("/proc/self/exe", self,
		    sizeof(self) - 1)) == -1)
			fatal("%s: /proc/self/exe", __func__);
		self[n] = '\0';
		rv = snprintf(path, len, "%s/../%s/%s", dirname(self), name,
		    name);
	}
	if (rv < 0 || (size_t)rv >= len)
		fatalx("%s: path of %s too long", __func__, name);
	check_root_file(path);
}

/*
 * Tests only, with -T: the command the worker is started through (e.g.
 * regress/valgrind.sh's, to run it under valgrind), named by root in
 * FSPROTO_WRAP_ENV when it started fsmonitor.  Empty when unset.  The
 * same rules as for the helpers: an absolute path to a root-owned file
 * writable only by root.
 */
void
fsproto_libexec_wrap(char *path, size_t len)
{
	const char	*w;

	path[0] = '\0';
	if ((w = getenv(FSPROTO_WRAP_ENV)) == NULL || w[0] == '\0')
		return;
	if (w[0] != '/' || strlcpy(path, w, len) >= len)
		fatalx("%s: %s: not an absolute path", __func__, w);
	check_root_file(path);
	log_warnx("tests: workers start through %s", path);
}
