/*
 * The pieces every process's sandbox is built from: an exact capability
 * set and a seccomp allowlist.  Each process keeps its own lists, with
 * the reason for every entry, beside the code that needs them.
 */

#include <sys/types.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "fsproto.h"
#include "sandbox.h"

/*
 * Leave exactly these capabilities in the permitted and effective sets,
 * those and the extra ones in the bounding set, and none in the
 * inheritable and ambient sets.  A root process keeps in its bounding
 * set what the root programs it executes may start with.  The bounding
 * set can only shrink, so this is done while CAP_SETPCAP is held.
 */
void
sandbox_caps(const int *caps, size_t ncaps, const int *extra, size_t nextra)
{
	size_t	i;

	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < ncaps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    CAPNG_BOUNDING_SET, caps[i]) == -1)
			fatalx("%s: capability %d", __func__, caps[i]);
	for (i = 0; i < nextra; i++)
		if (capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET,
		    extra[i]) == -1)
			fatalx("%s: capability %d", __func__, extra[i]);
	if (capng_apply(CAPNG_SELECT_ALL) != 0)
		fatalx("%s: cannot apply the capability sets", __func__);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: PR_CAP_AMBIENT_CLEAR_ALL", __func__);
}

void
sandbox_nonewprivs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
}

/*
 * Install an allowlist: anything else kills the process, or with the
 * build flag SECCOMP_LOG is only logged by the kernel (the audit log,
 * or dmesg), to find a system call that another libc needs.
 */
void
sandbox_seccomp(const struct sandbox_syscall *list, size_t n,
    const struct sandbox_syscall *more, size_t nmore)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		rv;

#ifdef SECCOMP_LOG
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
#endif
	if (ctx == NULL)
		fatalx("%s: seccomp_init", __func__);
	for (i = 0; i < n + nmore; i++) {
		const struct sandbox_syscall *sc = i < n ? &list[i] :
		    &more[i - n];

		if (sc->nr < 0)
			continue;	/* not on this architecture */
		if ((rv = seccomp_rule_add(ctx, sc->errnum ?
		    SCMP_ACT_ERRNO(sc->errnum) : SCMP_ACT_ALLOW, sc->nr,
		    0)) < 0 && rv != -EEXIST)
			fatalx("%s: rule for %d: %s", __func__, sc->nr,
			    strerror(-rv));
	}
	if ((rv = seccomp_load(ctx)) < 0)
		fatalx("%s: seccomp_load: %s", __func__, strerror(-rv));
	seccomp_release(ctx);
}

/*
 * Empty the bounding set but keep what the process holds now: for a
 * root process about to change to another user, which then loses the
 * rest by itself.
 */
void
sandbox_bounding_clear(void)
{
	capng_get_caps_process();
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		fatalx("%s: cannot clear the bounding set", __func__);
}
