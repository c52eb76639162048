/*
 * fsshadow: random reads, writes, truncates, fallocates and mmap
 * accesses on one file, mirrored on a copy in memory (the shadow).
 * Every read, through read(2) or a mapping, is compared with the
 * shadow, and so is the size after every operation; the first
 * difference ends the run with the operations that led to it.  The
 * same seed gives the same operations.
 *
 *	fsshadow [-FMv] [-n ops] [-s seed] [-S maxsize] [-L maxlen] file
 *
 *	-n ops		operations (default 10000)
 *	-s seed		default: from the clock, printed
 *	-S maxsize	the file stays below (default 262144)
 *	-L maxlen	the longest read or write (default 65536)
 *	-F		no fallocate(2)
 *	-M		no mmap(2)
 *	-v		print every operation
 *
 * fallocate modes or mmap the filesystem refuses (EOPNOTSUPP, ENODEV)
 * are noted once and left out from then on.  Exits 0 when every
 * comparison held, 1 at the first that did not, 2 on usage.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_KEPT	32	/* operations shown on a failure */

enum op {
	OP_READ, OP_WRITE, OP_MREAD, OP_MWRITE, OP_TRUNCATE, OP_FALLOC,
	OP_PUNCH, OP_ZERO, OP_FSYNC, OP_REOPEN, OP_NOPS
};

static const char *const op_names[OP_NOPS] = {
	"read", "write", "mapread", "mapwrite", "truncate", "fallocate",
	"punchhole", "zerorange", "fsync", "reopen"
};

/* Out of 100, in the order above. */
static const int op_weights[OP_NOPS] = {
	24, 24, 8, 8, 8, 8, 6, 6, 4, 4
};

struct logent {
	long		 n;
	enum op		 op;
	off_t		 off;
	size_t		 len;
	off_t		 size;	/* the shadow's, after */
};

static const char	*path;
static int		 fd = -1;
static unsigned char	*shadow, *buf;
static off_t		 size;		/* the shadow's */
static off_t		 maxsize = 262144;
static size_t		 maxlen = 65536;
static uint64_t		 rng;
static int		 verbose;
static int		 disabled[OP_NOPS];
static struct logent	 oplog[LOG_KEPT];
static long		 opno;
static long		 counts[OP_NOPS];

static void
usage(void)
{
	fprintf(stderr, "usage: fsshadow [-FMv] [-n ops] [-s seed] "
	    "[-S maxsize] [-L maxlen] file\n");
	exit(2);
}

/* splitmix64: small, and the same everywhere. */
static uint64_t
rnd(void)
{
	uint64_t	 z;

	z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rnd_below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

static void
record(enum op op, off_t off, size_t len)
{
	struct logent	*e = &oplog[opno % LOG_KEPT];

	e->n = opno;
	e->op = op;
	e->off = off;
	e->len = len;
	e->size = size;
	counts[op]++;
	if (verbose)
		printf("%ld %s %lld %zu -> size %lld\n", opno, op_names[op],
		    (long long)off, len, (long long)size);
}

static void
dump_log(void)
{
	struct logent	*e;
	long		 i;

	fprintf(stderr, "the last operations:\n");
	for (i = opno >= LOG_KEPT ? opno - LOG_KEPT + 1 : 0; i <= opno; i++) {
		e = &oplog[i % LOG_KEPT];
		if (e->n != i)
			continue;
		fprintf(stderr, "  %ld %s off %lld len %zu, size after %lld\n",
		    e->n, op_names[e->op], (long long)e->off, e->len,
		    (long long)e->size);
	}
}

__attribute__((__noreturn__, __format__(__printf__, 1, 2))) static void
fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "fsshadow: %s: operation %ld: ", path, opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	dump_log();
	exit(1);
}

/* got must be the shadow's len bytes at off. */
static void
compare(const unsigned char *got, off_t off, size_t len, const char *how)
{
	size_t	 i;

	if (memcmp(got, shadow + off, len) == 0)
		return;
	for (i = 0; got[i] == shadow[off + i]; i++)
		;
	fail("%s at %lld+%zu: byte %lld is %#x, the shadow has %#x", how,
	    (long long)off, len, (long long)(off + i), got[i],
	    shadow[off + i]);
}

static void
check_size(void)
{
	struct stat	 st;

	if (fstat(fd, &st) == -1)
		fail("fstat: %s", strerror(errno));
	if (st.st_size != size)
		fail("size %lld, the shadow's %lld", (long long)st.st_size,
		    (long long)size);
}

