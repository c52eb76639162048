/*
 * libfsproto framing: channel set-up, the wire layout, round trips of
 * every payload size, reassembly of frames cut anywhere, bad header
 * lengths, end of stream, and the non-blocking write queue.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "util.h"

#define BIGFRAMES	128	/* of FSPROTO_MAXPAYLOAD: 2 MiB, > any sndbuf */

static int	 child_write_all(int, const void *, size_t, int);
static int	 child_send_sizes(int);
static int	 child_read_big(int);
static void	 require_pattern_msg(const struct fsproto_msg *, uint32_t,
		    uint32_t, size_t, unsigned int);
static void	 require_bad_len(size_t, int, uint32_t);
static void	 require_eproto_after(const unsigned char *, size_t);

static void
require_pattern_msg(const struct fsproto_msg *msg, uint32_t type,
    uint32_t peerid, size_t len, unsigned int seed)
{
	REQUIRE_INT(type, msg->hdr.type);
	REQUIRE_INT(peerid, msg->hdr.peerid);
	REQUIRE_INT(FSPROTO_HDR_SIZE + len, msg->hdr.len);
	REQUIRE_INT(len, msg->len);
	REQUIRE_INT(-1, msg->fd);
	if (len == 0)
		ATF_REQUIRE(msg->data == NULL);
	else {
		ATF_REQUIRE(msg->data != NULL);
		ATF_REQUIRE_MSG(check_pattern(msg->data, len, seed) == 0,
		    "payload of %zu bytes corrupted", len);
	}
}

ATF_TC_WITHOUT_HEAD(chan_init_defaults);
ATF_TC_BODY(chan_init_defaults, tc)
{
	struct fsproto_chan	 ch;
	int			 sv[2];

	mkpair(sv, 0);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, 0));
	REQUIRE_INT(sv[0], ch.fd);
	REQUIRE_INT(FSPROTO_MAXPAYLOAD, ch.maxpayload);
	REQUIRE_INT(getpid(), ch.pid);
	REQUIRE_INT(0, fsproto_pending(&ch));
	fsproto_chan_clear(&ch);
	/* Clearing a channel leaves its socket to the caller. */
	ATF_REQUIRE(fd_is_open(sv[0]));

	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 100, FSPROTO_F_FDPASS));
	REQUIRE_INT(100, ch.maxpayload);
	fsproto_chan_clear(&ch);

	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], FSPROTO_MAXPAYLOAD_MAX,
	    0));
	REQUIRE_INT(FSPROTO_MAXPAYLOAD_MAX, ch.maxpayload);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(chan_init_toolarge);
ATF_TC_BODY(chan_init_toolarge, tc)
{
	struct fsproto_chan	 ch;
	int			 sv[2];

	mkpair(sv, 0);
	REQUIRE_FAIL(EINVAL, fsproto_chan_init(&ch, sv[0],
	    FSPROTO_MAXPAYLOAD_MAX + 1, 0));
	REQUIRE_FAIL(EINVAL, fsproto_chan_init(&ch, sv[0], (size_t)-1, 0));
	close(sv[0]);
	close(sv[1]);
}

/* O_NONBLOCK is the caller's choice; init must leave it as it was. */
ATF_TC_WITHOUT_HEAD(chan_init_keeps_blocking);
ATF_TC_BODY(chan_init_keeps_blocking, tc)
{
	struct fsproto_chan	 ch;
	int			 sv[2], before;

	mkpair(sv, 0);
	before = fcntl(sv[0], F_GETFL);
	ATF_REQUIRE(!(before & O_NONBLOCK));
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, 0));
	REQUIRE_INT(before, fcntl(sv[0], F_GETFL));
	fsproto_chan_clear(&ch);

	set_nonblock(sv[0]);
	before = fcntl(sv[0], F_GETFL);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(before, fcntl(sv[0], F_GETFL));
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
}

