/*
 * Kernel passthrough I/O: reads, writes and mappings of an open file go
 * from the kernel straight to a backing file, without a request to us.
 *
 * Registering a backing file takes CAP_SYS_ADMIN, so fsmount does it on
 * our behalf: we pass it an open descriptor on the channel it gave us
 * (FSWORKER_MNT_FD) and get the kernel's backing id back.  fsmount only
 * registers a regular file open for reading and writing (or on a
 * read-only filesystem): the kernel opens the backing file again for
 * every open with that open's flags and checks no permission then, so
 * what we register must be something we could write ourselves.
 *
 * The kernel wants every open of an inode that is open in passthrough
 * mode to name the same backing file, and refuses passthrough for an
 * inode open through the page cache, and the other way round.  So each
 * node counts its opens of either kind: the first open decides, later
 * ones follow while any is open.  Our counts lag the kernel's (it
 * forgets a file before we see its RELEASE), which is safe: the kernel
 * never has an open of a kind we do not count.
 *
 * A registration outlives the node's last open, until the kernel
 * forgets the node: opening the file again then costs no exchange with
 * fsmount, nor does closing it.  What the kernel keeps is an O_PATH
 * descriptor (fsmount/backing.c), which holds the file no more than
 * the node's own descriptor does, and no writer of it.  At most
 * PT_IDLE_MAX nodes keep one without an open; past that, and with
 * restart (a new worker would not know of them), the registration ends
 * with the last open.
 *
 * A registration costs the exchange with fsmount, more than reading a
 * small file ourselves: an open for reading only that would need a new
 * one is served by us where the file is small (pt_small_read()).
 *
 * Registrations of different nodes are in flight at once: each thread
 * sends its own and waits without pt_lock, so that one thread's
 * exchange holds up no other open.  fsmount answers them in the order
 * they came, so the answers go to the waiters in that order
 * (pt_waiting); whichever waiter finds no other reading reads for all.
 * A node with its registration in flight holds its later opens until
 * the answer, which decides their kind too.
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"

#define PT_IDLE_MAX	8192
#define PT_BATCH	64	/* closes sent in one write */
/* Past this (512-byte blocks), an unlinked file's close waits for none. */
#define PT_URGENT_BLOCKS	128

/* A registration waiting for fsmount's answer. */
struct pt_wait {
	TAILQ_ENTRY(pt_wait)	 entry;
	struct fsmsg_backing	 res;
	int			 error;		/* the exchange's own */
	int			 done;
};

static pthread_mutex_t		 pt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 pt_cond = PTHREAD_COND_INITIALIZER;
static struct fsproto_chan	 pt_chan;
static int			 pt_chan_up;
static TAILQ_HEAD(, pt_wait)	 pt_waiting = TAILQ_HEAD_INITIALIZER(pt_waiting);
static unsigned int		 pt_nwaiting, pt_nwaiting_max;
static int			 pt_reading;	/* a waiter reads, unlocked */
static unsigned int		 pt_idle;	/* nodes keeping one unused */
static int32_t			 pt_closing[PT_BATCH];
static unsigned int		 pt_nclosing;
static int			 pt_wake = -1;	/* the main thread's */

/*
 * Before the sandbox: the channel to fsmount, kept only if passthrough
 * may be negotiated.
 */