static void
open_file(int flags)
{
	if ((fd = open(path, O_RDWR | O_CLOEXEC | flags, 0644)) == -1)
		err(1, "%s", path);
}

/* The shadow grows with zeros, as the file does. */
static void
shadow_resize(off_t nsize)
{
	if (nsize > size)
		memset(shadow + size, 0, nsize - size);
	size = nsize;
}

static void
do_read(void)
{
	off_t	 off = rnd_below(maxsize);
	size_t	 len = rnd_below(maxlen) + 1, want, got = 0;
	ssize_t	 n;

	want = off >= size ? 0 : (size_t)(size - off) < len ?
	    (size_t)(size - off) : len;
	while (got < len) {
		if ((n = pread(fd, buf + got, len - got, off + got)) == -1)
			fail("pread %lld+%zu: %s", (long long)off, len,
			    strerror(errno));
		if (n == 0)
			break;
		got += n;
	}
	record(OP_READ, off, len);
	if (got != want)
		fail("pread %lld+%zu: %zu bytes, the shadow has %zu",
		    (long long)off, len, got, want);
	compare(buf, off, got, "read");
}

static void
do_write(void)
{
	off_t	 off = rnd_below(maxsize - 1);
	size_t	 len = rnd_below(maxlen) + 1, i, done = 0;
	ssize_t	 n;

	if ((off_t)len > maxsize - off)
		len = maxsize - off;
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rnd();
	while (done < len) {
		if ((n = pwrite(fd, buf + done, len - done, off + done)) <= 0)
			fail("pwrite %lld+%zu: %s", (long long)off, len,
			    n == 0 ? "wrote nothing" : strerror(errno));
		done += n;
	}
	if (off + (off_t)len > size)
		shadow_resize(off + len);
	memcpy(shadow + off, buf, len);
	record(OP_WRITE, off, len);
}

/* A piece of the file's present length, for the mapping ops. */
static int
map_range(off_t *off, size_t *len)
{
	if (size == 0)
		return 0;
	*off = rnd_below(size);
	*len = rnd_below(size - *off < (off_t)maxlen ? size - *off :
	    (off_t)maxlen) + 1;
	return 1;
}

static void
do_map(int write)
{
	unsigned char	*p;
	off_t		 off;
	size_t		 len, i;
	enum op		 op = write ? OP_MWRITE : OP_MREAD;

	if (!map_range(&off, &len))
		return;
	p = mmap(NULL, size, write ? PROT_READ | PROT_WRITE : PROT_READ,
	    MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		if (errno == ENODEV || errno == EOPNOTSUPP) {
			printf("fsshadow: mmap: %s: left out\n",
			    strerror(errno));
			disabled[OP_MREAD] = disabled[OP_MWRITE] = 1;
			return;
		}
		fail("mmap: %s", strerror(errno));
	}
	if (write) {
		for (i = 0; i < len; i++)
			shadow[off + i] = (unsigned char)rnd();
		memcpy(p + off, shadow + off, len);
		if (msync(p, size, MS_SYNC) == -1)
			fail("msync: %s", strerror(errno));
	}
	record(op, off, len);
	compare(p + off, off, len, write ? "mapping after writing" :
	    "mapping");
	if (munmap(p, size) == -1)
		fail("munmap: %s", strerror(errno));
}

static void
do_truncate(void)
{
	off_t	 nsize = rnd_below(maxsize + 1);

	if (ftruncate(fd, nsize) == -1)
		fail("ftruncate %lld: %s", (long long)nsize, strerror(errno));
	shadow_resize(nsize);
	record(OP_TRUNCATE, nsize, 0);
}

static void
do_fallocate(enum op op)
{
	off_t	 off = rnd_below(maxsize - 1), end;
	size_t	 len = rnd_below(maxlen) + 1;
	int	 mode = 0, keep = rnd() & 1;

	if ((off_t)len > maxsize - off)
		len = maxsize - off;
	switch (op) {
	case OP_PUNCH:
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		keep = 1;
		break;
	case OP_ZERO:
		mode = FALLOC_FL_ZERO_RANGE;
		break;
	default:
		break;
	}
	if (keep)
		mode |= FALLOC_FL_KEEP_SIZE;
	if (fallocate(fd, mode, off, len) == -1) {
		if (errno == EOPNOTSUPP) {
			printf("fsshadow: %s: %s: left out\n", op_names[op],
			    strerror(errno));
			disabled[op] = 1;
			return;
		}
		fail("fallocate %#x %lld+%zu: %s", mode, (long long)off, len,
		    strerror(errno));
	}
	end = off + len;
	if (op != OP_FALLOC) {
		/* Only what lies inside the file reads as zeros. */
		if (off < size)
			memset(shadow + off, 0, (end < size ? end : size) -
			    off);
	}
	if (!keep && end > size)
		shadow_resize(end);
	record(op, off, len);
}