/* The header layout is fixed: peers built apart must agree on it. */
ATF_TC_WITHOUT_HEAD(wire_format);
ATF_TC_BODY(wire_format, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_hdr	 hdr;
	unsigned char		 buf[64];
	int			 sv[2];

	mkpair(sv, 0);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_compose(&ch, 0x1234, 0xdeadbeef, -1, "abc", 3));
	REQUIRE_INT(1, fsproto_pending(&ch));
	REQUIRE_INT(0, fsproto_flush(&ch));
	REQUIRE_INT(0, fsproto_pending(&ch));
	REQUIRE_INT(FSPROTO_HDR_SIZE + 3, read(sv[1], buf, sizeof(buf)));
	memcpy(&hdr, buf, sizeof(hdr));
	REQUIRE_INT(0x1234, hdr.type);
	REQUIRE_INT(FSPROTO_HDR_SIZE + 3, hdr.len);
	REQUIRE_INT(0xdeadbeef, hdr.peerid);
	REQUIRE_INT(getpid(), hdr.pid);
	ATF_REQUIRE(memcmp(buf + FSPROTO_HDR_SIZE, "abc", 3) == 0);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
}

static int
child_send_sizes(int sock)
{
	struct fsproto_chan	 ch;
	unsigned char		*p;
	size_t			 len;

	if ((p = malloc(FSPROTO_MAXPAYLOAD)) == NULL)
		return (1);
	if (fsproto_chan_init(&ch, sock, 0, 0) == -1)
		return (1);
	for (len = 0; len <= FSPROTO_MAXPAYLOAD; len++) {
		fill_pattern(p, len, (unsigned int)len);
		if (fsproto_compose(&ch, FSPROTO_TYPE_FIRST + len % 1000,
		    ~(uint32_t)len, -1, len ? p : NULL, len) == -1)
			return (1);
		if (len % 32 == 0 && fsproto_flush(&ch) == -1)
			return (1);
	}
	if (fsproto_flush(&ch) == -1)
		return (1);
	fsproto_chan_clear(&ch);
	free(p);
	return (0);
}

/*
 * Every payload size from empty to the default maximum, from another
 * process: type, peer id, pid, length and every byte come out as sent.
 */
ATF_TC_WITHOUT_HEAD(roundtrip_all_sizes);
ATF_TC_BODY(roundtrip_all_sizes, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	size_t			 len;
	pid_t			 pid;
	int			 sv[2], before;

	before = count_fds();
	mkpair(sv, 0);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_send_sizes(sv[1]));
	}
	close(sv[1]);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, 0));
	for (len = 0; len <= FSPROTO_MAXPAYLOAD; len++) {
		read_until_frame(&ch, &msg);
		REQUIRE_INT(pid, msg.hdr.pid);
		require_pattern_msg(&msg, FSPROTO_TYPE_FIRST + len % 1000,
		    ~(uint32_t)len, len, (unsigned int)len);
		fsproto_msg_free(&msg);
	}
	/* Nothing more, then a clean end of stream. */
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	REQUIRE_INT(0, fsproto_read(&ch));
	require_exit0(pid);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	REQUIRE_INT(before, count_fds());
}

/* A channel raised to the largest maximum carries a frame that size. */
ATF_TC_WITHOUT_HEAD(roundtrip_maxpayload_max);
ATF_TC_BODY(roundtrip_maxpayload_max, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	unsigned char		*p;
	int			 sv[2];

	ATF_REQUIRE((p = malloc(FSPROTO_MAXPAYLOAD_MAX)) != NULL);
	fill_pattern(p, FSPROTO_MAXPAYLOAD_MAX, 99);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], FSPROTO_MAXPAYLOAD_MAX,
	    0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], FSPROTO_MAXPAYLOAD_MAX,
	    0));
	REQUIRE_FAIL(EMSGSIZE, fsproto_compose(&w, 7, 8, -1, p,
	    FSPROTO_MAXPAYLOAD_MAX + 1));
	REQUIRE_INT(0, fsproto_compose(&w, 7, 8, -1, p,
	    FSPROTO_MAXPAYLOAD_MAX));
	pump_frame(&w, &r, &msg);
	require_pattern_msg(&msg, 7, 8, FSPROTO_MAXPAYLOAD_MAX, 99);
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_pending(&w));
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
	free(p);
}

