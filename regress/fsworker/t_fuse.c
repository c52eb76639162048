/*
 * The worker's request decoder without a kernel: crafted requests go
 * straight to fuse_thread_dispatch(), whose replies land on a SOCK_SEQPACKET
 * socket (one writev, one packet) where the test reads them back.
 * Everything the kernel would never send is here: short, long and
 * unterminated requests, bad names, stale and forged ids.
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/* What fsworker.c provides in the real program. */
struct worker_conf	*wconf;
struct worker_stats	 wstats;

static struct worker_conf	 tconf;
static struct fuse_thread	 thr;
static char			 tdir[] = "t_fuse.XXXXXX";
static int			 peer = -1;
static uint64_t			 next_unique = 2;
static uint32_t			 req_uid, req_gid;	/* the caller */
static unsigned char	 rbuf[FSWORKER_MAX_WRITE + FSWORKER_HEADROOM];

void
worker_exit(int code, const char *why)
{
	atf_tc_fail("worker_exit(%d, %s)", code, why);
}

static void
setup(void)
{
	int	 sp[2], fd;

	ATF_REQUIRE(mkdtemp(tdir) != NULL);
	ATF_REQUIRE((fd = open(tdir, O_PATH | O_DIRECTORY)) != -1);
	ATF_REQUIRE(mkdirat(fd, "sub", 0755) == 0);
	ATF_REQUIRE(close(openat(fd, "file", O_CREAT | O_WRONLY, 0644)) == 0);
	memset(&tconf, 0, sizeof(tconf));
	tconf.cache = CACHE_AUTO;
	tconf.nthreads = 1;
	tconf.mountpoint = "t_fuse";
	ATF_REQUIRE((tconf.proc_fd = open("/proc/self/fd",
	    O_PATH | O_DIRECTORY)) != -1);
	ATF_REQUIRE((tconf.ready_fd = eventfd(0, EFD_NONBLOCK)) != -1);
	wconf = &tconf;
	log_init(1, LOG_DAEMON);
	inode_init(fd);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
	fuse_thread_alloc(&thr, sp[0]);
	tconf.fuse_fd[0] = sp[0];
	peer = sp[1];
}

