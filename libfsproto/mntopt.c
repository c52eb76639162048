/*
 * Mount options: one allowlist, parsed the same way by the parent,
 * fsmount and the worker.  Anything not on the list is refused with a
 * message naming it; there is no escaping, so a comma always separates.
 */

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsproto.h"
#include "mntopt.h"

static const struct {
	const char	*name;
	unsigned int	 flag;
} mntopt_flags[] = {
	{ "ro",			MO_RO },
	{ "rw",			MO_RW },
	{ "allow_other",	MO_ALLOW_OTHER },
	{ "default_permissions", MO_DEFAULT_PERMISSIONS },
	{ "multiuser",		MO_MULTIUSER },
	{ "noexec",		MO_NOEXEC },
	{ "writeback",		MO_WRITEBACK },
	{ "passthrough",	MO_PASSTHROUGH },
	{ "nopassthrough",	MO_NOPASSTHROUGH },
	{ "noxattr",		MO_NOXATTR },
	{ "restart",		MO_RESTART },
};

static const char *mntopt_cache_names[] = { "never", "auto", "always" };

/* Options with a number for value, and where it goes. */
static const struct {
	const char	*name;
	long		 min, max;
	const char	*unit;
	size_t		 off;
} mntopt_numbers[] = {
	{ "timeout",	0, MO_TIMEOUT_MAX, " seconds",
	    offsetof(struct mntopts, timeout) },
	{ "threads",	1, MO_THREADS_MAX, "",
	    offsetof(struct mntopts, threads) },
	{ "spin",	0, MO_SPIN_MAX, " microseconds",
	    offsetof(struct mntopts, spin) },
	{ "passthrough_min", 0, MO_PTMIN_MAX, " bytes",
	    offsetof(struct mntopts, ptmin) },
};

#define MNTOPT_NNUMBERS	(sizeof(mntopt_numbers) / sizeof(mntopt_numbers[0]))

/* Where the i-th number goes in mo: -1 until it is given. */
static int *
mntopt_number_at(struct mntopts *mo, size_t i)
{
	return (int *)((char *)mo + mntopt_numbers[i].off);
}

void
mntopt_init(struct mntopts *mo)
{
	size_t	i;

	memset(mo, 0, sizeof(*mo));
	mo->cache = MO_CACHE_AUTO;
	for (i = 0; i < MNTOPT_NNUMBERS; i++)
		*mntopt_number_at(mo, i) = -1;
}

static int
mntopt_number(const char *s, long min, long max, long *v)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v < min || *v > max)
		return (-1);
	return (0);
}

static int
mntopt_value(struct mntopts *mo, const char *name, const char *val,
    char *err, size_t errlen)
{
	long	v;
	size_t	i;

	if (strcmp(name, "cache") == 0) {
		for (i = 0; i < MO_NCACHE; i++)
			if (strcmp(val, mntopt_cache_names[i]) == 0) {
				mo->cache = i;
				return (0);
			}
		snprintf(err, errlen, "cache must be never, auto or always");
		return (-1);
	}
	for (i = 0; i < MNTOPT_NNUMBERS; i++) {
		if (strcmp(name, mntopt_numbers[i].name) != 0)
			continue;
		if (mntopt_number(val, mntopt_numbers[i].min,
		    mntopt_numbers[i].max, &v) == -1) {
			snprintf(err, errlen, "%s must be %ld to %ld%s", name,
			    mntopt_numbers[i].min, mntopt_numbers[i].max,
			    mntopt_numbers[i].unit);
			return (-1);
		}
		*mntopt_number_at(mo, i) = (int)v;
		return (0);
	}
	snprintf(err, errlen, "unknown option '%.64s'", name);
	return (-1);
}

static int
mntopt_one(struct mntopts *mo, char *opt, char *err, size_t errlen)
{
	char	*val;
	size_t	 i;

	if (*opt == '\0') {
		snprintf(err, errlen, "empty option");
		return (-1);
	}
	if ((val = strchr(opt, '=')) != NULL) {
		*val++ = '\0';
		return (mntopt_value(mo, opt, val, err, errlen));
	}
	for (i = 0; i < sizeof(mntopt_flags) / sizeof(mntopt_flags[0]); i++)
		if (strcmp(opt, mntopt_flags[i].name) == 0) {
			mo->flags |= mntopt_flags[i].flag;
			return (0);
		}
	for (i = 0; i < MNTOPT_NNUMBERS; i++)
		if (strcmp(opt, mntopt_numbers[i].name) == 0)
			break;
	if (i < MNTOPT_NNUMBERS || strcmp(opt, "cache") == 0)
		snprintf(err, errlen, "option '%s' needs a value", opt);
	else
		snprintf(err, errlen, "unknown option '%.64s'", opt);
	return (-1);
}

