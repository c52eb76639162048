/*
 * libfsproto descriptor passing: descriptors go with the right frame,
 * come back close-on-exec, and every one is accounted for, whatever a
 * hostile peer sends.  Open descriptors are counted before and after
 * each case, in the manner of libnv's send/recv tests.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "util.h"

#define NFILES		8

static const char	*paths[NFILES] = { "f0", "f1", "f2", "f3", "f4",
			    "f5", "f6", "f7" };
static const char	*contents[NFILES] = { "zero\n", "one\n", "two\n",
			    "three\n", "four\n", "five\n", "six\n",
			    "seven\n" };

/* Which file each frame of the fork tests carries; -1 for none. */
static const int	 plan[] = { 0, -1, 1, 2, -1, -1, 3, 0, 7 };
#define NPLAN		(sizeof(plan) / sizeof(plan[0]))

static void	 mkfiles(void);
static int	 openro(const char *);
static int	 child_send(int);
static int	 child_recv(int);
static size_t	 marked(unsigned char *, uint32_t, size_t);
static void	 require_read_ebadmsg(struct fsproto_chan *, int);
static void	 require_unclaimed(struct fsproto_chan *, int, int);

static void
mkfiles(void)
{
	int	 i;

	for (i = 0; i < NFILES; i++)
		close(mkfile(paths[i], contents[i]));
}

static int
openro(const char *path)
{
	int	 fd;

	fd = open(path, O_RDONLY);
	ATF_REQUIRE_MSG(fd != -1, "open %s: %s", path, strerror(errno));
	return (fd);
}

/* A frame whose header says a descriptor comes with it. */
static size_t
marked(unsigned char *buf, uint32_t type, size_t len)
{
	unsigned char	 p[64];

	ATF_REQUIRE(len <= sizeof(p));
	fill_pattern(p, len, type);
	return (forge(buf, type, (FSPROTO_HDR_SIZE + len) | FSPROTO_LEN_FD,
	    0, 0, p, len));
}

static int
child_send(int sock)
{
	struct fsproto_chan	 ch;
	char			 name[16];
	size_t			 i;
	int			 fd, fds[NPLAN];

	if (fsproto_chan_init(&ch, sock, 0, FSPROTO_F_FDPASS) == -1)
		return (10);
	for (i = 0; i < NPLAN; i++) {
		fd = -1;
		if (plan[i] != -1 && (fd = open(paths[plan[i]],
		    O_RDONLY)) == -1)
			return (11);
		fds[i] = fd;
		snprintf(name, sizeof(name), "frame %zu", i);
		if (fsproto_compose(&ch, FSPROTO_TYPE_FIRST, i, fd, name,
		    strlen(name) + 1) == -1)
			return (12);
	}
	if (fsproto_flush(&ch) == -1)
		return (13);
	/* Sent descriptors are the library's to close. */
	for (i = 0; i < NPLAN; i++)
		if (fds[i] != -1 && fcntl(fds[i], F_GETFD) != -1)
			return (14);
	fsproto_chan_clear(&ch);
	return (0);
}

/*
 * A child sends frames, some carrying a descriptor of a file of its own
 * opening: each arrives with its own frame, refers to the same file, is
 * close-on-exec, and none is left open once the messages are freed.
 */
ATF_TC_WITHOUT_HEAD(fdpass_from_child);
ATF_TC_BODY(fdpass_from_child, tc)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	char			 name[16];
	size_t			 i;
	pid_t			 pid;
	int			 sv[2], before;

	mkfiles();
	before = count_fds();
	mkpair(sv, 0);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_send(sv[1]));
	}
	close(sv[1]);
	REQUIRE_INT(0, fsproto_chan_init(&ch, sv[0], 0, FSPROTO_F_FDPASS));
	for (i = 0; i < NPLAN; i++) {
		read_until_frame(&ch, &msg);
		snprintf(name, sizeof(name), "frame %zu", i);
		REQUIRE_INT(i, msg.hdr.peerid);
		REQUIRE_INT(pid, msg.hdr.pid);
		REQUIRE_INT(strlen(name) + 1, msg.len);
		/* The descriptor mark is not part of the length. */
		REQUIRE_INT(FSPROTO_HDR_SIZE + msg.len, msg.hdr.len);
		ATF_REQUIRE_STREQ(name, (const char *)msg.data);
		if (plan[i] == -1)
			REQUIRE_INT(-1, msg.fd);
		else {
			ATF_REQUIRE_MSG(msg.fd >= 0, "frame %zu lost its "
			    "descriptor", i);
			require_same_file(msg.fd, paths[plan[i]],
			    contents[plan[i]]);
		}
		fsproto_msg_free(&msg);
		REQUIRE_INT(-1, msg.fd);
	}
	REQUIRE_INT(0, fsproto_read(&ch));
	require_exit0(pid);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	REQUIRE_INT(before, count_fds());
}