/* Entries of the backing directory, without . and .. */
static int
count_entries(void)
{
	struct dirent	*d;
	DIR		*dir;
	int		 n = 0;

	ATF_REQUIRE((dir = opendir(tdir)) != NULL);
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

/* Sends a request of exactly len bytes as read from the device. */
static uint64_t
send_raw(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arglen,
    uint32_t hdrlen, uint16_t extlen)
{
	struct fuse_in_header	*h = (struct fuse_in_header *)thr.in;

	ATF_REQUIRE(sizeof(*h) + arglen <= thr.insize);
	memset(h, 0, sizeof(*h));
	h->len = hdrlen;
	h->opcode = opcode;
	h->unique = next_unique;
	h->nodeid = nodeid;
	h->uid = req_uid;
	h->gid = req_gid;
	h->total_extlen = extlen;
	if (arglen)
		memcpy(thr.in + sizeof(*h), arg, arglen);
	next_unique += 2;
	fuse_thread_dispatch(&thr, sizeof(*h) + arglen);
	return h->unique;
}

static uint64_t
send_req(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arglen)
{
	return send_raw(opcode, nodeid, arg, arglen,
	    sizeof(struct fuse_in_header) + arglen, 0);
}

/* The next reply's error (positive), its payload in rbuf; -1: none. */
static int
get_reply(size_t *len)
{
	struct fuse_out_header	 oh;
	ssize_t			 n;

	n = recv(peer, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	if (n == -1 && errno == EAGAIN)
		return -1;
	ATF_REQUIRE(n >= (ssize_t)sizeof(oh));
	memcpy(&oh, rbuf, sizeof(oh));
	ATF_REQUIRE_EQ(oh.len, (uint32_t)n);
	if (len != NULL)
		*len = n - sizeof(oh);
	memmove(rbuf, rbuf + sizeof(oh), n - sizeof(oh));
	return -oh.error;
}

static int
req_errno(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arglen)
{
	send_req(opcode, nodeid, arg, arglen);
	return get_reply(NULL);
}

static void
do_init(uint32_t major, uint32_t minor, uint64_t flags)
{
	struct fuse_init_in	 in;

	memset(&in, 0, sizeof(in));
	in.major = major;
	in.minor = minor;
	in.max_readahead = 131072;
	in.flags = (uint32_t)flags | FUSE_INIT_EXT;
	in.flags2 = flags >> 32;
	send_req(FUSE_INIT, 0, &in, sizeof(in));
}

static void
init_ok(void)
{
	do_init(7, 45, ~0ULL);
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
}

/* A name with its NUL, after a fixed struct of fixlen zero bytes. */
static size_t
name_arg(unsigned char *buf, size_t fixlen, const char *name)
{
	memset(buf, 0, fixlen);
	memcpy(buf + fixlen, name, strlen(name) + 1);
	return fixlen + strlen(name) + 1;
}

static uint64_t
lookup(uint64_t dir, const char *name)
{
	unsigned char		 buf[256];
	struct fuse_entry_out	 e;
	size_t			 len;

	send_req(FUSE_LOOKUP, dir, buf, name_arg(buf, 0, name));
	ATF_REQUIRE_EQ(get_reply(&len), 0);
	ATF_REQUIRE_EQ(len, sizeof(e));
	memcpy(&e, rbuf, sizeof(e));
	return e.nodeid;
}

ATF_TC_WITHOUT_HEAD(before_init);
ATF_TC_BODY(before_init, tc)
{
	unsigned char	 buf[64];

	setup();
	ATF_CHECK_EQ(req_errno(FUSE_LOOKUP, FUSE_ROOT_ID, buf,
	    name_arg(buf, 0, "file")), EIO);
	init_ok();
	do_init(7, 45, 0);
	ATF_CHECK_EQ(get_reply(NULL), EPROTO);
}

ATF_TC_WITHOUT_HEAD(init_negotiation);
ATF_TC_BODY(init_negotiation, tc)
{
	struct fuse_init_out	 out;
	uint64_t		 flags;
	size_t			 len;

	setup();
	do_init(8, 0, 0);		/* a newer major: we answer 7 */
	ATF_REQUIRE_EQ(get_reply(&len), 0);
	memcpy(&out, rbuf, sizeof(out));
	ATF_CHECK_EQ(out.major, 7);
	ATF_CHECK(!atomic_load(&fsess.initialized));
	do_init(7, 99, ~0ULL);		/* everything offered */
	ATF_REQUIRE_EQ(get_reply(&len), 0);
	ATF_REQUIRE_EQ(len, sizeof(out));
	memcpy(&out, rbuf, sizeof(out));
	flags = out.flags | (uint64_t)out.flags2 << 32;
	ATF_CHECK_EQ(out.minor, FSWORKER_FUSE_MINOR);
	ATF_CHECK_EQ(out.max_write, FSWORKER_MAX_WRITE);
	ATF_CHECK(out.max_pages * (uint32_t)sysconf(_SC_PAGESIZE) ==
	    FSWORKER_MAX_WRITE);
	ATF_CHECK(flags & FUSE_MAX_PAGES);
	ATF_CHECK(flags & FUSE_DONT_MASK);
	ATF_CHECK(flags & FUSE_DO_READDIRPLUS);
	ATF_CHECK(flags & FUSE_POSIX_LOCKS);
	ATF_CHECK(flags & FUSE_INIT_EXT);
	ATF_CHECK(flags & FUSE_NO_EXPORT_SUPPORT);
	ATF_CHECK(!(flags & FUSE_PASSTHROUGH));
	ATF_CHECK(!(flags & FUSE_WRITEBACK_CACHE));
	ATF_CHECK(!(flags & FUSE_EXPORT_SUPPORT));
	ATF_CHECK(!(flags & FUSE_POSIX_ACL));
	ATF_CHECK(!(flags & FUSE_OVER_IO_URING));
	/* Only multiuser mode acts on the caller's groups. */
	ATF_CHECK(!(flags & FUSE_CREATE_SUPP_GROUP));
}

/* INIT with everything offered: the flags the worker took. */
static uint64_t
init_all(void)
{
	struct fuse_init_out	 out;

	do_init(7, 45, ~0ULL);
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	return out.flags | (uint64_t)out.flags2 << 32;
}

ATF_TC_WITHOUT_HEAD(init_multiuser);
ATF_TC_BODY(init_multiuser, tc)
{
	uint64_t	 flags;

	setup();
	tconf.multiuser = 1;
	flags = init_all();
	ATF_CHECK(flags & FUSE_CREATE_SUPP_GROUP);
	/* The kernel checks ACLs, with the caller's groups. */
	ATF_CHECK(flags & FUSE_POSIX_ACL);
}

/* default_permissions alone asks for ACLs too. */
ATF_TC_WITHOUT_HEAD(init_posix_acl);
ATF_TC_BODY(init_posix_acl, tc)
{
	setup();
	tconf.default_permissions = 1;
	ATF_CHECK(init_all() & FUSE_POSIX_ACL);
	ATF_CHECK(!(fsess.flags & FUSE_CREATE_SUPP_GROUP));
}

/* So does allow_other, which has the kernel check permissions then. */
ATF_TC_WITHOUT_HEAD(init_allow_other);
ATF_TC_BODY(init_allow_other, tc)
{
	setup();
	tconf.allow_other = 1;
	ATF_CHECK(init_all() & FUSE_POSIX_ACL);
}

ATF_TC_WITHOUT_HEAD(init_offered_only);
ATF_TC_BODY(init_offered_only, tc)
{
	struct fuse_init_out	 out;

	setup();
	do_init(7, 38, FUSE_ASYNC_READ | FUSE_BIG_WRITES);
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	ATF_CHECK_EQ(out.minor, 38);
	ATF_CHECK_EQ(out.flags & ~(uint32_t)FUSE_INIT_EXT,
	    FUSE_ASYNC_READ | FUSE_BIG_WRITES);
	ATF_CHECK_EQ(out.flags2, 0);
	ATF_CHECK_EQ(out.max_write, 32 * sysconf(_SC_PAGESIZE));
}

/*
 * A kernel of protocol 7.34 (Linux 5.14) sends the INIT of its time,
 * without the second word of flags; the worker answers 7.34 without
 * one either, and refuses the operations 7.34 never sends.
 */
ATF_TC_WITHOUT_HEAD(init_old_kernel);
ATF_TC_BODY(init_old_kernel, tc)
{
	struct fuse_init_in	 in;
	struct fuse_init_out	 out;
	unsigned char		 buf[64];

	setup();
	memset(&in, 0, sizeof(in));
	in.major = 7;
	in.minor = 34;
	in.max_readahead = 131072;
	in.flags = FUSE_ASYNC_READ | FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS;
	send_req(FUSE_INIT, 0, &in, offsetof(struct fuse_init_in, flags2));
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	ATF_CHECK_EQ(out.minor, 34);
	ATF_CHECK_EQ(out.flags, in.flags);
	ATF_CHECK_EQ(out.flags2, 0);
	memset(buf, 0, sizeof(buf));
	ATF_CHECK_EQ(req_errno(FUSE_STATX, FUSE_ROOT_ID, buf,
	    sizeof(struct fuse_statx_in)), ENOSYS);
	ATF_CHECK_EQ(req_errno(FUSE_TMPFILE, FUSE_ROOT_ID, buf,
	    name_arg(buf, sizeof(struct fuse_create_in), "t")), ENOSYS);
}

/* A second word not announced by FUSE_INIT_EXT is not read. */
ATF_TC_WITHOUT_HEAD(init_ext_unannounced);
ATF_TC_BODY(init_ext_unannounced, tc)
{
	struct fuse_init_in	 in;
	struct fuse_init_out	 out;

	setup();
	tconf.multiuser = 1;
	memset(&in, 0, sizeof(in));
	in.major = 7;
	in.minor = 45;
	in.flags = FUSE_ASYNC_READ;
	in.flags2 = (FUSE_CREATE_SUPP_GROUP | FUSE_PASSTHROUGH) >> 32;
	send_req(FUSE_INIT, 0, &in, sizeof(in));
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	ATF_CHECK_EQ(out.flags, FUSE_ASYNC_READ);
	ATF_CHECK_EQ(out.flags2, 0);
}

/* -K: what a 6.18 kernel offers, taken as an older one would offer it. */
ATF_TC_WITHOUT_HEAD(init_capped_6_1);
ATF_TC_BODY(init_capped_6_1, tc)
{
	struct fuse_init_out	 out;
	uint64_t		 flags;
	unsigned char		 buf[64];

	setup();
	tconf.multiuser = 1;
	ATF_REQUIRE((tconf.kernel = fsproto_kernel("6.1")) != NULL);
	do_init(7, 45, ~0ULL);
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	flags = out.flags | (uint64_t)out.flags2 << 32;
	ATF_CHECK_EQ(out.minor, 38);
	ATF_CHECK(flags & FUSE_SETXATTR_EXT);
	ATF_CHECK(flags & FUSE_INIT_EXT);
	ATF_CHECK(!(flags & FUSE_CREATE_SUPP_GROUP));	/* 6.2 */
	ATF_CHECK(!(flags & FUSE_NO_EXPORT_SUPPORT));	/* 7.40 */
	ATF_CHECK(!(fsess.offered & FUSE_HAS_RESEND));
	memset(buf, 0, sizeof(buf));
	ATF_CHECK_EQ(req_errno(FUSE_STATX, FUSE_ROOT_ID, buf,
	    sizeof(struct fuse_statx_in)), ENOSYS);
}

ATF_TC_WITHOUT_HEAD(init_capped_5_14);
ATF_TC_BODY(init_capped_5_14, tc)
{
	struct fuse_init_out	 out;

	setup();
	ATF_REQUIRE((tconf.kernel = fsproto_kernel("5.14")) != NULL);
	do_init(7, 45, ~0ULL);
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&out, rbuf, sizeof(out));
	ATF_CHECK_EQ(out.minor, 34);
	ATF_CHECK(!(out.flags & (FUSE_SETXATTR_EXT | FUSE_INIT_EXT)));
	ATF_CHECK_EQ(out.flags2, 0);
	ATF_CHECK(fsproto_kernel("4.19") == NULL);
}

ATF_TC_WITHOUT_HEAD(lengths);
ATF_TC_BODY(lengths, tc)
{
	unsigned char	 buf[256];
	size_t		 n;

	setup();
	init_ok();
	n = name_arg(buf, 0, "file");
	/* The header's length disagrees with what was read. */
	send_raw(FUSE_LOOKUP, FUSE_ROOT_ID, buf, n,
	    sizeof(struct fuse_in_header) + n + 8, 0);
	ATF_CHECK_EQ(get_reply(NULL), EIO);
	/* Extensions longer than the payload. */
	send_raw(FUSE_LOOKUP, FUSE_ROOT_ID, buf, n,
	    sizeof(struct fuse_in_header) + n, 2);
	ATF_CHECK_EQ(get_reply(NULL), EIO);
	/* Shorter than the op's fixed struct. */
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, FUSE_ROOT_ID, buf, 8), EINVAL);
	ATF_CHECK_EQ(req_errno(FUSE_SETATTR, FUSE_ROOT_ID, buf, 40), EINVAL);
	ATF_CHECK_EQ(req_errno(FUSE_RENAME2, FUSE_ROOT_ID, buf, 8), EINVAL);
	ATF_CHECK_EQ(req_errno(FUSE_COPY_FILE_RANGE, FUSE_ROOT_ID, buf, 48),
	    EINVAL);
	/* A short header is never answered: it has no unique. */
	fuse_thread_dispatch(&thr, 20);
	ATF_CHECK_EQ(get_reply(NULL), -1);
}

