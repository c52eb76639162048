/*
 * Backing files for the kernel's passthrough I/O.  The kernel wants
 * CAP_SYS_ADMIN to register one on a FUSE connection, which no worker
 * holds, so each worker has a channel to us on which it passes a file
 * it has opened; we check it and register it on that mount's FUSE
 * descriptor, and close the registration when the worker says so.
 *
 * The kernel keeps the credentials of whoever registers a file, and
 * opens the file anew with them for every passthrough open, and reads,
 * writes and maps it with them: what the backing filesystem charges or
 * checks then (root's reserved blocks, quotas' grace) is charged to
 * those credentials.  So we register each file as the one who opened
 * it: in owner mode the mount's owner, with the ids and groups the
 * worker runs with; in multiuser mode the caller of the OPEN or CREATE,
 * as the worker names it, never root.  For the ioctl, our fsuid, fsgid
 * and groups become those, and our effective capabilities only
 * CAP_SYS_ADMIN, which the ioctl needs (and, in multiuser mode,
 * CAP_DAC_OVERRIDE: the kernel has checked the caller's right to open
 * the file against all of the caller's groups and ACLs, of which the
 * worker knows only some).  Our own come back at once, and are checked.
 *
 * We register only what cannot give a caller more than the worker
 * itself could do: a regular file on the mount's own source
 * filesystem, open for reading and writing (or on a filesystem mounted
 * read-only), neither append-only nor immutable, and no more of them at
 * once than a worker could hold descriptors.
 */

#include <sys/types.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fsmount.h"
#include "fuse_compat.h"

/* Registrations one mount may hold at once. */
#define BACKING_MAX	65536

/* Our own groups and capabilities, to come back to. */
static gid_t				 self_groups[FSMOUNT_GROUPS_MAX];
static int				 self_ngroups;
static struct __user_cap_data_struct	 self_caps[_LINUX_CAPABILITY_U32S_3];

static int
backing_capget(struct __user_cap_data_struct *d)
{
	struct __user_cap_header_struct	h = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};

	return (syscall(SYS_capget, &h, d) == -1 ? -1 : 0);
}

static int
backing_capset(const struct __user_cap_data_struct *d)
{
	struct __user_cap_header_struct	h = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};

	return (syscall(SYS_capset, &h, d) == -1 ? -1 : 0);
}

/* Once sandboxed: what we come back to after each registration. */
void
backing_init(void)
{
	if ((self_ngroups = getgroups(FSMOUNT_GROUPS_MAX, self_groups)) == -1)
		fatal("%s: getgroups", __func__);
	if (backing_capget(self_caps) == -1)
		fatal("%s: capget", __func__);
}

/*
 * Whether the credentials a worker names may be those of a backing
 * file of m; an errno if not.  An owner's worker runs with the owner's
 * ids and groups, which are its to name.  A multiuser worker holds
 * CAP_SETUID and acts for every caller, so it may name any but root:
 * a root caller's writes would have root's reserve, and the kernel
 * passes every later open of the file through the same registration
 * (passthrough.c in fsworker serves root's opens itself).
 */
static int
backing_cred_check(const struct fsm_mount *m,
    const struct fsmsg_backing_open *bc)
{
	uint32_t	i;
	int		j;

	if (bc->ngroups > FSMSG_BACKING_GROUPS)
		return (EINVAL);
	if (m->multiuser)
		return (bc->uid == 0 || bc->uid == (uint32_t)-1 ||
		    bc->gid == (uint32_t)-1 ? EPERM : 0);
	if (bc->uid != m->cred.uid || bc->gid != m->cred.gid)
		return (EPERM);
	for (i = 0; i < bc->ngroups; i++) {
		for (j = 0; j < m->nwgroups; j++)
			if (bc->groups[i] == m->wgroups[j])
				break;
		if (j == m->nwgroups)
			return (EPERM);
	}
	return (0);
}

/*
 * Our credentials back, and proved: a registration that cannot end
 * with them leaves fsmount with someone else's, which it must not
 * outlive.
 */