/* The child's half: checks what it receives and counts its own. */
static int
child_recv(int sock)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	struct stat		 a, b;
	size_t			 i;
	ssize_t			 n;
	int			 before, r;

	before = count_fds();
	if (fsproto_chan_init(&ch, sock, 0, FSPROTO_F_FDPASS) == -1)
		return (10);
	for (i = 0; i < NPLAN; ) {
		if ((n = fsproto_read(&ch)) <= 0)
			return (11);
		while (i < NPLAN && (r = fsproto_get(&ch, &msg)) == 1) {
			if (msg.hdr.peerid != i)
				return (12);
			if (plan[i] == -1 && msg.fd != -1)
				return (13);
			if (plan[i] != -1) {
				if (msg.fd == -1 || fstat(msg.fd, &a) == -1 ||
				    stat(paths[plan[i]], &b) == -1 ||
				    a.st_dev != b.st_dev ||
				    a.st_ino != b.st_ino)
					return (14);
				if (!(fcntl(msg.fd, F_GETFD) & FD_CLOEXEC))
					return (15);
			}
			fsproto_msg_free(&msg);
			i++;
		}
	}
	if (fsproto_read(&ch) != 0)
		return (16);
	fsproto_chan_clear(&ch);
	close(sock);
	if (count_fds() != before - 1)
		return (17);
	return (0);
}

/* The other direction: the parent sends, the child checks. */
ATF_TC_WITHOUT_HEAD(fdpass_to_child);
ATF_TC_BODY(fdpass_to_child, tc)
{
	pid_t			 pid;
	int			 sv[2], before;

	mkfiles();
	before = count_fds();
	mkpair(sv, 0);
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_recv(sv[1]));
	}
	close(sv[1]);
	REQUIRE_INT(0, child_send(sv[0]));
	close(sv[0]);
	require_exit0(pid);
	REQUIRE_INT(before, count_fds());
}

/* takefd hands the descriptor over: msg_free then leaves it open. */
ATF_TC_WITHOUT_HEAD(msg_takefd);
ATF_TC_BODY(msg_takefd, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	int			 sv[2], before, fd;

	mkfiles();
	before = count_fds();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(0, fsproto_compose(&w, 70, 71, openro(paths[2]), "x", 1));
	pump_frame(&w, &r, &msg);
	REQUIRE_INT(70, msg.hdr.type);
	ATF_REQUIRE(msg.fd >= 0);
	fd = fsproto_msg_takefd(&msg);
	ATF_REQUIRE(fd >= 0);
	REQUIRE_INT(-1, msg.fd);
	REQUIRE_INT(-1, fsproto_msg_takefd(&msg));
	fsproto_msg_free(&msg);
	ATF_REQUIRE(fd_is_open(fd));
	require_same_file(fd, paths[2], contents[2]);
	close(fd);
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
	REQUIRE_INT(before, count_fds());
}

