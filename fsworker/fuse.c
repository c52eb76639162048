/*
 * The kernel side: reading requests from /dev/fuse, INIT negotiation,
 * the dispatch table, length checks and the shapes of replies.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"

/* Kernels older than this lack pieces every path relies on. */
#define FSWORKER_FUSE_MINOR_MIN	31

#define OPF_NOREPLY	0x01	/* the kernel expects no reply at all */
#define OPF_WRITES	0x02	/* changes the tree: EROFS on ro */
#define OPF_XATTR	0x04	/* EOPNOTSUPP with noxattr */
#define OPF_CALLER	0x08	/* multiuser: as the caller (cred.c) */

struct fuse_op {
	const char	*name;
	int		(*fn)(struct req *);
	size_t		 insize;	/* the op's fixed struct */
	int		 flags;
};

static const struct fuse_op fuse_ops[] = {
	[FUSE_LOOKUP] = { "LOOKUP", op_lookup, 0, 0 },
	[FUSE_FORGET] = { "FORGET", op_forget,
	    sizeof(struct fuse_forget_in), OPF_NOREPLY },
	[FUSE_GETATTR] = { "GETATTR", op_getattr,
	    sizeof(struct fuse_getattr_in), 0 },
	[FUSE_SETATTR] = { "SETATTR", op_setattr,
	    sizeof(struct fuse_setattr_in), OPF_WRITES | OPF_CALLER },
	[FUSE_READLINK] = { "READLINK", op_readlink, 0, 0 },
	[FUSE_SYMLINK] = { "SYMLINK", op_symlink, 0,
	    OPF_WRITES | OPF_CALLER },
	[FUSE_MKNOD] = { "MKNOD", op_mknod,
	    sizeof(struct fuse_mknod_in), OPF_WRITES | OPF_CALLER },
	[FUSE_MKDIR] = { "MKDIR", op_mkdir,
	    sizeof(struct fuse_mkdir_in), OPF_WRITES | OPF_CALLER },
	[FUSE_UNLINK] = { "UNLINK", op_unlink, 0, OPF_WRITES | OPF_CALLER },
	[FUSE_RMDIR] = { "RMDIR", op_rmdir, 0, OPF_WRITES | OPF_CALLER },
	[FUSE_RENAME] = { "RENAME", op_rename,
	    sizeof(struct fuse_rename_in), OPF_WRITES | OPF_CALLER },
	[FUSE_LINK] = { "LINK", op_link,
	    sizeof(struct fuse_link_in), OPF_WRITES | OPF_CALLER },
	[FUSE_OPEN] = { "OPEN", op_open, sizeof(struct fuse_open_in),
	    OPF_CALLER },
	[FUSE_READ] = { "READ", op_read, sizeof(struct fuse_read_in), 0 },
	[FUSE_WRITE] = { "WRITE", op_write,
	    sizeof(struct fuse_write_in), OPF_WRITES },
	[FUSE_STATFS] = { "STATFS", op_statfs, 0, 0 },
	[FUSE_RELEASE] = { "RELEASE", op_release,
	    sizeof(struct fuse_release_in), 0 },
	[FUSE_FSYNC] = { "FSYNC", op_fsync, sizeof(struct fuse_fsync_in), 0 },
	[FUSE_SETXATTR] = { "SETXATTR", op_setxattr,
	    FUSE_COMPAT_SETXATTR_IN_SIZE,
	    OPF_WRITES | OPF_XATTR | OPF_CALLER },
	[FUSE_GETXATTR] = { "GETXATTR", op_getxattr,
	    sizeof(struct fuse_getxattr_in), OPF_XATTR },
	[FUSE_LISTXATTR] = { "LISTXATTR", op_listxattr,
	    sizeof(struct fuse_getxattr_in), OPF_XATTR },
	[FUSE_REMOVEXATTR] = { "REMOVEXATTR", op_removexattr, 0,
	    OPF_WRITES | OPF_XATTR | OPF_CALLER },
	[FUSE_FLUSH] = { "FLUSH", op_flush, sizeof(struct fuse_flush_in), 0 },
	[FUSE_OPENDIR] = { "OPENDIR", op_opendir,
	    sizeof(struct fuse_open_in), OPF_CALLER },
	[FUSE_READDIR] = { "READDIR", op_readdir,
	    sizeof(struct fuse_read_in), 0 },
	[FUSE_RELEASEDIR] = { "RELEASEDIR", op_releasedir,
	    sizeof(struct fuse_release_in), 0 },
	[FUSE_FSYNCDIR] = { "FSYNCDIR", op_fsync,
	    sizeof(struct fuse_fsync_in), 0 },
	[FUSE_GETLK] = { "GETLK", op_getlk, sizeof(struct fuse_lk_in), 0 },
	[FUSE_SETLK] = { "SETLK", op_setlk, sizeof(struct fuse_lk_in), 0 },
	[FUSE_SETLKW] = { "SETLKW", op_setlkw, sizeof(struct fuse_lk_in), 0 },
	[FUSE_ACCESS] = { "ACCESS", op_access,
	    sizeof(struct fuse_access_in), 0 },
	[FUSE_CREATE] = { "CREATE", op_create,
	    sizeof(struct fuse_create_in), OPF_WRITES | OPF_CALLER },
	[FUSE_INTERRUPT] = { "INTERRUPT", op_interrupt,
	    sizeof(struct fuse_interrupt_in), OPF_NOREPLY },
	[FUSE_BATCH_FORGET] = { "BATCH_FORGET", op_batch_forget,
	    sizeof(struct fuse_batch_forget_in), OPF_NOREPLY },
	[FUSE_FALLOCATE] = { "FALLOCATE", op_fallocate,
	    sizeof(struct fuse_fallocate_in), OPF_WRITES },
	[FUSE_READDIRPLUS] = { "READDIRPLUS", op_readdirplus,
	    sizeof(struct fuse_read_in), 0 },
	[FUSE_RENAME2] = { "RENAME2", op_rename2,
	    sizeof(struct fuse_rename2_in), OPF_WRITES | OPF_CALLER },
	[FUSE_LSEEK] = { "LSEEK", op_lseek, sizeof(struct fuse_lseek_in), 0 },
	[FUSE_COPY_FILE_RANGE] = { "COPY_FILE_RANGE", op_copy_file_range,
	    sizeof(struct fuse_copy_file_range_in), OPF_WRITES },
	[FUSE_TMPFILE] = { "TMPFILE", op_tmpfile,
	    sizeof(struct fuse_create_in), OPF_WRITES | OPF_CALLER },
	[FUSE_STATX] = { "STATX", op_statx, sizeof(struct fuse_statx_in), 0 },
	[FUSE_COPY_FILE_RANGE_64] = { "COPY_FILE_RANGE_64",
	    op_copy_file_range_64, sizeof(struct fuse_copy_file_range_in),
	    OPF_WRITES },
};

