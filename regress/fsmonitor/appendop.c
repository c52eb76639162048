/*
 * appendop: one way of writing to a file that may be append-only or
 * immutable, for t_append.sh to compare natively and through a mount.
 * It prints what the calls gave, each an errno's name (EPERM, ...), a
 * byte count or "ok", separated by spaces, and exits 0 whatever they
 * gave: the test compares the lines.
 *
 *	appendop [-h dir] file op [source]
 *
 * The file is opened O_RDWR|O_APPEND, then op is made on it; what is
 * written is "ZZZZ", at offset 0 where the call takes one.  With -h,
 * the file is first opened O_RDWR and held until the test has set the
 * attribute (hold()), then the rest goes as without; the op held
 * writes at 0 through the held descriptor, and opens nothing more.
 *
 * ops: open openrw write pwrite pwritev2 mmap setfl_write setfl_pwrite
 * aio setfl_aio uring uring_noappend setfl_uring ftruncate truncate
 * fallocate fallocate_keep punch zero cfr setfl_cfr held
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <linux/aio_abi.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA	"ZZZZ"
#define DLEN	4

static int	 fd = -1, held = -1;
static char	 out[256];

static void
say(const char *fmt, ...) __attribute__((__format__(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = strlen(out);

	if (len > 0 && len < sizeof(out) - 1)
		out[len++] = ' ';
	va_start(ap, fmt);
	(void)vsnprintf(out + len, sizeof(out) - len, fmt, ap);
	va_end(ap);
}

static void
say_errno(int e)
{
	const char	*name = strerrorname_np(e);

	say("%s", name != NULL ? name : "EUNKNOWN");
}

/* What a call returning n (-1 and errno on failure) gave. */
static void
said(long long n)
{
	if (n < 0)
		say_errno(errno);
	else
		say("%lld", n);
}

static void
said_ok(int rv)
{
	if (rv == -1)
		say_errno(errno);
	else
		say("ok");
}

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: appendop [-h dir] file op [source]\n");
	exit(2);
}

/*
 * Holds the file open for writing, then tells the test so (dir/held)
 * and waits for it to set the attribute (dir/go).
 */
