/*
 * The control socket: fsctl clients.  A client that sends anything
 * malformed or out of turn is disconnected; everyone else is served.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmonitor.h"

static void	control_dispatch_client(struct client *, struct fsproto_msg *);

void
control_accept(void)
{
	struct client	*c;
	struct ucred	 uc;
	socklen_t	 len;
	int		 fd;

	if ((fd = accept4(env->listen_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		/* The connection waits in the backlog meanwhile. */
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("%s: accept; pausing", __func__);
			capacity_accept_pause();
			return;
		}
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("%s: accept", __func__);
		return;
	}
	if (env->nclients >= CLIENTS_MAX || env->shutting_down) {
		log_warnx("%s: too many clients, refusing one", __func__);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		close(fd);
		return;
	}
	len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    fsproto_chan_init(&c->chan, fd, 0, FSPROTO_F_FDPASS) == -1) {
		log_warn("%s: client", __func__);
		close(fd);
		free(c);
		return;
	}
	c->uid = uc.uid;
	c->gid = uc.gid;
	c->pid = uc.pid;
	len = sizeof(c->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == -1)
		len = 0;
	c->ngroups = len / sizeof(gid_t);
	c->id = ++env->next_client;
	c->src_fd = -1;
	c->state = CL_HELLO;
	TAILQ_INSERT_TAIL(&env->clients, c, entry);
	env->nclients++;
	log_debug("client %u: uid %u pid %d connected", c->id,
	    (unsigned int)c->uid, (int)c->pid);
}

void
control_close(struct client *c)
{
	log_debug("client %u: closed", c->id);
	if (env->reload_client == c)
		env->reload_client = NULL;	/* the result finds no one */
	TAILQ_REMOVE(&env->clients, c, entry);
	env->nclients--;
	if (c->src_fd != -1)
		close(c->src_fd);
	close(c->chan.fd);
	fsproto_chan_clear(&c->chan);
	free(c);
}

void
control_reply(struct client *c, int error, const char *fmt, ...)
{
	char	buf[FSPROTO_REPLY_MAXMSG];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fsproto_reply(&c->chan, 0, error, "%s", buf) == -1)
		log_warn("%s: client %u", __func__, c->id);
	if (c->state == CL_BUSY || c->state == CL_SOURCE)
		c->state = CL_READY;
}

/* Drop a client that broke the protocol, telling it why if we can. */
static void
control_violation(struct client *c, const char *why)
{
	log_warnx("client %u (uid %u): %s; disconnecting", c->id,
	    (unsigned int)c->uid, why);
	(void)fsproto_reply(&c->chan, 0, EPROTO, "protocol error: %s", why);
	c->state = CL_CLOSING;
}

struct client *
control_find_reqid(uint32_t reqid)
{
	struct client	*c;

	TAILQ_FOREACH(c, &env->clients, entry)
		if (c->state == CL_BUSY && c->reqid == reqid)
			return (c);
	return (NULL);
}

void
control_read(struct client *c)
{
	struct fsproto_msg	msg;
	ssize_t			n;
	int			rv;

	if ((n = fsproto_read(&c->chan)) == -1) {
		if (errno == EAGAIN)
			return;
		if (errno == EBADMSG || errno == EPROTO)
			control_violation(c, "bad frame or descriptor");
		else
			control_close(c);
		return;
	}
	if (n == 0) {
		control_close(c);
		return;
	}
	while (c->state != CL_CLOSING &&
	    (rv = fsproto_get(&c->chan, &msg)) == 1) {
		control_dispatch_client(c, &msg);
		fsproto_msg_free(&msg);
	}
	if (c->state != CL_CLOSING && rv == -1)
		control_violation(c, "bad frame");
	/*
	 * One read brings one descriptor, with its frame's first byte,
	 * and nothing goes to a client with one: two unclaimed are a
	 * client holding our descriptors with frames it does not finish.
	 */
	else if (c->state != CL_CLOSING && fsproto_chan_fds(&c->chan) > 1)
		control_violation(c, "descriptors without frames");
}

static void
control_hello(struct client *c, struct fsproto_msg *msg)
{
	uint32_t	min, max, v;

	if (fsproto_hello_recv(msg, &min, &max) == -1) {
		control_violation(c, "expected a hello");
		return;
	}
	if (fsproto_version_pick(FSPROTO_VERSION_MIN, FSPROTO_VERSION_MAX,
	    min, max, &v) == -1) {
		(void)fsproto_reply(&c->chan, 0, EPROTONOSUPPORT,
		    "protocol versions %u to %u not supported (daemon speaks "
		    "%u to %u)", min, max, FSPROTO_VERSION_MIN,
		    FSPROTO_VERSION_MAX);
		c->state = CL_CLOSING;
		return;
	}
	(void)fsproto_hello_send(&c->chan, v, v);
	c->state = CL_READY;
}