static void
do_reopen(void)
{
	if (close(fd) == -1)
		fail("close: %s", strerror(errno));
	open_file(0);
	record(OP_REOPEN, 0, 0);
}

static enum op
pick(void)
{
	int	 r, i;

	for (;;) {
		r = rnd_below(100);
		for (i = 0; i < OP_NOPS; i++) {
			if (r < op_weights[i])
				break;
			r -= op_weights[i];
		}
		if (i < OP_NOPS && !disabled[i])
			return i;
	}
}

static void
run_one(void)
{
	enum op	 op = pick();

	switch (op) {
	case OP_READ:
		do_read();
		break;
	case OP_WRITE:
		do_write();
		break;
	case OP_MREAD:
	case OP_MWRITE:
		do_map(op == OP_MWRITE);
		break;
	case OP_TRUNCATE:
		do_truncate();
		break;
	case OP_FALLOC:
	case OP_PUNCH:
	case OP_ZERO:
		do_fallocate(op);
		break;
	case OP_FSYNC:
		if (fsync(fd) == -1)
			fail("fsync: %s", strerror(errno));
		record(op, 0, 0);
		break;
	case OP_REOPEN:
		do_reopen();
		break;
	case OP_NOPS:
		break;
	}
	check_size();
}

/* The whole file, at the end. */
static void
final_check(void)
{
	off_t	 off;
	size_t	 len;
	ssize_t	 n;

	for (off = 0; off < size; off += n) {
		len = size - off < (off_t)maxlen ? (size_t)(size - off) : maxlen;
		if ((n = pread(fd, buf, len, off)) <= 0)
			fail("final pread at %lld: %s", (long long)off,
			    n == 0 ? "end of file" : strerror(errno));
		compare(buf, off, n, "final read");
	}
}

static long long
number(const char *s, long long min, long long max, const char *what)
{
	char		*ep;
	long long	 v;

	errno = 0;
	v = strtoll(s, &ep, 0);
	if (*s == '\0' || *ep != '\0' || errno != 0 || v < min || v > max)
		errx(2, "%s: %s: invalid", what, s);
	return v;
}

int
main(int argc, char *argv[])
{
	struct timeval	 t0, t1;
	uint64_t	 seed;
	long		 nops = 10000;
	int		 ch, i, seeded = 0;

	while ((ch = getopt(argc, argv, "FL:Mn:s:S:v")) != -1) {
		switch (ch) {
		case 'F':
			disabled[OP_FALLOC] = disabled[OP_PUNCH] =
			    disabled[OP_ZERO] = 1;
			break;
		case 'L':
			maxlen = number(optarg, 1, 1 << 24, "-L");
			break;
		case 'M':
			disabled[OP_MREAD] = disabled[OP_MWRITE] = 1;
			break;
		case 'n':
			nops = number(optarg, 0, 1L << 40, "-n");
			break;
		case 's':
			seed = number(optarg, 0, LLONG_MAX, "-s");
			seeded = 1;
			break;
		case 'S':
			maxsize = number(optarg, 2, 1LL << 30, "-S");
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	path = argv[optind];
	gettimeofday(&t0, NULL);
	if (!seeded)
		seed = (uint64_t)t0.tv_sec * 1000000 + t0.tv_usec;
	rng = seed;
	if ((shadow = calloc(1, maxsize)) == NULL ||
	    (buf = malloc(maxlen > (size_t)maxsize ? maxlen : (size_t)maxsize)) ==
	    NULL)
		err(1, NULL);
	printf("fsshadow: %s: seed %" PRIu64 ", %ld operations\n", path,
	    seed, nops);
	open_file(O_CREAT | O_TRUNC);
	for (opno = 0; opno < nops; opno++)
		run_one();
	final_check();
	if (close(fd) == -1)
		fail("close: %s", strerror(errno));
	gettimeofday(&t1, NULL);
	printf("fsshadow: %ld operations in %.1f s:", nops,
	    (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6);
	for (i = 0; i < OP_NOPS; i++)
		printf(" %s %ld", op_names[i], counts[i]);
	printf("\n");
	return 0;
}
