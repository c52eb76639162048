/*
 * Starting, reaping and stopping the per-mount workers.  fsmount is
 * their parent: it reaps them and tells the fsmonitor parent.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsmount.h"

#define WORKER_STOP_GRACE	5	/* seconds before SIGKILL */

/*
 * The owner's supplementary groups, as a comma-separated list, and in
 * m, whose backing files are registered with them (backing.c): those
 * the requester holds, which may be none at all, for a mount a client
 * asked for, since a group it dropped must not come back through the
 * mount; the group database's for a static mount, which has no
 * requester.  Asked before the fork, so that NSS modules load once in
 * fsmount, not in every new worker before its exec.
 */
static int
worker_groups(const struct cred *cr, struct fsm_mount *m, char *buf,
    size_t len)
{
	struct passwd	*pw;
	int		 i, n = FSMOUNT_GROUPS_MAX;
	size_t		 used = 0;

	buf[0] = '\0';
	if (cr->peer_groups) {
		n = cr->ngroups;
		memcpy(m->wgroups, cr->groups, n * sizeof(gid_t));
	} else if ((pw = getpwuid(cr->uid)) == NULL ||
	    getgrouplist(pw->pw_name, cr->gid, m->wgroups, &n) == -1) {
		m->wgroups[0] = cr->gid;
		n = 1;
	}
	m->nwgroups = n;
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%u",
		    i ? "," : "", (unsigned int)m->wgroups[i]);
	return (used < len ? 0 : -1);
}

/* Put a descriptor on a fixed number, whatever is there now. */
static void
worker_fd_to(int from, int to)
{
	if (from == to) {
		if (fcntl(to, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(from, to) == -1)
		_exit(127);
}

/*
 * What the new worker needs between its clone and its execve(2), all
 * made ready by fsmount: the child shares fsmount's memory until then,
 * so it only moves descriptors about and executes.
 */
struct worker_spawn {
	const char	*path;
	char		*argv[18];
	int		 fds[FSWORKER_STATE_FD + 1]; /* for 3 to 7, or -1 */
	struct rlimit	 nofile;
	int		 debug;
	char		 uid[16], gid[16], groups[4096];
};

static int
worker_exec(void *arg)
{
	struct worker_spawn	*ws = arg;
	sigset_t		 mask;
	char			*envp[] = { NULL };
	int			 moved[FSWORKER_STATE_FD + 1];
	int			 fd, null, last = 0;

	/* Out of the way of 3 to 7 first. */
	for (fd = 0; fd <= FSWORKER_STATE_FD; fd++) {
		moved[fd] = -1;
		if (ws->fds[fd] != -1 &&
		    (moved[fd] = fcntl(ws->fds[fd], F_DUPFD_CLOEXEC, 10)) == -1)
			_exit(127);
	}
	for (fd = 0; fd <= FSWORKER_STATE_FD; fd++)
		if (moved[fd] != -1) {
			worker_fd_to(moved[fd], fd);
			last = fd;
		}
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(null, STDIN_FILENO);
		if (!ws->debug) {
			(void)dup2(null, STDOUT_FILENO);
			(void)dup2(null, STDERR_FILENO);
		}
	}
	(void)close_range(last + 1, ~0U, 0);
	/* fsmount's raised limit is for its mounts, not the worker's. */
	if (setrlimit(RLIMIT_NOFILE, &ws->nofile) == -1)
		_exit(127);
	sigemptyset(&mask);
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	execve(ws->path, ws->argv, envp);
	_exit(127);
}

/* The worker's argv and descriptors, before the clone. */
static int
worker_spawn_init(struct worker_spawn *ws, const struct cred *cr,
    struct fsm_mount *m, int srcfd, int chanfd, int mntfd)
{
	int	 i = 0;

	if (worker_groups(cr, m, ws->groups, sizeof(ws->groups)) == -1)
		return (-1);
	snprintf(ws->uid, sizeof(ws->uid), "%u", (unsigned int)cr->uid);
	snprintf(ws->gid, sizeof(ws->gid), "%u", (unsigned int)cr->gid);
	for (i = 0; i <= FSWORKER_STATE_FD; i++)
		ws->fds[i] = -1;
	ws->fds[FSWORKER_FUSE_FD] = m->fuse_fd;
	ws->fds[FSWORKER_SRC_FD] = srcfd;
	ws->fds[FSWORKER_CHAN_FD] = chanfd;
	ws->fds[FSWORKER_MNT_FD] = mntfd;
	ws->fds[FSWORKER_STATE_FD] = m->state_fd;
	ws->nofile = env->worker_nofile;
	ws->debug = env->debug;

	i = 0;
	if (env->worker_wrap[0] != '\0') {
		/* Tests only (-T): the wrapper, then the worker's argv. */
		ws->path = env->worker_wrap;
		ws->argv[i++] = env->worker_wrap;
		ws->argv[i++] = env->worker_path;
	} else {
		ws->path = env->worker_path;
		ws->argv[i++] = (char *)(uintptr_t)"fsworker";
	}
	if (env->debug)
		ws->argv[i++] = (char *)(uintptr_t)"-d";
	if (env->verbose)
		ws->argv[i++] = (char *)(uintptr_t)"-v";
	if (env->kernel != NULL) {
		ws->argv[i++] = (char *)(uintptr_t)"-K";
		ws->argv[i++] = (char *)(uintptr_t)env->kernel;
	}
	ws->argv[i++] = (char *)(uintptr_t)"-u";
	ws->argv[i++] = ws->uid;
	ws->argv[i++] = (char *)(uintptr_t)"-g";
	ws->argv[i++] = ws->gid;
	ws->argv[i++] = (char *)(uintptr_t)"-G";
	ws->argv[i++] = ws->groups;
	if (m->options[0] != '\0') {
		ws->argv[i++] = (char *)(uintptr_t)"-o";
		ws->argv[i++] = m->options;
	}
	ws->argv[i++] = m->mountpoint;
	ws->argv[i] = NULL;
	return (0);
}

/*
 * The worker is born in its own pid, network, ipc and uts namespaces:
 * the first process of its pid namespace, with no network but its own
 * unused loopback.  It unshares its mount namespace itself, once it has
 * taken its source tree from ours.  Like posix_spawn(3), the child
 * runs in our memory on a stack of its own, and we wait until it has
 * executed the worker: no copy of our page tables to make, and no
 * copy-on-write faults in the child on its way to execve(2).
 */
static pid_t
worker_clone(struct worker_spawn *ws)
{
	static char	stack[32768] __attribute__((aligned(16)));

	return (clone(worker_exec, stack + sizeof(stack), WORKER_CLONE_FLAGS |
	    SIGCHLD, ws));
}

/*
 * Start the worker on the mount's FUSE descriptor, with a channel to
 * the parent and one to us, for backing files.  Returns its pid and
 * our end of its channel for the parent.
 */
pid_t
worker_start(const struct cred *cr, struct fsm_mount *m, int srcfd,
    int *parent_end, char *err, size_t errlen)
{
	struct worker_spawn	ws;
	int			sv[2], mv[2];
	pid_t			pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return (-1);
	}
	if (worker_spawn_init(&ws, cr, m, srcfd, sv[1], mv[1]) == -1) {
		snprintf(err, errlen, "uid %u: too many groups",
		    (unsigned int)cr->uid);
		pid = -1;
	} else if ((pid = worker_clone(&ws)) == -1)
		snprintf(err, errlen, "clone: %s", strerror(errno));
	close(sv[1]);
	close(mv[1]);
	if (pid == -1) {
		close(sv[0]);
		close(mv[0]);
		return (-1);
	}
	backing_chan_init(m, mv[0]);
	*parent_end = sv[0];
	return (pid);
}