static void
backing_cred_restore(void)
{
	struct __user_cap_data_struct	caps[_LINUX_CAPABILITY_U32S_3];
	gid_t				groups[FSMOUNT_GROUPS_MAX];
	int				n;

	if (backing_capset(self_caps) == -1)
		fatal("%s: capset", __func__);
	(void)setfsuid(0);
	(void)setfsgid(0);
	if (syscall(SYS_setgroups, self_ngroups, self_groups) == -1)
		fatal("%s: setgroups", __func__);
	if (setfsuid((uid_t)-1) != 0 || setfsgid((gid_t)-1) != 0 ||
	    backing_capget(caps) == -1 ||
	    memcmp(caps, self_caps, sizeof(caps)) != 0 ||
	    (n = getgroups(FSMOUNT_GROUPS_MAX, groups)) != self_ngroups ||
	    memcmp(groups, self_groups, n * sizeof(gid_t)) != 0)
		fatalx("%s: our own credentials did not come back", __func__);
}

/*
 * Become the file's opener for the registration: groups, fsgid, fsuid
 * (which takes the filesystem capabilities out of the effective set),
 * then an effective set of CAP_SYS_ADMIN alone, or with
 * CAP_DAC_OVERRIDE.  Returns 0 or an errno, and then our own
 * credentials are back.
 */
static int
backing_cred_enter(const struct fsm_mount *m,
    const struct fsmsg_backing_open *bc)
{
	struct __user_cap_data_struct	caps[_LINUX_CAPABILITY_U32S_3];
	gid_t				groups[FSMSG_BACKING_GROUPS];
	uint32_t			i;
	int				error;

	for (i = 0; i < bc->ngroups; i++)
		groups[i] = bc->groups[i];
	if (syscall(SYS_setgroups, (int)bc->ngroups, groups) == -1) {
		error = errno;
		backing_cred_restore();
		return (error);
	}
	(void)setfsgid(bc->gid);
	(void)setfsuid(bc->uid);
	memcpy(caps, self_caps, sizeof(caps));
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		caps[i].effective = 0;
	caps[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective |=
	    CAP_TO_MASK(CAP_SYS_ADMIN);
	if (m->multiuser)
		caps[CAP_TO_INDEX(CAP_DAC_OVERRIDE)].effective |=
		    CAP_TO_MASK(CAP_DAC_OVERRIDE);
	if ((uid_t)setfsuid((uid_t)-1) != bc->uid ||
	    (gid_t)setfsgid((gid_t)-1) != bc->gid ||
	    backing_capset(caps) == -1) {
		backing_cred_restore();
		return (EPERM);
	}
	return (0);
}

void
backing_chan_init(struct fsm_mount *m, int fd)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fsproto_chan_init(&m->wchan, fd, sizeof(struct fsmsg_backing_open),
	    FSPROTO_F_FDPASS) == -1)
		fatal("%s", __func__);
	m->wchan_open = 1;
}

void
backing_chan_close(struct fsm_mount *m)
{
	if (!m->wchan_open)
		return;
	close(m->wchan.fd);
	fsproto_chan_clear(&m->wchan);
	m->wchan_open = 0;
}

/*
 * Whether the file open on fd is append-only or immutable; where statx(2)
 * reports neither attribute, its inode flags say.  The kernel checks
 * neither on the backing file it opens for a passthrough open, nor on a
 * mapping or fcntl(F_SETFL) through the mount: registered, such a file
 * could be overwritten.
 */
static int
backing_unwritable(int fd)
{
	const uint64_t	attrs = STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE;
	struct statx	stx;
	int		flags;

	if (statx(fd, "", AT_EMPTY_PATH, 0, &stx) == 0 &&
	    (stx.stx_attributes_mask & attrs) == attrs)
		return ((stx.stx_attributes & attrs) != 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == -1)
		return (errno != ENOTTY && errno != EOPNOTSUPP &&
		    errno != EINVAL);
	return ((flags & (FS_APPEND_FL | FS_IMMUTABLE_FL)) != 0);
}

/* Whether fd may be registered for m; an errno if not. */
static int
backing_check(struct fsm_mount *m, int fd)
{
	struct stat	sb;
	struct statvfs	sv;
	int		fl;

	if (fstat(fd, &sb) == -1)
		return (errno);
	if (!S_ISREG(sb.st_mode))
		return (EINVAL);
	if (sb.st_dev != m->src_dev)
		return (EXDEV);
	if (backing_unwritable(fd))
		return (EPERM);
	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return (errno);
	if ((fl & O_ACCMODE) != O_RDWR &&
	    (fstatvfs(fd, &sv) == -1 || (sv.f_flag & ST_RDONLY) == 0))
		return (EACCES);
	if (m->nbacking >= BACKING_MAX)
		return (EMFILE);
	return (0);
}

