/*
 * libFuzzer target for the worker's request decoder and operations
 * (fsworker/fuse.c and the ops_*.c behind it), without a kernel, a
 * sandbox or /dev/fuse: requests go to fuse_thread_dispatch() and the replies
 * land on a SOCK_SEQPACKET socket, one packet per writev, where every
 * one is checked: its length is its header's, its error is 0 or a
 * negative errno, its unique is the request's, and a request gets one
 * reply unless the kernel expects none.
 *
 * An input is a configuration byte (ro, noxattr, cache mode,
 * writeback, multiuser), then FUSE requests cut by their headers' lengths; a
 * length that does not fit takes the rest, so framing errors are fuzzed
 * too.  A fixed INIT comes first.  Node ids and handles from 2 up to
 * 0xffff are indices into those the replies of this input gave out, so
 * an input can name what it created although generations differ from
 * run to run; larger values go as they are, forged.  SETLKW becomes
 * SETLK: its waiting thread answers later, which t_fuse tests.
 *
 * At the end the harness does what the kernel does at unmount: it
 * releases every handle it was given and forgets every node as often
 * as replies looked it up (entries, creates, readdirplus entries but
 * "." and "..").  The worker must then hold the root node alone, no
 * handle, and no descriptor more than before.
 *
 * The backing tree is a small tmpfs (nodev, 32 MiB) detached at once,
 * reachable only through our descriptor, and refilled for each input.
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"
#include "fuzzutil.h"

#define MAPPED_MAX	0xffff		/* ids below are indices */
#define REPLY_MAX	(FSWORKER_MAX_WRITE + FSWORKER_HEADROOM)

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What fsworker.c provides in the real program. */
struct worker_conf	*wconf;
struct worker_stats	 wstats;

struct seen_node {
	uint64_t	 nodeid;
	uint64_t	 nlookup;	/* as the kernel would count */
};

struct seen_fh {
	uint64_t	 fh;
	uint64_t	 nodeid;
	int		 dir;
};

static struct worker_conf	 conf;
static struct fuse_thread	 thr;
static int			 peer = -1;
static int			 rootfd = -1;
static unsigned char		*rbuf;
static jmp_buf			 exit_jmp;
static struct fuse_in_header	 cur;		/* the request served */
static size_t			 cur_len;
static int			 cwd_fd = -1;
static int			 trace;		/* FUZZ_FUSE_TRACE: replies */
static struct seen_node		*nodes;
static size_t			 nnodes, nodes_size;
static struct seen_fh		*fhs;
static size_t			 nfhs, fhs_size;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_fuse: %s\n", what);
		abort();
	}
}

/* DESTROY ends the real worker; here the input ends. */
void
worker_exit(int code, const char *why)
{
	(void)code;
	(void)why;
	longjmp(exit_jmp, 1);
}

