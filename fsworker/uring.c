/*
 * FUSE over io_uring.  With the fuse module's enable_uring parameter
 * set, the kernel offers FUSE_OVER_IO_URING at INIT; a server that takes
 * it registers entries (a header area and a payload buffer each) with
 * IORING_OP_URING_CMD on its FUSE descriptor, and the kernel puts each
 * request in an entry and takes the reply from it, the reply committed
 * together with the fetch of the next request.  A thread here serves a
 * batch of entries and commits all their replies in the same
 * io_uring_enter(2) that waits for the next ones: one system call per
 * batch where /dev/fuse takes a read and a writev per request.
 *
 * The kernel queues a request on the queue of the CPU its caller runs
 * on, and switches to the rings only once every possible CPU's queue has
 * an entry.  So there is a ring and a thread per possible CPU, whatever
 * the threads option says, and each thread keeps to its CPU: the caller
 * that queued a request then sleeps on the CPU that serves it, and
 * neither waking the other takes an interprocessor interrupt, the cost
 * that dominates a small request between CPUs (on a virtual machine
 * most of all); requests wait for the rings between the INIT
 * reply and the last registration.  INIT, FORGET, BATCH_FORGET and
 * INTERRUPT keep coming on /dev/fuse, notifications keep going there,
 * and if a registration fails the kernel sends everything there again:
 * the /dev/fuse threads always run.
 *
 * The rings are made before the sandbox (io_uring_setup(2) is not in
 * the serving allowlist) and restricted before they are enabled: only
 * IORING_OP_URING_CMD and IORING_OP_READ, only on the registered files
 * (the FUSE descriptor and the queue's eventfd), and no
 * io_uring_register(2) operation at all.  What a ring does is not seen
 * by seccomp; this keeps it to what the allowlist allows anyway.
 *
 * A SETLKW that has to wait replies later from a thread of its own: it
 * fills the entry and hands it to the queue's thread on a list, waking
 * it through the eventfd the thread keeps a read pending on; only the
 * queue's thread submits to its ring.
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

#define URING_PARAM	"/sys/module/fuse/parameters/enable_uring"
#define URING_CPUS	"/sys/devices/system/cpu/possible"
#define URING_DEPTH	2	/* entries per queue */
#define URING_SQ	8	/* a command per entry, the eventfd read */
#define URING_EVENT	UINT64_MAX	/* user_data of the eventfd read */
#define URING_FUSE_IDX	0	/* registered files */
#define URING_EVENT_IDX	1
#define URING_PAYLOAD	(FSWORKER_MAX_WRITE + FSWORKER_HEADROOM)

enum ent_state {
	ENT_IDLE,	/* registration failed: never used */
	ENT_KERNEL,	/* registered or committed, the kernel's */
	ENT_BUSY	/* holds a request not answered yet */
};

struct uring_queue;

struct uring_ent {
	struct uring_queue		*q;
	struct fuse_uring_req_header	*hdr;
	unsigned char			*buf;	/* headroom, then payload */
	unsigned char			*payload;
	struct iovec			 iov[2]; /* hdr, payload */
	enum ent_state			 state;
	int				 registering;
	int				 answered; /* by the queue's thread */
	uint64_t			 commit_id;
	TAILQ_ENTRY(uring_ent)		 entry;	/* on the done list */
};

struct uring_queue {
	struct io_uring		 ring;
	unsigned int		 qid;
	int			 evfd;
	pthread_t		 tid;
	uint64_t		 evbuf;
	unsigned char		*out;		/* reply scratch */
	pthread_mutex_t		 lock;
	TAILQ_HEAD(, uring_ent)	 done;		/* answered elsewhere */
	struct uring_ent	 ents[URING_DEPTH];
};

static struct uring_queue	*queues;
static unsigned int		 nqueues;
static const char		*absent = "not set up";
static atomic_uint_least64_t	 served;
static __thread struct uring_queue *self;