void
passthrough_init(struct worker_conf *c)
{
	struct stat	 st;
	int		 fl;

	if (c->passthrough == PASSTHROUGH_OFF || c->writeback) {
		(void)close(FSWORKER_MNT_FD);
		return;
	}
	if (fstat(FSWORKER_MNT_FD, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		log_warnx("%s: no channel to fsmount, no passthrough",
		    c->mountpoint);
		return;
	}
	/* Each exchange waits for its answer: a blocking channel. */
	if ((fl = fcntl(FSWORKER_MNT_FD, F_GETFL)) == -1 ||
	    fcntl(FSWORKER_MNT_FD, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    fcntl(FSWORKER_MNT_FD, F_SETFD, FD_CLOEXEC) == -1)
		fatal("%s: channel to fsmount", __func__);
	if (fsproto_chan_init(&pt_chan, FSWORKER_MNT_FD,
	    sizeof(struct fsmsg_backing_open), FSPROTO_F_FDPASS) == -1)
		fatal("%s", __func__);
	if ((pt_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("%s: eventfd", __func__);
	pt_chan_up = 1;
}

/*
 * What the main thread polls, and empties: readable once a registration
 * waits to be closed, which the main thread has done, with those that
 * came meanwhile, by calling passthrough_flush() PASSTHROUGH_FLUSH_MS
 * later.  -1 without passthrough.
 */
int
passthrough_wake_fd(void)
{
	return pt_wake;
}

/* Whether INIT may offer passthrough to the kernel. */
int
passthrough_possible(void)
{
	return pt_chan_up;
}

/*
 * Nothing more can be sent to fsmount, with pt_lock held: passthrough
 * ends for every later open.  What was sent may still be answered: the
 * registrations waiting read on until the channel ends (pt_broken()).
 */
static int
pt_down(void)
{
	if (pt_chan_up)
		log_warn("%s: channel to fsmount, passthrough ends", __func__);
	pt_chan_up = 0;
	return EIO;
}

/* w has its answer, or error if none comes; pt_lock held. */
static void
pt_wait_end(struct pt_wait *w, int error)
{
	TAILQ_REMOVE(&pt_waiting, w, entry);
	pt_nwaiting--;
	w->error = error;
	w->done = 1;
}

/*
 * Nothing more can be read from fsmount either, with pt_lock held: the
 * registrations waiting get no answer, and their files are served by
 * us.
 */
static int
pt_broken(void)
{
	struct pt_wait	*w;

	(void)pt_down();
	if (pt_nwaiting > 0)
		log_warnx("%s: %u registrations unanswered, their files "
		    "served here", __func__, pt_nwaiting);
	while ((w = TAILQ_FIRST(&pt_waiting)) != NULL)
		pt_wait_end(w, EIO);
	pthread_cond_broadcast(&pt_cond);
	return EIO;
}

/* Writes out what the channel holds; pt_lock held. */
static int
pt_push(void)
{
	while (fsproto_pending(&pt_chan))
		if (fsproto_write(&pt_chan) == -1)
			return pt_down();
	return 0;
}

/* Sends a request, and fd if not -1, which is closed; pt_lock held. */
static int
pt_send(uint32_t type, int fd, const void *req, size_t len)
{
	if (!pt_chan_up) {
		if (fd != -1)
			close(fd);
		return ENOTCONN;
	}
	if (fsproto_compose(&pt_chan, type, 0, fd, req, len) == -1)
		return pt_down();
	return pt_push();
}

/*
 * Hands the answers read to their waiters, oldest first, with pt_lock
 * held.  Returns -1 once the channel is broken.
 */
static int
pt_answer(void)
{
	struct fsproto_msg	 msg;
	struct pt_wait		*w;
	int			 ok, rv;

	while ((rv = fsproto_get(&pt_chan, &msg)) == 1) {
		w = TAILQ_FIRST(&pt_waiting);
		ok = w != NULL && msg.hdr.type == MSG_BACKING_RESULT &&
		    msg.fd == -1 &&
		    fsproto_get_exact(&msg, &w->res, sizeof(w->res)) == 0 &&
		    w->res.error >= 0 && w->res.error < 4096 &&
		    (w->res.error != 0 || w->res.id > 0);
		fsproto_msg_free(&msg);
		if (!ok) {
			errno = EBADMSG;
			(void)pt_broken();
			return -1;
		}
		pt_wait_end(w, 0);
	}
	if (rv == -1) {
		(void)pt_broken();
		return -1;
	}
	return 0;
}

/*
 * Registers the descriptor bfd, which is closed, as bc's, and waits for
 * the answer, with pt_lock held; it is let go meanwhile.  Returns 0 and
 * the answer, or an errno.
 */
static int
pt_register(int bfd, const struct fsmsg_backing_open *bc,
    struct fsmsg_backing *res)
{
	struct pt_wait	 w;
	ssize_t		 n;
	int		 rv;

	if ((rv = pt_send(MSG_BACKING_OPEN, bfd, bc,
	    FSMSG_BACKING_OPEN_LEN(bc->ngroups))) != 0)
		return rv;
	memset(&w, 0, sizeof(w));
	TAILQ_INSERT_TAIL(&pt_waiting, &w, entry);
	if (++pt_nwaiting > pt_nwaiting_max) {
		pt_nwaiting_max = pt_nwaiting;
		log_debug("%s: %u registrations in flight", __func__,
		    pt_nwaiting);
	}
	while (!w.done) {
		if (pt_reading) {
			pthread_cond_wait(&pt_cond, &pt_lock);
			continue;
		}
		/* Only this thread touches the channel's input now. */
		pt_reading = 1;
		pthread_mutex_unlock(&pt_lock);
		n = fsproto_read(&pt_chan);
		pthread_mutex_lock(&pt_lock);
		pt_reading = 0;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			(void)pt_broken();
		} else
			(void)pt_answer();
		pthread_cond_broadcast(&pt_cond);
	}
	if (w.error != 0)
		return w.error;
	*res = w.res;
	return 0;
}

/*
 * A descriptor of ip for fsmount to check and register, or -1: a
 * duplicate of the handle's own fd where that is open for reading and
 * writing (a file just created is), else ip opened again so.  What
 * fsmount registers is the file's path opened anew (fsmount/backing.c),
 * so the handle's open file description, and the locks taken on it,
 * stay the handle's alone.
 */
static int
pt_backing_fd(struct inode *ip, int fd)
{
	int	 bfd, fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_ACCMODE) == O_RDWR)
		return fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if ((bfd = inode_reopen(ip, O_RDWR)) == -1 && errno == EROFS)
		bfd = inode_reopen(ip, O_RDONLY);
	return bfd;
}

/*
 * Whether an open for reading only of the file st describes is served
 * by us, through the kernel's page cache, rather than by a backing file
 * registered for it: below wconf->pt_min bytes, one READ costs less
 * than the exchange with fsmount (fsctl(8) has the figures).  With
 * cache=auto, only a file unchanged for longer than the attribute
 * timeout: the kernel reads from its cache no further than the size it
 * holds, which is then the file's own, where a passthrough read asks
 * the backing file.  With cache=always nothing changes beside the
 * mount; with cache=never the kernel holds no attributes and every read
 * comes to us (FOPEN_DIRECT_IO).
 */
static int
pt_small_read(const struct stat *st)
{
	struct timespec	 now;

	if (st->st_size >= (off_t)wconf->pt_min)
		return 0;
	if (wconf->cache != CACHE_AUTO)
		return 1;
	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		return 0;
	return st->st_ctim.tv_sec + (time_t)attr_timeout() + 1 < now.tv_sec;
}

static void	pt_close_id(int32_t, int);

/*
 * Whether the registration ip keeps without an open may serve a new
 * open, with pt_lock held; if not, it ends.  Its file may have become
 * append-only or immutable since it was registered, or statx(2) cannot
 * tell: then fsmount checks it again, registering it anew.
 */
static int
pt_kept_usable(struct inode *ip, int fd)
{
	if (file_unwritable(fd) == 0)
		return 1;
	pt_idle--;
	pt_close_id(ip->backing_id, 0);
	ip->backing_id = 0;
	return 0;
}

/*
 * Whose credentials the kernel is to keep for a backing file opened by
 * req's caller (fsmount/backing.c): in owner mode the worker's own, in
 * multiuser mode the caller's uid, gid and the group the request
 * proves.  Returns -1 for a root caller in multiuser mode, whose opens
 * are served by us: the kernel passes every open of a file through the
 * registration that is in place, so a registration of root's would
 * give root's reserved blocks to the next user who opened the file
 * while root held it open.
 */
static int
pt_cred(const struct req *req, struct fsmsg_backing_open *bc)
{
	gid_t	 g;
	int	 i;

	memset(bc, 0, sizeof(*bc));
	if (!wconf->multiuser) {
		bc->uid = wconf->uid;
		bc->gid = wconf->gid;
		for (i = 0; i < wconf->ngroups &&
		    i < FSMSG_BACKING_GROUPS; i++)
			bc->groups[bc->ngroups++] = wconf->groups[i];
		return 0;
	}
	if (req->hdr->uid == 0 || req->hdr->uid == FUSE_INVALID_UIDGID ||
	    req->hdr->gid == FUSE_INVALID_UIDGID)
		return -1;
	bc->uid = req->hdr->uid;
	bc->gid = req->hdr->gid;
	if ((g = cred_group(req)) != CRED_NOGROUP)
		bc->groups[bc->ngroups++] = g;
	return 0;
}

/*
 * The kind of a new open of the regular file ip, whose handle will use
 * fd: a backing id (> 0) for passthrough, or 0 for an open served by
 * us, or a negative errno for an open that must fail.  Each call that
 * gives an id or 0 is matched by passthrough_close() with the same id.
 * rdonly says the open neither writes nor truncates: where it would
 * need a new registration, a small file's is served by us
 * (pt_small_read()).  An open passed through has no FOPEN_KEEP_CACHE:
 * the kernel drops its page cache of the file then, so what it reads
 * through its cache later (cache=always keeps that) is never older
 * than a write passed through.
 *
 * A file with set-user-ID or set-group-ID bits is served by us: the
 * kernel writes to a backing file with the registration's credentials,
 * and so would clear those bits on a write by root, which keeps them
 * (the requests we serve say whether the writer may).
 *
 * So is an append-only or immutable file (file_unwritable()): the
 * kernel checks neither attribute on the backing file it opens, nor on
 * a mapping, fcntl(F_SETFL) or RWF_NOAPPEND through the mount.  The
 * attribute may come after a registration, so it is checked at every
 * open that would use one, a kept one included; fsmount refuses to
 * register such a file too.  The kernel wants every open of a file open
 * in passthrough mode passed through, so one that may write such a file
 * while others are fails, with -ETXTBSY, not counted.
 *
 * In multiuser mode a registration is its opener's (pt_cred()): one
 * kept since the last open is used again only by the same uid, and
 * ended for anyone else's.  While the file is open through it, the
 * kernel takes every other open of the file through it too, whoever
 * opens it (its inode has one backing file at a time): that open's
 * writes are then charged to the first opener, who is never root.
 */
int32_t
passthrough_open(const struct req *req, struct inode *ip, int fd,
    int rdonly)
{
	struct stat			 st;
	struct fsmsg_backing		 res;
	struct fsmsg_backing_open	 bc;
	int32_t				 id = 0;
	int				 bfd, rv, mine;

	if (!(fsess.flags & FUSE_PASSTHROUGH) || ip->type != S_IFREG)
		return 0;
	mine = pt_cred(req, &bc) == 0;
	pthread_mutex_lock(&pt_lock);
	while (ip->pt_registering)
		pthread_cond_wait(&pt_cond, &pt_lock);
	if (ip->pt_opens > 0) {
		if (rdonly || file_unwritable(fd) != 1) {
			id = ip->backing_id;
			ip->pt_opens++;
		} else {
			pthread_mutex_unlock(&pt_lock);
			return -ETXTBSY;
		}
	} else if (ip->cached_opens == 0 && mine && fstat(fd, &st) == 0 &&
	    (st.st_mode & (S_ISUID | S_ISGID)) == 0) {
		if (ip->backing_id > 0 && ip->pt_uid != bc.uid) {
			/* Kept for another opener: not for this one. */
			pt_idle--;
			pt_close_id(ip->backing_id, 0);
			ip->backing_id = 0;
		}
		if (ip->backing_id > 0 && pt_kept_usable(ip, fd)) {
			/* Kept since the last open was released. */
			id = ip->backing_id;
			ip->pt_opens = 1;
			pt_idle--;
		} else if (file_unwritable(fd) == 1) {
			log_debug("%s: node %llu: append-only or immutable, "
			    "served", __func__, (unsigned long long)ip->nodeid);
		} else if (rdonly && pt_small_read(&st)) {
			log_debug("%s: node %llu: %lld bytes, served",
			    __func__, (unsigned long long)ip->nodeid,
			    (long long)st.st_size);
		} else {
			ip->pt_registering = 1;
			memset(&res, 0, sizeof(res));
			if ((bfd = pt_backing_fd(ip, fd)) == -1)
				res.error = errno;
			else if ((rv = pt_register(bfd, &bc, &res)) != 0)
				res.error = rv;
			if (res.error == 0) {
				id = ip->backing_id = res.id;
				ip->pt_uid = bc.uid;
				ip->pt_opens = 1;
				log_debug("%s: node %llu: backing %d",
				    __func__, (unsigned long long)ip->nodeid,
				    id);
			} else
				log_debug("%s: node %llu: %s", __func__,
				    (unsigned long long)ip->nodeid,
				    strerror(res.error));
			ip->pt_registering = 0;
			pthread_cond_broadcast(&pt_cond);
		}
	}
	if (id == 0)
		ip->cached_opens++;
	pthread_mutex_unlock(&pt_lock);
	return id;
}

/*
 * A handle a new worker took over, with the backing id (or 0) its
 * open was given: counted as it was.  Returns whether it is counted,
 * that is whether passthrough_close() is owed.
 */
int
passthrough_recover(struct inode *ip, int32_t id)
{
	int	 counted = 1;

	if (!(fsess.flags & FUSE_PASSTHROUGH) || ip->type != S_IFREG)
		return 0;
	pthread_mutex_lock(&pt_lock);
	if (id > 0 && ip->cached_opens == 0 &&
	    (ip->pt_opens == 0 || ip->backing_id == id)) {
		ip->backing_id = id;
		ip->pt_opens++;
	} else if (id == 0 && ip->pt_opens == 0)
		ip->cached_opens++;
	else
		counted = 0;
	pthread_mutex_unlock(&pt_lock);
	return counted;
}

/* Sends the closes waiting, in one write, with pt_lock held. */
static void
pt_flush_locked(void)
{
	struct fsmsg_backing	 req;
	unsigned int		 i;

	if (pt_nclosing == 0)
		return;
	memset(&req, 0, sizeof(req));
	for (i = 0; i < pt_nclosing && pt_chan_up; i++) {
		req.id = pt_closing[i];
		if (fsproto_compose(&pt_chan, MSG_BACKING_CLOSE, 0, -1, &req,
		    sizeof(req)) == -1)
			(void)pt_down();
	}
	pt_nclosing = 0;
	if (pt_chan_up)
		(void)pt_push();
}

/*
 * Ends a registration, with pt_lock held; not answered, fsmount logs a
 * failure.  What the kernel holds is a path, no writer of the file, so
 * closes may wait a moment to go to fsmount many at a time: a batch
 * when PT_BATCH have gathered, else from the main thread
 * PASSTHROUGH_FLUSH_MS after the first.  Urgent ones go at once, with
 * those waiting, and leave the main thread alone; so does every close
 * with restart (a new worker would not know of them).
 */
static void
pt_close_id(int32_t id, int urgent)
{
	uint64_t	 one = 1;

	pt_closing[pt_nclosing++] = id;
	if (urgent || restart_active() || pt_wake == -1 ||
	    pt_nclosing == PT_BATCH) {
		pt_flush_locked();
		return;
	}
	if (pt_nclosing == 1 && write(pt_wake, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		fatal("%s: eventfd", __func__);
}

/* From the main thread, PASSTHROUGH_FLUSH_MS after the wake-up. */
void
passthrough_flush(void)
{
	pthread_mutex_lock(&pt_lock);
	pt_flush_locked();
	pthread_mutex_unlock(&pt_lock);
}

void
passthrough_close(struct inode *ip, int32_t id)
{
	if (!(fsess.flags & FUSE_PASSTHROUGH) || ip->type != S_IFREG)
		return;
	pthread_mutex_lock(&pt_lock);
	if (id == 0) {
		if (ip->cached_opens == 0)
			fatalx("%s: node %llu: no open to close", __func__,
			    (unsigned long long)ip->nodeid);
		ip->cached_opens--;
	} else {
		if (ip->pt_opens == 0 || ip->backing_id != id)
			fatalx("%s: node %llu: backing %d not open", __func__,
			    (unsigned long long)ip->nodeid, id);
		if (--ip->pt_opens == 0) {
			if (pt_idle < PT_IDLE_MAX && !restart_active())
				pt_idle++;
			else {
				pt_close_id(id, 0);
				ip->backing_id = 0;
			}
		}
	}
	pthread_mutex_unlock(&pt_lock);
}

/*
 * Ends the registration a node kept without an open, once the node is
 * gone (inode.c, which takes id from the node alone: nothing else can
 * reach a node being freed); fd is the node's descriptor, or -1 if it
 * was evicted (then the close waits as a small one's).  That of a
 * file with no name left and more than PT_URGENT_BLOCKS goes at once:
 * until then its space stays taken.  A smaller one waits with the other
 * closes (an unlink loop then costs fsmount one wake-up per batch, not
 * one per file), so that at most PT_BATCH of them hold a little space
 * for at most PASSTHROUGH_FLUSH_MS.
 */
void
passthrough_forget(int32_t id, int fd)
{
	struct stat	 st;
	int		 urgent;

	if (id <= 0)
		return;
	urgent = fstat(fd, &st) == 0 && st.st_nlink == 0 &&
	    st.st_blocks > PT_URGENT_BLOCKS;
	pthread_mutex_lock(&pt_lock);
	pt_idle--;
	pt_close_id(id, urgent);
	pthread_mutex_unlock(&pt_lock);
}
