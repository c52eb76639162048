/*
 * regworker: started by fsmount in place of fsworker (through
 * FSMONITOR_WORKER_WRAP), it answers the kernel's INIT with
 * passthrough, then asks fsmount to register each file named in its
 * source's file "names", opened for reading and writing with
 * O_APPEND, as a worker that does not check them would.  It writes
 * "name ok" or "name ERRNO" for each to the source's file "result",
 * then exits: fsmount must refuse what the kernel would let be
 * overwritten.  Of its arguments, the worker's, it takes the owner's
 * -u and -g, which name whose the registrations are.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <linux/fuse.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fuse_compat.h"

static void
init_passthrough(void)
{
	static char		 buf[FUSE_MIN_READ_BUFFER + 65536];
	struct fuse_in_header	*in = (struct fuse_in_header *)buf;
	struct fuse_init_in	*ii = (struct fuse_init_in *)(in + 1);
	struct {
		struct fuse_out_header	hdr;
		struct fuse_init_out	init;
	} out;
	ssize_t			 n;

	if ((n = read(FSWORKER_FUSE_FD, buf, sizeof(buf))) == -1)
		err(1, "read INIT");
	if ((size_t)n < sizeof(*in) + sizeof(*ii) || in->opcode != FUSE_INIT)
		errx(1, "not INIT");
	memset(&out, 0, sizeof(out));
	out.hdr.len = sizeof(out);
	out.hdr.unique = in->unique;
	out.init.major = FUSE_KERNEL_VERSION;
	out.init.minor = ii->minor;
	out.init.max_write = 4096;
	out.init.flags = FUSE_INIT_EXT;
	out.init.flags2 = (uint32_t)(FUSE_PASSTHROUGH >> 32);
	FUSE_INIT_OUT_MAX_STACK_DEPTH(&out.init) = 1;
	if (write(FSWORKER_FUSE_FD, &out, sizeof(out)) != sizeof(out))
		err(1, "write INIT");
}

static struct fsmsg_backing_open	 owner;

/* The answer of fsmount to a registration of fd: 0 or an errno. */
static int
reg(struct fsproto_chan *ch, int fd)
{
	struct fsproto_msg	 msg;
	struct fsmsg_backing	 res;
	ssize_t			 n;
	int			 rv;

	if (fsproto_compose(ch, MSG_BACKING_OPEN, 0, fd, &owner,
	    FSMSG_BACKING_OPEN_LEN(0)) == -1)
		err(1, "compose");
	while (fsproto_pending(ch))
		if (fsproto_write(ch) == -1)
			err(1, "write");
	while ((rv = fsproto_get(ch, &msg)) == 0)
		if ((n = fsproto_read(ch)) <= 0)
			errx(1, "no answer");
	if (rv == -1 || msg.hdr.type != MSG_BACKING_RESULT ||
	    fsproto_get_exact(&msg, &res, sizeof(res)) == -1)
		errx(1, "bad answer");
	fsproto_msg_free(&msg);
	return res.error;
}

int
main(int argc, char *argv[])
{
	struct fsproto_chan	 ch;
	FILE			*names, *result;
	char			 name[256];
	int			 i, fd, nfd, rfd, error;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-u") == 0)
			owner.uid = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "-g") == 0)
			owner.gid = strtoul(argv[i + 1], NULL, 10);
	init_passthrough();
	if (fsproto_chan_init(&ch, FSWORKER_MNT_FD,
	    sizeof(struct fsmsg_backing_open), FSPROTO_F_FDPASS) == -1)
		err(1, "channel");
	if ((nfd = openat(FSWORKER_SRC_FD, "names", O_RDONLY)) == -1 ||
	    (names = fdopen(nfd, "r")) == NULL)
		err(1, "names");
	if ((rfd = openat(FSWORKER_SRC_FD, "result",
	    O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    (result = fdopen(rfd, "w")) == NULL)
		err(1, "result");
	while (fscanf(names, "%255s", name) == 1) {
		if ((fd = openat(FSWORKER_SRC_FD, name,
		    O_RDWR | O_APPEND | O_NOFOLLOW)) == -1)
			error = errno;
		else
			error = reg(&ch, fd);
		if (error == 0)
			fprintf(result, "%s ok\n", name);
		else
			fprintf(result, "%s %s\n", name,
			    strerrorname_np(error));
	}
	if (fclose(result) == EOF)
		err(1, "result");
	return 0;
}
