/*
 * The connection to fsmonitor: connect, hello, send, and wait for frames
 * with blocking I/O.  Every failure ends fsctl with one line on standard
 * error, so callers never see an error return.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsctl.h"

static int	 ctl_connect(const char *, const char **);
static int	 ctl_tryrecv(struct ctl *, struct fsproto_msg *,
		    const char **);
static void	 ctl_hello(struct ctl *);

/*
 * Escape what could break the one-line format or reach the terminal as
 * a control sequence: the strings come from the user's command line
 * and from the daemon, which prints paths other users chose.
 */
char *
ctl_vis(const char *s)
{
	const unsigned char	*p;
	char			*buf, *q;

	if ((buf = malloc(strlen(s) * 4 + 1)) == NULL)
		err(1, NULL);
	for (p = (const unsigned char *)s, q = buf; *p != '\0'; p++) {
		if (*p == '\\') {
			*q++ = '\\';
			*q++ = '\\';
		} else if (*p < 0x20 || *p == 0x7f) {
			(void)sprintf(q, "\\%03o", *p);
			q += 4;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return (buf);
}

/* fsctl fails with 1; as mount(8)'s helper, a failed mount is 32. */
int	ctl_exit_fail = 1;

void
ctl_fail_on(const char *verb, const char *operand, const char *reason)
{
	if (operand != NULL)
		errx(ctl_exit_fail, "%s %s: %s", verb, ctl_vis(operand),
		    ctl_vis(reason));
	errx(ctl_exit_fail, "%s: %s", verb, ctl_vis(reason));
}

void
ctl_fail(struct ctl *c, const char *fmt, ...)
{
	char	reason[FSPROTO_REPLY_MAXMSG + FSMSG_PATH_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ctl_fail_on(c->verb, NULL, reason);
}

void
ctl_unexpected(struct ctl *c, const struct fsproto_msg *msg)
{
	ctl_fail(c, "unexpected message type %u from fsmonitor",
	    msg->hdr.type);
}

static int
ctl_connect(const char *path, const char **why)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*why = strerror(ENAMETOOLONG);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*why = strerror(errno);
		close(fd);
		return (-1);
	}
	return (fd);
}

void
ctl_open(struct ctl *c, const char *sock, const char *verb)
{
	const char	*why;
	int		 fd;

	memset(c, 0, sizeof(*c));
	c->verb = verb;
	c->sock = sock;
	if ((fd = ctl_connect(sock, &why)) == -1)
		ctl_fail(c, "cannot connect to %s: %s", sock, why);
	if (fsproto_chan_init(&c->ch, fd, 0, FSPROTO_F_FDPASS) == -1)
		ctl_fail(c, "%s", strerror(errno));
	ctl_hello(c);
}

/*
 * The daemon answers the hello with its own, or refuses the connection
 * with a reply that says why before it closes.
 */
static void
ctl_hello(struct ctl *c)
{
	struct fsproto_msg	msg;
	uint32_t		min, max;

	if (fsproto_hello_send(&c->ch, FSPROTO_VERSION_MIN,
	    FSPROTO_VERSION_MAX) == -1)
		ctl_fail(c, "hello: %s", strerror(errno));
	ctl_flush(c, NULL);
	ctl_recv(c, &msg);
	if (msg.hdr.type == FSPROTO_REPLY) {
		ctl_reply(c, &msg, NULL);
		ctl_fail(c, "unexpected reply to the hello");
	}
	if (msg.hdr.type != FSPROTO_HELLO)
		ctl_unexpected(c, &msg);
	if (fsproto_hello_recv(&msg, &min, &max) == -1)
		ctl_fail(c, "malformed hello from fsmonitor");
	if (fsproto_version_pick(FSPROTO_VERSION_MIN, FSPROTO_VERSION_MAX,
	    min, max, &c->version) == -1)
		ctl_fail(c, "no common protocol version: fsmonitor speaks "
		    "%u to %u, fsctl %u to %u", min, max, FSPROTO_VERSION_MIN,
		    FSPROTO_VERSION_MAX);
	fsproto_msg_free(&msg);
}

/* The library owns fd from here on, as it does on success. */
void
ctl_send(struct ctl *c, uint32_t type, int fd, const void *data,
    size_t len)
{
	if (fsproto_compose(&c->ch, type, 0, fd, data, len) == -1)
		ctl_fail(c, "%s", strerror(errno));
}

/*
 * A daemon that refused an early frame may have replied and hung up
 * before the rest was sent; that reply says more than the broken pipe.
 */
void
ctl_flush(struct ctl *c, const char *operand)
{
	struct fsproto_msg	 msg;
	const char		*why;
	int			 saved;

	if (fsproto_flush(&c->ch) == 0)
		return;
	saved = errno;
	if ((saved == EPIPE || saved == ECONNRESET) &&
	    ctl_tryrecv(c, &msg, &why) == 0 &&
	    msg.hdr.type == FSPROTO_REPLY) {
		ctl_reply(c, &msg, operand);
		fsproto_msg_free(&msg);
	}
	ctl_fail(c, "send: %s", strerror(saved));
}

/* Wait for one whole frame; 0, or -1 and a reason. */
static int
ctl_tryrecv(struct ctl *c, struct fsproto_msg *msg, const char **why)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		rv;

	for (;;) {
		if ((rv = fsproto_get(&c->ch, msg)) == 1)
			return (0);
		if (rv == -1) {
			*why = strerror(errno);
			return (-1);
		}
		pfd.fd = c->ch.fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, FSCTL_TIMEOUT)) == -1) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			return (-1);
		}
		if (rv == 0) {
			*why = "timed out waiting for fsmonitor";
			return (-1);
		}
		if ((n = fsproto_read(&c->ch)) == -1) {
			*why = strerror(errno);
			return (-1);
		}
		if (n == 0) {
			*why = "connection closed by fsmonitor";
			return (-1);
		}
	}
}

void
ctl_recv(struct ctl *c, struct fsproto_msg *msg)
{
	const char	*why;

	if (ctl_tryrecv(c, msg, &why) == -1)
		ctl_fail(c, "%s", why);
}

/*
 * Returns on success only.  A failed request is reported against the
 * operand the user typed, the daemon's message being the reason.
 */
void
ctl_reply(struct ctl *c, struct fsproto_msg *msg, const char *operand)
{
	const char	*text;
	int		 e;

	if (fsproto_reply_recv(msg, &e, &text) == -1)
		ctl_fail(c, "malformed reply from fsmonitor");
	if (e == 0)
		return;
	if (*text == '\0')
		text = strerror(e);
	ctl_fail_on(c->verb, operand, text);
}

void
ctl_wait_reply(struct ctl *c, const char *operand)
{
	struct fsproto_msg	msg;

	ctl_recv(c, &msg);
	if (msg.hdr.type != FSPROTO_REPLY)
		ctl_unexpected(c, &msg);
	ctl_reply(c, &msg, operand);
	fsproto_msg_free(&msg);
}
