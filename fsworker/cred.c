/*
 * The credentials a request runs with.
 *
 * Every FUSE thread has an fs_struct of its own (cred_thread_init()),
 * so a creating request's umask can be the caller's, set around its one
 * system call with the mode passed unmasked: the backing filesystem
 * then applies the umask, or instead of it the parent's default ACL,
 * exactly as it would for a local caller.  Both modes do this.
 *
 * Owner mode does everything else as the mount's owner: the worker
 * already runs with the owner's ids (sandbox.c).
 *
 * Multiuser mode runs each creating or ownership-changing request with
 * this thread's fsuid and fsgid set to the caller's, so what it creates
 * is the caller's, and with the supplementary groups the request proves
 * the caller has: the one the kernel names in FUSE_EXT_GROUPS (the
 * caller's group that owns the parent directory) and the group a chown
 * gives, which the kernel has checked.  Nothing else of the caller's
 * groups is known to the worker, and the worker keeps none of its own
 * (CVE-2022-0358).  Linux keeps credentials per thread, and setfsuid(2),
 * setfsgid(2) and the setgroups system call change only the calling
 * thread; glibc's setgroups(3) would change every thread, so the system
 * call is made directly.  While fsuid is not 0 the kernel takes the
 * filesystem capabilities out of the effective set (capabilities(7)),
 * so the backing filesystem decides permissions, set-ID bits and group
 * inheritance as it would for the caller; back at 0 they return from
 * the permitted set.  A root caller keeps uid 0 and the capabilities.
 */

#include <sys/types.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/* Groups a request may carry, and the worker's own at most. */
#define CRED_MAXGROUPS	32

/* The thread's own ids, to come back to. */
static __thread int	 self_known;
static __thread uid_t	 self_uid;
static __thread gid_t	 self_gid;
static __thread int	 self_ngroups;
static __thread gid_t	 self_groups[CRED_MAXGROUPS];

/* Only multiuser mode switches: owner mode needs no ids to return to. */
static void
cred_self(void)
{
	self_known = 1;
	if (!wconf->multiuser)
		return;
	self_uid = setfsuid((uid_t)-1);
	self_gid = setfsgid((gid_t)-1);
	if ((self_ngroups = getgroups(0, NULL)) == -1)
		fatal("%s: getgroups", __func__);
	if (self_ngroups > CRED_MAXGROUPS)
		fatalx("%s: %d supplementary groups", __func__, self_ngroups);
	if (getgroups(self_ngroups, self_groups) != self_ngroups)
		fatal("%s: getgroups", __func__);
}

/* At the start of each FUSE thread, before its first request. */
void
cred_thread_init(void)
{
	/* The umask lives in the fs_struct; main() set it to 0. */
	if (unshare(CLONE_FS) == -1)
		fatal("%s: unshare(CLONE_FS)", __func__);
	cred_self();
}

static int
cred_setgroups(int n, const gid_t *groups)
{
	return syscall(SYS_setgroups, n, groups) == -1 ? errno : 0;
}

/* The groups to act with: what the kernel sent, and extra. */
static int
cred_groups(const struct req *req, gid_t extra, gid_t *groups)
{
	uint32_t	 g, i;
	int		 n = 0;

	if (req->ngroups >= CRED_MAXGROUPS)
		return -1;
	for (i = 0; i < req->ngroups; i++) {
		memcpy(&g, req->groups + i * sizeof(g), sizeof(g));
		if (g != req->hdr->gid && g != FUSE_INVALID_UIDGID)
			groups[n++] = g;
	}
	if (extra != CRED_NOGROUP && extra != req->hdr->gid)
		groups[n++] = extra;
	return n;
}

static void
cred_restore(struct cred_save *cs)
{
	int	 error;

	if (cs->ids) {
		(void)setfsuid(self_uid);
		(void)setfsgid(self_gid);
		if ((uid_t)setfsuid((uid_t)-1) != self_uid ||
		    (gid_t)setfsgid((gid_t)-1) != self_gid)
			fatalx("%s: cannot return to uid %u gid %u", __func__,
			    self_uid, self_gid);
		cs->ids = 0;
	}
	if (cs->groups) {
		if ((error = cred_setgroups(self_ngroups, self_groups)) != 0)
			fatalx("%s: setgroups: %s", __func__,
			    strerror(error));
		cs->groups = 0;
	}
}

static void
cred_refused(const struct req *req, const char *what)
{
	static atomic_flag	 logged = ATOMIC_FLAG_INIT;

	/* Once: a worker without CAP_SETUID/SETGID would say it often. */
	if (!atomic_flag_test_and_set(&logged))
		log_warnx("%s: cannot act as uid %u gid %u: %s (logged once)",
		    __func__, req->hdr->uid, req->hdr->gid, what);
}

static int
cred_switch(const struct req *req, gid_t extra, struct cred_save *cs)
{
	gid_t	 groups[CRED_MAXGROUPS];
	uid_t	 uid = req->hdr->uid;
	gid_t	 gid = req->hdr->gid;
	int	 n, error;

	/* An id the kernel could not map has no one to act as. */
	if (uid == FUSE_INVALID_UIDGID || gid == FUSE_INVALID_UIDGID)
		return EOVERFLOW;
	if ((n = cred_groups(req, extra, groups)) == -1) {
		log_warnx("%s: %u groups in a request", __func__,
		    req->ngroups);
		return EOVERFLOW;
	}
	if (uid == self_uid && gid == self_gid && n == 0 && self_ngroups == 0)
		return 0;
	if (n > 0 || self_ngroups > 0) {
		if ((error = cred_setgroups(n, groups)) != 0) {
			cred_refused(req, strerror(error));
			return EPERM;
		}
		cs->groups = 1;
	}
	cs->ids = 1;
	(void)setfsgid(gid);
	(void)setfsuid(uid);
	/* Both fail silently: ask again. */
	if ((gid_t)setfsgid((gid_t)-1) != gid ||
	    (uid_t)setfsuid((uid_t)-1) != uid) {
		cred_restore(cs);
		cred_refused(req, "setfsuid/setfsgid refused");
		return EPERM;
	}
	return 0;
}

/*
 * Until cred_leave(), this thread acts for the request: with mask as
 * its umask unless CRED_NOUMASK, and in multiuser mode as the caller,
 * group counting among the caller's supplementary groups unless
 * CRED_NOGROUP.  Returns 0 or an errno, and then nothing changed.
 */
int
cred_enter(const struct req *req, mode_t mask, gid_t group,
    struct cred_save *cs)
{
	int	 error;

	memset(cs, 0, sizeof(*cs));
	cs->umask = CRED_NOUMASK;
	if (!self_known)
		cred_self();
	if (wconf->multiuser && (error = cred_switch(req, group, cs)) != 0)
		return error;
	if (mask != CRED_NOUMASK)
		cs->umask = umask(mask & 0777);
	return 0;
}

/* Back to the worker's own credentials; errno is kept. */
void
cred_leave(struct cred_save *cs)
{
	int	 saved = errno;

	if (cs->umask != CRED_NOUMASK) {
		(void)umask(cs->umask);
		cs->umask = CRED_NOUMASK;
	}
	cred_restore(cs);
	errno = saved;
}