/* composev gathers its pieces, empty ones included, into one payload. */
ATF_TC_WITHOUT_HEAD(composev_gather);
ATF_TC_BODY(composev_gather, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	struct iovec		 iov[4];
	unsigned char		 p[3000];
	int			 sv[2];

	fill_pattern(p, sizeof(p), 5);
	iov[0].iov_base = p;
	iov[0].iov_len = 1;
	iov[1].iov_base = p + 1;
	iov[1].iov_len = 0;
	iov[2].iov_base = p + 1;
	iov[2].iov_len = 2000;
	iov[3].iov_base = p + 2001;
	iov[3].iov_len = 999;
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_composev(&w, 40, 41, -1, iov, 4));
	REQUIRE_INT(0, fsproto_composev(&w, 42, 43, -1, NULL, 0));
	REQUIRE_INT(2, fsproto_pending(&w));
	pump_frame(&w, &r, &msg);
	require_pattern_msg(&msg, 40, 41, sizeof(p), 5);
	REQUIRE_INT(getpid(), msg.hdr.pid);
	fsproto_msg_free(&msg);
	pump_frame(&w, &r, &msg);
	require_pattern_msg(&msg, 42, 43, 0, 0);
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

static int
child_write_all(int fd, const void *p, size_t len, int dribble)
{
	const unsigned char	*c = p;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, c, dribble ? 1 : len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		c += n;
		len -= n;
		if (dribble)
			usleep(20);
	}
	return (0);
}

static const size_t	 dribble_sizes[] = { 0, 1, 15, 16, 17, 255, 1000,
			    4097, 0 };
#define NDRIBBLE	(sizeof(dribble_sizes) / sizeof(dribble_sizes[0]))

/*
 * A peer that writes one byte at a time: the reader, non-blocking and
 * woken by poll(), sees headers and payloads cut at every offset and
 * must put the frames back together.
 */
ATF_TC_WITHOUT_HEAD(byte_at_a_time);
ATF_TC_BODY(byte_at_a_time, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	struct pollfd		 pfd;
	unsigned char		*frame;
	size_t			 i, got = 0, flen;
	ssize_t			 n;
	pid_t			 pid;
	int			 sv[2], reads = 0, r;

	mkpair(sv, 0);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(sv[0]);
		if ((frame = malloc(FSPROTO_HDR_SIZE + 4097)) == NULL)
			_exit(1);
		for (i = 0; i < NDRIBBLE; i++) {
			forge(frame, 100 + i, FSPROTO_HDR_SIZE +
			    dribble_sizes[i], 200 + i, getpid(), NULL, 0);
			fill_pattern(frame + FSPROTO_HDR_SIZE,
			    dribble_sizes[i], (unsigned int)i);
			flen = FSPROTO_HDR_SIZE + dribble_sizes[i];
			if (child_write_all(sv[1], frame, flen, 1) == -1)
				_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	set_nonblock(sv[0]);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, 0));
	for (;;) {
		pfd.fd = sv[0];
		pfd.events = POLLIN;
		ATF_REQUIRE(poll(&pfd, 1, 10000) == 1);
		n = fsproto_read(&ch);
		if (n == -1 && errno == EAGAIN)
			continue;
		ATF_REQUIRE_MSG(n >= 0, "fsproto_read: %s", strerror(errno));
		if (n == 0)
			break;
		reads++;
		while ((r = fsproto_get(&ch, &msg)) == 1) {
			ATF_REQUIRE(got < NDRIBBLE);
			REQUIRE_INT(pid, msg.hdr.pid);
			require_pattern_msg(&msg, 100 + got, 200 + got,
			    dribble_sizes[got], (unsigned int)got);
			fsproto_msg_free(&msg);
			got++;
		}
		ATF_REQUIRE_MSG(r == 0, "fsproto_get: %s", strerror(errno));
	}
	REQUIRE_INT(NDRIBBLE, got);
	/* The frames really came in pieces, not in one read each. */
	ATF_REQUIRE_MSG(reads > (int)(NDRIBBLE * 4), "only %d reads", reads);
	require_exit0(pid);
	fsproto_chan_clear(&ch);
	close(sv[0]);
}

