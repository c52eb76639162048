/*
 * badworker: started by fsmount in place of fsworker (through
 * FSMONITOR_WORKER_WRAP), it sends fsmount two descriptors on its
 * backing channel, each with one byte of a frame it never finishes,
 * then waits to be killed.  fsmount must not hold them for it.
 *
 *	badworker fsworker-path [fsworker arguments...]
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fsmsg.h"

static void
byte_fd(unsigned char byte, int fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;

	iov.iov_base = &byte;
	iov.iov_len = 1;
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(FSWORKER_MNT_FD, &mh, MSG_NOSIGNAL) == -1)
		_exit(2);
}

int
main(void)
{
	int	fd;

	if ((fd = open("/", O_RDONLY | O_DIRECTORY)) == -1)
		return (1);
	byte_fd(MSG_BACKING_OPEN & 0xff, fd);
	usleep(100000);
	byte_fd(0, fd);
	for (;;)
		pause();
}
