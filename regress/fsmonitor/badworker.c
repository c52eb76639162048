/*
 * badworker: started by fsmount in place of fsworker (through
 * FSMONITOR_WORKER_WRAP), it sends fsmount two descriptors on its
 * backing channel, each with one byte of a frame it never finishes,
 * then waits to be killed.  fsmount must not hold them for it.
 * It ignores its arguments, the worker's.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <unistd.h>

#include "fsmsg.h"
#include "sendfds.h"

static void
byte_fd(unsigned char byte, int fd)
{
	struct iovec	iov;

	iov.iov_base = &byte;
	iov.iov_len = 1;
	if (sendfds(FSWORKER_MNT_FD, &iov, 1, &fd, 1) == -1)
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
