/*
 * sendmsg(2) of some bytes with up to SENDFDS_MAX descriptors in one
 * SCM_RIGHTS message, for badclient and badworker.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sendfds.h"

ssize_t
sendfds(int sock, const struct iovec *iov, int iovcnt, const int *fds,
    int nfds)
{
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(SENDFDS_MAX * sizeof(int))];
	} cbuf;

	if (nfds < 1 || nfds > SENDFDS_MAX) {
		errno = EINVAL;
		return (-1);
	}
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_iov = (struct iovec *)(uintptr_t)iov;
	mh.msg_iovlen = iovcnt;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	return (sendmsg(sock, &mh, MSG_NOSIGNAL));
}
