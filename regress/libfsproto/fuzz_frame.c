/*
 * libFuzzer target for the libfsproto frame decoder and decoding
 * helpers.  Build and run with `bmake fuzz` from the top of the tree.
 *
 * The input is what a hostile peer writes, cut into the pieces it
 * writes them in:
 *
 *	byte 0		channel: bit 0 FSPROTO_F_FDPASS, bits 1-2 pick the
 *			maximum payload (default, 16, 100, 4096)
 *	then chunks	a control byte c, then (c & 0x3f) bytes, or all
 *			the rest when that is 0; bits 0x80 and 0x40 each
 *			attach one descriptor to the chunk's sendmsg
 *
 * After each chunk the reader does what a daemon does: fsproto_read
 * until EAGAIN, draining fsproto_get after each read.  Every frame goes
 * through each decoding helper, whose answers are checked against a
 * model of the contract written here, and is sent back through a second
 * channel to check that compose and write reproduce it.  At the end the
 * writer hangs up and the reader sees end of stream.  No descriptor may
 * survive a run: their count is compared before and after.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fuzzutil.h"

#define REPLY_ERRNO_MAX	4095

/* What became of the reader's channel. */
enum { ALIVE, END, TRUNCATED, BAD };

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check(int, const char *);
static int	 model_str(const unsigned char *, size_t, size_t);
static void	 fuzz_helpers(const struct fsproto_msg *, size_t);
static void	 fuzz_dec(const struct fsproto_msg *);
static void	 fuzz_echo(struct fsproto_msg *);
static void	 echo_get(struct fsproto_msg *, int);
static int	 drain(struct fsproto_chan *);
static void	 send_chunk(int, const uint8_t *, size_t, int);

static const size_t	 maxpayloads[4] = { 0, 16, 100, 4096 };
static int		 devnull = -1;
static struct stat	 devnull_st;
static struct fsproto_chan echo_w, echo_r;

/*
 * A frame carries one descriptor, which travels alone: no run may
 * deliver more than the number of chunks sent with exactly one.
 */
static int		 fds_sent_alone, fds_delivered;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_frame: contract broken: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(devnull, &devnull_st) == -1)
		abort();
	return (0);
}

/*
 * The contract for a string payload, from scratch: the first NUL is the
 * last byte and the string is no longer than maxlen (0: any length).
 * Returns the string's length, or -1.
 */
static int
model_str(const unsigned char *p, size_t len, size_t maxlen)
{
	const unsigned char	*nul;

	if (len == 0 || (nul = memchr(p, '\0', len)) == NULL ||
	    (size_t)(nul - p) != len - 1)
		return (-1);
	if (maxlen != 0 && len - 1 > maxlen)
		return (-1);
	return ((int)(len - 1));
}

/*
 * A sequence of decoder calls chosen by the header's type and peer id,
 * against a model that tracks what is left and whether it failed.
 */
static void
fuzz_dec(const struct fsproto_msg *msg)
{
	struct fsproto_dec	 d;
	const unsigned char	*p = msg->data, *nul;
	const char		*s;
	unsigned char		 tmp[16];
	uint32_t		 ops = msg->hdr.type, u32;
	uint64_t		 u64;
	size_t			 left = msg->len, n, maxlen;
	int			 i, failed = 0, r, want;

	fsproto_dec_init(&d, msg);
	for (i = 0; i < 16; i++, ops >>= 2) {
		switch (ops & 3) {
		case 0:
			r = fsproto_dec_u32(&d, &u32);
			want = !failed && left >= 4;
			if (want) {
				check(memcmp(&u32, p, 4) == 0, "dec_u32 value");
				p += 4;
				left -= 4;
			}
			break;
		case 1:
			r = fsproto_dec_u64(&d, &u64);
			want = !failed && left >= 8;
			if (want) {
				check(memcmp(&u64, p, 8) == 0, "dec_u64 value");
				p += 8;
				left -= 8;
			}
			break;
		case 2:
			maxlen = (msg->hdr.peerid >> i) & 0x7;
			r = fsproto_dec_str(&d, &s, maxlen);
			want = !failed && left > 0 &&
			    (nul = memchr(p, '\0', left)) != NULL &&
			    (maxlen == 0 || (size_t)(nul - p) <= maxlen);
			if (want) {
				check(s == (const char *)p, "dec_str pointer");
				n = strlen(s) + 1;
				p += n;
				left -= n;
			}
			break;
		default:
			n = (msg->hdr.peerid >> (2 * i)) & 0xf;
			r = fsproto_dec_bytes(&d, tmp, n);
			want = !failed && left >= n;
			if (want && n > 0) {
				check(memcmp(tmp, p, n) == 0,
				    "dec_bytes value");
				p += n;
				left -= n;
			}
			break;
		}
		check(want ? r == 0 : (r == -1 && errno == EBADMSG),
		    "decoder step");
		if (!want)
			failed = 1;
	}
	r = fsproto_dec_end(&d);
	want = !failed && left == 0;
	check(want ? r == 0 : (r == -1 && errno == EBADMSG), "dec_end");
}