ATF_TC_WITHOUT_HEAD(unknown_opcodes);
ATF_TC_BODY(unknown_opcodes, tc)
{
	uint32_t	 ops[] = { 7, 19, FUSE_BMAP, FUSE_IOCTL, FUSE_POLL,
			    FUSE_SETUPMAPPING, FUSE_SYNCFS, 54, 4096, ~0U };
	unsigned char	 buf[64];
	size_t		 i;

	setup();
	init_ok();
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		ATF_CHECK_EQ(req_errno(ops[i], FUSE_ROOT_ID, buf, 64), ENOSYS);
}

ATF_TC_WITHOUT_HEAD(names);
ATF_TC_BODY(names, tc)
{
	const char	*bad[] = { "a/b", ".", "..", "", "/" };
	unsigned char	 buf[256];
	size_t		 i, n;

	setup();
	init_ok();
	/* Unterminated. */
	memcpy(buf, "file", 4);
	ATF_CHECK_EQ(req_errno(FUSE_LOOKUP, FUSE_ROOT_ID, buf, 4), EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = name_arg(buf, sizeof(struct fuse_mkdir_in), bad[i]);
		ATF_CHECK_EQ(req_errno(FUSE_MKDIR, FUSE_ROOT_ID, buf, n),
		    EINVAL);
		n = name_arg(buf, 0, bad[i]);
		ATF_CHECK_EQ(req_errno(FUSE_UNLINK, FUSE_ROOT_ID, buf, n),
		    EINVAL);
		n = name_arg(buf, sizeof(struct fuse_create_in), bad[i]);
		ATF_CHECK_EQ(req_errno(FUSE_CREATE, FUSE_ROOT_ID, buf, n),
		    EINVAL);
	}
	n = name_arg(buf, 0, "a/b");
	ATF_CHECK_EQ(req_errno(FUSE_LOOKUP, FUSE_ROOT_ID, buf, n), EINVAL);
	/* RENAME: the second name unterminated, then invalid. */
	n = name_arg(buf, sizeof(struct fuse_rename_in), "file");
	memcpy(buf + n, "xx", 2);
	ATF_CHECK_EQ(req_errno(FUSE_RENAME, FUSE_ROOT_ID, buf, n + 2),
	    EINVAL);
	memcpy(buf + n, "..", 3);
	ATF_CHECK_EQ(req_errno(FUSE_RENAME, FUSE_ROOT_ID, buf, n + 3),
	    EINVAL);
	/* SYMLINK without its target. */
	n = name_arg(buf, 0, "link");
	ATF_CHECK_EQ(req_errno(FUSE_SYMLINK, FUSE_ROOT_ID, buf, n), EINVAL);
	/* Nothing was created, nothing removed. */
	ATF_CHECK_EQ(count_entries(), 2);
}