static void
control_forward(struct client *c, uint32_t first, uint32_t second,
    int src_fd, int fd, const void *extra, size_t extralen)
{
	struct fsproto_buf	b;
	int			cfd;

	c->reqid = ++env->next_reqid;
	if (c->reqid == 0)
		c->reqid = ++env->next_reqid;
	/* fsmount reads the client's credentials from the socket itself. */
	if ((cfd = fcntl(c->chan.fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: dup", __func__);
		if (src_fd != -1)
			close(src_fd);
		close(fd);
		control_reply(c, EAGAIN, "out of descriptors, try again");
		return;
	}
	parent_compose_fsmount(first, cfd, &c->reqid, sizeof(c->reqid));
	if (src_fd != -1)
		parent_compose_fsmount(MSG_FSM_MOUNT_SOURCE, src_fd, &c->reqid,
		    sizeof(c->reqid));
	fsproto_buf_init(&b, 0);
	fsproto_buf_u32(&b, c->reqid);
	fsproto_buf_add(&b, extra, extralen);
	if (fsproto_buf_send(&env->fsmount, second, 0, fd, &b) == -1)
		fatal("%s: compose", __func__);
	c->state = CL_BUSY;
}

static void
control_mount(struct client *c, struct fsproto_msg *msg)
{
	struct mntopts	 mo;
	const char	*opts;
	char		 err[FSPROTO_REPLY_MAXMSG];
	int		 rv, fd, src;

	if (msg->fd == -1 ||
	    fsproto_get_str(msg, &opts, FSMSG_OPTS_MAX - 1) == -1) {
		control_violation(c, "bad mount request");
		return;
	}
	fd = fsproto_msg_takefd(msg);
	src = c->src_fd;
	c->src_fd = -1;
	if ((rv = mntopt_check(opts, c->uid, env->conf.user_allow_other, &mo,
	    err, sizeof(err))) == 0 && c->uid != 0 &&
	    (unsigned int)parent_mount_count(c->uid) >= env->conf.mount_max) {
		snprintf(err, sizeof(err), "too many mounts (mount_max is %u)",
		    env->conf.mount_max);
		rv = EUSERS;
	}
	if (rv == 0)
		rv = capacity_mount_check(err, sizeof(err));
	if (rv != 0) {
		close(fd);
		close(src);
		control_reply(c, rv, "%s", err);
		return;
	}
	control_forward(c, MSG_FSM_MOUNT_CLIENT, MSG_FSM_MOUNT, src, fd,
	    opts, strlen(opts) + 1);
}

static void
control_unmount(struct client *c, struct fsproto_msg *msg)
{
	uint32_t	flags;

	if (msg->fd == -1 || fsproto_get_exact(msg, &flags,
	    sizeof(flags)) == -1 || (flags & ~FSMSG_UNMOUNT_LAZY) != 0) {
		control_violation(c, "bad unmount request");
		return;
	}
	control_forward(c, MSG_FSM_UNMOUNT_CLIENT, MSG_FSM_UNMOUNT, -1,
	    fsproto_msg_takefd(msg), &flags, sizeof(flags));
}

/* Root only: the log tells what every user does. */
static void
control_log(struct client *c, struct fsproto_msg *msg)
{
	uint32_t	level;

	if (msg->fd != -1 || fsproto_get_exact(msg, &level,
	    sizeof(level)) == -1 || (level != FSMSG_LOG_BRIEF &&
	    level != FSMSG_LOG_VERBOSE)) {
		control_violation(c, "bad log request");
		return;
	}
	if (c->uid != 0) {
		control_reply(c, EPERM, "only root may change what is logged");
		return;
	}
	parent_set_log(level);
	control_reply(c, 0, "%s", "");
}

/* The request table: which frame is valid in which state. */
static void
control_dispatch_client(struct client *c, struct fsproto_msg *msg)
{
	if (c->state == CL_HELLO) {
		control_hello(c, msg);
		return;
	}
	if (c->state == CL_BUSY) {
		control_violation(c, "request while another is in progress");
		return;
	}
	if (c->state == CL_SOURCE && msg->hdr.type != MSG_CTL_MOUNT) {
		control_violation(c, "mount source without a mount");
		return;
	}
	/* Allow lines govern mounting; anyone may undo their own mounts. */
	if (msg->hdr.type == MSG_CTL_MOUNT_SOURCE &&
	    !conf_allows(&env->conf, c->uid, c->gid, c->groups, c->ngroups)) {
		control_reply(c, EPERM, "you are not allowed to use fsmonitor");
		c->state = CL_CLOSING;
		return;
	}
	switch (msg->hdr.type) {
	case MSG_CTL_MOUNT_SOURCE:
		if (msg->fd == -1 || msg->len != 0) {
			control_violation(c, "bad mount source");
			return;
		}
		c->src_fd = fsproto_msg_takefd(msg);
		c->state = CL_SOURCE;
		break;
	case MSG_CTL_MOUNT:
		if (c->state != CL_SOURCE) {
			control_violation(c, "mount without a source");
			return;
		}
		control_mount(c, msg);
		break;
	case MSG_CTL_UNMOUNT:
		control_unmount(c, msg);
		break;
	case MSG_CTL_STATUS:
		if (msg->len != 0 || msg->fd != -1) {
			control_violation(c, "bad status request");
			return;
		}
		parent_send_status(c);
		break;
	case MSG_CTL_LOG:
		control_log(c, msg);
		break;
	case MSG_CTL_RELOAD:
		if (msg->len != 0 || msg->fd != -1) {
			control_violation(c, "bad reload request");
			return;
		}
		if (c->uid != 0) {
			control_reply(c, EPERM, "reload is for root only");
			return;
		}
		parent_reload(c);
		break;
	default:
		control_violation(c, "unknown request");
		break;
	}
}