static void
fuzz_helpers(const struct fsproto_msg *msg, size_t maxpayload)
{
	struct fsproto_msg	 m, back;
	struct stat		 st;
	const char		*s, *text, *text2;
	unsigned char		 buf[16];
	uint32_t		 min, max, min2, max2, v, w[3], e, lo, hi;
	size_t			 sizes[] = { 0, 4, 8, 12, msg->len }, i;
	int			 r, want, err, err2;

	/* What fsproto_get promises about every frame it returns. */
	check((msg->hdr.len & FSPROTO_LEN_FD) == 0, "fd mark left in len");
	check(msg->hdr.len == FSPROTO_HDR_SIZE + msg->len, "hdr.len");
	check(msg->len <= maxpayload, "payload over the maximum");
	check((msg->len == 0) == (msg->data == NULL), "data and len");
	if (msg->fd != -1) {
		check(fcntl(msg->fd, F_GETFD) == FD_CLOEXEC,
		    "received descriptor not close-on-exec");
		check(fstat(msg->fd, &st) == 0 &&
		    st.st_dev == devnull_st.st_dev &&
		    st.st_ino == devnull_st.st_ino,
		    "received descriptor is not one that was sent");
		check(++fds_delivered <= fds_sent_alone,
		    "more descriptors delivered than sent one by one");
	}

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] > sizeof(buf))
			continue;
		r = fsproto_get_exact(msg, buf, sizes[i]);
		want = sizes[i] == msg->len;
		check(want ? r == 0 : (r == -1 && errno == EBADMSG),
		    "get_exact");
		if (want)
			check(sizes[i] == 0 ||
			    memcmp(buf, msg->data, sizes[i]) == 0,
			    "get_exact value");
	}

	for (i = 0; i < 3; i++) {
		size_t	 maxlen = i == 0 ? 0 : (i == 1 ? 1 : 8);

		r = fsproto_get_str(msg, &s, maxlen);
		want = model_str(msg->data, msg->len, maxlen);
		check(want >= 0 ? r == 0 : (r == -1 && errno == EBADMSG),
		    "get_str");
		if (want >= 0)
			check(s == (const char *)msg->data &&
			    strlen(s) == (size_t)want, "get_str value");
	}

	fuzz_dec(msg);

	r = fsproto_hello_recv(msg, &min, &max);
	if (msg->len == sizeof(w))
		memcpy(w, msg->data, sizeof(w));
	want = msg->hdr.type == FSPROTO_HELLO && msg->len == sizeof(w) &&
	    w[0] == FSPROTO_MAGIC && w[1] <= w[2];
	if (msg->fd != -1 && r == -1)
		want = 0;	/* refusing a hello with a descriptor is fine */
	check(want ? r == 0 : (r == -1 && errno == EBADMSG), "hello_recv");
	if (want) {
		check(min == w[1] && max == w[2], "hello_recv values");
		check(fsproto_hello_send(&echo_w, min, max) == 0,
		    "hello_send");
		echo_get(&back, -1);
		check(fsproto_hello_recv(&back, &min2, &max2) == 0 &&
		    min2 == min && max2 == max, "hello echo");
		fsproto_msg_free(&back);
		r = fsproto_version_pick(3, 7, min, max, &v);
		lo = min > 3 ? min : 3;
		hi = max < 7 ? max : 7;
		check(lo <= hi ? (r == 0 && v == hi) :
		    (r == -1 && errno == EPROTONOSUPPORT), "version_pick");
	}

	r = fsproto_reply_recv(msg, &err, &text);
	want = msg->hdr.type == FSPROTO_REPLY && msg->len > 4;
	if (want) {
		memcpy(&e, msg->data, 4);
		want = e <= REPLY_ERRNO_MAX && model_str(msg->data + 4,
		    msg->len - 4, FSPROTO_REPLY_MAXMSG) >= 0;
	}
	if (msg->fd != -1 && r == -1)
		want = 0;
	check(want ? r == 0 : (r == -1 && errno == EBADMSG), "reply_recv");
	if (want) {
		check(err == (int)e && text == (const char *)msg->data + 4,
		    "reply_recv values");
		check(fsproto_reply(&echo_w, msg->hdr.peerid, err, "%s",
		    text) == 0, "reply");
		echo_get(&back, -1);
		check(back.hdr.peerid == msg->hdr.peerid &&
		    fsproto_reply_recv(&back, &err2, &text2) == 0 &&
		    err2 == err && strcmp(text2, text) == 0, "reply echo");
		fsproto_msg_free(&back);
	}

	/* A copy without its payload's bytes must still be handled. */
	m = *msg;
	m.fd = -1;
	m.len = 0;
	m.data = NULL;
	check(fsproto_get_str(&m, &s, 0) == -1, "get_str on empty");
}

