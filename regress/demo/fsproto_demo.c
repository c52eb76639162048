/*
 * The foundation demo: two processes open a libfsproto channel, agree on
 * a protocol version, and one hands the other an open file descriptor
 * that the other reads through and answers about.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"

#define DEMO_FILE	(FSPROTO_TYPE_FIRST)

static const char demo_text[] = "bytes written by the parent, read by "
    "the child through a passed descriptor\n";

static int	 demo_recv(struct fsproto_chan *, struct fsproto_msg *);
static void	 demo_child(int);
static void	 demo_parent(int, pid_t);

static int
demo_recv(struct fsproto_chan *ch, struct fsproto_msg *msg)
{
	struct pollfd	pfd;
	int		rv;
	ssize_t		n;

	for (;;) {
		if ((rv = fsproto_get(ch, msg)) != 0)
			return (rv);
		pfd.fd = ch->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) <= 0)
			errx(1, "peer silent");
		if ((n = fsproto_read(ch)) == -1 && errno != EAGAIN)
			err(1, "read");
		if (n == 0)
			errx(1, "peer closed the channel");
	}
}

static void
demo_child(int fd)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	struct stat		 sb;
	uint32_t		 min, max, v;
	char			 buf[256];
	ssize_t			 n;

	if (fsproto_chan_init(&ch, fd, 0, FSPROTO_F_FDPASS) == -1)
		err(1, "chan");
	if (demo_recv(&ch, &msg) == -1 ||
	    fsproto_hello_recv(&msg, &min, &max) == -1)
		err(1, "child: hello");
	fsproto_msg_free(&msg);
	if (fsproto_version_pick(FSPROTO_VERSION_MIN, FSPROTO_VERSION_MAX,
	    min, max, &v) == -1)
		err(1, "child: version");
	printf("child  %d: hello from parent, versions %u..%u, using %u\n",
	    (int)getpid(), min, max, v);
	if (fsproto_hello_send(&ch, v, v) == -1 || fsproto_flush(&ch) == -1)
		err(1, "child: hello");

	if (demo_recv(&ch, &msg) == -1 || msg.hdr.type != DEMO_FILE ||
	    msg.fd == -1)
		errx(1, "child: expected a frame with a descriptor");
	if (fstat(msg.fd, &sb) == -1)
		err(1, "child: fstat");
	if ((n = pread(msg.fd, buf, sizeof(buf) - 1, 0)) == -1)
		err(1, "child: pread");
	buf[n] = '\0';
	printf("child  %d: got descriptor %d (inode %llu, close-on-exec %s)"
	    " with payload \"%.*s\"\n", (int)getpid(), msg.fd,
	    (unsigned long long)sb.st_ino,
	    (fcntl(msg.fd, F_GETFD) & FD_CLOEXEC) ? "yes" : "no",
	    (int)msg.len, (const char *)msg.data);
	printf("child  %d: read through it: %s", (int)getpid(), buf);
	fsproto_msg_free(&msg);
	if (fsproto_reply(&ch, 0, 0, "read %zd bytes", n) == -1 ||
	    fsproto_flush(&ch) == -1)
		err(1, "child: reply");
	fsproto_chan_clear(&ch);
	_exit(0);
}

static void
demo_parent(int fd, pid_t child)
{
	struct fsproto_chan	 ch;
	struct fsproto_msg	 msg;
	char			 path[] = "/tmp/fsproto_demo.XXXXXX";
	const char		*text;
	uint32_t		 min, max;
	int			 status, e, tfd;

	if (fsproto_chan_init(&ch, fd, 0, FSPROTO_F_FDPASS) == -1)
		err(1, "chan");
	if (fsproto_hello_send(&ch, FSPROTO_VERSION_MIN,
	    FSPROTO_VERSION_MAX) == -1 || fsproto_flush(&ch) == -1)
		err(1, "parent: hello");
	if (demo_recv(&ch, &msg) == -1 ||
	    fsproto_hello_recv(&msg, &min, &max) == -1)
		err(1, "parent: hello");
	printf("parent %d: child %d agreed on version %u\n", (int)getpid(),
	    (int)msg.hdr.pid, min);
	fsproto_msg_free(&msg);

	if ((tfd = mkstemp(path)) == -1)
		err(1, "mkstemp");
	(void)unlink(path);
	if (write(tfd, demo_text, sizeof(demo_text) - 1) == -1)
		err(1, "write");
	printf("parent %d: sending descriptor %d of an unlinked file\n",
	    (int)getpid(), tfd);
	if (fsproto_compose(&ch, DEMO_FILE, 0, tfd, "here", 4) == -1 ||
	    fsproto_flush(&ch) == -1)
		err(1, "parent: send");
	if (demo_recv(&ch, &msg) == -1 ||
	    fsproto_reply_recv(&msg, &e, &text) == -1)
		err(1, "parent: reply");
	printf("parent %d: reply errno %d: %s\n", (int)getpid(), e, text);
	fsproto_msg_free(&msg);
	fsproto_chan_clear(&ch);
	if (waitpid(child, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "child failed");
	printf("parent %d: child exited 0; demo done\n", (int)getpid());
}

int
main(void)
{
	int	sv[2];
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		err(1, "socketpair");
	setvbuf(stdout, NULL, _IOLBF, 0);
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		close(sv[0]);
		demo_child(sv[1]);
		break;
	default:
		close(sv[1]);
		demo_parent(sv[0], pid);
	}
	return (0);
}
