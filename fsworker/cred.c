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
 * Multiuser mode does every request that reaches the backing
 * filesystem as its caller (fuse.c), and the I/O of an open file as
 * whoever opened it (handle.c): this thread's fsuid and fsgid are set
 * to theirs, and its supplementary groups to those the request proves
 * the caller has: the one the kernel names in FUSE_EXT_GROUPS (the
 * caller's group that owns the parent directory of a new file) and the
 * group a chown gives, which the kernel has checked.  Nothing else of
 * the caller's groups is known to the worker, and the worker keeps none
 * of its own (CVE-2022-0358).  So what the backing filesystem charges,
 * it charges to the caller: new files are theirs, and their writes stop
 * where root's reserved blocks begin (root's are the fsuid 0's).
 *
 * Linux keeps credentials per thread, and setfsuid(2), setfsgid(2), the
 * setgroups system call and capset(2) change only the calling thread;
 * glibc's setgroups(3) would change every thread, so the system call is
 * made directly.  While fsuid is not 0 the kernel takes the filesystem
 * capabilities out of the effective set (capabilities(7)), so the
 * backing filesystem decides set-ID bits and group inheritance as it
 * would for the caller.  Of those capabilities CAP_DAC_OVERRIDE alone
 * is put back: the kernel has checked the caller's permission before
 * the request came (multiuser mounts have default_permissions), with
 * all of the caller's groups and the file's ACLs, of which the worker
 * knows only a part.  Back at fsuid 0 they all return from the
 * permitted set.  A root caller keeps uid 0 and the capabilities.
 *
 * Switches nest: a request already acting as its caller (fuse.c) and
 * then creating a file adds the umask and a group; a write acts as the
 * handle's opener within its caller's request.  Each leave goes back to
 * what its enter found.
 */

#include <sys/types.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/* The filesystem capabilities (capabilities(7)) but CAP_DAC_OVERRIDE. */
#define CRED_FS_DROPPED	((1ULL << CAP_CHOWN) | \
	(1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) | \
	(1ULL << CAP_FSETID) | (1ULL << CAP_LINUX_IMMUTABLE) | \
	(1ULL << CAP_MAC_OVERRIDE) | (1ULL << CAP_MKNOD))

/* The thread's own ids, to come back to, and what it acts as now. */
static __thread int		 self_known;
static __thread struct cred_ids	 self;
static __thread struct cred_ids	 now;
static __thread uint64_t	 self_caps;	/* effective = permitted */

static int
cred_caps(uint64_t *eff, int set)
{
	struct __user_cap_header_struct	 h;
	struct __user_cap_data_struct	 d[_LINUX_CAPABILITY_U32S_3];

	memset(&h, 0, sizeof(h));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	if (!set) {
		*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
		return 0;
	}
	d[0].effective = (uint32_t)*eff;
	d[1].effective = (uint32_t)(*eff >> 32);
	return syscall(SYS_capset, &h, d) == -1 ? -1 : 0;
}