/* The next frame from the echo channel, which must be there. */
static void
echo_get(struct fsproto_msg *back, int sentfd)
{
	int	 g, tries;

	check(fsproto_flush(&echo_w) == 0, "echo flush");
	check(fsproto_pending(&echo_w) == 0, "echo pending");
	/* Before reading, which may take the same number again. */
	if (sentfd != -1)
		check(fcntl(sentfd, F_GETFD) == -1 && errno == EBADF,
		    "sent descriptor left open");
	for (tries = 0; (g = fsproto_get(&echo_r, back)) == 0; tries++) {
		check(tries < 16, "echo frame never came");
		check(fsproto_read(&echo_r) > 0, "echo read");
	}
	check(g == 1, "echo get");
}

/*
 * Send the frame again through a channel of ours, with compose or piece
 * by piece with fsproto_buf: the same frame must come back.
 */
static void
fuzz_echo(struct fsproto_msg *msg)
{
	struct fsproto_msg	 back;
	struct fsproto_buf	 b;
	struct stat		 a, st;
	size_t			 pos = 0;
	uint64_t		 u64;
	uint32_t		 u32;
	int			 fd = -1, sentfd = -1, r;

	if (msg->fd != -1) {
		check(fstat(msg->fd, &a) == 0, "fstat received");
		fd = sentfd = fsproto_msg_takefd(msg);
	}
	if (msg->hdr.peerid & 1) {
		fsproto_buf_init(&b, echo_w.maxpayload);
		while ((msg->hdr.peerid & 2) && msg->len - pos >= 8) {
			memcpy(&u64, msg->data + pos, 8);
			check(fsproto_buf_u64(&b, u64) == 0, "buf_u64");
			pos += 8;
		}
		while (msg->len - pos >= 4) {
			memcpy(&u32, msg->data + pos, 4);
			check(fsproto_buf_u32(&b, u32) == 0, "buf_u32");
			pos += 4;
		}
		if (pos < msg->len)
			check(fsproto_buf_add(&b, msg->data + pos,
			    msg->len - pos) == 0, "buf_add");
		check(b.len == msg->len && b.err == 0, "buf length");
		r = fsproto_buf_send(&echo_w, msg->hdr.type, msg->hdr.peerid,
		    fd, &b);
	} else
		r = fsproto_compose(&echo_w, msg->hdr.type, msg->hdr.peerid,
		    fd, msg->data, msg->len);
	check(r == 0, "echo compose");
	echo_get(&back, sentfd);
	check(back.hdr.type == msg->hdr.type &&
	    back.hdr.peerid == msg->hdr.peerid &&
	    back.hdr.len == msg->hdr.len &&
	    back.hdr.pid == (uint32_t)getpid() && back.len == msg->len &&
	    (back.len == 0 || memcmp(back.data, msg->data, back.len) == 0),
	    "echo frame differs");
	check((back.fd != -1) == (sentfd != -1), "echo descriptor");
	if (back.fd != -1)
		check(fstat(back.fd, &st) == 0 && a.st_dev == st.st_dev &&
		    a.st_ino == st.st_ino, "echo descriptor file");
	fsproto_msg_free(&back);
	check(fsproto_get(&echo_r, &back) == 0, "echo extra frame");
}