/* msg_free closes a descriptor nobody took. */
ATF_TC_WITHOUT_HEAD(msg_free_closes);
ATF_TC_BODY(msg_free_closes, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	int			 sv[2], before, fd;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	REQUIRE_INT(0, fsproto_compose(&w, 70, 71, openro(paths[3]), NULL,
	    0));
	pump_frame(&w, &r, &msg);
	ATF_REQUIRE((fd = msg.fd) >= 0);
	REQUIRE_INT(0, msg.len);
	ATF_REQUIRE(msg.data == NULL);
	REQUIRE_INT(before + 1, count_fds());
	fsproto_msg_free(&msg);
	REQUIRE_INT(-1, msg.fd);
	ATF_REQUIRE(!fd_is_open(fd));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* The sender's descriptor is the library's: kept while queued only. */
ATF_TC_WITHOUT_HEAD(compose_fd_closed_after_send);
ATF_TC_BODY(compose_fd_closed_after_send, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	int			 sv[2], before, fd;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	fd = openro(paths[4]);
	REQUIRE_INT(0, fsproto_compose(&w, 70, 71, fd, "y", 1));
	ATF_REQUIRE(fd_is_open(fd));
	REQUIRE_INT(0, fsproto_write(&w));
	REQUIRE_INT(0, fsproto_pending(&w));
	ATF_REQUIRE(!fd_is_open(fd));
	REQUIRE_INT(before, count_fds());
	pump_frame(&w, &r, &msg);
	require_same_file(msg.fd, paths[4], contents[4]);
	fsproto_msg_free(&msg);
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&w);
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A descriptor on a channel that did not opt in is refused, and closed:
 * the caller gave it away with the call.
 */
ATF_TC_WITHOUT_HEAD(compose_fd_nonfdpass);
ATF_TC_BODY(compose_fd_nonfdpass, tc)
{
	struct fsproto_chan	 w;
	struct iovec		 iov;
	int			 sv[2], before, fd;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, 0));
	before = count_fds();
	fd = openro(paths[0]);
	REQUIRE_FAIL(EINVAL, fsproto_compose(&w, 70, 0, fd, "z", 1));
	ATF_REQUIRE(!fd_is_open(fd));
	fd = openro(paths[0]);
	iov.iov_base = (void *)(uintptr_t)"z";
	iov.iov_len = 1;
	REQUIRE_FAIL(EINVAL, fsproto_composev(&w, 70, 0, fd, &iov, 1));
	ATF_REQUIRE(!fd_is_open(fd));
	REQUIRE_INT(0, fsproto_pending(&w));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&w);
	close(sv[0]);
	close(sv[1]);
}

/* Any failing compose, or buf_send, still closes the descriptor. */
ATF_TC_WITHOUT_HEAD(compose_fd_closed_on_failure);
ATF_TC_BODY(compose_fd_closed_on_failure, tc)
{
	struct fsproto_chan	 w;
	struct fsproto_buf	 b;
	unsigned char		 p[101];
	int			 sv[2], before, fd;

	memset(p, 0, sizeof(p));
	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 100, FSPROTO_F_FDPASS));
	before = count_fds();
	fd = openro(paths[1]);
	REQUIRE_FAIL(EMSGSIZE, fsproto_compose(&w, 70, 0, fd, p, 101));
	ATF_REQUIRE(!fd_is_open(fd));

	fsproto_buf_init(&b, 4);
	REQUIRE_INT(-1, fsproto_buf_u64(&b, 1));
	fd = openro(paths[1]);
	REQUIRE_FAIL(EMSGSIZE, fsproto_buf_send(&w, 70, 0, fd, &b));
	ATF_REQUIRE(!fd_is_open(fd));

	/* A payload the buffer took but the channel does not. */
	fsproto_buf_init(&b, 1000);
	REQUIRE_INT(0, fsproto_buf_add(&b, p, 101));
	fd = openro(paths[1]);
	REQUIRE_FAIL(EMSGSIZE, fsproto_buf_send(&w, 70, 0, fd, &b));
	ATF_REQUIRE(!fd_is_open(fd));

	REQUIRE_INT(0, fsproto_pending(&w));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&w);
	close(sv[0]);
	close(sv[1]);
}

/*
 * chan_clear closes what it holds: descriptors queued to send, and
 * descriptors received but not yet claimed by a frame.
 */
ATF_TC_WITHOUT_HEAD(chan_clear_closes);
ATF_TC_BODY(chan_clear_closes, tc)
{
	struct fsproto_chan	 w, r;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fd, i;

	mkfiles();
	mkpair(sv, 1);
	before = count_fds();
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, FSPROTO_F_FDPASS));
	for (i = 0; i < 3; i++)
		REQUIRE_INT(0, fsproto_compose(&w, 70, i, openro(paths[i]),
		    NULL, 0));
	REQUIRE_INT(before + 3, count_fds());
	fsproto_chan_clear(&w);
	REQUIRE_INT(before, count_fds());

	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	for (i = 0; i < 3; i++) {
		len = marked(buf, 80 + i, 10);
		fd = openro(paths[i]);
		raw_sendfds(sv[0], buf, len, &fd, 1);
		close(fd);
		ATF_REQUIRE(fsproto_read(&r) > 0);
	}
	REQUIRE_INT(before + 3, count_fds());
	fsproto_chan_clear(&r);
	REQUIRE_INT(before, count_fds());
	ATF_REQUIRE(fd_is_open(sv[0]) && fd_is_open(sv[1]));
	close(sv[0]);
	close(sv[1]);
}

