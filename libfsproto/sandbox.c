/*
 * The pieces every process's sandbox is built from: an exact capability
 * set and a seccomp allowlist.  Each process keeps its own lists, with
 * the reason for every entry, beside the code that needs them.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <cap-ng.h>
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "sandbox.h"

static void	sandbox_ambient_clear(void);
static int	sandbox_listed(const struct sandbox_list *, size_t, size_t);

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
	sandbox_ambient_clear();
}

static void
sandbox_ambient_clear(void)
{
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
 * Install an allowlist made of several lists: anything else kills the
 * process, or with the build flag SECCOMP_LOG is only logged by the
 * kernel (the audit log, or dmesg), to find a system call that another
 * libc needs.  A call listed more than once takes its first entry, so
 * a process that starts others puts its own list first and theirs
 * after; only entries that each allow some values of the first
 * argument are all taken.  libseccomp sets no_new_privs when it loads a filter unless
 * told otherwise; SANDBOX_KEEPPRIVS leaves it unset, for a root process
 * whose children must gain capabilities on execve(2).  That needs
 * CAP_SYS_ADMIN.
 */
void
sandbox_seccomp(const struct sandbox_list *lists, size_t nlists, int flags)
{
	const struct sandbox_syscall	*sc;
	scmp_filter_ctx			 ctx;
	uint32_t			 action;
	size_t				 l, i;
	int				 rv;

#ifdef SECCOMP_LOG
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
#endif
	if (ctx == NULL)
		fatalx("%s: seccomp_init", __func__);
	if ((flags & SANDBOX_KEEPPRIVS) &&
	    (rv = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
		fatalx("%s: SCMP_FLTATR_CTL_NNP: %s", __func__, strerror(-rv));
	for (l = 0; l < nlists; l++) {
		for (i = 0; i < lists[l].n; i++) {
			sc = &lists[l].calls[i];
			if (sc->nr < 0)
				continue;	/* not on this architecture */
			if (sandbox_listed(lists, l, i))
				continue;
			action = sc->errnum ? SCMP_ACT_ERRNO(sc->errnum) :
			    SCMP_ACT_ALLOW;
			if (sc->a0mask != 0)
				rv = seccomp_rule_add(ctx, action, sc->nr, 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, sc->a0mask,
				    sc->a0));
			else
				rv = seccomp_rule_add(ctx, action, sc->nr, 0);
			if (rv < 0)
				fatalx("%s: rule for %d: %s", __func__, sc->nr,
				    strerror(-rv));
		}
	}
	if ((rv = seccomp_load(ctx)) < 0)
		fatalx("%s: seccomp_load: %s", __func__, strerror(-rv));
	seccomp_release(ctx);
}

/*
 * Whether the call of entry i of list l has an entry before it that
 * decides for it.  Entries that allow a call only for some values of
 * its first argument add up: fsmount's clone(2) of a worker, and its
 * workers' clone(2) of threads.
 */
static int
sandbox_listed(const struct sandbox_list *lists, size_t l, size_t i)
{
	const struct sandbox_syscall	*sc = &lists[l].calls[i], *pc;
	size_t				 pl, pi;

	for (pl = 0; pl <= l; pl++)
		for (pi = 0; pi < (pl == l ? i : lists[pl].n); pi++) {
			pc = &lists[pl].calls[pi];
			if (pc->nr != sc->nr)
				continue;
			if (pc->a0mask == 0 || pc->errnum != 0 ||
			    sc->a0mask == 0 || sc->errnum != 0)
				return (1);
		}
	return (0);
}

/*
 * Leave exactly these capabilities in the bounding set, and the other
 * sets as they are: for a root process that still needs more for a
 * while, and then gives up the rest by changing its ids or with
 * sandbox_caps_only().  libcap-ng reads /proc/<tid>/status here, so a
 * process about to change its root calls this before.
 */
void
sandbox_bounding(const int *caps, size_t ncaps)
{
	size_t	i;

	capng_clear(CAPNG_SELECT_BOUNDS);
	for (i = 0; i < ncaps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, caps[i]) == -1)
			fatalx("%s: capability %d", __func__, caps[i]);
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		fatalx("%s: cannot apply the bounding set", __func__);
}

/*
 * Empty the bounding set but keep what the process holds now: for a
 * root process about to change to another user, which then loses the
 * rest by itself.
 */
void
sandbox_bounding_clear(void)
{
	sandbox_bounding(NULL, 0);
}

/*
 * Exactly these capabilities permitted and effective, none inheritable
 * or ambient; the bounding set is left alone.  Only capset(2) and
 * prctl(2): nothing is read from /proc, once libcap-ng has been used
 * in this thread before (sandbox_bounding()).
 */
void
sandbox_caps_only(const int *caps, size_t ncaps)
{
	size_t	i;

	capng_clear(CAPNG_SELECT_CAPS);
	for (i = 0; i < ncaps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
		    caps[i]) == -1)
			fatalx("%s: capability %d", __func__, caps[i]);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		fatalx("%s: cannot apply the capability sets", __func__);
	sandbox_ambient_clear();
}

/*
 * Check, with capget(2) and prctl(2) rather than libcap-ng (which reads
 * /proc/<pid>/status, and a process in a pid namespace of its own may
 * find another's there or none), that exactly these capabilities are
 * permitted, effective and in the bounding set, and none inheritable or
 * ambient.
 */
void
sandbox_caps_verify(const int *caps, size_t ncaps)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	uint64_t			 want = 0, eff, prm, inh;
	size_t				 i;
	int				 c, rv;

	for (i = 0; i < ncaps; i++)
		want |= (uint64_t)1 << caps[i];
	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		fatal("%s: capget", __func__);
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	prm = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	inh = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	if (eff != want || prm != want || inh != 0)
		fatalx("%s: capabilities %#llx %#llx %#llx, not %#llx",
		    __func__, (unsigned long long)eff, (unsigned long long)prm,
		    (unsigned long long)inh, (unsigned long long)want);
	for (c = 0; c < 64; c++) {
		if ((rv = prctl(PR_CAPBSET_READ, c, 0, 0, 0)) == -1)
			break;		/* beyond the last capability */
		if ((uint64_t)rv != ((want >> c) & 1))
			fatalx("%s: capability %d %s the bounding set",
			    __func__, c, rv ? "in" : "not in");
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
			fatalx("%s: capability %d is ambient", __func__, c);
	}
}
