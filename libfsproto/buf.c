/*
 * Building a payload piece by piece; the first failure sticks, so a
 * caller checks once, when it sends.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"

void
fsproto_buf_init(struct fsproto_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : FSPROTO_MAXPAYLOAD;
}

void
fsproto_buf_free(struct fsproto_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

int
fsproto_buf_add(struct fsproto_buf *b, const void *p, size_t n)
{
	unsigned char	*nd;
	size_t		 nsize;

	if (b->err)
		return (-1);
	if (n > b->max - b->len) {
		b->err = EMSGSIZE;
		return (-1);
	}
	if (n > b->size - b->len) {
		nsize = b->size ? b->size : 256;
		while (nsize - b->len < n)
			nsize *= 2;
		if (nsize > b->max)
			nsize = b->max;
		if ((nd = realloc(b->data, nsize)) == NULL) {
			b->err = ENOMEM;
			return (-1);
		}
		b->data = nd;
		b->size = nsize;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return (0);
}

int
fsproto_buf_u32(struct fsproto_buf *b, uint32_t v)
{
	return (fsproto_buf_add(b, &v, sizeof(v)));
}

int
fsproto_buf_u64(struct fsproto_buf *b, uint64_t v)
{
	return (fsproto_buf_add(b, &v, sizeof(v)));
}

int
fsproto_buf_str(struct fsproto_buf *b, const char *s)
{
	return (fsproto_buf_add(b, s, strlen(s) + 1));
}

int
fsproto_buf_send(struct fsproto_chan *ch, uint32_t type, uint32_t peerid,
    int fd, struct fsproto_buf *b)
{
	int	rv;

	if (b->err) {
		errno = b->err;
		fsproto_buf_free(b);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	rv = fsproto_compose(ch, type, peerid, fd, b->data, b->len);
	fsproto_buf_free(b);
	return (rv);
}
