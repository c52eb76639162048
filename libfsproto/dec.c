/*
 * Strict decoding of payloads: exact lengths, strings terminated inside
 * the payload, no trailing bytes.  The first failure sticks.
 */

#include <sys/types.h>

#include <errno.h>
#include <string.h>

#include "fsproto.h"

static int
dec_fail(struct fsproto_dec *d)
{
	d->err = EBADMSG;
	d->left = 0;
	errno = EBADMSG;
	return (-1);
}

int
fsproto_get_exact(const struct fsproto_msg *msg, void *dst, size_t len)
{
	if (msg->len != len) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(dst, msg->data, len);
	return (0);
}

int
fsproto_get_str(const struct fsproto_msg *msg, const char **s, size_t maxlen)
{
	struct fsproto_dec	d;

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_str(&d, s, maxlen) == -1 || fsproto_dec_end(&d) == -1)
		return (-1);
	return (0);
}

void
fsproto_dec_init(struct fsproto_dec *d, const struct fsproto_msg *msg)
{
	d->p = msg->data;
	d->left = msg->data != NULL ? msg->len : 0;
	d->err = 0;
}

int
fsproto_dec_bytes(struct fsproto_dec *d, void *dst, size_t n)
{
	if (d->err || n > d->left)
		return (dec_fail(d));
	/* Even p + 0 is undefined when an empty payload left p NULL. */
	if (n > 0) {
		memcpy(dst, d->p, n);
		d->p += n;
		d->left -= n;
	}
	return (0);
}

int
fsproto_dec_u32(struct fsproto_dec *d, uint32_t *v)
{
	return (fsproto_dec_bytes(d, v, sizeof(*v)));
}

int
fsproto_dec_u64(struct fsproto_dec *d, uint64_t *v)
{
	return (fsproto_dec_bytes(d, v, sizeof(*v)));
}

/* A string ends at a NUL inside what is left; maxlen 0 means no limit. */
int
fsproto_dec_str(struct fsproto_dec *d, const char **s, size_t maxlen)
{
	const unsigned char	*nul;
	size_t			 len;

	if (d->err || d->left == 0)
		return (dec_fail(d));
	if ((nul = memchr(d->p, '\0', d->left)) == NULL)
		return (dec_fail(d));
	len = nul - d->p;
	if (maxlen != 0 && len > maxlen)
		return (dec_fail(d));
	*s = (const char *)d->p;
	d->p += len + 1;
	d->left -= len + 1;
	return (0);
}

int
fsproto_dec_end(struct fsproto_dec *d)
{
	if (d->err || d->left != 0)
		return (dec_fail(d));
	return (0);
}