/* A read that fails must leave no descriptor of it behind. */
static void
require_read_ebadmsg(struct fsproto_chan *ch, int before)
{
	ssize_t	 n;

	errno = 0;
	n = fsproto_read(ch);
	ATF_REQUIRE_MSG(n == -1 && errno == EBADMSG,
	    "fsproto_read returned %zd errno %d (%s), expected EBADMSG",
	    n, errno, strerror(errno));
	REQUIRE_INT(before, count_fds());
}

/*
 * Two descriptors in one SCM_RIGHTS message: more than a frame may
 * carry, so the control buffer is truncated (MSG_CTRUNC).  The kernel
 * installed what fit; the library must close it.
 */
ATF_TC_WITHOUT_HEAD(ctrunc_two_fds);
ATF_TC_BODY(ctrunc_two_fds, tc)
{
	struct fsproto_chan	 r;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fds[4], n, i;

	mkfiles();
	for (n = 2; n <= 4; n++) {
		mkpair(sv, 1);
		REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0,
		    FSPROTO_F_FDPASS));
		len = marked(buf, 90, 8);
		for (i = 0; i < n; i++)
			fds[i] = openro(paths[i]);
		raw_sendfds(sv[0], buf, len, fds, n);
		for (i = 0; i < n; i++)
			close(fds[i]);
		before = count_fds();
		require_read_ebadmsg(&r, before);
		fsproto_chan_clear(&r);
		REQUIRE_INT(before, count_fds());
		close(sv[0]);
		close(sv[1]);
	}
}

/*
 * Two descriptors in one message for two marked frames: each frame would
 * find one, but a frame's descriptor travels alone with its first byte,
 * so a message carrying two is forged, and refused on arrival.  (With
 * CMSG_SPACE padding on LP64 two ints fit where one was meant, so the
 * kernel does not truncate: the library has to count.)
 */
ATF_TC_WITHOUT_HEAD(two_fds_two_frames);
ATF_TC_BODY(two_fds_two_frames, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fds[2], g;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	len = marked(buf, 90, 8);
	len += marked(buf + len, 91, 8);
	fds[0] = openro(paths[0]);
	fds[1] = openro(paths[1]);
	raw_sendfds(sv[0], buf, len, fds, 2);
	close(fds[0]);
	close(fds[1]);
	before = count_fds();
	errno = 0;
	if (fsproto_read(&r) != -1) {
		while ((g = fsproto_get(&r, &msg)) == 1)
			fsproto_msg_free(&msg);
		atf_tc_fail("two descriptors in one message were accepted, "
		    "fsproto_get ended with %d", g);
	}
	REQUIRE_INT(EBADMSG, errno);
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * A truncated control message after a good descriptor: the channel is
 * dead, and clearing it leaves nothing open.
 */
ATF_TC_WITHOUT_HEAD(ctrunc_after_good_fd);
ATF_TC_BODY(ctrunc_after_good_fd, tc)
{
	struct fsproto_chan	 r;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fds[2];

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = marked(buf, 90, 8);
	fds[0] = openro(paths[0]);
	raw_sendfds(sv[0], buf, len, fds, 1);
	close(fds[0]);
	ATF_REQUIRE(fsproto_read(&r) > 0);
	fds[0] = openro(paths[1]);
	fds[1] = openro(paths[2]);
	raw_sendfds(sv[0], buf, len, fds, 2);
	close(fds[0]);
	close(fds[1]);
	REQUIRE_FAIL(EBADMSG, fsproto_read(&r));
	ATF_REQUIRE(count_fds() <= before + 1);
	fsproto_chan_clear(&r);
	REQUIRE_INT(before, count_fds());
	close(sv[0]);
	close(sv[1]);
}

/* A channel that did not opt in takes no descriptor, marked or not. */
ATF_TC_WITHOUT_HEAD(fd_on_nonfdpass);
ATF_TC_BODY(fd_on_nonfdpass, tc)
{
	struct fsproto_chan	 r;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fd, round;

	mkfiles();
	for (round = 0; round < 2; round++) {
		mkpair(sv, 1);
		REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
		if (round == 0)
			len = marked(buf, 91, 8);
		else
			len = forge(buf, 91, FSPROTO_HDR_SIZE, 0, 0, NULL, 0);
		fd = openro(paths[5]);
		raw_sendfds(sv[0], buf, len, &fd, 1);
		close(fd);
		before = count_fds();
		require_read_ebadmsg(&r, before);
		fsproto_chan_clear(&r);
		close(sv[0]);
		close(sv[1]);
	}
}

/*
 * A frame marked as carrying a descriptor on a channel that did not
 * opt in is refused even when no descriptor came.
 */
ATF_TC_WITHOUT_HEAD(marked_on_nonfdpass);
ATF_TC_BODY(marked_on_nonfdpass, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2];

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, 0));
	len = marked(buf, 92, 8);
	raw_write(sv[0], buf, len);
	REQUIRE_INT(len, fsproto_read(&r));
	REQUIRE_FAIL(EBADMSG, fsproto_get(&r, &msg));
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Drain fsproto_get after a read that brought a descriptor no frame
 * claims: the frames that began in it may come out (without it), then
 * EBADMSG, before the queue could be taken for empty; and the stray
 * descriptor is closed.
 */