/* A tmpfs of our own when we may mount, else a directory. */
static int
backing_open(void)
{
	char	 dir[] = "/tmp/fuzz_fuse.XXXXXX";
	int	 fd;

	if (mkdtemp(dir) == NULL)
		abort();
	if (mount("fuzz_fuse", dir, "tmpfs", MS_NODEV | MS_NOSUID,
	    "size=32m,nr_inodes=4096,mode=0755") == 0) {
		if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    umount2(dir, MNT_DETACH) == -1 || rmdir(dir) == -1)
			abort();
		return fd;
	}
	/* Unprivileged: a plain directory, left behind for the record. */
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rlimit	 rl;
	int		 sp[2], size = 4 * REPLY_MAX;

	(void)argc;
	(void)argv;
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	/* A WRITE or FALLOCATE far out gives EFBIG, not a full disk. */
	rl.rlim_cur = rl.rlim_max = 64 << 20;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		abort();
	umask(0);
	memset(&conf, 0, sizeof(conf));
	conf.cache = CACHE_AUTO;
	conf.nthreads = 1;
	conf.mountpoint = "fuzz_fuse";
	conf.uid = getuid();
	conf.gid = getgid();
	if ((conf.proc_fd = open("/proc/self/fd",
	    O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (conf.ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		abort();
	wconf = &conf;
	rootfd = backing_open();
	/* The node table keeps a descriptor of its own for the root. */
	inode_init(fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
	lock_init();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		abort();
	/* A whole READ reply in one packet. */
	if (setsockopt(sp[0], SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
	(void)setsockopt(sp[1], SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size));
	fuse_thread_alloc(&thr, sp[0]);
	conf.fuse_fd[0] = sp[0];
	peer = sp[1];
	if ((rbuf = malloc(REPLY_MAX + 1)) == NULL)
		abort();
	if ((cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	trace = getenv("FUZZ_FUSE_TRACE") != NULL;
	return 0;
}

/* Empties the directory fd (consumed). */
static void
tree_clear(int fd)
{
	struct dirent	*d;
	DIR		*dir;
	int		 sub;

	if ((dir = fdopendir(fd)) == NULL)
		abort();
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, d->d_name, 0) == 0)
			continue;
		if ((sub = openat(fd, d->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			abort();
		tree_clear(sub);
		if (unlinkat(fd, d->d_name, AT_REMOVEDIR) == -1)
			abort();
	}
	closedir(dir);
}

/* The same small tree before every input. */
static void
tree_fill(void)
{
	static const char	 data[] = "0123456789abcdef\n";
	char			 list[1024], *p;
	ssize_t			 n;
	int			 fd, dfd;

	if ((fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		abort();
	(void)fchmod(fd, 0755);
	if (fchown(fd, conf.uid, conf.gid) == -1)
		abort();
	if ((n = flistxattr(fd, list, sizeof(list))) > 0)
		for (p = list; p < list + n; p += strlen(p) + 1)
			(void)fremovexattr(fd, p);
	tree_clear(fd);
	if ((dfd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 ||
	    (fd = openat(dfd, "file", O_CREAT | O_WRONLY | O_CLOEXEC,
	    0644)) == -1 ||
	    write(fd, data, sizeof(data) - 1) != sizeof(data) - 1)
		abort();
	(void)fsetxattr(fd, "user.fuzz", "x", 1, 0);
	close(fd);
	if (mkdirat(dfd, "dir", 0755) == -1 ||
	    mkdirat(dfd, "dir/sub", 0700) == -1 ||
	    symlinkat("file", dfd, "link") == -1 ||
	    symlinkat("../..", dfd, "dir/up") == -1 ||
	    mkfifoat(dfd, "fifo", 0644) == -1 ||
	    linkat(dfd, "file", dfd, "dir/hard", 0) == -1)
		abort();
	/* Only root may: a device node the worker must never open. */
	(void)mknodat(dfd, "null", S_IFCHR | 0666, makedev(1, 3));
	close(dfd);
}

static void
node_seen(uint64_t nodeid)
{
	size_t	 i;

	if (nodeid == 0 || nodeid == FUSE_ROOT_ID)
		return;
	for (i = 0; i < nnodes; i++)
		if (nodes[i].nodeid == nodeid) {
			nodes[i].nlookup++;
			return;
		}
	if (nnodes == nodes_size) {
		nodes_size = nodes_size ? nodes_size * 2 : 64;
		if ((nodes = reallocarray(nodes, nodes_size,
		    sizeof(*nodes))) == NULL)
			abort();
	}
	nodes[nnodes].nodeid = nodeid;
	nodes[nnodes++].nlookup = 1;
}

static void
fh_seen(uint64_t fh, uint64_t nodeid, int dir)
{
	if (nfhs == fhs_size) {
		fhs_size = fhs_size ? fhs_size * 2 : 64;
		if ((fhs = reallocarray(fhs, fhs_size, sizeof(*fhs))) == NULL)
			abort();
	}
	fhs[nfhs].fh = fh;
	fhs[nfhs].nodeid = nodeid;
	fhs[nfhs++].dir = dir;
}

static uint64_t
map_node(uint64_t v)
{
	if (v < 2 || v > MAPPED_MAX || nnodes == 0)
		return v;
	return nodes[(v - 2) % nnodes].nodeid;
}

static uint64_t
map_fh(uint64_t v)
{
	if (v > MAPPED_MAX || nfhs == 0)
		return v;
	return fhs[v % nfhs].fh;
}

/* Rewrites the 64-bit field at off of the request's argument. */
static void
map_field(unsigned char *arg, size_t arglen, size_t off,
    uint64_t (*map)(uint64_t))
{
	uint64_t	 v;

	if (arglen < off + sizeof(v))
		return;
	memcpy(&v, arg + off, sizeof(v));
	v = map(v);
	memcpy(arg + off, &v, sizeof(v));
}

/* The ids a request names, as the input meant them. */
static void
map_request(struct fuse_in_header *h, size_t n)
{
	unsigned char	*arg = (unsigned char *)(h + 1);
	size_t		 arglen = n - sizeof(*h), i;

	h->nodeid = map_node(h->nodeid);
	switch (h->opcode) {
	case FUSE_SETLKW:
		h->opcode = FUSE_SETLK;
		/* FALLTHROUGH */
	case FUSE_READ:
	case FUSE_WRITE:
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_FSYNC:
	case FUSE_FSYNCDIR:
	case FUSE_GETLK:
	case FUSE_SETLK:
	case FUSE_FALLOCATE:
	case FUSE_LSEEK:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		map_field(arg, arglen, 0, map_fh);
		break;
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		map_field(arg, arglen, 8, map_fh);
		break;
	case FUSE_COPY_FILE_RANGE:
	case FUSE_COPY_FILE_RANGE_64:
		map_field(arg, arglen, 0, map_fh);
		map_field(arg, arglen, 16, map_node);
		map_field(arg, arglen, 24, map_fh);
		break;
	case FUSE_LINK:
	case FUSE_RENAME:
	case FUSE_RENAME2:
		map_field(arg, arglen, 0, map_node);
		break;
	case FUSE_BATCH_FORGET:
		for (i = sizeof(struct fuse_batch_forget_in);
		    i + sizeof(struct fuse_forget_one) <= arglen;
		    i += sizeof(struct fuse_forget_one))
			map_field(arg, arglen, i, map_node);
		break;
	}
}

/* What a successful reply gave the kernel to hold. */
static void
track_reply(const struct fuse_in_header *h, const unsigned char *p,
    size_t len)
{
	struct fuse_entry_out	 e;
	struct fuse_open_out	 o;
	struct fuse_direntplus	 dp;
	size_t			 off, reclen;

	switch (h->opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		check(len == sizeof(e), "entry reply size");
		memcpy(&e, p, sizeof(e));
		check(e.nodeid != 0, "entry without a node");
		node_seen(e.nodeid);
		break;
	case FUSE_CREATE:
	case FUSE_TMPFILE:
		check(len == sizeof(e) + sizeof(o), "create reply size");
		memcpy(&e, p, sizeof(e));
		memcpy(&o, p + sizeof(e), sizeof(o));
		node_seen(e.nodeid);
		fh_seen(o.fh, e.nodeid, 0);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		check(len == sizeof(o), "open reply size");
		memcpy(&o, p, sizeof(o));
		fh_seen(o.fh, h->nodeid, h->opcode == FUSE_OPENDIR);
		break;
	case FUSE_READDIRPLUS:
		for (off = 0; off < len; off += reclen) {
			check(len - off >= FUSE_NAME_OFFSET_DIRENTPLUS,
			    "short direntplus");
			memcpy(&dp, p + off, sizeof(dp));
			reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS +
			    dp.dirent.namelen);
			check(dp.dirent.namelen > 0 && reclen <= len - off,
			    "direntplus past the reply");
			/* The kernel links neither "." nor "..". */
			if ((dp.dirent.namelen == 1 &&
			    p[off + FUSE_NAME_OFFSET_DIRENTPLUS] == '.') ||
			    (dp.dirent.namelen == 2 && memcmp(p + off +
			    FUSE_NAME_OFFSET_DIRENTPLUS, "..", 2) == 0))
				check(dp.entry_out.nodeid == 0,
				    "a node for . or ..");
			else
				node_seen(dp.entry_out.nodeid);
		}
		break;
	}
}

static int
noreply_op(uint32_t opcode)
{
	return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET ||
	    opcode == FUSE_INTERRUPT;
}

/*
 * Checks the replies waiting on the socket to the request h of n
 * bytes: one, unless the kernel expects none or the worker ignored a
 * request too short to carry a header.
 */
static void
check_replies(const struct fuse_in_header *h, size_t n, int track)
{
	struct fuse_out_header	 oh;
	ssize_t			 r;
	int			 nreplies = 0;

	while ((r = recv(peer, rbuf, REPLY_MAX + 1, MSG_DONTWAIT)) != -1) {
		check(++nreplies == 1, "more than one reply");
		check(n >= sizeof(*h), "a reply to no request");
		check(r >= (ssize_t)sizeof(oh), "short reply");
		memcpy(&oh, rbuf, sizeof(oh));
		if (trace)
			fprintf(stderr, "fuzz_fuse: opcode %u node %#llx: "
			    "error %d, %zd bytes\n", h->opcode,
			    (unsigned long long)h->nodeid, oh.error, r);
		check(oh.len == (uint32_t)r, "reply length");
		check(oh.error <= 0 && oh.error > -4096, "reply errno");
		check(oh.unique == h->unique, "reply unique");
		check(oh.error == 0 || r == sizeof(oh), "error with a payload");
		if (oh.error == 0 && track)
			track_reply(h, rbuf + sizeof(oh), r - sizeof(oh));
	}
	check(errno == EAGAIN, "reply socket");
	check(nreplies == 1 || n < sizeof(*h) || noreply_op(h->opcode),
	    "no reply");
}

/* Serves the n bytes in thr.in. */
static void
serve(size_t n, int track)
{
	memset(&cur, 0, sizeof(cur));
	memcpy(&cur, thr.in, n < sizeof(cur) ? n : sizeof(cur));
	cur_len = n;
	fuse_thread_dispatch(&thr, n);
	check_replies(&cur, n, track);
}

/* Builds a request in thr.in; returns its length. */
static size_t
compose(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arglen)
{
	struct fuse_in_header	 h;
	static uint64_t		 unique = 1ULL << 62;

	memset(&h, 0, sizeof(h));
	h.len = sizeof(h) + arglen;
	h.opcode = opcode;
	h.unique = unique++;
	h.nodeid = nodeid;
	h.uid = conf.uid;
	h.gid = conf.gid;
	h.pid = getpid();
	memcpy(thr.in, &h, sizeof(h));
	memcpy(thr.in + sizeof(h), arg, arglen);
	return h.len;
}

static void
session_init(uint8_t cfg)
{
	struct fuse_init_in	 in;

	memset(&fsess, 0, sizeof(fsess));
	conf.ro = cfg & 0x01;
	conf.noxattr = (cfg & 0x02) != 0;
	conf.cache = (cfg >> 2) % 3 == 0 ? CACHE_AUTO :
	    (cfg >> 2) % 3 == 1 ? CACHE_NEVER : CACHE_ALWAYS;
	conf.writeback = (cfg & 0x10) != 0;
	/* Acting as each caller needs root, as in the real worker. */
	conf.multiuser = (cfg & 0x20) != 0 && getuid() == 0;
	memset(&in, 0, sizeof(in));
	in.major = FUSE_KERNEL_VERSION;
	in.minor = FSWORKER_FUSE_MINOR;
	in.max_readahead = 128 * 1024;
	in.flags = ~0U;
	in.flags2 = ~0U;
	serve(compose(FUSE_INIT, 0, &in, sizeof(in)), 0);
	check(atomic_load(&fsess.initialized), "INIT refused");
}

/* What the kernel sends when the mount goes away. */
static void
session_end(void)
{
	struct fuse_release_in	 rel;
	struct fuse_forget_in	 fg;
	size_t			 i;

	for (i = 0; i < nfhs; i++) {
		memset(&rel, 0, sizeof(rel));
		rel.fh = fhs[i].fh;
		serve(compose(fhs[i].dir ? FUSE_RELEASEDIR : FUSE_RELEASE,
		    fhs[i].nodeid, &rel, sizeof(rel)), 0);
	}
	for (i = 0; i < nnodes; i++) {
		memset(&fg, 0, sizeof(fg));
		fg.nlookup = nodes[i].nlookup;
		serve(compose(FUSE_FORGET, nodes[i].nodeid, &fg, sizeof(fg)),
		    0);
	}
	nfhs = nnodes = 0;
	check(atomic_load(&wstats.handles) == 0, "handles left");
	check(atomic_load(&wstats.nodes) == 1, "nodes left");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuse_in_header	 h;
	volatile size_t		 pos = 1;
	size_t			 n;
	int			 before;

	if (size < 1)
		return 0;
	/* libFuzzer installs a handler of its own after we start. */
	signal(SIGXFSZ, SIG_IGN);
	tree_fill();
	/* The xattr calls name nodes relative to the descriptor directory. */
	if (fchdir(conf.proc_fd) == -1)
		abort();
	before = fuzz_count_fds();
	session_init(data[0]);
	if (setjmp(exit_jmp) == 0) {
		while (pos < size) {
			n = size - pos;
			if (n >= sizeof(h)) {
				memcpy(&h, data + pos, sizeof(h));
				if (h.len >= sizeof(h) && h.len <= n)
					n = h.len;
			}
			if (n > thr.insize)
				n = thr.insize;
			memcpy(thr.in, data + pos, n);
			pos += n;
			if (n >= sizeof(h))
				map_request((struct fuse_in_header *)thr.in, n);
			serve(n, 1);
		}
	} else
		check_replies(&cur, cur_len, 1);	/* DESTROY's */
	session_end();
	check(fuzz_count_fds() == before, "descriptor leak");
	if (fchdir(cwd_fd) == -1)
		abort();
	return 0;
}
