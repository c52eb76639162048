/*
 * badclient: hostile control clients.  Each round opens a connection,
 * sends one kind of malformed or out-of-turn traffic, and requires the
 * daemon to close that connection (after an error reply or not) within
 * a few seconds.  Exit 0 when every round ended that way.
 *
 *	badclient socket rounds
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "sendfds.h"

#define ROUND_TIMEOUT	5000	/* ms for the daemon to hang up */

static const char	*sockpath;

static int
dial(void)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, sockpath, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s", sockpath);
	return (fd);
}

static void
raw(int fd, const void *p, size_t n)
{
	if (send(fd, p, n, MSG_NOSIGNAL) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		err(1, "send");
}

static void
frame(int fd, uint32_t type, uint32_t len, const void *p, size_t n)
{
	struct fsproto_hdr	h;

	h.type = type;
	h.len = len;
	h.peerid = 0;
	h.pid = getpid();
	raw(fd, &h, sizeof(h));
	if (n > 0)
		raw(fd, p, n);
}

/* A well-formed frame carrying fds (one or two) in one message. */
static void
frame_fds(int fd, uint32_t type, const void *p, size_t n, int nfds)
{
	struct fsproto_hdr	 h;
	struct iovec		 iov[2];
	int			 fds[2];

	fds[0] = open("/", O_RDONLY | O_DIRECTORY);
	fds[1] = open("/", O_PATH);
	h.type = type;
	h.len = (sizeof(h) + n) | FSPROTO_LEN_FD;
	h.peerid = 0;
	h.pid = getpid();
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = n;
	if (sendfds(fd, iov, n ? 2 : 1, fds, nfds) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		err(1, "sendmsg");
	close(fds[0]);
	close(fds[1]);
}

/*
 * One byte of a frame with a descriptor: what the frame will never be
 * finished with.
 */
static void
byte_fd(int fd, unsigned char byte)
{
	struct iovec	iov;
	int		dfd;

	if ((dfd = open("/", O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "open /");
	iov.iov_base = &byte;
	iov.iov_len = 1;
	if (sendfds(fd, &iov, 1, &dfd, 1) == -1 && errno != EPIPE &&
	    errno != ECONNRESET)
		err(1, "sendmsg");
	close(dfd);
}

static void
hello(int fd, uint32_t magic, uint32_t min, uint32_t max)
{
	uint32_t	h[3];

	h[0] = magic;
	h[1] = min;
	h[2] = max;
	frame(fd, FSPROTO_HELLO, FSPROTO_HDR_SIZE + sizeof(h), h, sizeof(h));
}

static void
good_hello(int fd)
{
	hello(fd, FSPROTO_MAGIC, FSPROTO_VERSION_MIN, FSPROTO_VERSION_MAX);
}

/* The daemon must close the connection: read until EOF. */
static int
hung_up(int fd)
{
	struct pollfd	pfd;
	char		buf[4096];
	ssize_t		n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, ROUND_TIMEOUT) <= 0)
			return (0);
		if ((n = read(fd, buf, sizeof(buf))) == 0)
			return (1);
		if (n == -1)
			return (errno == ECONNRESET);
	}
}

static const char *
attack(int fd, int kind)
{
	char		junk[64];
	uint32_t	u = 0;

	memset(junk, 'A', sizeof(junk));
	switch (kind) {
	case 0:
		raw(fd, junk, 7);		/* short header, then gone */
		shutdown(fd, SHUT_WR);
		return ("short header");
	case 1:
		frame(fd, FSPROTO_HELLO, 0x7fffffff, NULL, 0);
		return ("oversize length");
	case 2:
		frame(fd, FSPROTO_HELLO, 3, NULL, 0);
		return ("undersize length");
	case 3:
		frame(fd, MSG_CTL_STATUS, FSPROTO_HDR_SIZE, NULL, 0);
		return ("request before the hello");
	case 4:
		hello(fd, 0xdeadbeef, 1, 1);
		return ("hello with a bad magic");
	case 5:
		hello(fd, FSPROTO_MAGIC, 1000, 2000);
		return ("hello with no common version");
	case 6:
		good_hello(fd);
		frame(fd, 0xffff, FSPROTO_HDR_SIZE, NULL, 0);
		return ("unknown type");
	case 7:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_MOUNT_SOURCE, NULL, 0, 1);
		frame_fds(fd, MSG_CTL_MOUNT, junk, sizeof(junk), 1);
		return ("options without a NUL");
	case 8:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_MOUNT, "", 1, 1);
		return ("mount without a source");
	case 9:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_STATUS, NULL, 0, 1);
		return ("descriptor on a status request");
	case 10:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_MOUNT_SOURCE, NULL, 0, 2);
		return ("two descriptors in one message");
	case 11:
		good_hello(fd);
		frame(fd, MSG_CTL_MOUNT_SOURCE, FSPROTO_HDR_SIZE |
		    FSPROTO_LEN_FD, NULL, 0);
		return ("descriptor mark without a descriptor");
	case 12:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_UNMOUNT, junk, 3, 1);
		return ("unmount with a short payload");
	case 13:
		good_hello(fd);
		frame(fd, MSG_CTL_UNMOUNT, FSPROTO_HDR_SIZE + sizeof(u), &u,
		    sizeof(u));
		return ("unmount without a descriptor");
	case 14:
		good_hello(fd);
		good_hello(fd);
		return ("a second hello");
	case 15:
		good_hello(fd);
		frame_fds(fd, MSG_CTL_MOUNT_SOURCE, NULL, 0, 1);
		frame(fd, MSG_CTL_STATUS, FSPROTO_HDR_SIZE, NULL, 0);
		return ("status between source and mount");
	case 16:
		good_hello(fd);
		frame(fd, MSG_CTL_STATUS_ENTRY, FSPROTO_HDR_SIZE, NULL, 0);
		return ("a reply type sent as a request");
	case 17:
		/* The parent would hold them for as long as we wait. */
		good_hello(fd);
		byte_fd(fd, MSG_CTL_MOUNT_SOURCE & 0xff);
		usleep(20000);
		byte_fd(fd, 0);
		return ("two descriptors with two bytes of a frame");
	default:
		good_hello(fd);
		frame(fd, MSG_CTL_RELOAD, FSPROTO_HDR_SIZE + 1, junk, 1);
		return ("reload with a payload");
	}
}

#define KINDS	19

int
main(int argc, char *argv[])
{
	const char	*what;
	int		 rounds, i, fd, bad = 0;

	if (argc != 3)
		errx(1, "usage: badclient socket rounds");
	sockpath = argv[1];
	rounds = atoi(argv[2]);
	for (i = 0; i < rounds; i++) {
		fd = dial();
		what = attack(fd, i % KINDS);
		if (!hung_up(fd)) {
			warnx("round %d (%s): the daemon kept the connection",
			    i, what);
			bad++;
		}
		close(fd);
	}
	printf("%d rounds of %d kinds, %d kept open\n", rounds, KINDS, bad);
	return (bad != 0);
}
