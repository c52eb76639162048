/*
 * libFuzzer target for the parent's control protocol: everything a
 * hostile fsctl client can send, through the real control.c and
 * mounts.c, with fsmount's end of the channel drained and discarded.
 *
 * Input: byte 0 picks the client (bit 0: root or an ordinary user; bit
 * 1: the configuration allows everyone or no one), then chunks as in
 * fuzz_frame: a control byte c, then (c & 0x3f) bytes, or all the rest
 * when that is 0; bit 0x80 attaches a directory descriptor to the
 * chunk, bit 0x40 an O_PATH one.
 *
 * After each chunk the parent reads as its event loop would.  At the
 * end the client hangs up.  The parent must never die, and no
 * descriptor may outlive the run.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsmonitor.h"
#include "fuzzutil.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fsmonitor_env	*env;
static struct fsmonitor_env	 fenv;
static int			 fsmount_peer = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	sv[2];

	(void)argc;
	(void)argv;
	env = &fenv;
	TAILQ_INIT(&env->clients);
	TAILQ_INIT(&env->mnts);
	conf_init(&env->conf);
	conf_init(&env->nconf);
	env->listen_fd = -1;
	env->fd_limit = 1024;	/* what the parent starts with, often */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1 ||
	    fsproto_chan_init(&env->fsmount, sv[0], 0, FSPROTO_F_FDPASS) == -1)
		abort();
	fsmount_peer = sv[1];
	/* The parent logs every violation: `bmake fuzz` hides its stderr. */
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	log_procinit("fuzz_control");
	return (0);
}

/* Whatever the parent sent fsmount goes nowhere. */
static void
fsmount_drain(void)
{
	char	buf[65536];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr	mh;
	struct iovec	iov;
	struct cmsghdr	*cm;
	int		fd;

	while (fsproto_pending(&env->fsmount)) {
		if (fsproto_write(&env->fsmount) == -1)
			abort();
		for (;;) {
			memset(&mh, 0, sizeof(mh));
			iov.iov_base = buf;
			iov.iov_len = sizeof(buf);
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = sizeof(cbuf.buf);
			if (recvmsg(fsmount_peer, &mh, MSG_CMSG_CLOEXEC) <= 0)
				break;
			for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
			    cm = CMSG_NXTHDR(&mh, cm)) {
				memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
				close(fd);
			}
		}
	}
}

static struct client *
client_new(int fd, int root)
{
	struct client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    fsproto_chan_init(&c->chan, fd, 0, FSPROTO_F_FDPASS) == -1)
		abort();
	c->uid = root ? 0 : 1000;
	c->gid = root ? 0 : 1000;
	c->pid = 1;
	c->id = ++env->next_client;
	c->src_fd = -1;
	c->state = CL_HELLO;
	TAILQ_INSERT_TAIL(&env->clients, c, entry);
	env->nclients++;
	return (c);
}

static int
client_alive(struct client *c)
{
	struct client	*x;

	TAILQ_FOREACH(x, &env->clients, entry)
		if (x == c)
			return (1);
	return (0);
}

/* The parent's turn, as the event loop would take it. */
static void
parent_turn(struct client *c)
{
	if (!client_alive(c))
		return;
	if (c->state != CL_CLOSING)
		control_read(c);
	if (!client_alive(c))
		return;
	(void)fsproto_write(&c->chan);
	fsmount_drain();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client	*c;
	size_t		 pos = 1, n;
	int		 sv[2], before, flags;
	char		 sink[65536];

	if (size < 1)
		return (0);
	before = fuzz_count_fds();
	env->conf.allow_all = (data[0] & 2) == 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		abort();
	c = client_new(sv[0], data[0] & 1);
	while (pos < size && client_alive(c)) {
		n = fuzz_next_chunk(data, size, &pos, &flags);
		fuzz_send_chunk(sv[1], data + pos, n, flags);
		pos += n;
		parent_turn(c);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	shutdown(sv[1], SHUT_WR);
	parent_turn(c);
	if (client_alive(c))
		control_close(c);
	close(sv[1]);
	fsmount_drain();
	/* No reply can come: forget what waits for fsmount. */
	env->reload_reqid = 0;
	env->reload_client = NULL;
	if (fuzz_count_fds() != before) {
		fprintf(stderr, "descriptor leak: %d before, %d after\n",
		    before, fuzz_count_fds());
		abort();
	}
	return (0);
}