static int
mntopt_conflicts(struct mntopts *mo, char *err, size_t errlen)
{
	if ((mo->flags & (MO_RO | MO_RW)) == (MO_RO | MO_RW)) {
		snprintf(err, errlen, "options ro and rw conflict");
		return (-1);
	}
	if ((mo->flags & (MO_PASSTHROUGH | MO_NOPASSTHROUGH)) ==
	    (MO_PASSTHROUGH | MO_NOPASSTHROUGH)) {
		snprintf(err, errlen,
		    "options passthrough and nopassthrough conflict");
		return (-1);
	}
	if ((mo->flags & (MO_PASSTHROUGH | MO_WRITEBACK)) ==
	    (MO_PASSTHROUGH | MO_WRITEBACK)) {
		snprintf(err, errlen,
		    "options passthrough and writeback conflict");
		return (-1);
	}
	if (mo->flags & MO_MULTIUSER)
		mo->flags |= MO_ALLOW_OTHER | MO_DEFAULT_PERMISSIONS;
	/*
	 * In owner mode the worker acts as the owner for every caller:
	 * only the kernel's check keeps others to their own rights.
	 */
	if (mo->flags & MO_ALLOW_OTHER)
		mo->flags |= MO_DEFAULT_PERMISSIONS;
	return (0);
}

/*
 * Parse a comma-separated list.  Characters outside the option alphabet
 * (in particular backslashes, quotes, spaces and control characters)
 * are refused outright: they have no use here and have been used to
 * smuggle options through other mount helpers.
 */
int
mntopt_parse(const char *s, struct mntopts *mo, char *err, size_t errlen)
{
	char		 buf[MO_STRING_MAX];
	char		*p, *opt;
	const char	*c;

	mntopt_init(mo);
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "option string too long");
		return (-1);
	}
	for (c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    *c == '_' || *c == '=' || *c == ',')) {
			snprintf(err, errlen, "invalid character in options");
			return (-1);
		}
	if (*s == '\0')
		return (0);
	memcpy(buf, s, strlen(s) + 1);
	for (p = buf; (opt = strsep(&p, ",")) != NULL;)
		if (mntopt_one(mo, opt, err, errlen) == -1)
			return (-1);
	return (mntopt_conflicts(mo, err, errlen));
}

static int
mntopt_append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static int
mntopt_append(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	size_t	used = strlen(buf);
	int	n;

	if (used > 0) {
		if (used + 1 >= len)
			return (-1);
		buf[used++] = ',';
		buf[used] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len - used ? -1 : 0);
}

/* The canonical string: flags in table order, then valued options. */
int
mntopt_format(const struct mntopts *mo, char *buf, size_t len)
{
	size_t	i;
	int	v, rv = 0;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	for (i = 0; i < sizeof(mntopt_flags) / sizeof(mntopt_flags[0]); i++)
		if (mo->flags & mntopt_flags[i].flag)
			rv |= mntopt_append(buf, len, "%s",
			    mntopt_flags[i].name);
	if (mo->cache != MO_CACHE_AUTO)
		rv |= mntopt_append(buf, len, "cache=%s",
		    mntopt_cache_names[mo->cache]);
	for (i = 0; i < MNTOPT_NNUMBERS; i++)
		if ((v = *(const int *)((const char *)mo +
		    mntopt_numbers[i].off)) >= 0)
			rv |= mntopt_append(buf, len, "%s=%d",
			    mntopt_numbers[i].name, v);
	if (rv != 0) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * The policy part of option checking, the same in the parent and in
 * fsmount: what only root may ask for.
 */
int
mntopt_check(const char *s, uid_t uid, int user_allow_other,
    struct mntopts *mo, char *err, size_t errlen)
{
	if (mntopt_parse(s, mo, err, errlen) == -1)
		return (EINVAL);
	if (uid == 0)
		return (0);
	if (mo->flags & MO_MULTIUSER) {
		snprintf(err, errlen, "option multiuser is for root only");
		return (EPERM);
	}
	if ((mo->flags & MO_ALLOW_OTHER) && !user_allow_other) {
		snprintf(err, errlen, "option allow_other needs "
		    "user_allow_other in fsmonitor.conf");
		return (EPERM);
	}
	return (0);
}
