/*
 * fsmount: the root child of fsmonitor.  It reads the configuration
 * itself, checks every request from the parent again, mounts and
 * unmounts, and starts and reaps the workers.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsmount.h"

struct fsm_env	*env;

static struct request_state	pending;

static void	fsmount_dispatch_parent(struct fsproto_msg *);
static void	fsmount_shutdown(int) __attribute__((__noreturn__));

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: fsmount [-dTv] [-f file] [-K kernel] -s socket\n");
	exit(1);
}

void
fsmount_compose_parent(uint32_t type, int fd, const void *data, size_t len)
{
	if (fsproto_compose(&env->chan, type, 0, fd, data, len) == -1)
		fatal("%s", __func__);
}

void
fsmount_send_mount_fail(uint32_t reqid, int error, const char *msg)
{
	struct fsproto_buf	b;

	log_info("mount refused: %s", msg);
	fsproto_buf_init(&b, 0);
	fsproto_buf_u32(&b, reqid);
	fsproto_buf_u32(&b, error);
	fsproto_buf_str(&b, msg);
	if (fsproto_buf_send(&env->chan, MSG_FSM_MOUNT_FAIL, 0, -1, &b) == -1)
		fatal("%s", __func__);
}

static void
fsmount_send_unmount_result(uint32_t reqid, uint32_t id, int error,
    const char *msg, const char *path)
{
	struct fsproto_buf	b;

	fsproto_buf_init(&b, 0);
	fsproto_buf_u32(&b, reqid);
	fsproto_buf_u32(&b, id);
	fsproto_buf_u32(&b, error);
	fsproto_buf_str(&b, msg);
	fsproto_buf_str(&b, path);
	if (fsproto_buf_send(&env->chan, MSG_FSM_UNMOUNT_RESULT, 0, -1,
	    &b) == -1)
		fatal("%s", __func__);
}

void
fsmount_send_config(void)
{
	struct fsmsg_policy	 pol;
	struct fsproto_buf	 b;
	const struct conf	*c = &env->conf;
	size_t			 i;

	memset(&pol, 0, sizeof(pol));
	pol.user_allow_other = c->user_allow_other;
	pol.mount_max = c->mount_max;
	pol.allow_all = c->allow_all;
	pol.nuids = c->nallow_uids;
	pol.ngids = c->nallow_gids;
	pol.nstatic = c->nstatics;
	fsproto_buf_init(&b, 0);
	fsproto_buf_add(&b, &pol, sizeof(pol));
	for (i = 0; i < c->nallow_uids; i++)
		fsproto_buf_u32(&b, c->allow_uids[i]);
	for (i = 0; i < c->nallow_gids; i++)
		fsproto_buf_u32(&b, c->allow_gids[i]);
	if (fsproto_buf_send(&env->chan, MSG_FSM_CONFIG, 0, -1, &b) == -1)
		fatal("%s: config", __func__);
	for (i = 0; i < c->nstatics; i++) {
		fsproto_buf_init(&b, 0);
		fsproto_buf_u32(&b, i);
		fsproto_buf_str(&b, c->statics[i].source);
		fsproto_buf_str(&b, c->statics[i].mountpoint);
		fsproto_buf_str(&b, c->statics[i].options);
		if (fsproto_buf_send(&env->chan, MSG_FSM_STATIC, 0, -1,
		    &b) == -1)
			fatal("%s: static", __func__);
	}
	fsmount_compose_parent(MSG_FSM_CONFIG_END, -1, NULL, 0);
}

static void
fsmount_owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		strlcpy(buf, pw->pw_name, len);
	else
		snprintf(buf, len, "%u", (unsigned int)uid);
}

static void
fsmount_send_mount_ok(uint32_t reqid, struct fsm_mount *m, int chanfd)
{
	struct fsmsg_mount_ok	ok;
	struct fsproto_buf	b;
	char			owner[FSMSG_NAME_MAX];

	memset(&ok, 0, sizeof(ok));
	ok.reqid = reqid;
	ok.id = m->id;
	ok.uid = m->uid;
	ok.pid = m->worker;
	ok.flags = m->is_static ? FSMSG_MOUNT_STATIC : 0;
	ok.index = m->index;
	fsmount_owner_name(m->uid, owner, sizeof(owner));
	fsproto_buf_init(&b, 0);
	fsproto_buf_add(&b, &ok, sizeof(ok));
	fsproto_buf_str(&b, m->source);
	fsproto_buf_str(&b, m->mountpoint);
	fsproto_buf_str(&b, m->options);
	fsproto_buf_str(&b, owner);
	if (fsproto_buf_send(&env->chan, MSG_FSM_MOUNT_OK, 0, chanfd, &b) ==
	    -1)
		fatal("%s", __func__);
}

/*
 * What a restart of the worker needs: the state the workers share
 * (a memfd of fixed size: sealed, so no worker can shrink it under the
 * next) and the source.
 */