/* Frames that arrive together are all returned by one read. */
ATF_TC_WITHOUT_HEAD(many_frames_one_read);
ATF_TC_BODY(many_frames_one_read, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	unsigned char		 p[64];
	size_t			 total = 0;
	int			 sv[2], i;

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	for (i = 0; i < 200; i++) {
		fill_pattern(p, i % 50, i);
		REQUIRE_INT(0, fsproto_compose(&w, 1000 + i, i, -1, p,
		    i % 50));
		total += FSPROTO_HDR_SIZE + i % 50;
	}
	REQUIRE_INT(200, fsproto_pending(&w));
	REQUIRE_INT(0, fsproto_flush(&w));
	REQUIRE_INT(0, fsproto_pending(&w));
	REQUIRE_INT(total, fsproto_read(&r));
	for (i = 0; i < 200; i++) {
		require_get(&r, &msg);
		require_pattern_msg(&msg, 1000 + i, i, i % 50, i);
		fsproto_msg_free(&msg);
	}
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	REQUIRE_FAIL(EAGAIN, fsproto_read(&r));
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* A forged header alone, then what fsproto_get makes of it. */
static void
require_bad_len(size_t maxpayload, int flags, uint32_t len)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	unsigned char		 buf[FSPROTO_HDR_SIZE];
	int			 sv[2], before;

	before = count_fds();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], maxpayload, flags));
	raw_write(sv[0], buf, forge(buf, FSPROTO_TYPE_FIRST, len, 0, 0,
	    NULL, 0));
	REQUIRE_INT(FSPROTO_HDR_SIZE, fsproto_read(&ch));
	errno = 0;
	ATF_REQUIRE_MSG(fsproto_get(&ch, &msg) == -1 && errno == EBADMSG,
	    "header length %#x on a %zu-byte channel not refused "
	    "(errno %d)", len, maxpayload, errno);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
	REQUIRE_INT(before, count_fds());
}

ATF_TC_WITHOUT_HEAD(hdr_len_undersize);
ATF_TC_BODY(hdr_len_undersize, tc)
{
	uint32_t	 len;

	for (len = 0; len < FSPROTO_HDR_SIZE; len++) {
		require_bad_len(0, 0, len);
		require_bad_len(0, FSPROTO_F_FDPASS, len | FSPROTO_LEN_FD);
	}
}

/*
 * Too long is refused from the header alone: the reader must not wait
 * for, or buffer, a payload it would never accept.
 */
ATF_TC_WITHOUT_HEAD(hdr_len_oversize);
ATF_TC_BODY(hdr_len_oversize, tc)
{
	require_bad_len(0, 0, FSPROTO_HDR_SIZE + FSPROTO_MAXPAYLOAD + 1);
	require_bad_len(0, 0, FSPROTO_HDR_SIZE + FSPROTO_MAXPAYLOAD_MAX);
	require_bad_len(0, 0, 0x7fffffffU);
	require_bad_len(0, FSPROTO_F_FDPASS, FSPROTO_LEN_FD |
	    (FSPROTO_HDR_SIZE + FSPROTO_MAXPAYLOAD + 1));
	require_bad_len(0, FSPROTO_F_FDPASS, 0xffffffffU);
	require_bad_len(100, 0, FSPROTO_HDR_SIZE + 101);
	require_bad_len(FSPROTO_MAXPAYLOAD_MAX, 0,
	    FSPROTO_HDR_SIZE + FSPROTO_MAXPAYLOAD_MAX + 1);
}

