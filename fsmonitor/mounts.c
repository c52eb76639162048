/*
 * The mount table, and the parent's side of its channels to fsmount
 * and to the workers.  A malformed frame from either is fatal: they are
 * privilege-separation peers.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsmonitor.h"

static struct mnt *
mnt_find(uint32_t id)
{
	struct mnt	*m;

	TAILQ_FOREACH(m, &env->mnts, entry)
		if (m->id == id)
			return (m);
	return (NULL);
}

static void
mnt_free(struct mnt *m)
{
	TAILQ_REMOVE(&env->mnts, m, entry);
	if (m->has_chan) {
		close(m->chan.fd);
		fsproto_chan_clear(&m->chan);
	}
	free(m->source);
	free(m->mountpoint);
	free(m->options);
	free(m->owner);
	free(m);
}

/* Live mounts count against mount_max; failed ones do not. */
int
parent_mount_count(uid_t uid)
{
	struct mnt	*m;
	int		 n = 0;

	TAILQ_FOREACH(m, &env->mnts, entry)
		if (m->uid == uid && m->state != MOUNT_FAILED)
			n++;
	return (n);
}

void
parent_compose_fsmount(uint32_t type, int fd, const void *data, size_t len)
{
	if (fsproto_compose(&env->fsmount, type, 0, fd, data, len) == -1)
		fatal("%s", __func__);
}

static uint32_t
parent_reqid(void)
{
	if (++env->next_reqid == 0)
		++env->next_reqid;
	return (env->next_reqid);
}

static void
parent_static_mount(uint32_t index)
{
	uint32_t	req[2];
	char		err[FSPROTO_REPLY_MAXMSG];

	if (capacity_mount_check(err, sizeof(err)) != 0) {
		log_warnx("static mount %s: %s",
		    env->conf.statics[index].mountpoint, err);
		return;
	}
	req[0] = parent_reqid();
	req[1] = index;
	parent_compose_fsmount(MSG_FSM_STATIC_MOUNT, -1, req, sizeof(req));
}

static void
parent_unmount_id(uint32_t id)
{
	uint32_t	req[2];

	req[0] = parent_reqid();
	req[1] = id;
	parent_compose_fsmount(MSG_FSM_UNMOUNT_ID, -1, req, sizeof(req));
}

/*
 * After a reload: static mounts no longer in the configuration go,
 * new ones come; those that stay keep running under their new index.
 */
static void
parent_sync_statics(int initial)
{
	struct conf_static	*st;
	struct mnt		*m, *next;
	size_t			 i;
	int			*have;

	if ((have = calloc(env->conf.nstatics + 1, sizeof(int))) == NULL)
		fatal("%s", __func__);
	TAILQ_FOREACH_SAFE(m, &env->mnts, entry, next) {
		if ((m->flags & FSMSG_MOUNT_STATIC) == 0)
			continue;
		for (i = 0; i < env->conf.nstatics; i++) {
			st = &env->conf.statics[i];
			if (strcmp(st->source, m->source) == 0 &&
			    strcmp(st->mountpoint, m->mountpoint) == 0 &&
			    strcmp(st->options, m->options) == 0 && !have[i])
				break;
		}
		if (m->state == MOUNT_FAILED)
			mnt_free(m);	/* still wanted: mounted again below */
		else if (i < env->conf.nstatics) {
			have[i] = 1;
			m->index = i;
		}
		else if (m->state != MOUNT_UNMOUNTING) {
			log_info("static mount %s removed from the "
			    "configuration", m->mountpoint);
			m->state = MOUNT_UNMOUNTING;
			parent_unmount_id(m->id);
		}
	}
	for (i = 0; i < env->conf.nstatics; i++)
		if (!have[i]) {
			if (!initial)
				log_info("static mount %s added",
				    env->conf.statics[i].mountpoint);
			parent_static_mount(i);
		}
	free(have);
}