static int	 uring_param(void);
static int	 uring_cpus(void);
static int	 uring_queue_init(struct uring_queue *, unsigned int, int);
static void	 uring_queue_free(struct uring_queue *);
static struct io_uring_sqe *uring_sqe(struct uring_queue *);
static void	 uring_cmd(struct uring_queue *, struct uring_ent *, uint32_t);
static void	 uring_arm_event(struct uring_queue *);
static void	 uring_event(struct uring_queue *, int);
static void	 uring_complete(struct uring_queue *, struct uring_ent *,
		    int);
static void	 uring_serve(struct uring_queue *, struct uring_ent *);
static void	*uring_main(void *);

/* Whether the administrator turned FUSE over io_uring on. */
static int
uring_param(void)
{
	char	 c = 'N';
	int	 fd;

	if ((fd = open(URING_PARAM, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = 'N';
	close(fd);
	return c == 'Y' || c == '1';
}

/*
 * The number of possible CPUs, the kernel's number of queues, or -1
 * unless they are numbered 0 to n - 1 without a gap: queue ids are CPU
 * numbers.
 */
static int
uring_cpus(void)
{
	char		 buf[256], *p, *ep;
	unsigned long	 lo, hi;
	ssize_t		 n;
	int		 fd, count = 0, next = 0;

	if ((fd = open(URING_CPUS, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; *p != '\0' && *p != '\n'; p = ep) {
		if (*p == ',')
			p++;
		lo = hi = strtoul(p, &ep, 10);
		if (ep == p)
			return -1;
		if (*ep == '-') {
			p = ep + 1;
			hi = strtoul(p, &ep, 10);
			if (ep == p || hi < lo)
				return -1;
		}
		if (lo != (unsigned long)next || hi >= FSWORKER_MAXTHREADS)
			return -1;
		count += hi - lo + 1;
		next = hi + 1;
	}
	return count > 0 ? count : -1;
}

static void
uring_queue_free(struct uring_queue *q)
{
	int	 i;

	for (i = 0; i < URING_DEPTH; i++) {
		free(q->ents[i].hdr);
		free(q->ents[i].buf);
	}
	free(q->out);
	if (q->evfd != -1)
		close(q->evfd);
	if (q->ring.ring_fd != -1)
		io_uring_queue_exit(&q->ring);
}

/* One queue's ring, restricted and enabled, and its buffers; or errno. */
static int
uring_queue_init(struct uring_queue *q, unsigned int qid, int fuse_fd)
{
	struct io_uring_params		 p;
	struct io_uring_restriction	 res[3];
	struct uring_ent		*e;
	int				 files[2], rv, i;

	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->evfd = -1;
	q->ring.ring_fd = -1;
	TAILQ_INIT(&q->done);
	if ((rv = pthread_mutex_init(&q->lock, NULL)) != 0)
		return rv;
	memset(&p, 0, sizeof(p));
	/* The fuse command does not fit a 64-byte SQE. */
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_R_DISABLED;
	if ((rv = io_uring_queue_init_params(URING_SQ, &q->ring, &p)) < 0) {
		q->ring.ring_fd = -1;
		return -rv;
	}
	if ((q->evfd = eventfd(0, EFD_CLOEXEC)) == -1)
		return errno;
	files[URING_FUSE_IDX] = fuse_fd;
	files[URING_EVENT_IDX] = q->evfd;
	if ((rv = io_uring_register_files(&q->ring, files, 2)) < 0)
		return -rv;
	memset(res, 0, sizeof(res));
	res[0].opcode = IORING_RESTRICTION_SQE_OP;
	res[0].sqe_op = IORING_OP_URING_CMD;
	res[1].opcode = IORING_RESTRICTION_SQE_OP;
	res[1].sqe_op = IORING_OP_READ;
	res[2].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[2].sqe_flags = IOSQE_FIXED_FILE;
	/*
	 * Debian's liburing 2.3 declares io_uring_register_restrictions()
	 * and io_uring_enable_rings() but does not export them.
	 */
	if ((rv = io_uring_register(q->ring.ring_fd,
	    IORING_REGISTER_RESTRICTIONS, res, 3)) < 0 ||
	    (rv = io_uring_register(q->ring.ring_fd,
	    IORING_REGISTER_ENABLE_RINGS, NULL, 0)) < 0)
		return rv == -1 ? errno : -rv;
	if (posix_memalign((void **)&q->out, 4096, URING_PAYLOAD) != 0)
		return ENOMEM;
	for (i = 0; i < URING_DEPTH; i++) {
		e = &q->ents[i];
		e->q = q;
		if (posix_memalign((void **)&e->hdr, 64, sizeof(*e->hdr)) != 0 ||
		    posix_memalign((void **)&e->buf, 4096,
		    FSWORKER_HEADROOM + URING_PAYLOAD) != 0)
			return ENOMEM;
		memset(e->hdr, 0, sizeof(*e->hdr));
		e->payload = e->buf + FSWORKER_HEADROOM;
		e->iov[0].iov_base = e->hdr;
		e->iov[0].iov_len = sizeof(*e->hdr);
		e->iov[1].iov_base = e->payload;
		e->iov[1].iov_len = URING_PAYLOAD;
	}
	return 0;
}

/*
 * Before the sandbox: the rings, if the parameter is set; without them
 * the worker does not ask for FUSE_OVER_IO_URING.
 */
void
uring_prepare(int fuse_fd)
{
	unsigned int	 i;
	int		 n, error;

	if (!uring_param()) {
		absent = "enable_uring is not set";
		return;
	}
	/*
	 * A restarted worker takes over a connection whose rings died with
	 * the last one; the kernel cannot hand them to us.
	 */
	if (wconf->restart) {
		absent = "restart in place serves through /dev/fuse";
		return;
	}
	if ((n = uring_cpus()) == -1) {
		absent = "possible CPUs not numbered 0 to n - 1, or too many";
		return;
	}
	if ((queues = calloc(n, sizeof(*queues))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < (unsigned int)n; i++) {
		if ((error = uring_queue_init(&queues[i], i, fuse_fd)) != 0) {
			log_warnx("%s: queue %u: %s", __func__, i,
			    strerror(error));
			absent = "the rings could not be made";
			uring_queue_free(&queues[i]);
			while (i-- > 0)
				uring_queue_free(&queues[i]);
			free(queues);
			queues = NULL;
			return;
		}
	}
	nqueues = n;
}

int
uring_possible(void)
{
	return nqueues > 0;
}

/* Why the worker serves through /dev/fuse alone. */
const char *
uring_absent(void)
{
	return absent;
}

uint64_t
uring_served(void)
{
	return atomic_load(&served);
}

/* After the INIT reply: the kernel waits for our entries now. */
void
uring_start(void)
{
	unsigned int	 i;
	int		 rv;

	for (i = 0; i < nqueues; i++)
		if ((rv = pthread_create(&queues[i].tid, NULL, uring_main,
		    &queues[i])) != 0)
			fatalx("%s: pthread_create: %s", __func__,
			    strerror(rv));
	log_info("%s: %s: transport io_uring, %u queues of %d entries",
	    __func__, wconf->mountpoint, nqueues, URING_DEPTH);
}

/* A zeroed SQE, both halves. */
static struct io_uring_sqe *
uring_sqe(struct uring_queue *q)
{
	struct io_uring_sqe	*sqe;
	int			 rv;

	while ((sqe = io_uring_get_sqe(&q->ring)) == NULL)
		if ((rv = io_uring_submit(&q->ring)) < 0 && rv != -EINTR &&
		    rv != -EAGAIN)
			fatalx("%s: io_uring_enter: %s", __func__,
			    strerror(-rv));
	memset(sqe, 0, 2 * sizeof(*sqe));
	return sqe;
}

static void
uring_cmd(struct uring_queue *q, struct uring_ent *e, uint32_t op)
{
	struct io_uring_sqe		*sqe = uring_sqe(q);
	struct fuse_uring_cmd_req	 cr;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = URING_FUSE_IDX;
	sqe->cmd_op = op;
	sqe->addr = (uintptr_t)e->iov;
	sqe->len = 2;
	sqe->user_data = (uintptr_t)e;
	memset(&cr, 0, sizeof(cr));
	cr.commit_id = e->commit_id;
	cr.qid = q->qid;
	memcpy((unsigned char *)sqe + offsetof(struct io_uring_sqe, cmd), &cr,
	    sizeof(cr));
	e->state = ENT_KERNEL;
}

static void
uring_arm_event(struct uring_queue *q)
{
	struct io_uring_sqe	*sqe = uring_sqe(q);

	sqe->opcode = IORING_OP_READ;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = URING_EVENT_IDX;
	sqe->off = (uint64_t)-1;
	sqe->addr = (uintptr_t)&q->evbuf;
	sqe->len = sizeof(q->evbuf);
	sqe->user_data = URING_EVENT;
}

/* Replies other threads filled in: committed from here. */
static void
uring_event(struct uring_queue *q, int res)
{
	struct uring_ent	*e;

	if (res < 0 && res != -EINTR && res != -EAGAIN)
		fatalx("%s: eventfd: %s", __func__, strerror(-res));
	pthread_mutex_lock(&q->lock);
	while ((e = TAILQ_FIRST(&q->done)) != NULL) {
		TAILQ_REMOVE(&q->done, e, entry);
		uring_cmd(q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
	}
	pthread_mutex_unlock(&q->lock);
	uring_arm_event(q);
}

static void
uring_complete(struct uring_queue *q, struct uring_ent *e, int res)
{
	if (res >= 0) {
		e->registering = 0;
		uring_serve(q, e);
		return;
	}
	if (res == -ENOTCONN || res == -ECONNABORTED || res == -ENODEV)
		worker_exit(0, "filesystem unmounted");
	if (e->registering) {
		/* The kernel has gone back to /dev/fuse for everything. */
		log_warnx("%s: queue %u: FUSE_IO_URING_CMD_REGISTER: %s",
		    __func__, q->qid, strerror(-res));
		e->state = ENT_IDLE;
		return;
	}
	/* The entry is lost to the kernel: give it the buffers again. */
	log_warnx("%s: queue %u: FUSE_IO_URING_CMD_COMMIT_AND_FETCH: %s",
	    __func__, q->qid, strerror(-res));
	e->registering = 1;
	uring_cmd(q, e, FUSE_IO_URING_CMD_REGISTER);
}

/*
 * The request in e: its header and op struct are copied in front of the
 * payload, which makes the request contiguous as /dev/fuse gives it.  A
 * request that leaves the payload unused may have its reply built there.
 */
static void
uring_serve(struct uring_queue *q, struct uring_ent *e)
{
	struct fuse_uring_ent_in_out	 eio;
	struct fuse_in_header		 ih;
	struct req			 req;
	unsigned char			*p;
	size_t				 oplen;

	memcpy(&ih, e->hdr->in_out, sizeof(ih));
	memcpy(&eio, &e->hdr->ring_ent_in_out, sizeof(eio));
	e->commit_id = eio.commit_id;
	e->state = ENT_BUSY;
	e->answered = 0;
	memset(&req, 0, sizeof(req));
	req.fd = -1;
	req.ent = e;
	if (ih.len < sizeof(ih) || eio.payload_sz > URING_PAYLOAD ||
	    ih.len - sizeof(ih) < eio.payload_sz ||
	    (oplen = ih.len - sizeof(ih) - eio.payload_sz) >
	    FUSE_URING_OP_IN_OUT_SZ) {
		log_warnx("%s: queue %u: request length %u, payload %u",
		    __func__, q->qid, ih.len, eio.payload_sz);
		req.hdr = &ih;
		reply_err(&req, EIO);
		return;
	}
	p = e->payload - oplen - sizeof(ih);
	memcpy(p, &ih, sizeof(ih));
	memcpy(p + sizeof(ih), e->hdr->op_in, oplen);
	req.hdr = (const void *)p;
	req.out = eio.payload_sz == 0 ? e->payload : q->out;
	req.outsize = URING_PAYLOAD;
	fuse_dispatch(&req, ih.len);
	if (!req.deferred && !e->answered) {
		/* An entry never committed would be lost to the queue. */
		log_warnx("%s: opcode %u unique %llu: no reply", __func__,
		    ih.opcode, (unsigned long long)ih.unique);
		req.hdr = &ih;
		reply_err(&req, EIO);
	}
}

/*
 * reply_iov() for a request from a ring: iov[0] is the header, the rest
 * goes to the payload unless it is there already.
 */
int
uring_reply(struct req *req, const struct fuse_out_header *oh,
    const struct iovec *iov, int iovcnt)
{
	struct uring_ent	*e = req->ent;
	struct uring_queue	*q = e->q;
	struct fuse_out_header	 err;
	size_t			 off = 0;
	int			 i;

	if (oh->len - sizeof(*oh) > URING_PAYLOAD) {
		log_warnx("%s: opcode %u: reply of %u bytes", __func__,
		    req->hdr->opcode, oh->len);
		err = *oh;
		err.len = sizeof(err);
		err.error = -EIO;
		oh = &err;
		iovcnt = 1;
	}
	for (i = 1; i < iovcnt; i++) {
		if (iov[i].iov_base != (void *)(e->payload + off))
			memmove(e->payload + off, iov[i].iov_base,
			    iov[i].iov_len);
		off += iov[i].iov_len;
	}
	memcpy(e->hdr->in_out, oh, sizeof(*oh));
	e->hdr->ring_ent_in_out.payload_sz = off;
	atomic_fetch_add(&served, 1);
	if (q == self) {
		e->answered = 1;
		uring_cmd(q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH);
		/* The worker exits next, before any later submission. */
		if (req->hdr->opcode == FUSE_DESTROY)
			io_uring_submit(&q->ring);
		return 0;
	}
	pthread_mutex_lock(&q->lock);
	TAILQ_INSERT_TAIL(&q->done, e, entry);
	pthread_mutex_unlock(&q->lock);
	if (eventfd_write(q->evfd, 1) == -1)
		fatal("%s: eventfd", __func__);
	return 0;
}

/* A queue's thread: registers its entries, then serves them. */
static void *
uring_main(void *arg)
{
	struct uring_queue	*q = arg;
	struct io_uring_cqe	*cqe;
	cpu_set_t		 cpus;
	uint64_t		 ud;
	int			 i, res, rv;

	self = q;
	cred_thread_init();
	/* A possible CPU may be offline: the thread then goes anywhere. */
	CPU_ZERO(&cpus);
	CPU_SET(q->qid, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) == -1)
		log_debug("%s: queue %u: sched_setaffinity: %s", __func__,
		    q->qid, strerror(errno));
	for (i = 0; i < URING_DEPTH; i++) {
		q->ents[i].registering = 1;
		uring_cmd(q, &q->ents[i], FUSE_IO_URING_CMD_REGISTER);
	}
	uring_arm_event(q);
	for (;;) {
		/* The commits of the last batch go with the wait. */
		rv = io_uring_submit_and_wait(&q->ring, 1);
		if (rv < 0 && rv != -EINTR && rv != -EAGAIN && rv != -EBUSY)
			fatalx("%s: io_uring_enter: %s", __func__,
			    strerror(-rv));
		while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
			ud = cqe->user_data;
			res = cqe->res;
			io_uring_cqe_seen(&q->ring, cqe);
			if (ud == URING_EVENT)
				uring_event(q, res);
			else
				uring_complete(q,
				    (struct uring_ent *)(uintptr_t)ud, res);
		}
	}
	return NULL;
}