/*
 * Whether the dead worker of m is to be followed by another on the same
 * connection: a restartable mount still mounted, a worker that did not
 * end by itself, and no more than the burst of restarts in the window.
 */
static int
worker_may_restart(struct fsm_mount *m, int status)
{
	struct timespec	 now;
	time_t		*oldest;

	if (m->state_fd == -1 || m->state != FSM_MOUNTED ||
	    m->fuse_fd == -1 || env->shutting_down || m->kill_at.tv_sec != 0)
		return (0);
	/* Exit 0 is the worker's own end: unmounted, or told to stop. */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	clock_gettime(CLOCK_MONOTONIC, &now);
	oldest = &m->restart_at[m->restarts % FSMOUNT_RESTART_BURST];
	if (m->restarts >= FSMOUNT_RESTART_BURST &&
	    now.tv_sec - *oldest < FSMOUNT_RESTART_WINDOW) {
		log_warnx("%s: %d restarts in %d seconds, giving up",
		    m->mountpoint, FSMOUNT_RESTART_BURST,
		    FSMOUNT_RESTART_WINDOW);
		return (0);
	}
	*oldest = now.tv_sec;
	return (1);
}

/*
 * A new worker on the connection the dead one served; the kernel holds
 * the requests it had not answered until the new one asks for them.
 */
static int
worker_restart(struct fsm_mount *m, int status)
{
	struct fsmsg_worker_restart	 wr;
	char				 err[FSMOUNT_ERRLEN];
	int				 chanfd;
	pid_t				 pid;

	if ((pid = worker_start(&m->cred, m, m->src_fd, &chanfd, err,
	    sizeof(err))) == -1) {
		log_warnx("%s: restart: %s", m->mountpoint, err);
		return (-1);
	}
	memset(&wr, 0, sizeof(wr));
	wr.id = m->id;
	wr.old_pid = m->worker;
	wr.status = status;
	wr.pid = pid;
	wr.restarts = ++m->restarts;
	log_info("%s: worker %d restarted as %d (%u)", m->mountpoint,
	    m->worker, pid, m->restarts);
	m->worker = pid;
	fsmount_compose_parent(MSG_FSM_WORKER_RESTART, chanfd, &wr,
	    sizeof(wr));
	return (0);
}