/*
 * What the kernel keeps is an O_PATH descriptor of the file the worker
 * proved it may write: it only needs the path, to open the file anew
 * for each passthrough open with that open's flags.  An open file
 * description for writing would count as a writer of the file for as
 * long as the registration lasts (executing the file on the backing
 * tree would fail with ETXTBSY).
 */
static void
backing_open(struct fsm_mount *m, int fd, const struct fsmsg_backing_open *bc,
    struct fsmsg_backing *res)
{
	struct fuse_backing_map	map;
	char			path[32];
	int			id, pfd;

	if ((res->error = backing_check(m, fd)) != 0 ||
	    (res->error = backing_cred_check(m, bc)) != 0)
		return;
	if (m->fuse_fd == -1) {
		res->error = ENOTCONN;
		return;
	}
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((pfd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		res->error = errno;
		return;
	}
	memset(&map, 0, sizeof(map));
	map.fd = pfd;
	if ((res->error = backing_cred_enter(m, bc)) != 0) {
		close(pfd);
		return;
	}
	id = ioctl(m->fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	res->error = id == -1 ? errno : 0;
	backing_cred_restore();
	close(pfd);
	if (id == -1)
		return;
	res->id = id;
	m->nbacking++;
}

/* Not answered: the worker does not wait for it.  Failures are logged. */
static void
backing_close(struct fsm_mount *m, const struct fsmsg_backing *req)
{
	uint32_t	id = (uint32_t)req->id;

	if (m->fuse_fd == -1)
		return;
	if (ioctl(m->fuse_fd, FUSE_DEV_IOC_BACKING_CLOSE, &id) == -1)
		log_warn("%s: backing %d", m->mountpoint, req->id);
	else if (m->nbacking > 0)
		m->nbacking--;
}

/* A worker that breaks the protocol is stopped like one that died. */
static void
backing_bad_worker(struct fsm_mount *m, const char *why)
{
	log_warnx("worker %d of %s: %s; killing it", m->worker, m->mountpoint,
	    why);
	(void)kill(m->worker, SIGKILL);
	backing_chan_close(m);
}

static int
backing_dispatch(struct fsm_mount *m, struct fsproto_msg *msg)
{
	struct fsmsg_backing		req, res;
	struct fsmsg_backing_open	bc;

	memset(&res, 0, sizeof(res));
	switch (msg->hdr.type) {
	case MSG_BACKING_OPEN:
		memset(&bc, 0, sizeof(bc));
		if (msg->fd == -1 ||
		    msg->len < FSMSG_BACKING_OPEN_LEN(0) ||
		    msg->len > sizeof(bc) ||
		    fsproto_get_exact(msg, &bc, msg->len) == -1 ||
		    msg->len != FSMSG_BACKING_OPEN_LEN(bc.ngroups))
			return (-1);
		backing_open(m, msg->fd, &bc, &res);
		break;
	case MSG_BACKING_CLOSE:
		if (msg->fd != -1 ||
		    fsproto_get_exact(msg, &req, sizeof(req)) == -1)
			return (-1);
		backing_close(m, &req);
		return (0);
	default:
		return (-1);
	}
	if (res.error != 0)
		log_debug("%s: backing open: %s", m->mountpoint,
		    strerror(res.error));
	if (fsproto_compose(&m->wchan, MSG_BACKING_RESULT, 0, -1, &res,
	    sizeof(res)) == -1)
		fatal("%s: compose", __func__);
	return (0);
}

/* The worker's channel is readable, writable or gone. */
void
backing_event(struct fsm_mount *m, short revents)
{
	struct fsproto_msg	msg;
	ssize_t			n;
	int			rv;

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if ((n = fsproto_read(&m->wchan)) == 0 ||
		    (n == -1 && errno != EAGAIN)) {
			/* The worker is going; its exit is reaped. */
			backing_chan_close(m);
			return;
		}
		while ((rv = fsproto_get(&m->wchan, &msg)) == 1) {
			rv = backing_dispatch(m, &msg);
			fsproto_msg_free(&msg);
			if (rv == -1) {
				backing_bad_worker(m, "bad backing request");
				return;
			}
		}
		if (rv == -1) {
			backing_bad_worker(m, "bad frame");
			return;
		}
		/*
		 * One read brings one descriptor, with its frame's first
		 * byte: more than one left unclaimed is a worker holding
		 * our descriptors with frames it does not finish.
		 */
		if (fsproto_chan_fds(&m->wchan) > 1) {
			backing_bad_worker(m, "descriptors without frames");
			return;
		}
	}
	if (fsproto_write(&m->wchan) == -1 && errno != EAGAIN)
		backing_chan_close(m);
}
