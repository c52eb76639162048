/*
 * READ replies through splice(2), on /dev/fuse.  A reply written from
 * our buffer costs two copies of its data: the file's pages into the
 * buffer (pread), and the buffer into the request (writev).  Spliced,
 * the pages go into a pipe by reference and the kernel copies them
 * once, into the request, as it takes the reply from the pipe.
 *
 * The reply's header must come first in the pipe, and its length is
 * only known once the file has given what it has (a read may end at
 * the end of the file, and a short reply means exactly that to the
 * kernel).  So the data goes into one pipe, the header into a second,
 * the data is moved behind it (buffers change hands, nothing is
 * copied), and the second pipe goes to /dev/fuse.
 *
 * Each thread has its two pipes, made at its first large read.  Both
 * are asked to hold the largest read; what the system grants decides
 * the largest read spliced (a pipe holds one page, or less, per
 * buffer, and the header takes one).  Smaller reads, reads over that,
 * and files that cannot be spliced go by copy, and so does everything
 * under FUSE over io_uring, whose replies are written in place.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/*
 * Below this a read goes by copy: the two extra system calls of a
 * splice cost more than copying a few pages twice.
 */
#define SPLICE_MIN	(32 * 1024)

void
splice_init(struct splicer *sp)
{
	sp->data[0] = sp->data[1] = sp->out[0] = sp->out[1] = -1;
	sp->max = 0;
	sp->state = SPLICE_UNTRIED;
}

static void
splice_close(struct splicer *sp)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (sp->data[i] != -1)
			close(sp->data[i]);
		if (sp->out[i] != -1)
			close(sp->out[i]);
		sp->data[i] = sp->out[i] = -1;
	}
}

/*
 * A pipe's size after asking for want bytes, or less where the system
 * refuses (fs.pipe-max-size, 1 MiB unless raised, and a user's share
 * of pipe pages); -1 on error.
 */
static long
splice_pipe_size(int fd, long want)
{
	long	 n;

	for (; want >= SPLICE_MIN; want /= 2)
		if ((n = fcntl(fd, F_SETPIPE_SZ, want)) != -1)
			return n;
	return fcntl(fd, F_GETPIPE_SZ);
}

static int
splice_setup(struct splicer *sp, int fuse_fd)
{
	struct stat	 st;
	long		 page, want, d, o;

	sp->state = SPLICE_OFF;
	/* A test's socket in its place takes no spliced replies. */
	if (fstat(fuse_fd, &st) == -1 || !S_ISCHR(st.st_mode))
		return -1;
	if ((page = sysconf(_SC_PAGESIZE)) <= 0)
		page = 4096;
	want = FSWORKER_MAX_WRITE + 2 * page;
	if (pipe2(sp->data, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(sp->out, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("%s: pipe2; reads are copied", __func__);
		splice_close(sp);
		return -1;
	}
	if ((d = splice_pipe_size(sp->data[1], want)) == -1 ||
	    (o = splice_pipe_size(sp->out[1], want)) == -1) {
		log_warn("%s: pipe size; reads are copied", __func__);
		splice_close(sp);
		return -1;
	}
	/* An unaligned read spans one buffer more; the header takes one. */
	if (o < d)
		d = o;
	if (d < SPLICE_MIN + 2 * page) {
		log_warnx("%s: pipes of %ld bytes; reads are copied",
		    __func__, d);
		splice_close(sp);
		return -1;
	}
	sp->max = (size_t)(d - 2 * page);
	sp->state = SPLICE_ON;
	log_debug("%s: reads of %d to %zu bytes are spliced", __func__,
	    SPLICE_MIN, sp->max);
	return 0;
}

/*
 * Empties a pipe whose content will not be sent, through the thread's
 * reply buffer, which a spliced reply otherwise leaves untouched.
 */
static void
splice_drain(int fd, struct req *req)
{
	while (read(fd, req->out, req->outsize) > 0)
		req->outlen = req->outsize;
}

/*
 * Whether a read of size bytes goes by splice_read(): on /dev/fuse,
 * large enough, and with pipes to do it.
 */
int
splice_wanted(struct req *req, size_t size)
{
	struct splicer	*sp = req->splicer;

	if (sp == NULL || size < SPLICE_MIN)
		return 0;
	if (sp->state == SPLICE_UNTRIED && splice_setup(sp, req->fd) == -1)
		return 0;
	return sp->state == SPLICE_ON && size <= sp->max;
}

/*
 * Replies to a READ with up to size bytes of fd at off.  Returns -1
 * with nothing sent if the file cannot be spliced (the caller copies
 * instead), else 0 or the errno of the reply as reply_iov() does, and
 * in *n the bytes sent.
 */
int
splice_read(struct req *req, int fd, size_t size, off_t off, size_t *n)
{
	struct splicer		*sp = req->splicer;
	struct fuse_out_header	 oh;
	size_t			 got = 0;
	ssize_t			 r;
	int			 saved;

	while (got < size) {
		r = splice(fd, &off, sp->data[1], NULL, size - got,
		    SPLICE_F_NONBLOCK);
		if (r == 0)
			break;		/* the end of the file */
		if (r == -1) {
			if (errno == EINTR)
				continue;
			/* Not for this file, or an error pread tells. */
			if (got > 0)
				splice_drain(sp->data[0], req);
			return -1;
		}
		got += (size_t)r;
	}
	oh.len = sizeof(oh) + got;
	oh.error = 0;
	oh.unique = req->hdr->unique;
	*n = got;
	if (write(sp->out[1], &oh, sizeof(oh)) != sizeof(oh))
		goto broken;
	if (got > 0 && splice(sp->data[0], NULL, sp->out[1], NULL, got,
	    SPLICE_F_NONBLOCK) != (ssize_t)got)
		goto broken;
	atomic_fetch_add(&wstats.requests, 1);
	r = splice(sp->out[0], NULL, req->fd, NULL, oh.len, 0);
	saved = errno;
	if (r == (ssize_t)oh.len)
		log_debug("%s: unique %llu: %zu bytes spliced", __func__,
		    (unsigned long long)oh.unique, got);
	else {
		/* What the kernel did not take must not lead the next one. */
		splice_drain(sp->out[0], req);
	}
	errno = saved;
	return reply_sent(req, r, oh.len);

broken:
	/* Pipes that do not behave as pipes: copy from now on. */
	log_warn("%s: pipe; reads are copied from now on", __func__);
	splice_drain(sp->data[0], req);
	splice_drain(sp->out[0], req);
	splice_close(sp);
	sp->state = SPLICE_OFF;
	return -1;
}