static void
worker_exited(struct fsm_mount *m, int status)
{
	struct fsmsg_worker_exit	 we;
	char				 err[FSMOUNT_ERRLEN];

	if (WIFSIGNALED(status))
		log_warnx("worker %d of %s killed by signal %d", m->worker,
		    m->mountpoint, WTERMSIG(status));
	else if (m->state == FSM_MOUNTED || WEXITSTATUS(status) != 0)
		log_warnx("worker %d of %s exited %d", m->worker,
		    m->mountpoint, WEXITSTATUS(status));
	backing_chan_close(m);
	if (worker_may_restart(m, status) && worker_restart(m, status) == 0)
		return;
	memset(&we, 0, sizeof(we));
	we.id = m->id;
	we.pid = m->worker;
	we.status = status;
	we.unmounted = m->state == FSM_UNMOUNTED;
	if (m->fuse_fd != -1) {
		/* With our copy gone too, the connection is aborted. */
		close(m->fuse_fd);
		m->fuse_fd = -1;
	}
	if (m->state == FSM_MOUNTED) {
		if (mount_detach(m, 1, err, sizeof(err)) == 0)
			we.detached = 1;
		else
			log_warnx("%s: detach %s: %s", __func__,
			    m->mountpoint, err);
	}
	fsmount_compose_parent(MSG_FSM_WORKER_EXIT, -1, &we, sizeof(we));
	if (m->unmount_reqid != 0) {
		struct fsproto_buf	b;

		fsproto_buf_init(&b, 0);
		fsproto_buf_u32(&b, m->unmount_reqid);
		fsproto_buf_u32(&b, m->id);
		fsproto_buf_u32(&b, 0);
		fsproto_buf_str(&b, "");
		fsproto_buf_str(&b, m->mountpoint);
		if (fsproto_buf_send(&env->chan, MSG_FSM_UNMOUNT_RESULT, 0, -1,
		    &b) == -1)
			fatal("%s: compose", __func__);
	}
	TAILQ_REMOVE(&env->mounts, m, entry);
	mount_free(m);
}

void
worker_reap(void)
{
	struct fsm_mount	*m;
	pid_t			 pid;
	int			 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((m = mount_find_pid(pid)) == NULL) {
			log_warnx("%s: unknown child %d", __func__, pid);
			continue;
		}
		worker_exited(m, status);
	}
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec));
}

/* Workers asked to stop that did not, within the grace period. */
void
worker_kill_overdue(void)
{
	struct fsm_mount	*m;
	struct timespec		 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	TAILQ_FOREACH(m, &env->mounts, entry)
		if (m->kill_at.tv_sec != 0 && ts_before(&m->kill_at, &now)) {
			log_warnx("worker %d of %s did not exit, killing it",
			    m->worker, m->mountpoint);
			(void)kill(m->worker, SIGKILL);
			m->kill_at.tv_sec = 0;
		}
}

int
worker_poll_timeout(void)
{
	struct fsm_mount	*m;
	struct timespec		 now;
	long			 ms, best = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	TAILQ_FOREACH(m, &env->mounts, entry) {
		if (m->kill_at.tv_sec == 0)
			continue;
		ms = (m->kill_at.tv_sec - now.tv_sec) * 1000 +
		    (m->kill_at.tv_nsec - now.tv_nsec) / 1000000;
		if (ms < 0)
			ms = 0;
		if (best == -1 || ms < best)
			best = ms;
	}
	return (best == -1 ? -1 : (int)best + 1);
}

void
worker_stop_later(struct fsm_mount *m)
{
	clock_gettime(CLOCK_MONOTONIC, &m->kill_at);
	m->kill_at.tv_sec += WORKER_STOP_GRACE;
}

/*
 * Detach every mount and stop every worker; used on shutdown and when
 * the parent is gone.
 */
void
worker_shutdown_all(void)
{
	struct fsm_mount	*m;
	char			 err[FSMOUNT_ERRLEN];
	int			 status, i;
	pid_t			 pid;

	TAILQ_FOREACH(m, &env->mounts, entry) {
		if (m->state == FSM_MOUNTED &&
		    mount_detach(m, 1, err, sizeof(err)) != 0)
			log_warnx("%s: detach %s: %s", __func__,
			    m->mountpoint, err);
		m->state = FSM_UNMOUNTED;
		if (m->fuse_fd != -1) {
			close(m->fuse_fd);
			m->fuse_fd = -1;
		}
		(void)kill(m->worker, SIGTERM);
	}
	for (i = 0; i < WORKER_STOP_GRACE * 10 &&
	    !TAILQ_EMPTY(&env->mounts); i++) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if ((m = mount_find_pid(pid)) != NULL) {
				TAILQ_REMOVE(&env->mounts, m, entry);
				mount_free(m);
			}
		if (!TAILQ_EMPTY(&env->mounts))
			usleep(100000);
	}
	while ((m = TAILQ_FIRST(&env->mounts)) != NULL) {
		log_warnx("worker %d of %s did not exit, killing it",
		    m->worker, m->mountpoint);
		(void)kill(m->worker, SIGKILL);
		(void)waitpid(m->worker, &status, 0);
		TAILQ_REMOVE(&env->mounts, m, entry);
		mount_free(m);
	}
}