static int
fsmount_restartable(int srcfd, struct fsm_mount *m, char *err,
    size_t errlen)
{
	int	fd;

	if ((fd = memfd_create("fsworker-state",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1 ||
	    ftruncate(fd, FSMSG_STATE_SIZE) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		snprintf(err, errlen, "restart state: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return (ENOMEM);
	}
	m->state_fd = fd;
	if ((m->src_fd = fcntl(srcfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "source: %s", strerror(errno));
		return (EMFILE);
	}
	return (0);
}

/*
 * Check, mount and start the worker.  The descriptors are the caller's;
 * returns an errno and fills err on failure.
 */
static int
fsmount_mount(const struct cred *cr, int srcfd, int mpfd, const char *opts,
    struct fsm_mount **mp, int *chanfd, char *err, size_t errlen)
{
	struct mntopts		 mo;
	struct fsm_mount	*m;
	char			 src[PATH_MAX], mnt[PATH_MAX];
	char			 canon[MO_STRING_MAX];
	struct stat		 sb;
	int			 rv, fusefd;

	if ((rv = mntopt_check(opts, cr->uid, env->conf.user_allow_other,
	    &mo, err, errlen)) != 0 ||
	    (rv = check_mount_max(cr, err, errlen)) != 0 ||
	    (rv = capacity_check(mo.flags & MO_RESTART, err, errlen)) != 0 ||
	    (rv = check_source(srcfd, src, sizeof(src), err, errlen)) != 0 ||
	    (rv = check_mountpoint(cr, mpfd, mnt, sizeof(mnt), err,
	    errlen)) != 0)
		return (rv);
	if (mntopt_format(&mo, canon, sizeof(canon)) == -1) {
		snprintf(err, errlen, "option string too long");
		return (EINVAL);
	}
	if ((fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "/dev/fuse: %s", strerror(errno));
		return (errno);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("%s", __func__);
	if (fstat(srcfd, &sb) == -1)
		fatal("%s: source", __func__);
	m->src_dev = sb.st_dev;
	m->multiuser = (mo.flags & MO_MULTIUSER) != 0;
	m->fuse_fd = fusefd;
	m->parent_fd = m->state_fd = m->src_fd = -1;
	m->uid = cr->uid;
	/* Whom the worker runs for, and any worker started after it. */
	m->cred = *cr;
	m->source = strdup(src);
	m->mountpoint = strdup(mnt);
	m->options = strdup(canon);
	if (m->source == NULL || m->mountpoint == NULL || m->options == NULL)
		fatal("%s", __func__);
	if ((mo.flags & MO_RESTART) &&
	    (rv = fsmount_restartable(srcfd, m, err, errlen)) != 0) {
		mount_free(m);
		return (rv);
	}
	if ((rv = mount_fuse(cr, fusefd, mpfd, src, &mo, mnt, m, err,
	    errlen)) != 0) {
		mount_free(m);
		return (rv);
	}
	if ((m->worker = worker_start(cr, m, srcfd, chanfd, err,
	    errlen)) == -1) {
		(void)close(m->fuse_fd);
		m->fuse_fd = -1;
		(void)mount_detach(m, 1, canon, sizeof(canon));
		mount_free(m);
		return (EAGAIN);
	}
	if (cr->uid == 0 && (mo.flags & MO_ALLOW_OTHER) &&
	    !(mo.flags & MO_MULTIUSER))
		log_warnx("%s: other users' writes are root's, with root's "
		    "reserved blocks; multiuser would make them their own",
		    mnt);
	m->id = ++env->next_id;
	m->state = FSM_MOUNTED;
	TAILQ_INSERT_TAIL(&env->mounts, m, entry);
	log_info("mounted %s on %s for uid %u (id %u, worker %d)", src, mnt,
	    (unsigned int)cr->uid, m->id, (int)m->worker);
	*mp = m;
	return (0);
}

static void
fsmount_user_mount(uint32_t reqid, int clientfd, int srcfd, int mpfd,
    const char *opts)
{
	struct fsm_mount	*m;
	struct cred		 cr;
	char			 err[FSMOUNT_ERRLEN];
	int			 rv, chanfd;

	memset(&cr, 0, sizeof(cr));
	if ((rv = check_client(clientfd, 1, &cr, err, sizeof(err))) != 0 ||
	    (rv = fsmount_mount(&cr, srcfd, mpfd, opts, &m, &chanfd, err,
	    sizeof(err))) != 0) {
		fsmount_send_mount_fail(reqid, rv, err);
		return;
	}
	fsmount_send_mount_ok(reqid, m, chanfd);
}

static void
fsmount_static_mount(uint32_t reqid, uint32_t index)
{
	struct conf_static	*st;
	struct fsm_mount	*m;
	struct cred		 cr;
	char			 err[FSMOUNT_ERRLEN];
	int			 rv, srcfd, mpfd, chanfd;

	if (index >= env->conf.nstatics)
		fatalx("%s: no static mount %u", __func__, index);
	st = &env->conf.statics[index];
	memset(&cr, 0, sizeof(cr));
	if ((srcfd = check_static_path(st->source, O_RDONLY | O_DIRECTORY, 0,
	    &rv, err, sizeof(err))) == -1) {
		fsmount_send_mount_fail(reqid, rv, err);
		return;
	}
	if ((mpfd = check_static_path(st->mountpoint, O_PATH, 1, &rv, err,
	    sizeof(err))) == -1) {
		fsmount_send_mount_fail(reqid, rv, err);
		close(srcfd);
		return;
	}
	rv = fsmount_mount(&cr, srcfd, mpfd, st->options, &m, &chanfd, err,
	    sizeof(err));
	close(srcfd);
	close(mpfd);
	if (rv != 0) {
		fsmount_send_mount_fail(reqid, rv, err);
		return;
	}
	m->is_static = 1;
	m->index = index;
	fsmount_send_mount_ok(reqid, m, chanfd);
}

/* Unmount for a client: only the owner of the mount, or root. */
static void
fsmount_user_unmount(uint32_t reqid, int clientfd, int mpfd, uint32_t flags)
{
	struct fsm_mount	*m;
	struct cred		 cr;
	char			 err[FSMOUNT_ERRLEN], path[PATH_MAX];
	int			 rv, mnt_id;

	/* Our copy must not hold the mount busy. */
	mnt_id = mnt_id_of(mpfd);
	if (fd_path(mpfd, path, sizeof(path)) == -1)
		path[0] = '\0';
	close(mpfd);
	memset(&cr, 0, sizeof(cr));
	if ((rv = check_client(clientfd, 0, &cr, err, sizeof(err))) != 0) {
		fsmount_send_unmount_result(reqid, 0, rv, err, path);
		return;
	}
	if ((m = mount_find_mnt_id(mnt_id)) == NULL) {
		fsmount_send_unmount_result(reqid, 0, EINVAL,
		    "not mounted by fsmonitor", path);
		return;
	}
	if (cr.uid != 0 && cr.uid != m->uid) {
		fsmount_send_unmount_result(reqid, m->id, EPERM,
		    "not your mount", path);
		return;
	}
	if ((rv = mount_detach(m, flags & FSMSG_UNMOUNT_LAZY, err,
	    sizeof(err))) != 0) {
		fsmount_send_unmount_result(reqid, m->id, rv, err, path);
		return;
	}
	log_info("unmounted %s (id %u) for uid %u", m->mountpoint, m->id,
	    (unsigned int)cr.uid);
	m->state = FSM_UNMOUNTED;
	close(m->fuse_fd);
	m->fuse_fd = -1;
	if (flags & FSMSG_UNMOUNT_LAZY) {
		/* Open files keep the worker serving until they close. */
		fsmount_send_unmount_result(reqid, m->id, 0, "", path);
		return;
	}
	/* The reply waits for the worker to be gone. */
	m->unmount_reqid = reqid;
	worker_stop_later(m);
}

static void
fsmount_unmount_id(uint32_t reqid, uint32_t id)
{
	struct fsm_mount	*m;
	char			 err[FSMOUNT_ERRLEN];
	const char		*path = "";
	int			 rv;

	if ((m = mount_find_id(id)) == NULL || m->state != FSM_MOUNTED) {
		fsmount_send_unmount_result(reqid, id, ENOENT, "no such mount",
		    path);
		return;
	}
	if ((rv = mount_detach(m, 1, err, sizeof(err))) != 0) {
		fsmount_send_unmount_result(reqid, id, rv, err, path);
		return;
	}
	/* Detached lazily: open files keep the worker until they close. */
	log_info("unmounted %s (id %u)", m->mountpoint, m->id);
	m->state = FSM_UNMOUNTED;
	close(m->fuse_fd);
	m->fuse_fd = -1;
	fsmount_send_unmount_result(reqid, id, 0, "", path);
}

static void
fsmount_reload(uint32_t reqid)
{
	struct fsproto_buf	b;
	struct conf		nconf;
	int			rv = 0;

	if (conf_parse(env->conffile, &nconf) == -1)
		rv = EINVAL;
	else {
		conf_free(&env->conf);
		env->conf = nconf;
		capacity_check_conf(&env->conf);
		fsmount_send_config();
		log_info("configuration reloaded");
	}
	fsproto_buf_init(&b, 0);
	fsproto_buf_u32(&b, reqid);
	fsproto_buf_u32(&b, rv);
	fsproto_buf_str(&b, rv ? "configuration has errors, kept the old "
	    "one (see the log)" : "");
	if (fsproto_buf_send(&env->chan, MSG_FSM_RELOAD_RESULT, 0, -1,
	    &b) == -1)
		fatal("%s", __func__);
}

/* Act on a request that request_feed() found whole and well-formed. */
static void
fsmount_dispatch_parent(struct fsproto_msg *msg)
{
	struct request	 req;
	const char	*why;
	int		 rv;

	if ((rv = request_feed(&pending, msg, &req, &why)) == -1)
		fatalx("%s: frame %u: %s", __func__, msg->hdr.type, why);
	if (rv == 0)
		return;
	switch (req.type) {
	case MSG_FSM_MOUNT:
		fsmount_user_mount(req.reqid, req.client_fd, req.src_fd,
		    req.fd, req.opts);
		break;
	case MSG_FSM_UNMOUNT:
		/* Closes the mountpoint itself, first: it holds the mount. */
		fsmount_user_unmount(req.reqid, req.client_fd, req.fd,
		    req.arg);
		req.fd = -1;
		break;
	case MSG_FSM_STATIC_MOUNT:
		fsmount_static_mount(req.reqid, req.arg);
		break;
	case MSG_FSM_UNMOUNT_ID:
		fsmount_unmount_id(req.reqid, req.arg);
		break;
	case MSG_FSM_RELOAD:
		fsmount_reload(req.reqid);
		break;
	case MSG_FSM_LOG:
		/* Workers started from now on are told with -v. */
		env->verbose = req.arg == FSMSG_LOG_VERBOSE;
		log_setverbose(env->verbose);
		log_info("logging %s", env->verbose ?
		    "debugging messages too" : "without debugging messages");
		break;
	case MSG_FSM_SHUTDOWN:
		log_info("shutting down");
		fsmount_shutdown(0);
	}
	request_done(&req);
}

static __attribute__((__noreturn__)) void
fsmount_shutdown(int code)
{
	request_reset(&pending);
	worker_shutdown_all();
	(void)fsproto_flush(&env->chan);
	fsproto_chan_clear(&env->chan);
	conf_free(&env->conf);
	exit(code);
}

static void
fsmount_read_parent(void)
{
	struct fsproto_msg	msg;
	ssize_t			n;
	int			rv;

	if ((n = fsproto_read(&env->chan)) == -1) {
		if (errno == EAGAIN)
			return;
		fatal("%s: read", __func__);
	}
	if (n == 0) {
		log_warnx("parent closed the channel; detaching every mount");
		fsmount_shutdown(1);
	}
	while ((rv = fsproto_get(&env->chan, &msg)) == 1) {
		fsmount_dispatch_parent(&msg);
		fsproto_msg_free(&msg);
	}
	if (rv == -1)
		fatal("%s: bad frame from parent", __func__);
}

static void
fsmount_signal(int sfd)
{
	struct signalfd_siginfo	si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			worker_reap();
			break;
		case SIGTERM:
			log_info("SIGTERM: detaching every mount");
			fsmount_shutdown(0);
		default:
			/* SIGINT and SIGHUP are the parent's to act on. */
			break;
		}
	}
}

/*
 * The parent's channel, the signals and the workers' channels: pfd has
 * room for two and every mount, which the returned table names.
 */
static nfds_t
fsmount_pollfds(int sfd, struct pollfd *pfd, struct fsm_mount **pm)
{
	struct fsm_mount	*m;
	nfds_t			 n = 2;

	pfd[0].fd = env->chan.fd;
	pfd[0].events = POLLIN;
	if (fsproto_pending(&env->chan))
		pfd[0].events |= POLLOUT;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	TAILQ_FOREACH(m, &env->mounts, entry) {
		if (!m->wchan_open)
			continue;
		pfd[n].fd = m->wchan.fd;
		/* A worker that does not read its answers waits for us. */
		pfd[n].events = fsproto_pending(&m->wchan) < 64 ? POLLIN : 0;
		if (fsproto_pending(&m->wchan))
			pfd[n].events |= POLLOUT;
		pm[n++] = m;
	}
	return (n);
}

static void
fsmount_loop(int sfd)
{
	struct pollfd		*pfd = NULL;
	struct fsm_mount	**pm = NULL;
	struct fsm_mount	*m;
	size_t			 room = 0, need;
	nfds_t			 n, i;

	for (;;) {
		need = 2;
		TAILQ_FOREACH(m, &env->mounts, entry)
			need++;
		if (need > room) {
			room = need * 2;
			if ((pfd = reallocarray(pfd, room,
			    sizeof(*pfd))) == NULL ||
			    (pm = reallocarray(pm, room, sizeof(*pm))) == NULL)
				fatal("%s", __func__);
		}
		n = fsmount_pollfds(sfd, pfd, pm);
		if (poll(pfd, n, worker_poll_timeout()) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/*
		 * Workers' requests first: only a signal or the parent
		 * frees a mount, so pm[] holds until they are read.
		 */
		for (i = 2; i < n; i++)
			if (pfd[i].revents != 0 && pm[i]->wchan_open)
				backing_event(pm[i], pfd[i].revents);
		if (pfd[1].revents & POLLIN)
			fsmount_signal(sfd);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			fsmount_read_parent();
		worker_kill_overdue();
		if (fsproto_write(&env->chan) == -1) {
			log_warn("%s: write to parent", __func__);
			fsmount_shutdown(1);
		}
	}
}

static int
fsmount_signals(void)
{
	sigset_t	mask;
	int		sfd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return (sfd);
}

int
main(int argc, char *argv[])
{
	static struct fsm_env	 e;
	struct stat		 sb;
	int			 ch, buildtree = 0, sfd;

	/* Before getopt(): it moves the arguments out of the way. */
	setproctitle_init(argc, argv, environ);
	env = &e;
	TAILQ_INIT(&env->mounts);
	env->conffile = PATH_SYSCONF "/fsmonitor.conf";
	request_init(&pending);
	while ((ch = getopt(argc, argv, "df:K:s:Tv")) != -1) {
		switch (ch) {
		case 'd':
			env->debug = 1;
			break;
		case 'f':
			env->conffile = optarg;
			break;
		case 'K':
			env->kernel = optarg;
			break;
		case 's':
			env->sockpath = optarg;
			break;
		case 'T':
			buildtree = 1;
			break;
		case 'v':
			env->verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind || env->sockpath == NULL)
		usage();
	log_init(env->debug, LOG_DAEMON);
	log_setverbose(env->verbose);
	log_procinit("fsmount");
	if (env->kernel != NULL && (!buildtree ||
	    fsproto_kernel(env->kernel) == NULL))
		fatalx("-K %s: 5.14, 6.1 or 6.8, for tests, with -T",
		    env->kernel);
	setproctitle("root child %s", env->sockpath);
	if (geteuid() != 0)
		fatalx("must run as root");
	if (fstat(FSMOUNT_CHAN_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		fatalx("descriptor %d is not the parent's channel",
		    FSMOUNT_CHAN_FD);
	/* A terminal's ^C is for the parent, which shuts us down. */
	(void)setpgid(0, 0);
	if (chdir("/") == -1)
		fatal("chdir /");
	fsproto_libexec_path("fsworker", buildtree, env->worker_path,
	    sizeof(env->worker_path));
	if (buildtree)
		fsproto_libexec_wrap(env->worker_wrap,
		    sizeof(env->worker_wrap));
	if (conf_parse(env->conffile, &env->conf) == -1)
		fatalx("%s: configuration has errors", env->conffile);
	sfd = fsmount_signals();
	if (fcntl(FSMOUNT_CHAN_FD, F_SETFL, O_NONBLOCK) == -1 ||
	    fsproto_chan_init(&env->chan, FSMOUNT_CHAN_FD, 0,
	    FSPROTO_F_FDPASS) == -1)
		fatal("channel");
	capacity_init();
	fsmount_sandbox();
	backing_init();
	fsmount_send_config();
	fsmount_loop(sfd);
	return (0);
}
