/*
 * The versioned hello that opens a control channel, and the reply that
 * answers every request: a positive errno (0 for success) and a message.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fsproto.h"

struct hello_wire {
	uint32_t	magic;
	uint32_t	min;
	uint32_t	max;
};

#define ERRNO_MAX	4095

int
fsproto_hello_send(struct fsproto_chan *ch, uint32_t min, uint32_t max)
{
	struct hello_wire	h;

	h.magic = FSPROTO_MAGIC;
	h.min = min;
	h.max = max;
	return (fsproto_compose(ch, FSPROTO_HELLO, 0, -1, &h, sizeof(h)));
}

int
fsproto_hello_recv(const struct fsproto_msg *msg, uint32_t *min,
    uint32_t *max)
{
	struct hello_wire	h;

	if (msg->hdr.type != FSPROTO_HELLO || msg->fd != -1 ||
	    fsproto_get_exact(msg, &h, sizeof(h)) == -1 ||
	    h.magic != FSPROTO_MAGIC || h.min > h.max) {
		errno = EBADMSG;
		return (-1);
	}
	*min = h.min;
	*max = h.max;
	return (0);
}

int
fsproto_version_pick(uint32_t ourmin, uint32_t ourmax, uint32_t peermin,
    uint32_t peermax, uint32_t *v)
{
	uint32_t	hi = ourmax < peermax ? ourmax : peermax;
	uint32_t	lo = ourmin > peermin ? ourmin : peermin;

	if (lo > hi) {
		errno = EPROTONOSUPPORT;
		return (-1);
	}
	*v = hi;
	return (0);
}

int
fsproto_reply(struct fsproto_chan *ch, uint32_t peerid, int err,
    const char *fmt, ...)
{
	struct iovec	 iov[2];
	char		 text[FSPROTO_REPLY_MAXMSG + 1];
	uint32_t	 e;
	va_list		 ap;

	if (err < 0 || err > ERRNO_MAX) {
		errno = EINVAL;
		return (-1);
	}
	e = err;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	iov[0].iov_base = &e;
	iov[0].iov_len = sizeof(e);
	iov[1].iov_base = text;
	iov[1].iov_len = strlen(text) + 1;
	return (fsproto_composev(ch, FSPROTO_REPLY, peerid, -1, iov, 2));
}

int
fsproto_reply_recv(const struct fsproto_msg *msg, int *err, const char **text)
{
	struct fsproto_dec	d;
	uint32_t		e;

	if (msg->hdr.type != FSPROTO_REPLY || msg->fd != -1) {
		errno = EBADMSG;
		return (-1);
	}
	fsproto_dec_init(&d, msg);
	if (fsproto_dec_u32(&d, &e) == -1 ||
	    fsproto_dec_str(&d, text, FSPROTO_REPLY_MAXMSG) == -1 ||
	    fsproto_dec_end(&d) == -1)
		return (-1);
	if (e > ERRNO_MAX) {
		errno = EBADMSG;
		return (-1);
	}
	*err = e;
	return (0);
}