/* Only multiuser mode switches: owner mode needs no ids to return to. */
static void
cred_self(void)
{
	self_known = 1;
	if (!wconf->multiuser)
		return;
	self.uid = setfsuid((uid_t)-1);
	self.gid = setfsgid((gid_t)-1);
	if ((self.ngroups = getgroups(0, NULL)) == -1)
		fatal("%s: getgroups", __func__);
	if (self.ngroups > CRED_MAXGROUPS)
		fatalx("%s: %d supplementary groups", __func__, self.ngroups);
	if (getgroups(self.ngroups, self.groups) != self.ngroups)
		fatal("%s: getgroups", __func__);
	if (cred_caps(&self_caps, 0) == -1)
		fatal("%s: capget", __func__);
	now = self;
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
cred_same(const struct cred_ids *a, const struct cred_ids *b)
{
	return a->uid == b->uid && a->gid == b->gid &&
	    a->ngroups == b->ngroups &&
	    memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

static void
cred_refused(const struct cred_ids *ids, const char *what)
{
	static atomic_flag	 logged = ATOMIC_FLAG_INIT;

	/* Once: a worker without CAP_SETUID/SETGID would say it often. */
	if (!atomic_flag_test_and_set(&logged))
		log_warnx("%s: cannot act as uid %u gid %u: %s (logged once)",
		    __func__, ids->uid, ids->gid, what);
}

/*
 * Makes this thread act as ids.  Returns 0 or an errno; on failure the
 * thread is back at its own credentials, or the worker exits.
 */
static int
cred_apply(const struct cred_ids *ids)
{
	uint64_t	 eff;
	int		 error = 0;

	if (ids->ngroups != now.ngroups ||
	    memcmp(ids->groups, now.groups, ids->ngroups * sizeof(gid_t)))
		if (syscall(SYS_setgroups, ids->ngroups, ids->groups) == -1)
			error = errno;
	if (error == 0) {
		(void)setfsgid(ids->gid);
		(void)setfsuid(ids->uid);
		/* Both fail silently: ask again. */
		if ((gid_t)setfsgid((gid_t)-1) != ids->gid ||
		    (uid_t)setfsuid((uid_t)-1) != ids->uid)
			error = EPERM;
	}
	if (error == 0 && ids->uid != 0) {
		eff = (self_caps & ~CRED_FS_DROPPED) |
		    (self_caps & (1ULL << CAP_DAC_OVERRIDE));
		if (cred_caps(&eff, 1) == -1)
			error = errno;
	}
	if (error == 0) {
		now = *ids;
		return 0;
	}
	if (cred_same(ids, &self))
		fatalx("%s: cannot return to uid %u gid %u", __func__,
		    self.uid, self.gid);
	cred_refused(ids, strerror(error));
	now.ngroups = -1;	/* unknown: set them again */
	(void)cred_apply(&self);
	return EPERM;
}

/* The ids of a caller: uid, gid, the groups proved, and extra. */
static int
cred_ids_of(uid_t uid, gid_t gid, const unsigned char *groups,
    uint32_t ngroups, gid_t extra, struct cred_ids *ids)
{
	uint32_t	 g, i;

	/* An id the kernel could not map has no one to act as. */
	if (uid == FUSE_INVALID_UIDGID || gid == FUSE_INVALID_UIDGID)
		return EOVERFLOW;
	if (ngroups >= CRED_MAXGROUPS) {
		log_warnx("%s: %u groups in a request", __func__, ngroups);
		return EOVERFLOW;
	}
	ids->uid = uid;
	ids->gid = gid;
	ids->ngroups = 0;
	for (i = 0; i < ngroups; i++) {
		memcpy(&g, groups + i * sizeof(g), sizeof(g));
		if (g != gid && g != FUSE_INVALID_UIDGID)
			ids->groups[ids->ngroups++] = g;
	}
	if (extra != CRED_NOGROUP && extra != gid)
		ids->groups[ids->ngroups++] = extra;
	return 0;
}

static int
cred_switch(const struct cred_ids *ids, struct cred_save *cs)
{
	int	 error;

	if (cred_same(ids, &now))
		return 0;
	cs->prev = now;
	if ((error = cred_apply(ids)) != 0)
		return error;
	cs->ids = 1;
	return 0;
}

/* The start of every enter: whether this mode switches at all. */
static int
cred_begin(struct cred_save *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->umask = CRED_NOUMASK;
	if (!self_known)
		cred_self();
	return wconf->multiuser;
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
	struct cred_ids	 ids;
	int		 error;

	if (cred_begin(cs)) {
		if ((error = cred_ids_of(req->hdr->uid, req->hdr->gid,
		    req->groups, req->ngroups, group, &ids)) != 0 ||
		    (error = cred_switch(&ids, cs)) != 0)
			return error;
	}
	if (mask != CRED_NOUMASK)
		cs->umask = umask(mask & 0777);
	return 0;
}

/*
 * The same for I/O on the open file hp, as whoever opened it, whatever
 * the request says: the kernel's writeback of cached pages comes as
 * root.
 */
int
cred_enter_handle(const struct handle *hp, struct cred_save *cs)
{
	struct cred_ids	 ids;
	int		 error;

	if (!cred_begin(cs))
		return 0;
	if ((error = cred_ids_of(hp->uid, hp->gid, NULL, 0, hp->group,
	    &ids)) != 0)
		return error;
	return cred_switch(&ids, cs);
}

/*
 * The worker's own credentials again, inside a request that acts as its
 * caller: for what the worker does on the kernel's behalf rather than
 * the caller's, such as clearing set-ID bits before another's write.
 */
int
cred_enter_self(struct cred_save *cs)
{
	if (!cred_begin(cs))
		return 0;
	return cred_switch(&self, cs);
}

/*
 * The one group a request proves its caller has besides its gid, the
 * first of FUSE_EXT_GROUPS, or CRED_NOGROUP: what an open's handle
 * keeps of the opener's groups.
 */
gid_t
cred_group(const struct req *req)
{
	uint32_t	 g, i;

	for (i = 0; i < req->ngroups; i++) {
		memcpy(&g, req->groups + i * sizeof(g), sizeof(g));
		if (g != req->hdr->gid && g != FUSE_INVALID_UIDGID)
			return g;
	}
	return CRED_NOGROUP;
}

/* Back to what cred_enter() found; errno is kept. */
void
cred_leave(struct cred_save *cs)
{
	int	 saved = errno;

	if (cs->umask != CRED_NOUMASK) {
		(void)umask(cs->umask);
		cs->umask = CRED_NOUMASK;
	}
	if (cs->ids) {
		if (cred_apply(&cs->prev) != 0)
			fatalx("%s: cannot return to uid %u gid %u", __func__,
			    cs->prev.uid, cs->prev.gid);
		cs->ids = 0;
	}
	errno = saved;
}
