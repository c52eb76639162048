/*
 * Descriptor limits of the daemon's processes.  Each raises its soft
 * RLIMIT_NOFILE to the hard limit at start (they use poll(2), never
 * select(2), so nothing needs the customary 1024), and the hard limit
 * too where it is below what they need and they may: root with
 * CAP_SYS_RESOURCE, up to fs.nr_open.  Under a service manager that
 * takes that capability away, the hard limit is the unit's.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsproto.h"
#include "fdlimit.h"

#define PATH_NR_OPEN	"/proc/sys/fs/nr_open"

/* The open descriptors of this process; -1 if /proc cannot tell. */
int
fdlimit_count(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);		/* not the directory's own */
}

/* The kernel's ceiling on any process's descriptor limit. */
static rlim_t
fdlimit_nr_open(rlim_t fallback)
{
	FILE			*fp;
	unsigned long long	 v;

	if ((fp = fopen(PATH_NR_OPEN, "re")) == NULL)
		return (fallback);
	if (fscanf(fp, "%llu", &v) != 1)
		v = fallback;
	fclose(fp);
	return ((rlim_t)v);
}

/*
 * Raise RLIMIT_NOFILE to at least need descriptors where allowed, and
 * the soft limit to the hard one in any case.  The limits found are
 * left in orig, for the programs this process starts.  Returns the
 * soft limit now in force.
 */
rlim_t
fdlimit_raise(rlim_t need, struct rlimit *orig)
{
	struct rlimit	rl;
	rlim_t		ceiling;

	if (getrlimit(RLIMIT_NOFILE, orig) == -1)
		fatal("%s: getrlimit", __func__);
	rl = *orig;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		ceiling = fdlimit_nr_open(need);
		rl.rlim_max = rl.rlim_cur = need < ceiling ? need : ceiling;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_debug("%s: hard limit %llu kept: %s", __func__,
			    (unsigned long long)orig->rlim_max,
			    errno == EPERM ? "no CAP_SYS_RESOURCE" :
			    "refused");
			rl = *orig;
		}
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("%s: setrlimit %llu", __func__,
		    (unsigned long long)rl.rlim_cur);
	return (rl.rlim_cur);
}

/*
 * Why a mount is refused for want of descriptors, in the same words
 * from the parent and from fsmount; returns the errno to refuse with.
 */
int
fdlimit_refuse(char *err, size_t errlen, unsigned int held, rlim_t limit)
{
	snprintf(err, errlen, "too many mounts for the daemon (%u held; "
	    "descriptor limit %llu)", held, (unsigned long long)limit);
	return (EMFILE);
}
