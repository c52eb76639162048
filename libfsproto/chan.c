/*
 * Channels: buffered, non-blocking framed I/O over a stream socket, with
 * at most one descriptor per frame.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"

#define RBUF_MIN	(64 * 1024)
#define RBUF_SLACK	4096
#define CMSG_FDSPACE	CMSG_SPACE(sizeof(int))

static int	 chan_rbuf_reserve(struct fsproto_chan *);
static void	 chan_rfds_closeall(struct fsproto_chan *);
static int	 chan_recv_fds(struct fsproto_chan *, struct msghdr *, size_t);
static int	 chan_rfd_unclaimed(struct fsproto_chan *);
static int	 chan_partial(const struct fsproto_chan *);
static void	 obuf_free(struct fsproto_obuf *);

int
fsproto_chan_init(struct fsproto_chan *ch, int fd, size_t maxpayload,
    int flags)
{
	if (maxpayload == 0)
		maxpayload = FSPROTO_MAXPAYLOAD;
	if (maxpayload > FSPROTO_MAXPAYLOAD_MAX || fd < 0 ||
	    (flags & ~FSPROTO_F_FDPASS) != 0) {
		errno = EINVAL;
		return (-1);
	}
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->flags = flags;
	ch->maxpayload = maxpayload;
	ch->pid = getpid();
	TAILQ_INIT(&ch->outq);
	return (0);
}

void
fsproto_chan_clear(struct fsproto_chan *ch)
{
	struct fsproto_obuf	*ob;

	while ((ob = TAILQ_FIRST(&ch->outq)) != NULL) {
		TAILQ_REMOVE(&ch->outq, ob, entry);
		obuf_free(ob);
	}
	ch->queued = 0;
	chan_rfds_closeall(ch);
	free(ch->rbuf);
	ch->rbuf = NULL;
	ch->rsize = ch->rpos = ch->rlen = 0;
}

static void
chan_rfds_closeall(struct fsproto_chan *ch)
{
	int	i;

	for (i = 0; i < ch->nrfds; i++)
		close(ch->rfds[i].fd);
	ch->nrfds = 0;
}

/*
 * Make room for at least one more maximal frame after the unconsumed
 * bytes, moving them to the front first.
 */
static int
chan_rbuf_reserve(struct fsproto_chan *ch)
{
	size_t		 need, nsize;
	unsigned char	*nbuf;

	if (ch->rpos > 0) {
		memmove(ch->rbuf, ch->rbuf + ch->rpos, ch->rlen - ch->rpos);
		ch->rlen -= ch->rpos;
		ch->roff += ch->rpos;
		ch->rpos = 0;
	}
	need = FSPROTO_HDR_SIZE + ch->maxpayload;
	if (need < RBUF_MIN)
		need = RBUF_MIN;
	if (ch->rsize >= need && ch->rsize - ch->rlen >= RBUF_SLACK)
		return (0);
	nsize = ch->rsize > need ? ch->rsize : need;
	if (nsize - ch->rlen < RBUF_SLACK)
		nsize = ch->rlen + RBUF_SLACK;
	if ((nbuf = realloc(ch->rbuf, nsize)) == NULL)
		return (-1);
	ch->rbuf = nbuf;
	ch->rsize = nsize;
	return (0);
}

/*
 * Take the descriptors of one recvmsg.  Any descriptor on a channel that
 * did not opt in, a truncated control message or too many unclaimed
 * descriptors is an error, and then every descriptor is closed.
 */
