/*
 * Helpers shared by the libfsproto test programs.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "util.h"

/*
 * Descriptors open in this process, as /proc/self/fd lists them, less
 * the one opendir itself holds while listing.
 */
int
count_fds(void)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		atf_tc_fail("opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
	}
	closedir(dir);
	return (n - 1);
}

int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1 || errno != EBADF);
}

void
mkpair(int sv[2], int nonblock)
{
	int	 type = SOCK_STREAM;

	if (nonblock)
		type |= SOCK_NONBLOCK;
	ATF_REQUIRE_MSG(socketpair(AF_UNIX, type, 0, sv) == 0,
	    "socketpair: %s", strerror(errno));
}

void
set_nonblock(int fd)
{
	int	 fl;

	ATF_REQUIRE((fl = fcntl(fd, F_GETFL)) != -1);
	ATF_REQUIRE(fcntl(fd, F_SETFL, fl | O_NONBLOCK) != -1);
}

/* A pattern that differs per frame, so a misplaced byte shows. */
void
fill_pattern(unsigned char *p, size_t len, unsigned int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

int
check_pattern(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)((i * 31 + seed * 7 + (i >> 8)) &
		    0xff))
			return (-1);
	return (0);
}

/* Lay out a frame by hand; len is written as given, however wrong. */
size_t
forge(unsigned char *out, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t pid, const void *data, size_t datalen)
{
	struct fsproto_hdr	 hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = pid;
	memcpy(out, &hdr, sizeof(hdr));
	if (datalen > 0)
		memcpy(out + sizeof(hdr), data, datalen);
	return (sizeof(hdr) + datalen);
}

void
raw_write(int fd, const void *p, size_t len)
{
	const unsigned char	*c = p;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n == -1 && errno == EINTR)
			continue;
		ATF_REQUIRE_MSG(n > 0, "write: %s", strerror(errno));
		c += n;
		len -= n;
	}
}

/* One sendmsg carrying data and nfds descriptors in one SCM_RIGHTS. */
void
raw_sendfds(int sock, const void *p, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 16)];
	} cmsgbuf;
	ssize_t		 n;

	ATF_REQUIRE(nfds >= 1 && nfds <= 16);
	memset(&mh, 0, sizeof(mh));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	ATF_REQUIRE_MSG(n == (ssize_t)len, "sendmsg: %zd: %s", n,
	    strerror(errno));
}

int
mkfile(const char *path, const char *content)
{
	int	 fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ATF_REQUIRE_MSG(fd != -1, "open %s: %s", path, strerror(errno));
	raw_write(fd, content, strlen(content));
	return (fd);
}

/* fd is path (same device and inode) and reads back content. */
void
require_same_file(int fd, const char *path, const char *content)
{
	struct stat	 a, b;
	char		 buf[256];
	ssize_t		 n;
	int		 fl;

	ATF_REQUIRE(fstat(fd, &a) == 0);
	ATF_REQUIRE(stat(path, &b) == 0);
	ATF_REQUIRE_MSG(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
	    "descriptor %d is not %s", fd, path);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ATF_REQUIRE_MSG(n >= 0, "pread: %s", strerror(errno));
	buf[n] = '\0';
	ATF_REQUIRE_STREQ(content, buf);
	ATF_REQUIRE((fl = fcntl(fd, F_GETFD)) != -1);
	ATF_REQUIRE_MSG(fl & FD_CLOEXEC, "received descriptor %d lacks "
	    "FD_CLOEXEC", fd);
}

/* The next frame must already be buffered. */
void
require_get(struct fsproto_chan *ch, struct fsproto_msg *msg)
{
	int	 r;

	errno = 0;
	r = fsproto_get(ch, msg);
	ATF_REQUIRE_MSG(r == 1, "fsproto_get returned %d: %s", r,
	    strerror(errno));
}

/* Read (polling a non-blocking socket) until one whole frame is in. */
void
read_until_frame(struct fsproto_chan *ch, struct fsproto_msg *msg)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 r;

	for (;;) {
		errno = 0;
		r = fsproto_get(ch, msg);
		ATF_REQUIRE_MSG(r != -1, "fsproto_get: %s", strerror(errno));
		if (r == 1)
			return;
		pfd.fd = ch->fd;
		pfd.events = POLLIN;
		ATF_REQUIRE(poll(&pfd, 1, 10000) == 1);
		n = fsproto_read(ch);
		if (n == -1 && errno == EAGAIN)
			continue;
		ATF_REQUIRE_MSG(n > 0, "fsproto_read returned %zd: %s", n,
		    strerror(errno));
	}
}

void
require_exit0(pid_t pid)
{
	int	 status;

	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x", status);
}

/*
 * Move queued frames from w to r, both in this process on non-blocking
 * sockets, until r has one whole frame: neither side may block on the
 * other here.
 */
void
pump_frame(struct fsproto_chan *w, struct fsproto_chan *r,
    struct fsproto_msg *msg)
{
	ssize_t		 n;
	int		 g, spins;

	for (spins = 0; spins < 1000000; spins++) {
		errno = 0;
		g = fsproto_get(r, msg);
		ATF_REQUIRE_MSG(g != -1, "fsproto_get: %s", strerror(errno));
		if (g == 1)
			return;
		ATF_REQUIRE_MSG(fsproto_write(w) == 0, "fsproto_write: %s",
		    strerror(errno));
		n = fsproto_read(r);
		ATF_REQUIRE_MSG(n > 0 || (n == -1 && errno == EAGAIN),
		    "fsproto_read returned %zd: %s", n, strerror(errno));
	}
	atf_tc_fail("no frame after %d rounds", spins);
}

/*
 * For SANITIZE=1 builds: libatf-c never frees its list of test cases,
 * which LeakSanitizer would report as ours; and Kyua takes anything on
 * stderr while listing the cases for a broken program, so the list of
 * suppressions used must not be printed either.
 */
const char	*__lsan_default_suppressions(void);
const char	*__lsan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return ("leak:libatf-c.so\n");
}

const char *
__lsan_default_options(void)
{
	return ("print_suppressions=0");
}