void
parent_reload(struct client *c)
{
	uint32_t	reqid;

	if (env->reload_reqid != 0) {
		if (c != NULL)
			control_reply(c, EBUSY, "a reload is in progress");
		return;
	}
	reqid = parent_reqid();
	env->reload_reqid = reqid;
	env->reload_client = c;
	service_notify_reloading();
	if (c != NULL) {
		c->state = CL_BUSY;
		c->reqid = reqid;
	}
	parent_compose_fsmount(MSG_FSM_RELOAD, -1, &reqid, sizeof(reqid));
}

static void
parent_recv_config(struct fsproto_msg *msg)
{
	struct fsmsg_policy	 pol;
	struct fsproto_dec	 d;
	struct conf		*c = &env->nconf;
	uint32_t		 v, i;

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_bytes(&d, &pol, sizeof(pol)) == -1 ||
	    pol.nuids + pol.ngids > FSMSG_ALLOW_MAX ||
	    pol.nstatic > CONF_STATIC_MAX)
		fatalx("%s: bad configuration frame", __func__);
	conf_free(c);
	c->user_allow_other = pol.user_allow_other != 0;
	c->mount_max = pol.mount_max;
	c->allow_all = pol.allow_all != 0;
	c->allow_uids = calloc(pol.nuids + 1, sizeof(uid_t));
	c->allow_gids = calloc(pol.ngids + 1, sizeof(gid_t));
	c->statics = calloc(pol.nstatic + 1, sizeof(*c->statics));
	if (c->allow_uids == NULL || c->allow_gids == NULL ||
	    c->statics == NULL)
		fatal("%s", __func__);
	for (i = 0; i < pol.nuids; i++) {
		if (fsproto_dec_u32(&d, &v) == -1)
			fatalx("%s: bad configuration frame", __func__);
		c->allow_uids[c->nallow_uids++] = v;
	}
	for (i = 0; i < pol.ngids; i++) {
		if (fsproto_dec_u32(&d, &v) == -1)
			fatalx("%s: bad configuration frame", __func__);
		c->allow_gids[c->nallow_gids++] = v;
	}
	if (fsproto_dec_end(&d) == -1)
		fatalx("%s: bad configuration frame", __func__);
	env->nconf_statics = pol.nstatic;
	env->nconf_open = 1;
}

static void
parent_recv_static(struct fsproto_msg *msg)
{
	struct fsproto_dec	 d;
	struct conf		*c = &env->nconf;
	struct conf_static	*st;
	const char		*src, *mnt, *opts;
	uint32_t		 index;
	char			 err[128];

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_u32(&d, &index) == -1 ||
	    fsproto_dec_str(&d, &src, FSMSG_PATH_MAX) == -1 ||
	    fsproto_dec_str(&d, &mnt, FSMSG_PATH_MAX) == -1 ||
	    fsproto_dec_str(&d, &opts, FSMSG_OPTS_MAX) == -1 ||
	    fsproto_dec_end(&d) == -1 || !env->nconf_open ||
	    index != c->nstatics || index >= env->nconf_statics)
		fatalx("%s: bad static mount frame", __func__);
	st = &c->statics[c->nstatics];
	if (mntopt_parse(opts, &st->opts, err, sizeof(err)) == -1)
		fatalx("%s: bad static mount options: %s", __func__, err);
	if ((st->source = strdup(src)) == NULL ||
	    (st->mountpoint = strdup(mnt)) == NULL ||
	    (st->options = strdup(opts)) == NULL)
		fatal("%s", __func__);
	c->nstatics++;
}

static void
parent_recv_config_end(void)
{
	struct conf	*c = &env->nconf;
	int		 initial = !env->have_conf;

	if (!env->nconf_open || c->nstatics != env->nconf_statics)
		fatalx("%s: configuration incomplete", __func__);
	env->nconf_open = 0;
	conf_free(&env->conf);
	env->conf = *c;
	conf_init(c);
	env->have_conf = 1;
	parent_sync_statics(initial);
	/* The control socket listened before fsmount was started. */
	if (initial)
		service_notify("READY=1\nSTATUS=serving");
}

