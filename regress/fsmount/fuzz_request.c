/*
 * libFuzzer target for fsmount's decoder of the parent's requests
 * (fsmount/request.c): frames and descriptors as a compromised parent
 * could send them, chunked as in fuzzutil.c.  Every violation must be
 * reported, never acted on; complete requests must carry exactly the
 * descriptors their type promises; after a violation or at the end the
 * state is reset, and no descriptor may outlive the run.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsmount.h"
#include "fuzzutil.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fsm_env	*env;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	return (0);
}

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_request: %s\n", what);
		abort();
	}
}

/* What a complete request must hold, by type. */
static void
check_request(const struct request *req)
{
	int	withfds = req->type == MSG_FSM_MOUNT ||
		    req->type == MSG_FSM_UNMOUNT;

	check(req->reqid != 0 || req->type == MSG_FSM_SHUTDOWN,
	    "request without an id");
	check(withfds == (req->client_fd != -1), "client descriptor");
	check(withfds == (req->fd != -1), "mountpoint descriptor");
	check((req->type == MSG_FSM_MOUNT) == (req->src_fd != -1),
	    "source descriptor");
	check((req->type == MSG_FSM_MOUNT) == (req->opts != NULL),
	    "mount options");
	if (req->opts != NULL)
		check(strlen(req->opts) < FSMSG_OPTS_MAX, "options too long");
	if (req->type == MSG_FSM_UNMOUNT)
		check((req->arg & ~FSMSG_UNMOUNT_LAZY) == 0, "unmount flags");
}

static void
drain(struct fsproto_chan *ch, struct request_state *st)
{
	struct fsproto_msg	 msg;
	struct request		 req;
	const char		*why;
	int			 rv;

	while (fsproto_read(ch) > 0) {
		while ((rv = fsproto_get(ch, &msg)) == 1) {
			rv = request_feed(st, &msg, &req, &why);
			if (rv == -1) {
				check(why != NULL, "violation without reason");
				request_reset(st);
			} else if (rv == 1) {
				check_request(&req);
				request_done(&req);
			}
			fsproto_msg_free(&msg);
		}
		if (rv == -1) {
			/* The channel itself is broken: so was fsmount. */
			request_reset(st);
			return;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsproto_chan	ch;
	struct request_state	st;
	size_t			pos = 0, n;
	int			sv[2], before, flags;

	before = fuzz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1 ||
	    fsproto_chan_init(&ch, sv[0], 0, FSPROTO_F_FDPASS) == -1)
		abort();
	request_init(&st);
	while (pos < size) {
		n = fuzz_next_chunk(data, size, &pos, &flags);
		fuzz_send_chunk(sv[1], data + pos, n, flags);
		pos += n;
		drain(&ch, &st);
	}
	request_reset(&st);
	fsproto_chan_clear(&ch);
	close(sv[0]);
	close(sv[1]);
	check(fuzz_count_fds() == before, "descriptor leak");
	return (0);
}
