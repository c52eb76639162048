/*
 * File locks.  POSIX locks become open file description (F_OFD_*) locks
 * on the handle's descriptor: the worker holds every lock, so per-process
 * locks would all belong to it, while one handle per open(2) through the
 * mount gives the kernel's lock owners distinct descriptions.  What this
 * does not reproduce: two open(2)s of one file by one process hold
 * separate locks that conflict, and closing one descriptor releases only
 * the locks taken through it.  flock(2) locks are per description by
 * nature and map exactly.
 *
 * A lock that must wait (SETLKW) waits in a thread of its own, so the
 * serving threads stay free to handle the request that will release it;
 * INTERRUPT wakes that thread with a signal.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

#define LOCK_WAITERS_MAX	1024
#define LOCK_WAITER_STACK	(64 * 1024)
#define LOCK_INTR_RING		64

struct lock_waiter {
	TAILQ_ENTRY(lock_waiter) entry;
	pthread_t		 tid;
	struct fuse_in_header	 hdr;	/* the SETLKW's, to reply */
	int			 fd;	/* the clone it came on, ditto */
	struct uring_ent	*ent;	/* or the ring entry */
	struct handle		*hp;
	int			 is_flock;
	int			 flockop;
	struct flock		 fl;
	int			 interrupted;
};

static TAILQ_HEAD(, lock_waiter) waiters = TAILQ_HEAD_INITIALIZER(waiters);
static pthread_mutex_t	 waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int	 nwaiters;
/* INTERRUPTs that came before their request had a waiter. */
static uint64_t		 intr_ring[LOCK_INTR_RING];
static unsigned int	 intr_next;

static void
lock_signal_handler(int sig)
{
	(void)sig;		/* only there to make the wait return EINTR */
}

/* Called before any thread starts, which then all block the signal. */
void
lock_init(void)
{
	struct sigaction	 sa;
	sigset_t		 set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lock_signal_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(WAKE_SIGNAL, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatalx("%s: pthread_sigmask", __func__);
}

/* struct flock from the kernel's lock, whose end is inclusive. */
static int
lock_to_flock(const struct fuse_file_lock *lk, struct flock *fl)
{
	if (lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK)
		return EINVAL;
	if (lk->start > INT64_MAX || lk->end < lk->start)
		return EINVAL;
	memset(fl, 0, sizeof(*fl));
	fl->l_type = lk->type;
	fl->l_whence = SEEK_SET;
	fl->l_start = lk->start;
	fl->l_len = lk->end >= INT64_MAX ? 0 : lk->end - lk->start + 1;
	return 0;
}

static void
flock_to_lock(const struct flock *fl, struct fuse_file_lock *lk)
{
	memset(lk, 0, sizeof(*lk));
	lk->type = fl->l_type;
	if (fl->l_type == F_UNLCK)
		return;
	lk->start = fl->l_start;
	lk->end = fl->l_len == 0 ? INT64_MAX : fl->l_start + fl->l_len - 1;
	/* An OFD lock has no process; the kernel reads 0 as none. */
	lk->pid = fl->l_pid > 0 ? (uint32_t)fl->l_pid : 0;
}

int
op_getlk(struct req *req)
{
	const struct fuse_lk_in	*in = (const void *)req->arg;
	struct fuse_lk_out	 out;
	struct handle		*hp;
	struct flock		 fl;
	int			 error = 0;

	if (in->lk_flags & FUSE_LK_FLOCK)
		return EINVAL;
	if ((error = lock_to_flock(&in->lk, &fl)) != 0)
		return error;
	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EBADF, &error)) == NULL)
		return error;
	if (fcntl(hp->fd, F_OFD_GETLK, &fl) == -1)
		error = errno;
	handle_put(hp);
	if (error)
		return error;
	flock_to_lock(&fl, &out.lk);
	reply_data(req, &out, sizeof(out));
	return 0;
}

static int
lock_flockop(uint32_t type, int *op)
{
	switch (type) {
	case F_RDLCK:
		*op = LOCK_SH;
		return 0;
	case F_WRLCK:
		*op = LOCK_EX;
		return 0;
	case F_UNLCK:
		*op = LOCK_UN;
		return 0;
	}
	return EINVAL;
}

/* One attempt; returns 0 or the errno.  wait blocks until granted. */
static int
lock_try(const struct lock_waiter *w, int wait)
{
	struct flock	 fl = w->fl;

	if (w->is_flock)
		return flock(w->hp->fd, w->flockop | (wait ? 0 : LOCK_NB)) ==
		    -1 ? errno : 0;
	return fcntl(w->hp->fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) ==
	    -1 ? errno : 0;
}