static void
require_unclaimed(struct fsproto_chan *r, int before, int maxframes)
{
	struct fsproto_msg	 msg;
	int			 g, frames = 0;

	for (;;) {
		errno = 0;
		g = fsproto_get(r, &msg);
		if (g != 1)
			break;
		REQUIRE_INT(-1, msg.fd);
		fsproto_msg_free(&msg);
		frames++;
	}
	ATF_REQUIRE_MSG(g == -1 && errno == EBADMSG, "fsproto_get returned "
	    "%d errno %d with a descriptor unclaimed", g, errno);
	ATF_REQUIRE(frames <= maxframes);
	fsproto_chan_clear(r);
	REQUIRE_INT(before, count_fds());
}

ATF_TC_WITHOUT_HEAD(fd_unclaimed);
ATF_TC_BODY(fd_unclaimed, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[256];
	size_t			 len;
	int			 sv[2], before, fd;

	mkfiles();

	/* One unmarked frame with a descriptor. */
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = forge(buf, 93, FSPROTO_HDR_SIZE + 4, 0, 0, "abcd", 4);
	fd = openro(paths[6]);
	raw_sendfds(sv[0], buf, len, &fd, 1);
	close(fd);
	REQUIRE_INT(len, fsproto_read(&r));
	require_unclaimed(&r, before, 1);
	close(sv[0]);
	close(sv[1]);

	/* Two unmarked frames in the read that brought it. */
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = forge(buf, 93, FSPROTO_HDR_SIZE + 4, 0, 0, "abcd", 4);
	len += forge(buf + len, 94, FSPROTO_HDR_SIZE, 0, 0, NULL, 0);
	fd = openro(paths[6]);
	raw_sendfds(sv[0], buf, len, &fd, 1);
	close(fd);
	REQUIRE_INT(len, fsproto_read(&r));
	require_unclaimed(&r, before, 2);
	close(sv[0]);
	close(sv[1]);

	/*
	 * A good frame in an earlier read is delivered; the stray
	 * descriptor comes with nothing but a frame's tail.
	 */
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = forge(buf, 95, FSPROTO_HDR_SIZE + 4, 0, 0, "good", 4);
	raw_write(sv[0], buf, len);
	REQUIRE_INT(len, fsproto_read(&r));
	require_get(&r, &msg);
	REQUIRE_INT(95, msg.hdr.type);
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	len = forge(buf, 96, FSPROTO_HDR_SIZE + 100, 0, 0, NULL, 0);
	fill_pattern(buf + len, 100, 96);
	raw_write(sv[0], buf, 50);
	REQUIRE_INT(50, fsproto_read(&r));
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	fd = openro(paths[6]);
	raw_sendfds(sv[0], buf + 50, FSPROTO_HDR_SIZE + 100 - 50, &fd, 1);
	close(fd);
	REQUIRE_INT(FSPROTO_HDR_SIZE + 100 - 50, fsproto_read(&r));
	require_unclaimed(&r, before, 1);
	close(sv[0]);
	close(sv[1]);
}

