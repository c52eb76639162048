/*
 * Backing files for the kernel's passthrough I/O.  The kernel wants
 * CAP_SYS_ADMIN to register one on a FUSE connection, which no worker
 * holds, so each worker has a channel to us on which it passes a file
 * it has opened; we check it and register it on that mount's FUSE
 * descriptor, and close the registration when the worker says so.
 *
 * The kernel opens each passthrough file anew from the registered one,
 * with our credentials.  So we register only what cannot give a caller
 * more than the worker itself could do: a regular file on the mount's
 * own source filesystem, open for reading and writing (or on a
 * filesystem mounted read-only), neither append-only nor immutable, and
 * no more of them at once than a worker could hold descriptors.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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

void
backing_chan_init(struct fsm_mount *m, int fd)
{
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fsproto_chan_init(&m->wchan, fd, sizeof(struct fsmsg_backing),
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
backing_open(struct fsm_mount *m, int fd, struct fsmsg_backing *res)
{
	struct fuse_backing_map	map;
	char			path[32];
	int			id, pfd;

	if ((res->error = backing_check(m, fd)) != 0)
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
	id = ioctl(m->fuse_fd, FUSE_DEV_IOC_BACKING_OPEN, &map);
	res->error = id == -1 ? errno : 0;
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
	struct fsmsg_backing	req, res;

	memset(&res, 0, sizeof(res));
	switch (msg->hdr.type) {
	case MSG_BACKING_OPEN:
		if (msg->fd == -1 || msg->len != 0)
			return (-1);
		backing_open(m, msg->fd, &res);
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