static void
lock_waiter_done(struct lock_waiter *w, int error)
{
	struct req	 req;

	pthread_mutex_lock(&waiters_lock);
	TAILQ_REMOVE(&waiters, w, entry);
	nwaiters--;
	pthread_mutex_unlock(&waiters_lock);
	memset(&req, 0, sizeof(req));
	req.fd = w->fd;
	req.ent = w->ent;
	req.hdr = &w->hdr;
	reply_err(&req, error);
	handle_put(w->hp);
	free(w);
}

static void *
lock_waiter_main(void *arg)
{
	struct lock_waiter	*w = arg;
	sigset_t		 set;
	int			 error, interrupted;

	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		pthread_mutex_lock(&waiters_lock);
		interrupted = w->interrupted;
		pthread_mutex_unlock(&waiters_lock);
		if (interrupted) {
			error = EINTR;
			break;
		}
		if ((error = lock_try(w, 1)) != EINTR)
			break;
	}
	lock_waiter_done(w, error);
	return NULL;
}

/* Called with waiters_lock held. */
static int
lock_intr_pending(uint64_t unique)
{
	unsigned int	 i;

	for (i = 0; i < LOCK_INTR_RING; i++) {
		if (intr_ring[i] == unique) {
			intr_ring[i] = 0;
			return 1;
		}
	}
	return 0;
}

/* Hands w to a thread of its own; on failure w is the caller's. */
static int
lock_wait_start(struct lock_waiter *w)
{
	pthread_attr_t	 attr;
	int		 rv;

	pthread_mutex_lock(&waiters_lock);
	if (nwaiters >= LOCK_WAITERS_MAX) {
		pthread_mutex_unlock(&waiters_lock);
		log_warnx("%s: %u lock waiters", __func__, nwaiters);
		return ENOLCK;
	}
	w->interrupted = lock_intr_pending(w->hdr.unique);
	TAILQ_INSERT_TAIL(&waiters, w, entry);
	nwaiters++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, LOCK_WAITER_STACK);
	if ((rv = pthread_create(&w->tid, &attr, lock_waiter_main, w)) != 0) {
		TAILQ_REMOVE(&waiters, w, entry);
		nwaiters--;
	}
	pthread_mutex_unlock(&waiters_lock);
	pthread_attr_destroy(&attr);
	if (rv != 0) {
		log_warnx("%s: pthread_create: %s", __func__, strerror(rv));
		return ENOLCK;
	}
	return 0;
}

static int
lock_set(struct req *req, int sleep)
{
	const struct fuse_lk_in	*in = (const void *)req->arg;
	struct lock_waiter	*w;
	int			 error = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ENOMEM;
	w->hdr = *req->hdr;
	/* Each clone has its own queue: reply where the request came. */
	w->fd = req->fd;
	w->ent = req->ent;
	w->is_flock = (in->lk_flags & FUSE_LK_FLOCK) != 0;
	if ((error = w->is_flock ? lock_flockop(in->lk.type, &w->flockop) :
	    lock_to_flock(&in->lk, &w->fl)) != 0 ||
	    (w->hp = handle_get_file(in->fh, req->hdr->nodeid, EBADF, &error)) == NULL) {
		free(w);
		return error;
	}
	error = lock_try(w, 0);
	if (error == EWOULDBLOCK || error == EACCES) {
		error = EAGAIN;
		if (sleep && (error = lock_wait_start(w)) == 0) {
			req->deferred = 1;	/* the waiter replies */
			return 0;
		}
	}
	handle_put(w->hp);
	free(w);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_setlk(struct req *req)
{
	return lock_set(req, 0);
}

int
op_setlkw(struct req *req)
{
	return lock_set(req, 1);
}

/*
 * Only a waiting lock can be interrupted; everything else finishes on
 * its own.  The EAGAIN reply makes the kernel send the INTERRUPT again
 * until the waiter has answered, which covers a signal that arrived just
 * before the wait began.
 */
int
op_interrupt(struct req *req)
{
	const struct fuse_interrupt_in	*in = (const void *)req->arg;
	struct lock_waiter		*w;

	pthread_mutex_lock(&waiters_lock);
	TAILQ_FOREACH(w, &waiters, entry) {
		if (w->hdr.unique == in->unique) {
			w->interrupted = 1;
			pthread_kill(w->tid, WAKE_SIGNAL);
			break;
		}
	}
	if (w == NULL) {
		intr_ring[intr_next] = in->unique;
		intr_next = (intr_next + 1) % LOCK_INTR_RING;
	}
	pthread_mutex_unlock(&waiters_lock);
	if (w != NULL)
		reply_err(req, EAGAIN);
	return 0;
}