static void
hold(const char *file, const char *dir)
{
	char	 path[PATH_MAX];
	int	 i, rfd;

	if ((held = open(file, O_RDWR | O_CLOEXEC)) == -1)
		err(1, "%s", file);
	(void)snprintf(path, sizeof(path), "%s/held", dir);
	if ((rfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(1, "%s", path);
	close(rfd);
	(void)snprintf(path, sizeof(path), "%s/go", dir);
	for (i = 0; access(path, F_OK) == -1; i++) {
		if (i == 2000)
			errx(1, "no %s", path);
		usleep(10000);
	}
}

static void
setfl(void)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		err(1, "F_GETFL");
	said_ok(fcntl(fd, F_SETFL, fl & ~O_APPEND));
}

static void
op_mmap(void)
{
	char	*p;

	if ((p = mmap(NULL, DLEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		say_errno(errno);
		return;
	}
	memcpy(p, DATA, DLEN);
	said_ok(msync(p, DLEN, MS_SYNC));
	munmap(p, DLEN);
}

/* A pwrite at 0 through the raw AIO system calls: no libaio needed. */
static void
op_aio(void)
{
	struct iocb	 cb, *cbp = &cb;
	struct io_event	 ev;
	aio_context_t	 ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx) == -1) {
		say("io_setup:%s", strerrorname_np(errno));
		return;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (uint64_t)(uintptr_t)DATA;
	cb.aio_nbytes = DLEN;
	cb.aio_offset = 0;
	if (syscall(SYS_io_submit, ctx, 1, &cbp) != 1)
		say_errno(errno);
	else if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1)
		err(1, "io_getevents");
	else if (ev.res < 0)
		say_errno((int)-ev.res);
	else
		say("%lld", (long long)ev.res);
	syscall(SYS_io_destroy, ctx);
}

/*
 * A write at 0 through io_uring, which may be disabled
 * (kernel.io_uring_disabled): then "nouring", alike on both sides.
 */
static void
op_uring(int rwflags)
{
	struct io_uring		 ring;
	struct io_uring_sqe	*sqe;
	struct io_uring_cqe	*cqe;
	int			 rv;

	if ((rv = io_uring_queue_init(2, &ring, 0)) < 0) {
		say("nouring");
		return;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_write(sqe, fd, DATA, DLEN, 0);
	sqe->rw_flags = rwflags;
	if ((rv = io_uring_submit(&ring)) != 1 ||
	    (rv = io_uring_wait_cqe(&ring, &cqe)) < 0)
		errc(1, -rv, "io_uring");
	if (cqe->res < 0)
		say_errno(-cqe->res);
	else
		say("%d", cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

static void
op_cfr(const char *source)
{
	loff_t	 off = 0;
	int	 sfd;

	if (source == NULL)
		usage();
	if ((sfd = open(source, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", source);
	said(copy_file_range(sfd, NULL, fd, &off, DLEN, 0));
	close(sfd);
}

static void
op(const char *name, const char *file, const char *source)
{
	struct iovec	 iov = { (void *)(uintptr_t)DATA, DLEN };

	if (strcmp(name, "open") == 0)
		say("ok");
	else if (strcmp(name, "write") == 0)
		said(write(fd, DATA, DLEN));
	else if (strcmp(name, "pwrite") == 0)
		said(pwrite(fd, DATA, DLEN, 0));
	else if (strcmp(name, "pwritev2") == 0)
		said(pwritev2(fd, &iov, 1, 0, RWF_NOAPPEND));
	else if (strcmp(name, "mmap") == 0)
		op_mmap();
	else if (strcmp(name, "setfl_write") == 0) {
		setfl();
		said(write(fd, DATA, DLEN));
	} else if (strcmp(name, "setfl_pwrite") == 0) {
		setfl();
		said(pwrite(fd, DATA, DLEN, 0));
	} else if (strcmp(name, "aio") == 0)
		op_aio();
	else if (strcmp(name, "setfl_aio") == 0) {
		setfl();
		op_aio();
	} else if (strcmp(name, "uring") == 0)
		op_uring(0);
	else if (strcmp(name, "uring_noappend") == 0)
		op_uring(RWF_NOAPPEND);
	else if (strcmp(name, "setfl_uring") == 0) {
		setfl();
		op_uring(0);
	} else if (strcmp(name, "ftruncate") == 0)
		said_ok(ftruncate(fd, 0));
	else if (strcmp(name, "truncate") == 0)
		said_ok(truncate(file, 0));
	else if (strcmp(name, "fallocate") == 0)
		said_ok(fallocate(fd, 0, 0, 65536));
	else if (strcmp(name, "fallocate_keep") == 0)
		said_ok(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536));
	else if (strcmp(name, "punch") == 0)
		said_ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, 0, DLEN));
	else if (strcmp(name, "zero") == 0)
		said_ok(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, DLEN));
	else if (strcmp(name, "cfr") == 0)
		op_cfr(source);
	else if (strcmp(name, "setfl_cfr") == 0) {
		setfl();
		op_cfr(source);
	} else
		usage();
}

int
main(int argc, char *argv[])
{
	const char	*syncdir = NULL;
	int		 ch;

	while ((ch = getopt(argc, argv, "h:")) != -1) {
		switch (ch) {
		case 'h':
			syncdir = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	if (syncdir != NULL)
		hold(argv[0], syncdir);
	if (strcmp(argv[1], "held") == 0) {
		if (held == -1)
			usage();
		said(pwrite(held, DATA, DLEN, 0));
	} else if (strcmp(argv[1], "openrw") == 0) {
		if ((fd = open(argv[0], O_RDWR | O_CLOEXEC)) == -1)
			say_errno(errno);
		else
			say("ok");
	} else if ((fd = open(argv[0], O_RDWR | O_APPEND | O_CLOEXEC)) == -1)
		say_errno(errno);
	else
		op(argv[1], argv[0], argc > 2 ? argv[2] : NULL);
	printf("%s\n", out);
	return 0;
}
