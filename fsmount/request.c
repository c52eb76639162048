/*
 * The parent's requests, decoded and checked against fsmount's request
 * table before anything is done.  A request with descriptors arrives as
 * consecutive frames, one descriptor each: the client's socket first,
 * then what the client opened.  Anything malformed or out of order is a
 * violation, which the caller treats as fatal.
 *
 * Nothing here acts; fuzz_request feeds it hostile frames.
 */

#include <sys/types.h>

#include <string.h>
#include <unistd.h>

#include "fsmount.h"

void
request_init(struct request_state *st)
{
	memset(st, 0, sizeof(*st));
	st->client_fd = st->src_fd = -1;
}

/* Forget a half-received request, closing what it brought. */
void
request_reset(struct request_state *st)
{
	if (st->client_fd != -1)
		close(st->client_fd);
	if (st->src_fd != -1)
		close(st->src_fd);
	request_init(st);
}

/* Close what a complete request still holds, once it is done. */
void
request_done(struct request *req)
{
	if (req->client_fd != -1)
		close(req->client_fd);
	if (req->src_fd != -1)
		close(req->src_fd);
	if (req->fd != -1)
		close(req->fd);
	req->client_fd = req->src_fd = req->fd = -1;
}

/* A frame continuing a request: right stage, same request, a descriptor. */
static int
request_continues(struct request_state *st, struct fsproto_msg *msg,
    uint32_t type, int stage, uint32_t reqid)
{
	if (st->stage != stage || (stage > 0 && (st->type != type ||
	    st->reqid != reqid)))
		return (0);
	return (msg->fd != -1);
}

static int
request_fail(const char **why, const char *reason)
{
	*why = reason;
	return (-1);
}

/* The frames that carry a descriptor: steps of a mount or unmount. */
static int
request_step(struct request_state *st, struct fsproto_msg *msg,
    struct fsproto_dec *d, uint32_t reqid, struct request *req,
    const char **why)
{
	switch (msg->hdr.type) {
	case MSG_FSM_MOUNT_CLIENT:
	case MSG_FSM_UNMOUNT_CLIENT:
		if (!request_continues(st, msg, 0, 0, reqid) ||
		    fsproto_dec_end(d) == -1)
			return (request_fail(why, "bad client frame"));
		st->type = msg->hdr.type == MSG_FSM_MOUNT_CLIENT ?
		    MSG_FSM_MOUNT : MSG_FSM_UNMOUNT;
		st->reqid = reqid;
		st->client_fd = fsproto_msg_takefd(msg);
		st->stage = 1;
		return (0);
	case MSG_FSM_MOUNT_SOURCE:
		if (!request_continues(st, msg, MSG_FSM_MOUNT, 1, reqid) ||
		    fsproto_dec_end(d) == -1)
			return (request_fail(why, "bad source frame"));
		st->src_fd = fsproto_msg_takefd(msg);
		st->stage = 2;
		return (0);
	case MSG_FSM_MOUNT:
		if (!request_continues(st, msg, MSG_FSM_MOUNT, 2, reqid) ||
		    fsproto_dec_str(d, &req->opts, FSMSG_OPTS_MAX) == -1 ||
		    fsproto_dec_end(d) == -1)
			return (request_fail(why, "bad mount frame"));
		break;
	default:	/* MSG_FSM_UNMOUNT */
		if (!request_continues(st, msg, MSG_FSM_UNMOUNT, 1, reqid) ||
		    fsproto_dec_u32(d, &req->arg) == -1 ||
		    fsproto_dec_end(d) == -1 ||
		    (req->arg & ~FSMSG_UNMOUNT_LAZY) != 0)
			return (request_fail(why, "bad unmount frame"));
		break;
	}
	req->type = msg->hdr.type;
	req->reqid = reqid;
	req->client_fd = st->client_fd;
	req->src_fd = st->src_fd;
	req->fd = fsproto_msg_takefd(msg);
	st->client_fd = st->src_fd = -1;
	request_init(st);
	return (1);
}

/*
 * Returns 1 with a complete request in req, 0 when more frames are
 * needed, or -1 with the reason of a violation.  The strings in req
 * point into msg.
 */
int
request_feed(struct request_state *st, struct fsproto_msg *msg,
    struct request *req, const char **why)
{
	struct fsproto_dec	d;
	uint32_t		reqid = 0;

	memset(req, 0, sizeof(*req));
	req->client_fd = req->src_fd = req->fd = -1;
	fsproto_dec_init(&d, msg);
	if (msg->hdr.type != MSG_FSM_SHUTDOWN &&
	    (fsproto_dec_u32(&d, &reqid) == -1 || reqid == 0))
		return (request_fail(why, "frame without a request id"));
	switch (msg->hdr.type) {
	case MSG_FSM_MOUNT_CLIENT:
	case MSG_FSM_UNMOUNT_CLIENT:
	case MSG_FSM_MOUNT_SOURCE:
	case MSG_FSM_MOUNT:
	case MSG_FSM_UNMOUNT:
		return (request_step(st, msg, &d, reqid, req, why));
	}
	if (st->stage != 0 || msg->fd != -1)
		return (request_fail(why, "frame out of order"));
	switch (msg->hdr.type) {
	case MSG_FSM_STATIC_MOUNT:
	case MSG_FSM_UNMOUNT_ID:
		if (fsproto_dec_u32(&d, &req->arg) == -1 ||
		    fsproto_dec_end(&d) == -1)
			return (request_fail(why, "bad frame"));
		break;
	case MSG_FSM_RELOAD:
		if (fsproto_dec_end(&d) == -1)
			return (request_fail(why, "bad reload frame"));
		break;
	case MSG_FSM_LOG:
		if (fsproto_dec_u32(&d, &req->arg) == -1 ||
		    fsproto_dec_end(&d) == -1 || req->arg > FSMSG_LOG_VERBOSE)
			return (request_fail(why, "bad log frame"));
		break;
	case MSG_FSM_SHUTDOWN:
		if (msg->len != 0)
			return (request_fail(why, "bad shutdown frame"));
		break;
	default:
		return (request_fail(why, "unexpected frame type"));
	}
	req->type = msg->hdr.type;
	req->reqid = reqid;
	return (1);
}