ATF_TC_WITHOUT_HEAD(dots);
ATF_TC_BODY(dots, tc)
{
	uint64_t	 sub;

	setup();
	init_ok();
	ATF_CHECK_EQ(lookup(FUSE_ROOT_ID, ".."), FUSE_ROOT_ID);
	ATF_CHECK_EQ(lookup(FUSE_ROOT_ID, "."), FUSE_ROOT_ID);
	sub = lookup(FUSE_ROOT_ID, "sub");
	ATF_CHECK(sub != FUSE_ROOT_ID);
	ATF_CHECK_EQ(lookup(sub, "."), sub);
	ATF_CHECK_EQ(lookup(sub, ".."), FUSE_ROOT_ID);
}

ATF_TC_WITHOUT_HEAD(stale_ids);
ATF_TC_BODY(stale_ids, tc)
{
	struct fuse_getattr_in	 ga;
	struct fuse_forget_in	 fo;
	struct fuse_read_in	 rd;
	uint64_t		 file;

	setup();
	init_ok();
	memset(&ga, 0, sizeof(ga));
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, 0, &ga, sizeof(ga)), ESTALE);
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, 12345, &ga, sizeof(ga)), ESTALE);
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, 1ULL << 32 | FUSE_ROOT_ID, &ga,
	    sizeof(ga)), ESTALE);
	file = lookup(FUSE_ROOT_ID, "file");
	ATF_CHECK_EQ(lookup(FUSE_ROOT_ID, "file"), file);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 2);
	/* Two lookups: one forget leaves it, the second ends it. */
	fo.nlookup = 1;
	send_req(FUSE_FORGET, file, &fo, sizeof(fo));
	ATF_CHECK_EQ(get_reply(NULL), -1);
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, file, &ga, sizeof(ga)), 0);
	send_req(FUSE_FORGET, file, &fo, sizeof(fo));
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 1);
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, file, &ga, sizeof(ga)), ESTALE);
	/* The slot comes back with a new generation: the old id stays dead. */
	ATF_CHECK(lookup(FUSE_ROOT_ID, "file") != file);
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, file, &ga, sizeof(ga)), ESTALE);
	/* A forged handle. */
	memset(&rd, 0, sizeof(rd));
	rd.fh = 77;
	rd.size = 4096;
	ATF_CHECK_EQ(req_errno(FUSE_READ, lookup(FUSE_ROOT_ID, "file"), &rd,
	    sizeof(rd)), EBADF);
}

ATF_TC_WITHOUT_HEAD(handles);
ATF_TC_BODY(handles, tc)
{
	struct fuse_open_in	 op;
	struct fuse_open_out	 oo;
	struct fuse_release_in	 rel;
	struct fuse_read_in	 rd;
	uint64_t		 file, sub;

	setup();
	init_ok();
	file = lookup(FUSE_ROOT_ID, "file");
	sub = lookup(FUSE_ROOT_ID, "sub");
	memset(&op, 0, sizeof(op));
	op.flags = O_RDONLY;
	send_req(FUSE_OPEN, file, &op, sizeof(op));
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&oo, rbuf, sizeof(oo));
	ATF_CHECK_EQ(atomic_load(&wstats.handles), 1);
	/* The handle answers for its own node only. */
	memset(&rd, 0, sizeof(rd));
	rd.fh = oo.fh;
	rd.size = 16;
	ATF_CHECK_EQ(req_errno(FUSE_READ, sub, &rd, sizeof(rd)), EBADF);
	ATF_CHECK_EQ(req_errno(FUSE_READ, file, &rd, sizeof(rd)), 0);
	rd.size = FSWORKER_MAX_WRITE + 4096;
	ATF_CHECK_EQ(req_errno(FUSE_READ, file, &rd, sizeof(rd)), EINVAL);
	/* OPEN on a directory, OPENDIR on a file. */
	ATF_CHECK_EQ(req_errno(FUSE_OPEN, sub, &op, sizeof(op)), EISDIR);
	ATF_CHECK_EQ(req_errno(FUSE_OPENDIR, file, &op, sizeof(op)), ENOTDIR);
	memset(&rel, 0, sizeof(rel));
	rel.fh = oo.fh;
	ATF_CHECK_EQ(req_errno(FUSE_RELEASE, file, &rel, sizeof(rel)), 0);
	ATF_CHECK_EQ(atomic_load(&wstats.handles), 0);
	ATF_CHECK_EQ(req_errno(FUSE_RELEASE, file, &rel, sizeof(rel)), EBADF);
	rd.size = 16;
	ATF_CHECK_EQ(req_errno(FUSE_READ, file, &rd, sizeof(rd)), EBADF);
}