struct fuse_sess	 fsess;

static int	 fuse_init(struct req *);
static int	 fuse_destroy(struct req *);
static uint64_t	 fuse_init_wanted(void);
static uint64_t	 fuse_init_offered(const struct fuse_init_in *, size_t,
	    uint32_t *);
static int	 fuse_op_negotiated(uint32_t);
static int	 fuse_call(struct req *, const struct fuse_op *);
static void	 fuse_init_out(struct fuse_init_out *,
	    const struct fuse_init_in *, uint64_t);

void
fuse_thread_alloc(struct fuse_thread *t, int fd)
{
	t->fd = fd;
	splice_init(&t->splicer);
	t->insize = FSWORKER_MAX_WRITE + FSWORKER_HEADROOM;
	t->outsize = FSWORKER_MAX_WRITE + FSWORKER_HEADROOM;
	/* Page alignment lets a backing file opened O_DIRECT take it. */
	if (posix_memalign((void **)&t->in, 4096, t->insize) != 0 ||
	    posix_memalign((void **)&t->out, 4096, t->outsize) != 0)
		fatalx("%s: out of memory", __func__);
}

/* Called by the thread itself, never while a request is in t->in. */
static void
fuse_thread_release(struct fuse_thread *t)
{
	if (t->inused > FSWORKER_BUF_KEEP &&
	    madvise(t->in + FSWORKER_BUF_KEEP, t->insize - FSWORKER_BUF_KEEP,
	    MADV_DONTNEED) == -1)
		fatal("%s: madvise", __func__);
	if (t->outused > FSWORKER_BUF_KEEP &&
	    madvise(t->out + FSWORKER_BUF_KEEP, t->outsize - FSWORKER_BUF_KEEP,
	    MADV_DONTNEED) == -1)
		fatal("%s: madvise", __func__);
	t->inused = t->outused = 0;
	atomic_store(&t->dirty, 0);
}