/* A frame marked for a descriptor that never came. */
ATF_TC_WITHOUT_HEAD(marked_without_fd);
ATF_TC_BODY(marked_without_fd, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[128];
	size_t			 len;
	int			 sv[2], before, fd;

	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	len = marked(buf, 97, 12);
	raw_write(sv[0], buf, len);
	REQUIRE_INT(len, fsproto_read(&r));
	REQUIRE_FAIL(EBADMSG, fsproto_get(&r, &msg));
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);

	/* Two marked frames, one descriptor: it serves only the first. */
	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = marked(buf, 97, 12);
	len += marked(buf + len, 98, 12);
	fd = openro(paths[7]);
	raw_sendfds(sv[0], buf, len, &fd, 1);
	close(fd);
	REQUIRE_INT(len, fsproto_read(&r));
	require_get(&r, &msg);
	REQUIRE_INT(97, msg.hdr.type);
	require_same_file(msg.fd, paths[7], contents[7]);
	fsproto_msg_free(&msg);
	REQUIRE_FAIL(EBADMSG, fsproto_get(&r, &msg));
	fsproto_chan_clear(&r);
	REQUIRE_INT(before, count_fds());
	close(sv[0]);
	close(sv[1]);
}

/* FSPROTO_MAXFDS frames read before any is taken, each with its own. */
ATF_TC_WITHOUT_HEAD(fds_queued_max);
ATF_TC_BODY(fds_queued_max, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fd, i;

	ATF_REQUIRE(FSPROTO_MAXFDS <= NFILES);
	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	for (i = 0; i < FSPROTO_MAXFDS; i++) {
		len = marked(buf, 100 + i, i);
		fd = openro(paths[i]);
		raw_sendfds(sv[0], buf, len, &fd, 1);
		close(fd);
	}
	/* Each read stops at a descriptor: one frame each. */
	for (i = 0; i < FSPROTO_MAXFDS; i++)
		ATF_REQUIRE(fsproto_read(&r) > 0);
	REQUIRE_FAIL(EAGAIN, fsproto_read(&r));
	REQUIRE_INT(before + FSPROTO_MAXFDS, count_fds());
	for (i = 0; i < FSPROTO_MAXFDS; i++) {
		require_get(&r, &msg);
		REQUIRE_INT(100 + i, msg.hdr.type);
		REQUIRE_INT(i, msg.len);
		require_same_file(msg.fd, paths[i], contents[i]);
		fsproto_msg_free(&msg);
	}
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/* One descriptor more than may wait unclaimed: EBADMSG, no leak. */
ATF_TC_WITHOUT_HEAD(fds_too_many);
ATF_TC_BODY(fds_too_many, tc)
{
	struct fsproto_chan	 r;
	unsigned char		 buf[64];
	size_t			 len;
	ssize_t			 n;
	int			 sv[2], before, fd, i, reads;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	for (i = 0; i <= FSPROTO_MAXFDS; i++) {
		len = marked(buf, 100, 4);
		fd = openro(paths[i % NFILES]);
		raw_sendfds(sv[0], buf, len, &fd, 1);
		close(fd);
	}
	for (reads = 0; (n = fsproto_read(&r)) > 0; reads++)
		ATF_REQUIRE(reads < FSPROTO_MAXFDS);
	ATF_REQUIRE_MSG(n == -1 && errno == EBADMSG, "read %d returned %zd "
	    "errno %d, expected EBADMSG", reads, n, errno);
	REQUIRE_INT(FSPROTO_MAXFDS, reads);
	ATF_REQUIRE(count_fds() <= before + FSPROTO_MAXFDS);
	fsproto_chan_clear(&r);
	REQUIRE_INT(before, count_fds());
	close(sv[0]);
	close(sv[1]);
}

/*
 * The descriptor comes with the header; the payload follows in another
 * read.  The frame waits for its payload and then gets the descriptor.
 */
ATF_TC_WITHOUT_HEAD(fd_split_frame);
ATF_TC_BODY(fd_split_frame, tc)
{
	struct fsproto_chan	 r;
	struct fsproto_msg	 msg;
	unsigned char		 buf[64];
	size_t			 len;
	int			 sv[2], before, fd;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	len = marked(buf, 110, 40);
	fd = openro(paths[3]);
	raw_sendfds(sv[0], buf, 10, &fd, 1);
	close(fd);
	REQUIRE_INT(10, fsproto_read(&r));
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	raw_write(sv[0], buf + 10, 20);
	REQUIRE_INT(20, fsproto_read(&r));
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	raw_write(sv[0], buf + 30, len - 30);
	REQUIRE_INT(len - 30, fsproto_read(&r));
	require_get(&r, &msg);
	REQUIRE_INT(110, msg.hdr.type);
	REQUIRE_INT(40, msg.len);
	ATF_REQUIRE(check_pattern(msg.data, 40, 110) == 0);
	require_same_file(msg.fd, paths[3], contents[3]);
	fsproto_msg_free(&msg);
	REQUIRE_INT(0, fsproto_get(&r, &msg));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * fsproto_chan_fds() counts what the channel holds for its owner: the
 * descriptors queued to be sent until they are, and those received
 * until they are claimed; exactly what the process has open beyond.
 */
ATF_TC_WITHOUT_HEAD(chan_fds_counted);
ATF_TC_BODY(chan_fds_counted, tc)
{
	struct fsproto_chan	 w, r;
	struct fsproto_msg	 msg;
	int			 sv[2], before, i;

	mkfiles();
	mkpair(sv, 1);
	REQUIRE_INT(0, fsproto_chan_init(&w, sv[0], 0, FSPROTO_F_FDPASS));
	REQUIRE_INT(0, fsproto_chan_init(&r, sv[1], 0, FSPROTO_F_FDPASS));
	before = count_fds();
	REQUIRE_INT(0, fsproto_chan_fds(&w));
	for (i = 0; i < 3; i++)
		REQUIRE_INT(0, fsproto_compose(&w, 80 + i, 0,
		    openro(paths[i]), "z", 1));
	REQUIRE_INT(0, fsproto_compose(&w, 83, 0, -1, "z", 1));
	REQUIRE_INT(3, fsproto_chan_fds(&w));
	REQUIRE_INT(before + 3, count_fds());
	REQUIRE_INT(0, fsproto_write(&w));
	REQUIRE_INT(0, fsproto_chan_fds(&w));
	REQUIRE_INT(before, count_fds());
	/* Each read stops at a descriptor. */
	for (i = 0; i < 3; i++)
		ATF_REQUIRE(fsproto_read(&r) > 0);
	REQUIRE_INT(3, fsproto_chan_fds(&r));
	REQUIRE_INT(before + 3, count_fds());
	require_get(&r, &msg);
	REQUIRE_INT(2, fsproto_chan_fds(&r));
	fsproto_msg_free(&msg);
	REQUIRE_INT(before + 2, count_fds());
	fsproto_chan_clear(&r);
	REQUIRE_INT(0, fsproto_chan_fds(&r));
	REQUIRE_INT(before, count_fds());
	fsproto_chan_clear(&w);
	close(sv[0]);
	close(sv[1]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, fdpass_from_child);
	ATF_TP_ADD_TC(tp, fdpass_to_child);
	ATF_TP_ADD_TC(tp, msg_takefd);
	ATF_TP_ADD_TC(tp, msg_free_closes);
	ATF_TP_ADD_TC(tp, compose_fd_closed_after_send);
	ATF_TP_ADD_TC(tp, compose_fd_nonfdpass);
	ATF_TP_ADD_TC(tp, compose_fd_closed_on_failure);
	ATF_TP_ADD_TC(tp, chan_clear_closes);
	ATF_TP_ADD_TC(tp, ctrunc_two_fds);
	ATF_TP_ADD_TC(tp, ctrunc_after_good_fd);
	ATF_TP_ADD_TC(tp, two_fds_two_frames);
	ATF_TP_ADD_TC(tp, fd_on_nonfdpass);
	ATF_TP_ADD_TC(tp, marked_on_nonfdpass);
	ATF_TP_ADD_TC(tp, fd_unclaimed);
	ATF_TP_ADD_TC(tp, marked_without_fd);
	ATF_TP_ADD_TC(tp, fds_queued_max);
	ATF_TP_ADD_TC(tp, fds_too_many);
	ATF_TP_ADD_TC(tp, fd_split_frame);
	ATF_TP_ADD_TC(tp, chan_fds_counted);

	return (atf_no_error());
}