ATF_TC_WITHOUT_HEAD(write_length);
ATF_TC_BODY(write_length, tc)
{
	unsigned char		 buf[sizeof(struct fuse_write_in) + 16];
	struct fuse_write_in	 wr;
	struct fuse_open_in	 op;
	struct fuse_open_out	 oo;
	uint64_t		 file;

	setup();
	init_ok();
	file = lookup(FUSE_ROOT_ID, "file");
	memset(&op, 0, sizeof(op));
	op.flags = O_RDWR;
	send_req(FUSE_OPEN, file, &op, sizeof(op));
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&oo, rbuf, sizeof(oo));
	memset(&wr, 0, sizeof(wr));
	wr.fh = oo.fh;
	wr.size = 17;		/* one more than the data that follows */
	memcpy(buf, &wr, sizeof(wr));
	memset(buf + sizeof(wr), 'x', 16);
	ATF_CHECK_EQ(req_errno(FUSE_WRITE, file, buf, sizeof(buf)), EINVAL);
	wr.size = 16;
	memcpy(buf, &wr, sizeof(wr));
	ATF_CHECK_EQ(req_errno(FUSE_WRITE, file, buf, sizeof(buf)), 0);
	ATF_CHECK_EQ(atomic_load(&wstats.bytes_written), 16);
}

ATF_TC_WITHOUT_HEAD(batch_forget);
ATF_TC_BODY(batch_forget, tc)
{
	struct {
		struct fuse_batch_forget_in	in;
		struct fuse_forget_one		one[2];
	} bf;
	uint64_t	 file, sub;

	setup();
	init_ok();
	file = lookup(FUSE_ROOT_ID, "file");
	sub = lookup(FUSE_ROOT_ID, "sub");
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 3);
	/* More entries claimed than sent: nothing forgotten, no reply. */
	memset(&bf, 0, sizeof(bf));
	bf.in.count = 1000;
	bf.one[0].nodeid = file;
	bf.one[0].nlookup = 1;
	send_req(FUSE_BATCH_FORGET, 0, &bf, sizeof(bf));
	ATF_CHECK_EQ(get_reply(NULL), -1);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 3);
	bf.in.count = 2;
	bf.one[1].nodeid = sub;
	bf.one[1].nlookup = 1;
	send_req(FUSE_BATCH_FORGET, 0, &bf, sizeof(bf));
	ATF_CHECK_EQ(get_reply(NULL), -1);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 1);
}

/*
 * inode_trim() shrinks a hash grown for many nodes: the nodes left are
 * found again under their ids, the forgotten ones get new ids.
 */
#define TRIM_NODES	3000
#define TRIM_KEPT	10
ATF_TC_WITHOUT_HEAD(hash_trim);
ATF_TC_BODY(hash_trim, tc)
{
	static uint64_t		 ids[TRIM_NODES];
	struct fuse_getattr_in	 ga;
	struct fuse_forget_in	 fo;
	struct rlimit		 rl;
	char			 name[32];
	int			 dfd, i;

	/* A descriptor per node, as the worker's raise_nofile() allows. */
	ATF_REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < TRIM_NODES + 64)
		atf_tc_skip("RLIMIT_NOFILE hard limit %llu",
		    (unsigned long long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	ATF_REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	setup();
	init_ok();
	ATF_REQUIRE((dfd = open(tdir, O_PATH | O_DIRECTORY)) != -1);
	for (i = 0; i < TRIM_NODES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ATF_REQUIRE(close(openat(dfd, name, O_CREAT | O_WRONLY,
		    0644)) == 0);
		ids[i] = lookup(FUSE_ROOT_ID, name);
	}
	close(dfd);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), TRIM_NODES + 1);
	fo.nlookup = 1;
	for (i = TRIM_KEPT; i < TRIM_NODES; i++)
		send_req(FUSE_FORGET, ids[i], &fo, sizeof(fo));
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), TRIM_KEPT + 1);
	inode_trim();
	memset(&ga, 0, sizeof(ga));
	for (i = 0; i < TRIM_KEPT; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ATF_CHECK_EQ(lookup(FUSE_ROOT_ID, name), ids[i]);
		ATF_CHECK_EQ(req_errno(FUSE_GETATTR, ids[i], &ga,
		    sizeof(ga)), 0);
	}
	ATF_CHECK_EQ(req_errno(FUSE_GETATTR, ids[TRIM_KEPT], &ga,
	    sizeof(ga)), ESTALE);
	ATF_CHECK(lookup(FUSE_ROOT_ID, "n2999") != ids[TRIM_NODES - 1]);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), TRIM_KEPT + 2);
}

/* READDIRPLUS: every entry but . and .. is one lookup. */
ATF_TC_WITHOUT_HEAD(readdirplus_counts);
ATF_TC_BODY(readdirplus_counts, tc)
{
	struct fuse_direntplus	*dp;
	struct fuse_forget_in	 fo;
	struct fuse_open_in	 op;
	struct fuse_open_out	 oo;
	struct fuse_read_in	 rd;
	size_t			 len, off, linked = 0, names = 0;

	setup();
	init_ok();
	memset(&op, 0, sizeof(op));
	send_req(FUSE_OPENDIR, FUSE_ROOT_ID, &op, sizeof(op));
	ATF_REQUIRE_EQ(get_reply(NULL), 0);
	memcpy(&oo, rbuf, sizeof(oo));
	memset(&rd, 0, sizeof(rd));
	rd.fh = oo.fh;
	rd.size = 4096;
	send_req(FUSE_READDIRPLUS, FUSE_ROOT_ID, &rd, sizeof(rd));
	ATF_REQUIRE_EQ(get_reply(&len), 0);
	for (off = 0; off < len; off += FUSE_DIRENTPLUS_SIZE(dp)) {
		dp = (struct fuse_direntplus *)(rbuf + off);
		names++;
		if (dp->entry_out.nodeid == 0) {
			ATF_CHECK(dp->dirent.namelen <= 2 &&
			    dp->dirent.name[0] == '.');
			continue;
		}
		linked++;
		fo.nlookup = 1;
		send_req(FUSE_FORGET, dp->entry_out.nodeid, &fo, sizeof(fo));
	}
	ATF_CHECK_EQ(names, 4);
	ATF_CHECK_EQ(linked, 2);
	ATF_CHECK_EQ(atomic_load(&wstats.nodes), 1);
}