/*
 * The read of the next request.  A thread with pages to give back lets
 * WAKE_SIGNAL in for the read alone, so that the main thread can end
 * its wait (fuse_thread_trim()); no other call of a serving thread ever
 * sees EINTR from it.  Clean threads, almost all of them under small
 * requests, read as they are.
 */
static ssize_t
fuse_thread_read(struct fuse_thread *t)
{
	sigset_t	 set;
	ssize_t		 n;
	int		 saved;

	if (!atomic_load(&t->dirty))
		return read(t->fd, t->in, t->insize);
	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* A signal taken before the read would not end it. */
	if (atomic_load(&t->release)) {
		n = -1;
		errno = EINTR;
	} else
		n = read(t->fd, t->in, t->insize);
	saved = errno;
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (atomic_exchange(&t->release, 0) && n == -1)
		fuse_thread_release(t);
	errno = saved;
	return n;
}

/*
 * From the main thread, once no request came for a while: a thread
 * whose buffers hold more than they keep is asked to give the pages
 * back, by itself and between two requests.  Asked again each time
 * while it has not, since the signal can come just before its read.
 */
void
fuse_thread_trim(struct fuse_thread *t)
{
	if (!atomic_load(&t->dirty))
		return;
	atomic_store(&t->release, 1);
	pthread_kill(t->tid, WAKE_SIGNAL);
}

/*
 * Spinning.  A request's round trip is mostly wake-ups: the caller's
 * CPU wakes ours, ours wakes the caller's.  Right after a request, one
 * thread at a time (the others read as before) looks for the next one
 * with ppoll(2) and a zero timeout, for wconf->spin microseconds; a
 * caller that sends it within that time finds this thread on its CPU
 * and the read takes it without a wake-up.  An idle worker never spins,
 * and a busy one spends at most that much after each request.
 */
static atomic_int	fuse_spinner;