/*
 * Read until the socket is empty, draining frames after each read.
 * Returns ALIVE, or why the channel is dead.
 */
static int
drain(struct fsproto_chan *ch)
{
	struct fsproto_msg	 msg;
	ssize_t			 n;
	int			 g;

	for (;;) {
		n = fsproto_read(ch);
		if (n == -1 && errno == EAGAIN)
			return (ALIVE);
		if (n == 0)
			return (END);
		if (n == -1) {
			check(errno == EBADMSG || errno == EPROTO,
			    "read errno");
			return (errno == EPROTO ? TRUNCATED : BAD);
		}
		while ((g = fsproto_get(ch, &msg)) == 1) {
			fuzz_helpers(&msg, ch->maxpayload);
			fuzz_echo(&msg);
			fsproto_msg_free(&msg);
		}
		if (g == -1) {
			check(errno == EBADMSG, "get errno");
			return (BAD);
		}
	}
}

static void
send_chunk(int sock, const uint8_t *p, size_t len, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cmsgbuf;
	int		 fds[2], i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	for (i = 0; i < nfds; i++)
		if ((fds[i] = dup(devnull)) == -1)
			abort();
	if (nfds > 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	/* A full socket (the reader died) just drops the rest. */
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) > 0 && nfds == 1)
		fds_sent_alone++;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsproto_chan	 ch;
	size_t			 off, len;
	ssize_t			 n;
	int			 sv[2], ev[2], before, state = ALIVE, nfds;
	uint8_t			 c;

	if (size < 1)
		return (0);
	fds_sent_alone = fds_delivered = 0;
	before = fuzz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, ev) == -1)
		abort();
	if (fsproto_chan_init(&ch, sv[0], maxpayloads[(data[0] >> 1) & 3],
	    data[0] & 1 ? FSPROTO_F_FDPASS : 0) == -1 ||
	    fsproto_chan_init(&echo_w, ev[0], ch.maxpayload,
	    FSPROTO_F_FDPASS) == -1 ||
	    fsproto_chan_init(&echo_r, ev[1], ch.maxpayload,
	    FSPROTO_F_FDPASS) == -1)
		abort();

	for (off = 1; off < size && state == ALIVE; off += len) {
		c = data[off++];
		len = c & 0x3f;
		if (len == 0 || len > size - off)
			len = size - off;
		nfds = !!(c & 0x80) + !!(c & 0x40);
		send_chunk(sv[1], data + off, len, nfds);
		state = drain(&ch);
		check(state != END, "end of stream before the peer left");
	}
	if (state == ALIVE) {
		shutdown(sv[1], SHUT_WR);
		state = drain(&ch);
		check(state != ALIVE, "no end of stream after shutdown");
		/* The end of stream is the same however often it is read. */
		n = fsproto_read(&ch);
		if (state == END)
			check(n == 0, "clean end of stream changed");
		else if (state == TRUNCATED)
			check(n == -1 && errno == EPROTO,
			    "truncated end of stream changed");
	}

	fsproto_chan_clear(&ch);
	fsproto_chan_clear(&echo_w);
	fsproto_chan_clear(&echo_r);
	close(sv[0]);
	close(sv[1]);
	close(ev[0]);
	close(ev[1]);
	check(fuzz_count_fds() == before, "descriptor leaked");
	return (0);
}