ATF_TC_WITHOUT_HEAD(readonly_noxattr);
ATF_TC_BODY(readonly_noxattr, tc)
{
	unsigned char	 buf[256];
	size_t		 n;

	setup();
	tconf.ro = 1;
	tconf.noxattr = 1;
	init_ok();
	n = name_arg(buf, sizeof(struct fuse_mkdir_in), "new");
	ATF_CHECK_EQ(req_errno(FUSE_MKDIR, FUSE_ROOT_ID, buf, n), EROFS);
	n = name_arg(buf, sizeof(struct fuse_getxattr_in), "user.a");
	ATF_CHECK_EQ(req_errno(FUSE_GETXATTR, FUSE_ROOT_ID, buf, n),
	    EOPNOTSUPP);
	n = name_arg(buf, 0, "file");
	ATF_CHECK_EQ(req_errno(FUSE_UNLINK, FUSE_ROOT_ID, buf, n), EROFS);
}

/*
 * The xattr calls name a node by its descriptor, relative to the
 * worker's working directory (sandbox.c): the test's becomes the same,
 * and path the absolute path of the backing "file".
 */
static void
xattr_setup(char *path, size_t size)
{
	char	 cwd[PATH_MAX];

	ATF_REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	ATF_REQUIRE((size_t)snprintf(path, size, "%s/%s/file", cwd, tdir) <
	    size);
	ATF_REQUIRE(chdir("/proc/self/fd") == 0);
}

/* What GETXATTR of name on file answers: an error, or a size probe. */
static int
getxattr_size(uint64_t node, const char *name, ssize_t *size)
{
	struct fuse_getxattr_out	 go;
	unsigned char			 buf[256];
	size_t				 len;
	int				 error;

	send_req(FUSE_GETXATTR, node, buf,
	    name_arg(buf, sizeof(struct fuse_getxattr_in), name));
	if ((error = get_reply(&len)) != 0)
		return error;
	ATF_REQUIRE_EQ(len, sizeof(go));
	memcpy(&go, rbuf, sizeof(go));
	*size = go.size;
	return 0;
}

static int
setxattr_req(uint64_t node, const char *name, const void *value,
    uint32_t size, uint32_t setxattr_flags)
{
	struct fuse_setxattr_in	 in;
	unsigned char		 buf[256];
	size_t			 n;

	memset(&in, 0, sizeof(in));
	in.size = size;
	in.setxattr_flags = setxattr_flags;
	n = name_arg(buf, sizeof(in), name);
	memcpy(buf, &in, sizeof(in));
	memcpy(buf + n, value, size);
	return req_errno(FUSE_SETXATTR, node, buf, n + size);
}

/*
 * With noxattr, a mount whose kernel checks ACLs still has them served
 * as the backing file has them, and nothing else.
 */
ATF_TC_WITHOUT_HEAD(noxattr_acl);
ATF_TC_BODY(noxattr_acl, tc)
{
	char			 path[PATH_MAX];
	ssize_t			 native, got;
	uint64_t		 file;
	int			 error;

	setup();
	tconf.default_permissions = 1;
	tconf.noxattr = 1;
	init_ok();
	ATF_REQUIRE(fsess.flags & FUSE_POSIX_ACL);
	file = lookup(FUSE_ROOT_ID, "file");
	xattr_setup(path, sizeof(path));
	native = getxattr(path, "system.posix_acl_access", NULL, 0);
	error = getxattr_size(file, "system.posix_acl_access", &got);
	if (native == -1)
		ATF_CHECK_EQ(error, errno);
	else
		ATF_CHECK(error == 0 && got == native);
	ATF_CHECK_EQ(getxattr_size(file, "user.a", &got), EOPNOTSUPP);
	ATF_CHECK_EQ(getxattr_size(file, "system.posix_acl_other", &got),
	    EOPNOTSUPP);
	ATF_CHECK_EQ(setxattr_req(file, "user.a", "b", 1, 0), EOPNOTSUPP);
	/* Only FUSE_SETXATTR_ACL_KILL_SGID is known. */
	ATF_CHECK_EQ(setxattr_req(file, "system.posix_acl_access", "", 0,
	    1 << 5), EINVAL);
}

/*
 * FUSE_SETXATTR_ACL_KILL_SGID clears the set-group-ID bit when an
 * access ACL is set, and only then.
 */
ATF_TC_WITHOUT_HEAD(acl_kill_sgid);
ATF_TC_BODY(acl_kill_sgid, tc)
{
	/* user::rwx group::r-x other::r-x, the mode 0755 as an ACL. */
	static const uint16_t	 acl[] = { 2, 0, 0x01, 7, 0xffff, 0xffff,
	    0x04, 5, 0xffff, 0xffff, 0x20, 5, 0xffff, 0xffff };
	char			 path[PATH_MAX];
	struct stat		 st;
	uint64_t		 file;

	setup();
	tconf.multiuser = 1;
	init_ok();
	file = lookup(FUSE_ROOT_ID, "file");
	xattr_setup(path, sizeof(path));
	ATF_REQUIRE(chmod(path, 02755) == 0);
	if (setxattr(path, "system.posix_acl_access", acl, sizeof(acl), 0) ==
	    -1 && errno == EOPNOTSUPP)
		atf_tc_skip("no ACLs on the file system of %s", tdir);
	ATF_REQUIRE(chmod(path, 02755) == 0);
	ATF_CHECK_EQ(setxattr_req(file, "system.posix_acl_default", acl,
	    sizeof(acl), FUSE_SETXATTR_ACL_KILL_SGID), EACCES);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 02755);
	ATF_CHECK_EQ(setxattr_req(file, "system.posix_acl_access", acl,
	    sizeof(acl), 0), 0);
	ATF_REQUIRE(stat(path, &st) == 0);
	if (getuid() == 0)
		ATF_CHECK_EQ(st.st_mode & 07777, 02755);
	ATF_CHECK_EQ(setxattr_req(file, "system.posix_acl_access", acl,
	    sizeof(acl), FUSE_SETXATTR_ACL_KILL_SGID), 0);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0755);
}