static int
chan_recv_fds(struct fsproto_chan *ch, struct msghdr *mh, size_t n)
{
	struct cmsghdr	*cm;
	int		*fds, bad = 0, i, nfds, got = 0;
	size_t		 len;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		len = cm->cmsg_len - CMSG_LEN(0);
		fds = (int *)CMSG_DATA(cm);
		nfds = len / sizeof(int);
		for (i = 0; i < nfds; i++) {
			/*
			 * A descriptor travels alone with its frame's first
			 * byte, so one read brings at most one.  CMSG_SPACE
			 * padding lets a second one fit without MSG_CTRUNC.
			 */
			if (bad || (ch->flags & FSPROTO_F_FDPASS) == 0 ||
			    ch->nrfds >= FSPROTO_MAXFDS || ++got > 1) {
				bad = 1;
				close(fds[i]);
				continue;
			}
			ch->rfds[ch->nrfds].fd = fds[i];
			ch->rfds[ch->nrfds].end = ch->roff + ch->rlen + n;
			ch->nrfds++;
		}
	}
	if (bad || (mh->msg_flags & MSG_CTRUNC)) {
		chan_rfds_closeall(ch);
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

/* Is there a started but incomplete frame in the buffer? */
static int
chan_partial(const struct fsproto_chan *ch)
{
	struct fsproto_hdr	 hdr;
	size_t			 pos = ch->rpos, len;

	while (pos < ch->rlen) {
		if (ch->rlen - pos < FSPROTO_HDR_SIZE)
			return (1);
		memcpy(&hdr, ch->rbuf + pos, sizeof(hdr));
		len = hdr.len & ~FSPROTO_LEN_FD;
		if (len < FSPROTO_HDR_SIZE || len > ch->rlen - pos)
			return (1);
		pos += len;
	}
	return (0);
}

ssize_t
fsproto_read(struct fsproto_chan *ch)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_FDSPACE];
	} cmsgbuf;
	ssize_t		 n;

	if (chan_rbuf_reserve(ch) == -1)
		return (-1);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = ch->rbuf + ch->rlen;
	iov.iov_len = ch->rsize - ch->rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);

	do {
		n = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);
	if (chan_recv_fds(ch, &mh, n) == -1)
		return (-1);
	if (n == 0) {
		if (chan_partial(ch)) {
			errno = EPROTO;
			return (-1);
		}
		return (0);
	}
	ch->rlen += n;
	return (n);
}

/*
 * A descriptor arrives with the first bytes of its frame, so once every
 * frame that began inside the read that brought it has been consumed and
 * none took it, it was never meant for any frame.
 */
static int
chan_rfd_unclaimed(struct fsproto_chan *ch)
{
	if (ch->nrfds > 0 && ch->rfds[0].end <= ch->roff + ch->rpos) {
		chan_rfds_closeall(ch);
		errno = EBADMSG;
		return (1);
	}
	return (0);
}

static int
chan_rfd_take(struct fsproto_chan *ch, uint64_t start)
{
	int	fd;

	if (ch->nrfds == 0 || ch->rfds[0].end <= start) {
		errno = EBADMSG;
		return (-1);
	}
	fd = ch->rfds[0].fd;
	ch->nrfds--;
	memmove(&ch->rfds[0], &ch->rfds[1], ch->nrfds * sizeof(ch->rfds[0]));
	return (fd);
}

int
fsproto_get(struct fsproto_chan *ch, struct fsproto_msg *msg)
{
	struct fsproto_hdr	 hdr;
	size_t			 avail, len;
	uint64_t		 start;
	int			 fd = -1;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	avail = ch->rlen - ch->rpos;
	if (avail < FSPROTO_HDR_SIZE)
		return (chan_rfd_unclaimed(ch) ? -1 : 0);
	memcpy(&hdr, ch->rbuf + ch->rpos, sizeof(hdr));
	len = hdr.len & ~FSPROTO_LEN_FD;
	if (len < FSPROTO_HDR_SIZE || len - FSPROTO_HDR_SIZE > ch->maxpayload ||
	    ((hdr.len & FSPROTO_LEN_FD) &&
	    (ch->flags & FSPROTO_F_FDPASS) == 0)) {
		errno = EBADMSG;
		return (-1);
	}
	if (avail < len)
		return (0);

	start = ch->roff + ch->rpos;
	if ((hdr.len & FSPROTO_LEN_FD) &&
	    (fd = chan_rfd_take(ch, start)) == -1)
		return (-1);
	if (len > FSPROTO_HDR_SIZE) {
		if ((msg->data = malloc(len - FSPROTO_HDR_SIZE)) == NULL) {
			if (fd != -1)
				close(fd);
			return (-1);
		}
		memcpy(msg->data, ch->rbuf + ch->rpos + FSPROTO_HDR_SIZE,
		    len - FSPROTO_HDR_SIZE);
	}
	ch->rpos += len;
	hdr.len = len;
	msg->hdr = hdr;
	msg->len = len - FSPROTO_HDR_SIZE;
	msg->fd = fd;
	if (fd == -1 && chan_rfd_unclaimed(ch)) {
		fsproto_msg_free(msg);
		return (-1);
	}
	return (1);
}

void
fsproto_msg_free(struct fsproto_msg *msg)
{
	free(msg->data);
	msg->data = NULL;
	msg->len = 0;
	if (msg->fd != -1)
		close(msg->fd);
	msg->fd = -1;
}

int
fsproto_msg_takefd(struct fsproto_msg *msg)
{
	int	fd = msg->fd;

	msg->fd = -1;
	return (fd);
}

static void
obuf_free(struct fsproto_obuf *ob)
{
	if (ob->fd != -1)
		close(ob->fd);
	free(ob->buf);
	free(ob);
}