/* On a channel with a small maximum, exactly the maximum passes. */
ATF_TC_WITHOUT_HEAD(hdr_len_small_channel);
ATF_TC_BODY(hdr_len_small_channel, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	unsigned char		 buf[FSPROTO_HDR_SIZE + 100], p[100];
	int			 sv[2];

	fill_pattern(p, sizeof(p), 3);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], 100, 0));
	raw_write(sv[0], buf, forge(buf, 9, FSPROTO_HDR_SIZE + 100, 10, 11,
	    p, sizeof(p)));
	REQUIRE_INT(sizeof(buf), fsproto_read(&ch));
	require_get(&ch, &msg);
	require_pattern_msg(&msg, 9, 10, 100, 3);
	REQUIRE_INT(11, msg.hdr.pid);
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);

	require_bad_len(100, 0, FSPROTO_HDR_SIZE + 101);
}

/* The peer goes away with part of a frame sent: EPROTO, not EOF. */
static void
require_eproto_after(const unsigned char *p, size_t len)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], 0, 0));
	raw_write(sv[0], p, len);
	close(sv[0]);
	REQUIRE_INT(len, fsproto_read(&ch));
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	REQUIRE_FAIL(EPROTO, fsproto_read(&ch));
	fsproto_chan_clear(&ch);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(peer_closed_midframe);
ATF_TC_BODY(peer_closed_midframe, tc)
{
	unsigned char	 buf[FSPROTO_HDR_SIZE + 100], p[100];
	size_t		 cut;

	fill_pattern(p, sizeof(p), 1);
	forge(buf, 5, FSPROTO_HDR_SIZE + 100, 0, 0, p, sizeof(p));
	for (cut = 1; cut < sizeof(buf); cut += (cut < 20 ? 1 : 37))
		require_eproto_after(buf, cut);
	require_eproto_after(buf, sizeof(buf) - 1);
}

/* End of stream on a frame boundary is a clean 0, after the frames. */
ATF_TC_WITHOUT_HEAD(peer_closed_between_frames);
ATF_TC_BODY(peer_closed_between_frames, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	unsigned char		 buf[2 * FSPROTO_HDR_SIZE + 10], p[10];
	size_t			 len;
	int			 sv[2];

	fill_pattern(p, sizeof(p), 2);
	len = forge(buf, 5, FSPROTO_HDR_SIZE + 10, 6, 7, p, sizeof(p));
	len += forge(buf + len, 8, FSPROTO_HDR_SIZE, 9, 7, NULL, 0);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], 0, 0));
	raw_write(sv[0], buf, len);
	close(sv[0]);
	REQUIRE_INT(len, fsproto_read(&ch));
	require_get(&ch, &msg);
	require_pattern_msg(&msg, 5, 6, 10, 2);
	fsproto_msg_free(&msg);
	require_get(&ch, &msg);
	require_pattern_msg(&msg, 8, 9, 0, 0);
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	REQUIRE_INT(0, fsproto_read(&ch));
	fsproto_chan_clear(&ch);
	close(sv[1]);

	/* And with nothing sent at all. */
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], 0, 0));
	close(sv[0]);
	REQUIRE_INT(0, fsproto_read(&ch));
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	fsproto_chan_clear(&ch);
	close(sv[1]);
}

ATF_TC_WITHOUT_HEAD(read_eagain_empty);
ATF_TC_BODY(read_eagain_empty, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	unsigned char		 buf[FSPROTO_HDR_SIZE];
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[1], 0, 0));
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	REQUIRE_FAIL(EAGAIN, fsproto_read(&ch));
	/* Still EAGAIN with half a header buffered. */
	raw_write(sv[0], buf, forge(buf, 5, FSPROTO_HDR_SIZE, 0, 0, NULL, 0) /
	    2);
	REQUIRE_INT(FSPROTO_HDR_SIZE / 2, fsproto_read(&ch));
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	REQUIRE_FAIL(EAGAIN, fsproto_read(&ch));
	REQUIRE_INT(0, fsproto_get(&ch, &msg));
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A writer that outruns its reader: fsproto_write never blocks, keeps
 * what did not fit queued, and everything arrives, in order, once the
 * reader drains.
 */