/* An extension of type and size (header included), then words. */
static size_t
ext_add(unsigned char *buf, uint32_t size, uint32_t type,
    const uint32_t *words, size_t nwords)
{
	struct fuse_ext_header	 xh = { size, type };

	memset(buf, 0, size > 8 + 4 * nwords ? size : 8 + 4 * nwords);
	memcpy(buf, &xh, sizeof(xh));
	if (nwords)
		memcpy(buf + sizeof(xh), words, 4 * nwords);
	return size;
}

static int
ext_parse(struct req *req, const unsigned char *ext, size_t len)
{
	static struct fuse_in_header	 h;

	memset(req, 0, sizeof(*req));
	h.opcode = FUSE_MKDIR;
	req->hdr = &h;
	return req_ext(req, ext, len);
}

/* Extensions are checked word by word before anything uses them. */
ATF_TC_WITHOUT_HEAD(ext_decode);
ATF_TC_BODY(ext_decode, tc)
{
	const uint32_t	 one[] = { 1, 4242 }, two[] = { 2, 4242 },
			 huge[] = { 0xffffffff, 4242 }, secctx[] = { 0 };
	unsigned char	 ext[128];
	struct req	 req;
	uint32_t	 g;
	size_t		 n;

	setup();
	ATF_CHECK_EQ(ext_parse(&req, ext, 0), 0);
	ATF_CHECK_EQ(req.ngroups, 0);
	/* One group, as the kernel sends it. */
	n = ext_add(ext, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, n), 0);
	ATF_REQUIRE_EQ(req.ngroups, 1);
	memcpy(&g, req.groups, sizeof(g));
	ATF_CHECK_EQ(g, 4242);
	/* After a security context and an unknown type, still found. */
	n = ext_add(ext, 8, 0, secctx, 0);
	n += ext_add(ext + n, 16, 99, secctx, 1);
	n += ext_add(ext + n, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, n), 0);
	ATF_CHECK_EQ(req.ngroups, 1);
	/* Sizes: zero, not a multiple of 8, past the end, a torn header. */
	ext_add(ext, 0, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, 16), EIO);
	ext_add(ext, 12, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, 16), EIO);
	ext_add(ext, 24, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, 16), EIO);
	n = ext_add(ext, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, n + 4), EIO);
	/* Groups: more than the extension holds, none at all, twice. */
	ext_add(ext, 16, FUSE_EXT_GROUPS, two, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, 16), EIO);
	ext_add(ext, 16, FUSE_EXT_GROUPS, huge, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, 16), EIO);
	ext_add(ext, 8, FUSE_EXT_GROUPS, one, 0);
	ATF_CHECK_EQ(ext_parse(&req, ext, 8), EIO);
	n = ext_add(ext, 16, FUSE_EXT_GROUPS, one, 2);
	n += ext_add(ext + n, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(ext_parse(&req, ext, n), EIO);
	ATF_CHECK_EQ(req.ngroups, 0);
	ATF_CHECK(req.groups == NULL);
}

/* MKDIR of name in dir with mode, umask and extensions ext. */
static int
mkdir_ext(uint64_t dir, const char *name, mode_t mode, mode_t mask,
    const unsigned char *ext, size_t extlen)
{
	unsigned char		 buf[256];
	struct fuse_mkdir_in	 in;
	size_t			 n;

	n = name_arg(buf, sizeof(in), name);
	memset(&in, 0, sizeof(in));
	in.mode = mode;
	in.umask = mask;
	memcpy(buf, &in, sizeof(in));
	if (extlen)
		memcpy(buf + n, ext, extlen);
	send_raw(FUSE_MKDIR, dir, buf, n + extlen,
	    sizeof(struct fuse_in_header) + n + extlen, extlen / 8);
	return get_reply(NULL);
}

ATF_TC_WITHOUT_HEAD(ext_dispatch);
ATF_TC_BODY(ext_dispatch, tc)
{
	const uint32_t	 one[] = { 1, 4242 };
	unsigned char	 ext[32];
	size_t		 n;

	setup();
	init_ok();
	n = ext_add(ext, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(mkdir_ext(FUSE_ROOT_ID, "a", 0755, 0, ext, n), 0);
	/* Torn: nothing is created, and the answer is EIO. */
	ext_add(ext, 24, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(mkdir_ext(FUSE_ROOT_ID, "b", 0755, 0, ext, 16), EIO);
	ATF_CHECK_EQ(count_entries(), 3);
}

/*
 * The umask of a request is applied by the backing filesystem, and a
 * default ACL of the parent replaces it; the worker's own stays.
 */
ATF_TC_WITHOUT_HEAD(umask_applied);
ATF_TC_BODY(umask_applied, tc)
{
	struct {
		uint32_t	 version;
		struct {
			uint16_t tag, perm;
			uint32_t id;
		} e[3];
	} acl = { 2, {
		{ 0x01, 7, (uint32_t)-1 },	/* ACL_USER_OBJ */
		{ 0x04, 7, (uint32_t)-1 },	/* ACL_GROUP_OBJ */
		{ 0x20, 7, (uint32_t)-1 },	/* ACL_OTHER */
	} };
	char		 path[64];
	struct stat	 st;
	mode_t		 old;

	setup();
	init_ok();
	old = umask(022);
	ATF_CHECK_EQ(mkdir_ext(FUSE_ROOT_ID, "m", 0777, 027, NULL, 0), 0);
	snprintf(path, sizeof(path), "%s/m", tdir);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0750);
	ATF_CHECK_EQ(umask(022), 022);
	snprintf(path, sizeof(path), "%s/sub", tdir);
	if (setxattr(path, "system.posix_acl_default", &acl, sizeof(acl),
	    0) == -1) {
		umask(old);
		atf_tc_skip("no POSIX ACLs here: %s", strerror(errno));
	}
	ATF_CHECK_EQ(mkdir_ext(lookup(FUSE_ROOT_ID, "sub"), "d", 0777, 077,
	    NULL, 0), 0);
	snprintf(path, sizeof(path), "%s/sub/d", tdir);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0777);
	ATF_CHECK_EQ(umask(old), 022);
}