int
fsproto_composev(struct fsproto_chan *ch, uint32_t type, uint32_t peerid,
    int fd, const struct iovec *iov, int iovcnt)
{
	struct fsproto_obuf	*ob;
	struct fsproto_hdr	 hdr;
	size_t			 len = 0, pos;
	int			 i, saved;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > ch->maxpayload - len) {
			errno = EMSGSIZE;
			goto fail;
		}
		len += iov[i].iov_len;
	}
	if (fd != -1 && (ch->flags & FSPROTO_F_FDPASS) == 0) {
		errno = EINVAL;
		goto fail;
	}
	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		goto fail;
	if ((ob->buf = malloc(FSPROTO_HDR_SIZE + len)) == NULL) {
		free(ob);
		goto fail;
	}
	hdr.type = type;
	hdr.len = (FSPROTO_HDR_SIZE + len) | (fd != -1 ? FSPROTO_LEN_FD : 0);
	hdr.peerid = peerid;
	hdr.pid = ch->pid;
	memcpy(ob->buf, &hdr, sizeof(hdr));
	for (i = 0, pos = FSPROTO_HDR_SIZE; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		memcpy(ob->buf + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	ob->len = ob->size = pos;
	ob->fd = fd;
	TAILQ_INSERT_TAIL(&ch->outq, ob, entry);
	ch->queued++;
	return (0);

 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	errno = saved;
	return (-1);
}

int
fsproto_compose(struct fsproto_chan *ch, uint32_t type, uint32_t peerid,
    int fd, const void *data, size_t len)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	return (fsproto_composev(ch, type, peerid, fd, &iov, len ? 1 : 0));
}

/*
 * Send queued frames without blocking.  A frame with a descriptor always
 * starts a sendmsg, so the descriptor arrives with that frame's first
 * byte; frames before it are gathered into the same call.
 */
int
fsproto_write(struct fsproto_chan *ch)
{
	struct iovec		 iov[64];
	struct msghdr		 mh;
	struct cmsghdr		*cm;
	struct fsproto_obuf	*ob, *next;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_FDSPACE];
	} cmsgbuf;
	ssize_t			 n;
	size_t			 left;
	int			 i;

	while ((ob = TAILQ_FIRST(&ch->outq)) != NULL) {
		memset(&mh, 0, sizeof(mh));
		i = 0;
		TAILQ_FOREACH(next, &ch->outq, entry) {
			if (i == (int)(sizeof(iov) / sizeof(iov[0])) ||
			    (next != ob && next->fd != -1))
				break;
			iov[i].iov_base = next->buf + next->wpos;
			iov[i].iov_len = next->len - next->wpos;
			i++;
		}
		mh.msg_iov = iov;
		mh.msg_iovlen = i;
		if (ob->fd != -1) {
			memset(&cmsgbuf, 0, sizeof(cmsgbuf));
			mh.msg_control = cmsgbuf.buf;
			mh.msg_controllen = sizeof(cmsgbuf.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &ob->fd, sizeof(int));
		}
		do {
			n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
		} while (n == -1 && errno == EINTR);
		if (n == -1)
			return (errno == EAGAIN ? 0 : -1);

		/* The descriptor went out with the first byte. */
		if (ob->fd != -1) {
			close(ob->fd);
			ob->fd = -1;
		}
		for (left = n; left > 0 && (ob = TAILQ_FIRST(&ch->outq));) {
			if (left < ob->len - ob->wpos) {
				ob->wpos += left;
				break;
			}
			left -= ob->len - ob->wpos;
			TAILQ_REMOVE(&ch->outq, ob, entry);
			ch->queued--;
			obuf_free(ob);
		}
	}
	return (0);
}

int
fsproto_flush(struct fsproto_chan *ch)
{
	struct pollfd	pfd;

	for (;;) {
		if (fsproto_write(ch) == -1)
			return (-1);
		if (ch->queued == 0)
			return (0);
		pfd.fd = ch->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
}

int
fsproto_pending(const struct fsproto_chan *ch)
{
	return (ch->queued);
}

/*
 * The descriptors the channel holds for its owner: received and not
 * yet claimed, and queued to be sent.  A process that must stay under
 * its descriptor limit counts them.
 */
int
fsproto_chan_fds(const struct fsproto_chan *ch)
{
	const struct fsproto_obuf	*ob;
	int				 n = ch->nrfds;

	TAILQ_FOREACH(ob, &ch->outq, entry)
		if (ob->fd != -1)
			n++;
	return (n);
}