static struct mnt *
parent_recv_mount_ok(struct fsproto_msg *msg)
{
	struct fsmsg_mount_ok	 ok;
	struct fsproto_dec	 d;
	struct mnt		*m;
	const char		*src, *mnt, *opts, *owner;

	fsproto_dec_init(&d, msg);
	if (msg->fd == -1 || fsproto_dec_bytes(&d, &ok, sizeof(ok)) == -1 ||
	    fsproto_dec_str(&d, &src, FSMSG_PATH_MAX) == -1 ||
	    fsproto_dec_str(&d, &mnt, FSMSG_PATH_MAX) == -1 ||
	    fsproto_dec_str(&d, &opts, FSMSG_OPTS_MAX) == -1 ||
	    fsproto_dec_str(&d, &owner, FSMSG_NAME_MAX) == -1 ||
	    fsproto_dec_end(&d) == -1 || mnt_find(ok.id) != NULL)
		fatalx("%s: bad mount result", __func__);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("%s", __func__);
	m->id = ok.id;
	m->uid = ok.uid;
	m->pid = ok.pid;
	m->flags = ok.flags;
	m->index = ok.index;
	m->state = MOUNT_STARTING;
	m->started = time(NULL);
	if ((m->source = strdup(src)) == NULL ||
	    (m->mountpoint = strdup(mnt)) == NULL ||
	    (m->options = strdup(opts)) == NULL ||
	    (m->owner = strdup(owner)) == NULL)
		fatal("%s", __func__);
	if (fsproto_chan_init(&m->chan, fsproto_msg_takefd(msg), 0, 0) == -1)
		fatal("%s: worker channel", __func__);
	m->has_chan = 1;
	TAILQ_INSERT_TAIL(&env->mnts, m, entry);
	return (m);
}

/* A successful mount replaces a failed one of the same owner and place. */
static void
parent_forget_failed(uid_t uid, const char *mountpoint, uint32_t keep)
{
	struct mnt	*m, *next;

	TAILQ_FOREACH_SAFE(m, &env->mnts, entry, next)
		if (m->state == MOUNT_FAILED && m->id != keep &&
		    (uid == 0 || m->uid == uid) &&
		    strcmp(m->mountpoint, mountpoint) == 0)
			mnt_free(m);
}

static void
parent_mount_ok(struct fsproto_msg *msg)
{
	struct mnt	*m;
	struct client	*c;

	m = parent_recv_mount_ok(msg);
	log_info("mount %u: %s on %s for %s, worker %d", m->id, m->source,
	    m->mountpoint, m->owner, (int)m->pid);
	parent_forget_failed(m->uid, m->mountpoint, m->id);
	/* The client hears back once the worker serves. */
	if ((c = control_find_reqid(((struct fsmsg_mount_ok *)(void *)
	    msg->data)->reqid)) != NULL)
		m->wait_reqid = c->reqid;
}

static void
parent_mount_fail(struct fsproto_msg *msg)
{
	struct fsproto_dec	 d;
	struct client		*c;
	const char		*text;
	uint32_t		 reqid, error;

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_u32(&d, &reqid) == -1 ||
	    fsproto_dec_u32(&d, &error) == -1 ||
	    fsproto_dec_str(&d, &text, FSPROTO_REPLY_MAXMSG) == -1 ||
	    fsproto_dec_end(&d) == -1 || error == 0 || error > 4095)
		fatalx("%s: bad mount failure", __func__);
	if ((c = control_find_reqid(reqid)) != NULL)
		control_reply(c, error, "%s", text);
	else
		log_warnx("static mount failed: %s", text);
}