/* The worker's own ids and groups, which every request returns to. */
static void
check_self(void)
{
	ATF_CHECK_EQ(setfsuid((uid_t)-1), 0);
	ATF_CHECK_EQ(setfsgid((gid_t)-1), 0);
	ATF_CHECK_EQ(getgroups(0, NULL), 0);
}

/*
 * Multiuser: what a request creates is its caller's, and a group the
 * kernel names lets the caller into a directory of that group.
 */
ATF_TC(multiuser_creds);
ATF_TC_HEAD(multiuser_creds, tc)
{
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(multiuser_creds, tc)
{
	const uint32_t	 one[] = { 1, 4343 };
	unsigned char	 ext[32];
	struct stat	 st;
	char		 path[64];
	uint64_t	 sub;
	size_t		 n;

	setup();
	tconf.multiuser = 1;
	ATF_REQUIRE(setgroups(0, NULL) == 0);
	init_ok();
	snprintf(path, sizeof(path), "%s/sub", tdir);
	ATF_REQUIRE(chown(path, 0, 4343) == 0 && chmod(path, 0770) == 0);
	sub = lookup(FUSE_ROOT_ID, "sub");
	req_uid = req_gid = 4242;
	/*
	 * The kernel checks the caller's right first (default_permissions,
	 * with all of the caller's groups); the worker keeps
	 * CAP_DAC_OVERRIDE as the caller, so a right through a group it
	 * does not know of is not refused again.  What it makes is the
	 * caller's.
	 */
	ATF_CHECK_EQ(mkdir_ext(sub, "no", 0755, 0, NULL, 0), 0);
	check_self();
	snprintf(path, sizeof(path), "%s/sub/no", tdir);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_uid, 4242);
	ATF_CHECK_EQ(st.st_gid, 4242);
	n = ext_add(ext, 16, FUSE_EXT_GROUPS, one, 2);
	ATF_CHECK_EQ(mkdir_ext(sub, "yes", 02755, 0, ext, n), 0);
	check_self();
	snprintf(path, sizeof(path), "%s/sub/yes", tdir);
	ATF_REQUIRE(stat(path, &st) == 0);
	ATF_CHECK_EQ(st.st_uid, 4242);
	ATF_CHECK_EQ(st.st_gid, 4242);
	/* A caller the kernel could not map is nobody to act as. */
	req_uid = FUSE_INVALID_UIDGID;
	ATF_CHECK_EQ(mkdir_ext(sub, "unmapped", 0755, 0, ext, n), EOVERFLOW);
	check_self();
	req_uid = req_gid = 0;
}

/*
 * CREATE of a name that exists after all (made beside the mount since
 * the kernel's LOOKUP): not opened unchecked, but ESTALE, for the
 * kernel to walk the path again; with O_EXCL, EEXIST.  No handle.
 */
ATF_TC(create_existing);
ATF_TC_HEAD(create_existing, tc)
{
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(create_existing, tc)
{
	struct fuse_create_in	*in;
	unsigned char		 buf[256];
	size_t			 n;

	setup();
	init_ok();
	n = name_arg(buf, sizeof(*in), "file");
	in = (struct fuse_create_in *)buf;
	in->flags = O_RDWR | O_CREAT | O_TRUNC;
	in->mode = S_IFREG | 0644;
	ATF_CHECK_EQ(req_errno(FUSE_CREATE, FUSE_ROOT_ID, buf, n), ESTALE);
	in->flags |= O_EXCL;
	ATF_CHECK_EQ(req_errno(FUSE_CREATE, FUSE_ROOT_ID, buf, n), EEXIST);
	ATF_CHECK_EQ(atomic_load(&wstats.handles), 0);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, before_init);
	ATF_TP_ADD_TC(tp, init_negotiation);
	ATF_TP_ADD_TC(tp, init_offered_only);
	ATF_TP_ADD_TC(tp, init_old_kernel);
	ATF_TP_ADD_TC(tp, init_ext_unannounced);
	ATF_TP_ADD_TC(tp, init_capped_6_1);
	ATF_TP_ADD_TC(tp, init_capped_5_14);
	ATF_TP_ADD_TC(tp, init_multiuser);
	ATF_TP_ADD_TC(tp, ext_decode);
	ATF_TP_ADD_TC(tp, ext_dispatch);
	ATF_TP_ADD_TC(tp, umask_applied);
	ATF_TP_ADD_TC(tp, multiuser_creds);
	ATF_TP_ADD_TC(tp, create_existing);
	ATF_TP_ADD_TC(tp, lengths);
	ATF_TP_ADD_TC(tp, unknown_opcodes);
	ATF_TP_ADD_TC(tp, names);
	ATF_TP_ADD_TC(tp, dots);
	ATF_TP_ADD_TC(tp, stale_ids);
	ATF_TP_ADD_TC(tp, handles);
	ATF_TP_ADD_TC(tp, write_length);
	ATF_TP_ADD_TC(tp, batch_forget);
	ATF_TP_ADD_TC(tp, hash_trim);
	ATF_TP_ADD_TC(tp, readdirplus_counts);
	ATF_TP_ADD_TC(tp, readonly_noxattr);
	ATF_TP_ADD_TC(tp, init_posix_acl);
	ATF_TP_ADD_TC(tp, init_allow_other);
	ATF_TP_ADD_TC(tp, noxattr_acl);
	ATF_TP_ADD_TC(tp, acl_kill_sgid);
	return atf_no_error();
}