ATF_TC_WITHOUT_HEAD(write_fills_socket);
ATF_TC_BODY(write_fills_socket, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	unsigned char		*p;
	ssize_t			 n;
	int			 sv[2], i, got, prev, rounds;

	ATF_REQUIRE((p = malloc(FSPROTO_MAXPAYLOAD)) != NULL);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	for (i = 0; i < BIGFRAMES; i++) {
		fill_pattern(p, FSPROTO_MAXPAYLOAD, i);
		REQUIRE_INT(0, fsproto_compose(&w, 50, i, -1, p,
		    FSPROTO_MAXPAYLOAD));
	}
	REQUIRE_INT(BIGFRAMES, fsproto_pending(&w));
	/* Write until the socket takes no more. */
	prev = -1;
	for (rounds = 0; fsproto_pending(&w) != prev; rounds++) {
		ATF_REQUIRE(rounds < 10000);
		prev = fsproto_pending(&w);
		REQUIRE_INT(0, fsproto_write(&w));
	}
	ATF_REQUIRE_MSG(fsproto_pending(&w) > 0 &&
	    fsproto_pending(&w) < BIGFRAMES, "pending %d",
	    fsproto_pending(&w));
	/* A full socket is not an error. */
	REQUIRE_INT(0, fsproto_write(&w));

	for (got = 0, rounds = 0; got < BIGFRAMES; rounds++) {
		ATF_REQUIRE(rounds < 1000000);
		n = fsproto_read(&r);
		ATF_REQUIRE_MSG(n > 0 || (n == -1 && errno == EAGAIN),
		    "fsproto_read returned %zd: %s", n, strerror(errno));
		while (fsproto_get(&r, &msg) == 1) {
			require_pattern_msg(&msg, 50, got, FSPROTO_MAXPAYLOAD,
			    got);
			fsproto_msg_free(&msg);
			got++;
		}
		REQUIRE_INT(0, fsproto_write(&w));
	}
	REQUIRE_INT(0, fsproto_pending(&w));
	REQUIRE_FAIL(EAGAIN, fsproto_read(&r));
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
	free(p);
}

static int
child_read_big(int sock)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	ssize_t			 n;
	int			 got = 0, r;

	if (fsproto_chan_init(&ch, sock, 0, 0) == -1)
		return (1);
	while (got < BIGFRAMES) {
		usleep(1000);
		if ((n = fsproto_read(&ch)) <= 0)
			return (2);
		while ((r = fsproto_get(&ch, &msg)) == 1) {
			if (msg.hdr.type != 51 || msg.hdr.peerid !=
			    (uint32_t)got || msg.len != FSPROTO_MAXPAYLOAD ||
			    check_pattern(msg.data, msg.len, got) != 0)
				return (3);
			fsproto_msg_free(&msg);
			got++;
		}
		if (r == -1)
			return (4);
	}
	if (fsproto_read(&ch) != 0)
		return (5);
	fsproto_chan_clear(&ch);
	return (0);
}

/* fsproto_flush waits, in poll(), for a slow reader to take it all. */
ATF_TC_WITHOUT_HEAD(flush_slow_reader);
ATF_TC_BODY(flush_slow_reader, tc)
{
	struct fsproto_chan	 w;
	unsigned char		*p;
	pid_t			 pid;
	int			 sv[2], i;

	ATF_REQUIRE((p = malloc(FSPROTO_MAXPAYLOAD)) != NULL);
	mkpair(sv, 0);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_read_big(sv[1]));
	}
	close(sv[1]);
	set_nonblock(sv[0]);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	for (i = 0; i < BIGFRAMES; i++) {
		fill_pattern(p, FSPROTO_MAXPAYLOAD, i);
		REQUIRE_INT(0, fsproto_compose(&w, 51, i, -1, p,
		    FSPROTO_MAXPAYLOAD));
	}
	REQUIRE_INT(0, fsproto_flush(&w));
	REQUIRE_INT(0, fsproto_pending(&w));
	fsproto_chan_clear(&w);
	close(sv[0]);
	require_exit0(pid);
	free(p);
}