static void
fuse_thread_spin(struct fuse_thread *t)
{
	static const struct timespec	 zero;
	struct timespec			 now, end;
	struct pollfd			 pfd;
	int				 none = 0;

	if (wconf->spin == 0 ||
	    !atomic_compare_exchange_strong(&fuse_spinner, &none, 1))
		return;
	pfd.fd = t->fd;
	pfd.events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += (long)wconf->spin * 1000;
	while (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	do {
		/* Readable, or an error the read will say. */
		if (ppoll(&pfd, 1, &zero, NULL) != 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (timespeccmp(&now, &end, <));
	atomic_store(&fuse_spinner, 0);
}

void *
fuse_thread_main(void *arg)
{
	struct fuse_thread	*t = arg;
	ssize_t			 n;

	cred_thread_init();
	for (;;) {
		n = fuse_thread_read(t);
		if (n == -1) {
			/* ENOENT: the request went away before we got it. */
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ENOENT)
				continue;
			if (errno == ENODEV)
				worker_exit(0, "filesystem unmounted");
			fatal("%s: read /dev/fuse", __func__);
		}
		fuse_thread_dispatch(t, (size_t)n);
		fuse_thread_spin(t);
	}
	return NULL;
}

static const struct fuse_op *
fuse_op_lookup(uint32_t opcode)
{
	if (opcode >= sizeof(fuse_ops) / sizeof(fuse_ops[0]) ||
	    fuse_ops[opcode].fn == NULL)
		return NULL;
	return &fuse_ops[opcode];
}

static int
fuse_check(const struct req *req, const struct fuse_op *op)
{
	if (req->arglen < op->insize) {
		log_warnx("%s: %s: %zu bytes, need %zu", __func__, op->name,
		    req->arglen, op->insize);
		return EINVAL;
	}
	if ((op->flags & OPF_WRITES) && wconf->ro)
		return EROFS;
	/* With ACLs checked by the kernel, ops_xattr.c lets theirs by. */
	if ((op->flags & OPF_XATTR) && wconf->noxattr &&
	    !(fsess.flags & FUSE_POSIX_ACL))
		return EOPNOTSUPP;
	return 0;
}

/* Serves the n-byte request in t->in; the reply goes to t->fd. */
void
fuse_thread_dispatch(struct fuse_thread *t, size_t n)
{
	struct req	 req;

	if (n < sizeof(struct fuse_in_header)) {
		log_warnx("%s: short request, %zu bytes", __func__, n);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.fd = t->fd;
	req.splicer = &t->splicer;
	req.hdr = (const void *)t->in;
	req.out = t->out;
	req.outsize = t->outsize;
	fuse_dispatch(&req, n);
	/* A reply written in t->out is what it sent of it. */
	if (n > t->inused)
		t->inused = n;
	if (req.outlen > t->outused)
		t->outused = req.outlen;
	/* Stored once per burst, not by every request of it. */
	if ((t->inused > FSWORKER_BUF_KEEP || t->outused > FSWORKER_BUF_KEEP) &&
	    !atomic_load_explicit(&t->dirty, memory_order_relaxed))
		atomic_store(&t->dirty, 1);
}

/*
 * Serves the n-byte request at req->hdr, of at least a header, whose
 * reply goes where req says.
 */
void
fuse_dispatch(struct req *req, size_t n)
{
	const struct fuse_in_header	*hdr = req->hdr;
	const struct fuse_op		*op;
	size_t				 extlen;
	int				 error;

	req->arg = (const unsigned char *)hdr + sizeof(*hdr);
	extlen = (size_t)hdr->total_extlen * 8;
	if (hdr->len != n || extlen > n - sizeof(*hdr)) {
		log_warnx("%s: request length %u, read %zu, extensions %zu",
		    __func__, hdr->len, n, extlen);
		reply_err(req, EIO);
		return;
	}
	req->arglen = n - sizeof(*hdr) - extlen;
	if (req_ext(req, req->arg + req->arglen, extlen) != 0) {
		reply_err(req, EIO);
		return;
	}

	if (!atomic_load_explicit(&fsess.initialized, memory_order_acquire)) {
		error = hdr->opcode == FUSE_INIT ? fuse_init(req) : EIO;
		if (error)
			reply_err(req, error);
		return;
	}
	if (hdr->opcode == FUSE_INIT) {
		/* Sent again: the last worker died before its reply. */
		if (restart_recovering()) {
			if ((error = fuse_init(req)) != 0)
				reply_err(req, error);
			return;
		}
		reply_err(req, EPROTO);
		return;
	}
	if (hdr->opcode == FUSE_DESTROY) {
		fuse_destroy(req);
		return;
	}
	if ((op = fuse_op_lookup(hdr->opcode)) == NULL ||
	    !fuse_op_negotiated(hdr->opcode)) {
		log_debug("%s: opcode %u not implemented", __func__,
		    hdr->opcode);
		reply_err(req, ENOSYS);
		return;
	}
	log_debug("%s: %s unique %llu node %llu len %u", __func__, op->name,
	    (unsigned long long)hdr->unique,
	    (unsigned long long)hdr->nodeid, hdr->len);
	if ((error = fuse_check(req, op)) == 0)
		error = fuse_call(req, op);
	if (error && !(op->flags & OPF_NOREPLY))
		reply_err(req, error);
}

/*
 * Runs the request's op; in multiuser mode, one that the backing
 * filesystem checks or charges runs as its caller (cred.c).  Reads,
 * lookups and listings do not: the kernel checked them, and the
 * backing filesystem charges nothing for them.  I/O on an open file
 * acts as its opener (ops_file.c).
 */
static int
fuse_call(struct req *req, const struct fuse_op *op)
{
	struct cred_save	 cs;
	int			 error;

	if (!wconf->multiuser || !(op->flags & OPF_CALLER))
		return op->fn(req);
	if ((error = cred_enter(req, CRED_NOUMASK, CRED_NOGROUP, &cs)) != 0)
		return error;
	error = op->fn(req);
	cred_leave(&cs);
	return error;
}

static uint64_t
fuse_init_wanted(void)
{
	uint64_t	 want;

	want = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS |
	    FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DONT_MASK |
	    FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
	    FUSE_PARALLEL_DIROPS | FUSE_HANDLE_KILLPRIV_V2 | FUSE_MAX_PAGES |
	    FUSE_SETXATTR_EXT | FUSE_INIT_EXT | FUSE_ASYNC_DIO |
	    FUSE_NO_EXPORT_SUPPORT;
	if (wconf->cache != CACHE_NEVER)
		want |= FUSE_CACHE_SYMLINKS;
	if (wconf->cache == CACHE_AUTO)
		want |= FUSE_AUTO_INVAL_DATA;
	if (wconf->cache == CACHE_NEVER)
		want |= FUSE_DIRECT_IO_ALLOW_MMAP;
	if (wconf->writeback)
		want |= FUSE_WRITEBACK_CACHE;
	if (wconf->multiuser)
		want |= FUSE_CREATE_SUPP_GROUP;
	/*
	 * Where the kernel checks permissions it must check ACLs too, with
	 * the caller's credentials, all groups included: the worker knows
	 * too little of them, and a multiuser worker would pass anything
	 * the mode bits let through (CAP_DAC_OVERRIDE).  The flag makes the
	 * kernel fetch system.posix_acl_* through GETXATTR, and check
	 * permissions even without default_permissions: with allow_other,
	 * other users must not act as the owner unchecked.
	 */
	if (wconf->default_permissions || wconf->multiuser ||
	    wconf->allow_other)
		want |= FUSE_POSIX_ACL;
	if (passthrough_possible())
		want |= FUSE_PASSTHROUGH;
	if (uring_possible())
		want |= FUSE_OVER_IO_URING;
	return want;
}

/*
 * What the kernel offers, and the minor both speak.  A kernel knows
 * nothing of flags newer than its minor and offers none of them; under
 * a test cap (-K) the worker takes the capped kernel's minor and flags
 * as if they were all the kernel said.  The second word exists from
 * 7.36 (FUSE_INIT_EXT) on.
 */
static uint64_t
fuse_init_offered(const struct fuse_init_in *in, size_t len,
    uint32_t *minor)
{
	uint64_t	 offered;

	*minor = in->minor < FSWORKER_FUSE_MINOR ? in->minor :
	    FSWORKER_FUSE_MINOR;
	offered = in->flags;
	if (wconf->kernel != NULL) {
		if (*minor > wconf->kernel->minor)
			*minor = wconf->kernel->minor;
		offered &= wconf->kernel->flags;
	}
	if ((offered & FUSE_INIT_EXT) && len >= sizeof(*in)) {
		offered |= (uint64_t)in->flags2 << 32;
		if (wconf->kernel != NULL)
			offered &= wconf->kernel->flags;
	} else
		offered &= ~FUSE_INIT_EXT;
	return offered;
}

/*
 * Operations newer than the oldest kernel we serve, with the minor
 * that brought each: a kernel that negotiated less never sends them,
 * and under a test cap the worker answers as if it were so (ENOSYS,
 * which the kernel takes as "not implemented" and falls back from).
 */
static const struct {
	uint32_t	 opcode;
	uint32_t	 minor;
} fuse_op_minors[] = {
	{ FUSE_TMPFILE, 37 },
	{ FUSE_STATX, 39 },
	{ FUSE_COPY_FILE_RANGE_64, 45 },
};

static int
fuse_op_negotiated(uint32_t opcode)
{
	size_t	 i;

	if (fsess.minor >= FSWORKER_FUSE_MINOR)
		return 1;
	for (i = 0; i < sizeof(fuse_op_minors) / sizeof(fuse_op_minors[0]);
	    i++)
		if (fuse_op_minors[i].opcode == opcode)
			return fsess.minor >= fuse_op_minors[i].minor;
	return 1;
}

/* Settles the session parameters and fills the INIT reply. */
static void
fuse_init_out(struct fuse_init_out *out, const struct fuse_init_in *in,
    uint64_t want)
{
	long	 pagesize;

	memset(out, 0, sizeof(*out));
	out->major = FUSE_KERNEL_VERSION;
	out->minor = fsess.minor;
	out->max_readahead = in->max_readahead;
	out->flags = (uint32_t)want;
	if (want & FUSE_INIT_EXT)
		out->flags2 = (uint32_t)(want >> 32);
	out->max_background = 64;
	out->congestion_threshold = 48;
	out->time_gran = 1;
	if ((pagesize = sysconf(_SC_PAGESIZE)) <= 0)
		pagesize = 4096;
	if (want & FUSE_MAX_PAGES) {
		out->max_write = FSWORKER_MAX_WRITE;
		out->max_pages = FSWORKER_MAX_WRITE / pagesize;
		fsess.max_read = out->max_pages * pagesize;
	} else {
		/* The kernel's own per-request limit without max_pages. */
		out->max_write = 32 * pagesize;
		fsess.max_read = out->max_write;
	}
	fsess.max_write = out->max_write;
	/* Backing files are on a filesystem that stacks on none. */
	if (want & FUSE_PASSTHROUGH)
		FUSE_INIT_OUT_MAX_STACK_DEPTH(out) = 1;
}

static int
fuse_init(struct req *req)
{
	const struct fuse_init_in	*in = (const void *)req->arg;
	struct fuse_init_out		 out;
	uint64_t			 offered;
	uint64_t			 one = 1;

	if (req->arglen < offsetof(struct fuse_init_in, flags2))
		fatalx("%s: INIT of %zu bytes", __func__, req->arglen);
	if (in->major > FUSE_KERNEL_VERSION) {
		/* Say which major we speak; the kernel asks again. */
		memset(&out, 0, sizeof(out));
		out.major = FUSE_KERNEL_VERSION;
		out.minor = FSWORKER_FUSE_MINOR;
		reply_data(req, &out, sizeof(out));
		return 0;
	}
	if (in->major < FUSE_KERNEL_VERSION ||
	    in->minor < FSWORKER_FUSE_MINOR_MIN) {
		log_warnx("%s: kernel protocol %u.%u, need 7.%u", __func__,
		    in->major, in->minor, FSWORKER_FUSE_MINOR_MIN);
		reply_err(req, EPROTO);
		worker_exit(1, "kernel FUSE protocol too old");
	}
	offered = fuse_init_offered(in, req->arglen, &fsess.minor);
	fsess.offered = offered;
	fsess.flags = fuse_init_wanted() & offered;
	fuse_init_out(&out, in, fsess.flags);
	if (wconf->passthrough == PASSTHROUGH_ON &&
	    !(fsess.flags & FUSE_PASSTHROUGH))
		log_warnx("%s: %s: the kernel offers no passthrough", __func__,
		    wconf->mountpoint);
	log_info("%s: %s: protocol 7.%u, kernel 7.%u%s%s, flags %#llx of %#llx",
	    __func__, wconf->mountpoint, fsess.minor, in->minor,
	    wconf->kernel != NULL ? " behaving as " : "",
	    wconf->kernel != NULL ? wconf->kernel->name : "",
	    (unsigned long long)fsess.flags, (unsigned long long)offered);
	if (wconf->restart && !(offered & FUSE_HAS_RESEND))
		log_warnx("%s: %s: restart: the kernel cannot send requests "
		    "again (FUSE_NOTIFY_RESEND, Linux 6.9): a worker that "
		    "dies ends the mount", __func__, wconf->mountpoint);
	/* No other request arrives before the kernel has this reply. */
	restart_save_session(&fsess);
	atomic_store_explicit(&fsess.initialized, 1, memory_order_release);
	if (reply_data(req, &out, sizeof(out)) != 0)
		fatalx("%s: INIT reply refused", __func__);
	/* The kernel takes ring entries once it has the reply. */
	if (fsess.flags & FUSE_OVER_IO_URING)
		uring_start();
	else
		log_info("%s: %s: transport /dev/fuse: %s", __func__,
		    wconf->mountpoint, uring_possible() ?
		    "the kernel offers no io_uring" : uring_absent());
	if (write(wconf->ready_fd, &one, sizeof(one)) != sizeof(one))
		fatal("%s: eventfd", __func__);
	return 0;
}

/* For the parent, once INIT is answered: what this mount got. */
void
fuse_features(struct fsmsg_features *f)
{
	memset(f, 0, sizeof(*f));
	f->minor = fsess.minor;
	if (fsess.flags & FUSE_PASSTHROUGH)
		f->flags |= FSMSG_FEAT_PASSTHROUGH;
	if (fsess.flags & FUSE_OVER_IO_URING)
		f->flags |= FSMSG_FEAT_URING;
	if (restart_active() && (fsess.offered & FUSE_HAS_RESEND))
		f->flags |= FSMSG_FEAT_RESEND;
	if (fsess.flags & FUSE_WRITEBACK_CACHE)
		f->flags |= FSMSG_FEAT_WRITEBACK;
	if (fsess.flags & FUSE_DO_READDIRPLUS)
		f->flags |= FSMSG_FEAT_READDIRPLUS;
	if (fsess.flags & FUSE_CREATE_SUPP_GROUP)
		f->flags |= FSMSG_FEAT_SUPP_GROUPS;
	if (fsess.flags & FUSE_SETXATTR_EXT)
		f->flags |= FSMSG_FEAT_SETXATTR_EXT;
}

static int
fuse_destroy(struct req *req)
{
	reply_err(req, 0);
	worker_exit(0, "DESTROY from the kernel");
}

/*
 * iov[0] is the caller's slot for the header.  Returns 0 or the errno
 * of the write: ENOENT means the kernel no longer waits for this reply.
 */
int
reply_iov(struct req *req, int error, struct iovec *iov, int iovcnt)
{
	struct fuse_out_header	 oh;
	size_t			 len = sizeof(oh);
	ssize_t			 n;
	int			 i;

	if (error < 0 || error > 4095) {
		log_warnx("%s: bad errno %d", __func__, error);
		error = EIO;
	}
	for (i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	oh.len = len;
	oh.error = -error;
	oh.unique = req->hdr->unique;
	req->outlen = len;
	iov[0].iov_base = &oh;
	iov[0].iov_len = sizeof(oh);
	atomic_fetch_add(&wstats.requests, 1);
	if (error)
		atomic_fetch_add(&wstats.errors, 1);
	if (req->ent != NULL)
		return uring_reply(req, &oh, iov, iovcnt);
	n = writev(req->fd, iov, iovcnt);
	return reply_sent(req, n, len);
}

/*
 * What writing a reply of len bytes to /dev/fuse came to, n bytes
 * written or -1: 0, or an errno, ENOENT when the kernel no longer
 * waits for it.
 */
int
reply_sent(const struct req *req, ssize_t n, size_t len)
{
	if (n == (ssize_t)len)
		return 0;
	if (n == -1 && errno == ENOENT)
		return ENOENT;
	if (n == -1 && errno == ENODEV)
		worker_exit(0, "filesystem unmounted");
	log_warn("%s: opcode %u unique %llu", __func__, req->hdr->opcode,
	    (unsigned long long)req->hdr->unique);
	return n == -1 ? errno : EIO;
}

int
reply_err(struct req *req, int error)
{
	struct iovec	 iov[1];

	return reply_iov(req, error, iov, 1);
}

int
reply_data(struct req *req, const void *data, size_t len)
{
	struct iovec	 iov[2];

	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	return reply_iov(req, 0, iov, 2);
}

uint32_t
attr_timeout(void)
{
	if (wconf->timeout_set)
		return wconf->timeout;
	switch (wconf->cache) {
	case CACHE_NEVER:
		return 0;
	case CACHE_ALWAYS:
		return 86400;
	case CACHE_AUTO:
		break;
	}
	return 1;
}

void
fill_attr(struct fuse_attr *a, const struct stat *st)
{
	unsigned int	 maj = major(st->st_rdev), min = minor(st->st_rdev);

	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->mtime = st->st_mtim.tv_sec;
	a->ctime = st->st_ctim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	/* The kernel decodes rdev with its 32-bit new_decode_dev(). */
	a->rdev = (min & 0xff) | ((maj & 0xfff) << 8) | ((min & ~0xffU) << 12);
	a->blksize = st->st_blksize;
}

void
fill_entry(struct fuse_entry_out *e, const struct inode *ip,
    const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = ip->nodeid;
	e->generation = ip->nodeid >> 32;
	e->entry_valid = attr_timeout();
	e->attr_valid = attr_timeout();
	fill_attr(&e->attr, st);
}

int
reply_entry(struct req *req, const struct inode *ip, const struct stat *st)
{
	struct fuse_entry_out	 e;

	fill_entry(&e, ip, st);
	return reply_data(req, &e, sizeof(e));
}

int
reply_attr(struct req *req, const struct stat *st)
{
	struct fuse_attr_out	 a;

	memset(&a, 0, sizeof(a));
	a.attr_valid = attr_timeout();
	fill_attr(&a.attr, st);
	return reply_data(req, &a, sizeof(a));
}

int
reply_open(struct req *req, uint64_t fh, uint32_t open_flags)
{
	struct fuse_open_out	 o;

	memset(&o, 0, sizeof(o));
	o.fh = fh;
	o.open_flags = open_flags;
	return reply_data(req, &o, sizeof(o));
}

/*
 * The NUL-terminated string at off inside the request's payload; *next
 * is set past its NUL.  An unterminated string is EINVAL.
 */
int
req_name(const struct req *req, size_t off, const char **name, size_t *next)
{
	const unsigned char	*nul;

	if (off >= req->arglen)
		return EINVAL;
	if ((nul = memchr(req->arg + off, '\0', req->arglen - off)) == NULL)
		return EINVAL;
	*name = (const char *)req->arg + off;
	if (next != NULL)
		*next = nul - req->arg + 1;
	return 0;
}

/*
 * The request's extensions, len bytes at ext: each a fuse_ext_header
 * whose size, a multiple of 8, counts the header.  Types up to
 * FUSE_MAX_NR_SECCTX are a security context (the header's second word
 * is then a count), which we never ask for; unknown types are skipped.
 * Malformed extensions are EIO.
 */
int
req_ext(struct req *req, const unsigned char *ext, size_t len)
{
	struct fuse_ext_header	 xh;
	struct fuse_supp_groups	 sg;
	size_t			 off;

	req->groups = NULL;
	req->ngroups = 0;
	for (off = 0; off < len; off += xh.size) {
		if (len - off < sizeof(xh))
			goto bad;
		memcpy(&xh, ext + off, sizeof(xh));
		if (xh.size < sizeof(xh) || xh.size % 8 != 0 ||
		    xh.size > len - off)
			goto bad;
		if (xh.type != FUSE_EXT_GROUPS)
			continue;
		if (req->groups != NULL ||
		    xh.size - sizeof(xh) < sizeof(sg))
			goto bad;
		memcpy(&sg, ext + off + sizeof(xh), sizeof(sg));
		if (sg.nr_groups > (xh.size - sizeof(xh) - sizeof(sg)) /
		    sizeof(sg.groups[0]))
			goto bad;
		req->groups = ext + off + sizeof(xh) + sizeof(sg);
		req->ngroups = sg.nr_groups;
	}
	return 0;
 bad:
	log_warnx("%s: opcode %u: malformed extension at %zu of %zu",
	    __func__, req->hdr->opcode, off, len);
	req->groups = NULL;
	req->ngroups = 0;
	return EIO;
}

/* A name a creating op may use: one component, neither "." nor "..". */
int
name_is_valid(const char *name)
{
	if (name[0] == '\0' || strchr(name, '/') != NULL)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return 1;
}