static void
parent_unmount_result(struct fsproto_msg *msg)
{
	struct fsproto_dec	 d;
	struct client		*c;
	struct mnt		*m, *next;
	const char		*text, *path;
	uint32_t		 reqid, id, error;
	int			 cleared = 0;

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_u32(&d, &reqid) == -1 ||
	    fsproto_dec_u32(&d, &id) == -1 ||
	    fsproto_dec_u32(&d, &error) == -1 ||
	    fsproto_dec_str(&d, &text, FSPROTO_REPLY_MAXMSG) == -1 ||
	    fsproto_dec_str(&d, &path, FSMSG_PATH_MAX) == -1 ||
	    fsproto_dec_end(&d) == -1 || error > 4095)
		fatalx("%s: bad unmount result", __func__);
	if (error == 0 && (m = mnt_find(id)) != NULL &&
	    m->state != MOUNT_FAILED)
		m->state = MOUNT_UNMOUNTING;
	if ((c = control_find_reqid(reqid)) == NULL)
		return;
	/* Unmounting a failed mount clears it from the table. */
	if (error == EINVAL && path[0] != '\0') {
		TAILQ_FOREACH_SAFE(m, &env->mnts, entry, next)
			if (m->state == MOUNT_FAILED &&
			    (c->uid == 0 || c->uid == m->uid) &&
			    strcmp(m->mountpoint, path) == 0) {
				mnt_free(m);
				cleared = 1;
			}
		if (cleared) {
			control_reply(c, 0, "cleared the failed mount");
			return;
		}
	}
	control_reply(c, error, "%s", text);
}

static void
parent_reload_result(struct fsproto_msg *msg)
{
	struct fsproto_dec	 d;
	const char		*text;
	uint32_t		 reqid, error;

	fsproto_dec_init(&d, msg);
	if (fsproto_dec_u32(&d, &reqid) == -1 ||
	    fsproto_dec_u32(&d, &error) == -1 ||
	    fsproto_dec_str(&d, &text, FSPROTO_REPLY_MAXMSG) == -1 ||
	    fsproto_dec_end(&d) == -1 || reqid != env->reload_reqid ||
	    error > 4095)
		fatalx("%s: bad reload result", __func__);
	if (error != 0)
		log_warnx("reload: %s", text);
	service_notify("READY=1\nSTATUS=%s", error != 0 ?
	    "serving; the last reload failed, see the log" : "serving");
	if (env->reload_client != NULL)
		control_reply(env->reload_client, error, "%s", text);
	env->reload_reqid = 0;
	env->reload_client = NULL;
}

static const char *
parent_status_reason(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return (buf);
}

static void
parent_worker_exit(struct fsproto_msg *msg)
{
	struct fsmsg_worker_exit	 we;
	struct mnt			*m;
	struct client			*c;
	char				 reason[96];

	if (fsproto_get_exact(msg, &we, sizeof(we)) == -1 ||
	    (m = mnt_find(we.id)) == NULL || m->pid != we.pid)
		fatalx("%s: bad worker exit", __func__);
	parent_status_reason(we.status, reason, sizeof(reason));
	if (m->wait_reqid != 0 &&
	    (c = control_find_reqid(m->wait_reqid)) != NULL)
		control_reply(c, EIO, "worker %s before serving", reason);
	if (we.unmounted || m->state == MOUNT_UNMOUNTING ||
	    env->shutting_down || m->wait_reqid != 0) {
		log_debug("mount %u: worker %d %s", m->id, (int)m->pid,
		    reason);
		mnt_free(m);
		return;
	}
	/*
	 * A worker ends by itself, and cleanly, when the kernel ends its
	 * connection; if fsmount then found nothing to detach, the mount
	 * was unmounted from outside (umount(8)): it is simply gone.
	 */
	if (WIFEXITED(we.status) && WEXITSTATUS(we.status) == 0 &&
	    !we.detached) {
		log_info("mount %u: %s was unmounted outside fsmonitor; "
		    "worker %d %s", m->id, m->mountpoint, (int)m->pid, reason);
		mnt_free(m);
		return;
	}
	log_warnx("mount %u (%s): worker %d %s; mount %s", m->id,
	    m->mountpoint, (int)m->pid, reason,
	    we.detached ? "detached" : "not detached");
	m->state = MOUNT_FAILED;
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
	if (m->has_chan) {
		close(m->chan.fd);
		fsproto_chan_clear(&m->chan);
		m->has_chan = 0;
	}
}