/* A vanished reader is an error, not a SIGPIPE that kills the writer. */
ATF_TC_WITHOUT_HEAD(write_epipe);
ATF_TC_BODY(write_epipe, tc)
{
	struct fsproto_chan	 w;
	int			 sv[2];

	ATF_REQUIRE(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	close(sv[1]);
	REQUIRE_INT(0, fsproto_compose(&w, 5, 0, -1, "x", 1));
	REQUIRE_FAIL(EPIPE, fsproto_write(&w));
	REQUIRE_INT(1, fsproto_pending(&w));
	REQUIRE_FAIL(EPIPE, fsproto_flush(&w));
	fsproto_chan_clear(&w);
	close(sv[0]);
}

ATF_TC_WITHOUT_HEAD(compose_emsgsize);
ATF_TC_BODY(compose_emsgsize, tc)
{
	struct fsproto_chan	 w;
	struct iovec		 iov[2];
	unsigned char		*p;
	int			 sv[2];

	ATF_REQUIRE((p = calloc(1, FSPROTO_MAXPAYLOAD + 1)) != NULL);
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	REQUIRE_FAIL(EMSGSIZE, fsproto_compose(&w, 5, 0, -1, p,
	    FSPROTO_MAXPAYLOAD + 1));
	REQUIRE_INT(0, fsproto_pending(&w));
	REQUIRE_INT(0, fsproto_compose(&w, 5, 0, -1, p, FSPROTO_MAXPAYLOAD));
	REQUIRE_INT(1, fsproto_pending(&w));
	fsproto_chan_clear(&w);

	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 100, 0));
	REQUIRE_FAIL(EMSGSIZE, fsproto_compose(&w, 5, 0, -1, p, 101));
	iov[0].iov_base = p;
	iov[0].iov_len = 60;
	iov[1].iov_base = p;
	iov[1].iov_len = 41;
	REQUIRE_FAIL(EMSGSIZE, fsproto_composev(&w, 5, 0, -1, iov, 2));
	REQUIRE_INT(0, fsproto_pending(&w));
	iov[1].iov_len = 40;
	REQUIRE_INT(0, fsproto_composev(&w, 5, 0, -1, iov, 2));
	REQUIRE_INT(0, fsproto_compose(&w, 5, 0, -1, p, 100));
	REQUIRE_INT(2, fsproto_pending(&w));
	REQUIRE_INT(0, fsproto_flush(&w));
	REQUIRE_INT(0, fsproto_pending(&w));
	fsproto_chan_clear(&w);
	close(sv[0]);
	close(sv[1]);
	free(p);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, chan_init_defaults);
	ATF_TP_ADD_TC(tp, chan_init_toolarge);
	ATF_TP_ADD_TC(tp, chan_init_keeps_blocking);
	ATF_TP_ADD_TC(tp, wire_format);
	ATF_TP_ADD_TC(tp, roundtrip_all_sizes);
	ATF_TP_ADD_TC(tp, roundtrip_maxpayload_max);
	ATF_TP_ADD_TC(tp, composev_gather);
	ATF_TP_ADD_TC(tp, byte_at_a_time);
	ATF_TP_ADD_TC(tp, many_frames_one_read);
	ATF_TP_ADD_TC(tp, hdr_len_undersize);
	ATF_TP_ADD_TC(tp, hdr_len_oversize);
	ATF_TP_ADD_TC(tp, hdr_len_small_channel);
	ATF_TP_ADD_TC(tp, peer_closed_midframe);
	ATF_TP_ADD_TC(tp, peer_closed_between_frames);
	ATF_TP_ADD_TC(tp, read_eagain_empty);
	ATF_TP_ADD_TC(tp, write_fills_socket);
	ATF_TP_ADD_TC(tp, flush_slow_reader);
	ATF_TP_ADD_TC(tp, write_epipe);
	ATF_TP_ADD_TC(tp, compose_emsgsize);

	return (atf_no_error());
}