/*
 * fsmount started a new worker on a restartable mount's connection:
 * the mount stays, with the new worker's channel, and is running again
 * once that worker says it serves.
 */
static void
parent_worker_restart(struct fsproto_msg *msg)
{
	struct fsmsg_worker_restart	 wr;
	struct mnt			*m;
	char				 reason[96];

	if (msg->fd == -1 || fsproto_get_exact(msg, &wr, sizeof(wr)) == -1 ||
	    (m = mnt_find(wr.id)) == NULL || m->pid != wr.old_pid ||
	    wr.pid <= 0)
		fatalx("%s: bad worker restart", __func__);
	parent_status_reason(wr.status, reason, sizeof(reason));
	log_warnx("mount %u (%s): worker %d %s; restarted as %d", m->id,
	    m->mountpoint, (int)m->pid, reason, (int)wr.pid);
	if (m->has_chan) {
		close(m->chan.fd);
		fsproto_chan_clear(&m->chan);
	}
	if (fsproto_chan_init(&m->chan, fsproto_msg_takefd(msg), 0, 0) == -1)
		fatal("%s: worker channel", __func__);
	m->has_chan = 1;
	m->pid = wr.pid;
	m->restarts = wr.restarts;
	if (m->state == MOUNT_RUNNING)
		m->state = MOUNT_STARTING;
}

void
parent_dispatch_fsmount(struct fsproto_msg *msg)
{
	if (msg->fd != -1 && msg->hdr.type != MSG_FSM_MOUNT_OK &&
	    msg->hdr.type != MSG_FSM_WORKER_RESTART)
		fatalx("%s: unexpected descriptor", __func__);
	switch (msg->hdr.type) {
	case MSG_FSM_CONFIG:
		parent_recv_config(msg);
		break;
	case MSG_FSM_STATIC:
		parent_recv_static(msg);
		break;
	case MSG_FSM_CONFIG_END:
		if (msg->len != 0)
			fatalx("%s: bad configuration end", __func__);
		parent_recv_config_end();
		break;
	case MSG_FSM_MOUNT_OK:
		parent_mount_ok(msg);
		break;
	case MSG_FSM_MOUNT_FAIL:
		parent_mount_fail(msg);
		break;
	case MSG_FSM_UNMOUNT_RESULT:
		parent_unmount_result(msg);
		break;
	case MSG_FSM_RELOAD_RESULT:
		parent_reload_result(msg);
		break;
	case MSG_FSM_WORKER_EXIT:
		parent_worker_exit(msg);
		break;
	case MSG_FSM_WORKER_RESTART:
		parent_worker_restart(msg);
		break;
	default:
		fatalx("%s: unexpected frame type %u", __func__,
		    msg->hdr.type);
	}
}

/*
 * A worker is the least trusted process: one that breaks the protocol
 * is cut off and its mount taken down, and everyone else goes on.
 */
static void
parent_drop_worker(struct mnt *m, const char *why)
{
	log_warnx("mount %u (%s): worker %d %s; unmounting it", m->id,
	    m->mountpoint, (int)m->pid, why);
	close(m->chan.fd);
	fsproto_chan_clear(&m->chan);
	m->has_chan = 0;
	if (m->state != MOUNT_UNMOUNTING) {
		m->state = MOUNT_UNMOUNTING;
		parent_unmount_id(m->id);
	}
}

/* Returns -1 if the worker was dropped. */
static int
parent_dispatch_worker(struct mnt *m, struct fsproto_msg *msg)
{
	struct client	*c;

	if (msg->fd != -1) {
		parent_drop_worker(m, "sent a descriptor");
		return (-1);
	}
	switch (msg->hdr.type) {
	case MSG_WORKER_READY:
		if (m->state != MOUNT_STARTING || fsproto_get_exact(msg,
		    &m->features, sizeof(m->features)) == -1 ||
		    (m->features.flags & ~FSMSG_FEAT_ALL) != 0) {
			parent_drop_worker(m, "sent a bad ready message");
			return (-1);
		}
		m->state = MOUNT_RUNNING;
		if (m->wait_reqid != 0 &&
		    (c = control_find_reqid(m->wait_reqid)) != NULL)
			control_reply(c, 0, "mounted %s on %s", m->source,
			    m->mountpoint);
		m->wait_reqid = 0;
		return (0);
	case MSG_WORKER_STATS:
		if (fsproto_get_exact(msg, &m->stats,
		    sizeof(m->stats)) == -1) {
			parent_drop_worker(m, "sent bad counters");
			return (-1);
		}
		return (0);
	default:
		parent_drop_worker(m, "sent an unknown message");
		return (-1);
	}
}

/*
 * A worker's channel.  Its end is the worker's death, which fsmount
 * reports; here we only stop listening.
 */
void
parent_read_worker(struct mnt *m)
{
	struct fsproto_msg	msg;
	ssize_t			n;
	int			rv;

	if ((n = fsproto_read(&m->chan)) == -1 && errno == EAGAIN)
		return;
	if (n == -1 && (errno == EBADMSG || errno == EPROTO)) {
		parent_drop_worker(m, "sent a malformed frame");
		return;
	}
	if (n <= 0) {
		/* Its death is reported by fsmount. */
		close(m->chan.fd);
		fsproto_chan_clear(&m->chan);
		m->has_chan = 0;
		return;
	}
	while ((rv = fsproto_get(&m->chan, &msg)) == 1) {
		rv = parent_dispatch_worker(m, &msg);
		fsproto_msg_free(&msg);
		if (rv == -1)
			return;
	}
	if (rv == -1)
		parent_drop_worker(m, "sent a malformed frame");
}

/* Every process that logs follows: fsmount, and each worker. */
void
parent_set_log(uint32_t level)
{
	struct mnt	*m;
	uint32_t	 req[2];

	log_setverbose(level == FSMSG_LOG_VERBOSE);
	log_info("logging %s", level == FSMSG_LOG_VERBOSE ?
	    "debugging messages too" : "without debugging messages");
	req[0] = parent_reqid();
	req[1] = level;
	parent_compose_fsmount(MSG_FSM_LOG, -1, req, sizeof(req));
	TAILQ_FOREACH(m, &env->mnts, entry)
		if (m->has_chan && fsproto_compose(&m->chan, MSG_WORKER_LOG,
		    0, -1, &level, sizeof(level)) == -1)
			log_warn("%s: mount %u", __func__, m->id);
}

void
parent_send_status(struct client *c)
{
	struct fsmsg_mount_info	 mi;
	struct fsproto_buf	 b;
	struct mnt		*m;
	time_t			 now = time(NULL);

	TAILQ_FOREACH(m, &env->mnts, entry) {
		memset(&mi, 0, sizeof(mi));
		mi.id = m->id;
		mi.uid = m->uid;
		mi.pid = m->pid;
		mi.state = m->state;
		mi.started = m->started;
		mi.now = now;
		mi.flags = m->flags;
		mi.restarts = m->restarts;
		mi.stats = m->stats;
		mi.features = m->features;
		fsproto_buf_init(&b, 0);
		fsproto_buf_add(&b, &mi, sizeof(mi));
		fsproto_buf_str(&b, m->mountpoint);
		fsproto_buf_str(&b, m->source);
		fsproto_buf_str(&b, m->options);
		fsproto_buf_str(&b, m->owner);
		fsproto_buf_str(&b, m->reason);
		if (fsproto_buf_send(&c->chan, MSG_CTL_STATUS_ENTRY, 0, -1,
		    &b) == -1)
			log_warn("%s: client %u", __func__, c->id);
	}
	control_reply(c, 0, "%s", "");
}
