/*
 * fsmonitor: start as root, set up the control socket, re-exec fsmount
 * as the root child, then drop to an unprivileged user in an empty
 * chroot and serve.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fsmonitor.h"
#include "sandbox.h"

struct fsmonitor_env	*env;

static __attribute__((__noreturn__)) void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dDnTv] [-f file] [-K kernel] "
	    "[-p pidfile] [-s socket]\n", __progname);
	exit(1);
}

/*
 * A live daemon on the socket is an error; a stale socket file is
 * replaced.  The socket is open to everyone: who may do what is decided
 * from each client's credentials.
 */
static int
control_listen(const char *path)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("%s: socket path too long", path);
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		fatalx("%s: a daemon is already listening there", path);
	close(probe);
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("unlink %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal("socket");
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (chmod(path, 0666) == -1)
		fatal("chmod %s", path);
	if (listen(fd, 128) == -1)
		fatal("listen %s", path);
	return (fd);
}

/* Re-exec fsmount for a fresh address space, its channel on fd 3. */
static pid_t
start_fsmount(int fd, const char *path, const char *conffile,
    const char *sockpath, int debug, int verbose, int buildtree,
    const char *kernel)
{
	char		*argv[14];
	char		*envp[] = { NULL, NULL };
	char		 wrap[PATH_MAX + sizeof(FSPROTO_WRAP_ENV) + 1];
	const char	*w;
	int		 i = 0;
	pid_t		 pid;

	argv[i++] = (char *)(uintptr_t)"fsmount";
	if (debug)
		argv[i++] = (char *)(uintptr_t)"-d";
	if (verbose)
		argv[i++] = (char *)(uintptr_t)"-v";
	if (buildtree)
		argv[i++] = (char *)(uintptr_t)"-T";
	if (kernel != NULL) {
		argv[i++] = (char *)(uintptr_t)"-K";
		argv[i++] = (char *)(uintptr_t)kernel;
	}
	argv[i++] = (char *)(uintptr_t)"-f";
	argv[i++] = (char *)(uintptr_t)conffile;
	argv[i++] = (char *)(uintptr_t)"-s";
	argv[i++] = (char *)(uintptr_t)sockpath;
	argv[i] = NULL;
	/* Tests only: fsmount checks and uses it with -T alone. */
	if (buildtree && (w = getenv(FSPROTO_WRAP_ENV)) != NULL &&
	    (size_t)snprintf(wrap, sizeof(wrap), "%s=%s", FSPROTO_WRAP_ENV,
	    w) < sizeof(wrap))
		envp[0] = wrap;

	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		if (fd == FSMOUNT_CHAN_FD) {
			if (fcntl(fd, F_SETFD, 0) == -1)
				_exit(127);
		} else if (dup2(fd, FSMOUNT_CHAN_FD) == -1)
			_exit(127);
		(void)close_range(FSMOUNT_CHAN_FD + 1, ~0U, 0);
		execve(path, argv, envp);
		log_warn("exec %s", path);
		_exit(127);
	}
	return (pid);
}

/*
 * Drop to the unprivileged user in an empty chroot, in the OpenBSD
 * order, and make sure root cannot be had back.
 */
struct runas {
	char	name[64];
	uid_t	uid;
	gid_t	gid;
};

/* Find the user and the empty directory before detaching. */
static void
runas_lookup(struct runas *ra)
{
	struct passwd	*pw;
	struct stat	 sb;

	if ((pw = getpwnam(FSMONITOR_USER)) == NULL &&
	    (pw = getpwnam(FSMONITOR_USER_FALLBACK)) == NULL)
		fatalx("no user %s or %s", FSMONITOR_USER,
		    FSMONITOR_USER_FALLBACK);
	if (pw->pw_uid == 0)
		fatalx("user %s must not be root", pw->pw_name);
	strlcpy(ra->name, pw->pw_name, sizeof(ra->name));
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	if (mkdir(PATH_CHROOT, 0755) == -1 && errno != EEXIST)
		fatal("mkdir %s", PATH_CHROOT);
	if (stat(PATH_CHROOT, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("%s must be a directory owned and writable only by "
		    "root", PATH_CHROOT);
}

static void
drop_privileges(const struct runas *ra, const char *sockpath)
{
	uid_t	r, e, s;

	/* Root's capabilities can never come back through an exec. */
	sandbox_bounding_clear();
	if (chroot(PATH_CHROOT) == -1)
		fatal("chroot %s", PATH_CHROOT);
	if (chdir("/") == -1)
		fatal("chdir /");
	setproctitle("parent %s", sockpath);
	if (setgroups(1, &ra->gid) == -1 ||
	    setresgid(ra->gid, ra->gid, ra->gid) == -1 ||
	    setresuid(ra->uid, ra->uid, ra->uid) == -1)
		fatal("cannot drop privileges");
	if (setresuid(0, 0, 0) != -1 || setegid(0) != -1 ||
	    getresuid(&r, &e, &s) == -1 || r != ra->uid ||
	    e != ra->uid || s != ra->uid)
		fatalx("privileges could be regained");
	log_debug("running as %s (uid %u) in %s", ra->name,
	    (unsigned int)ra->uid, PATH_CHROOT);
}

static int
setup_signals(void)
{
	sigset_t	mask;
	int		fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return (fd);
}

static void
shutdown_start(void)
{
	if (env->shutting_down)
		return;
	env->shutting_down = 1;
	service_notify("STOPPING=1\nSTATUS=unmounting everything");
	log_info("shutting down: unmounting everything");
	parent_compose_fsmount(MSG_FSM_SHUTDOWN, -1, NULL, 0);
}

static __attribute__((__noreturn__)) void
shutdown_finish(void)
{
	struct client	*c;
	int		 status, code = 0;

	while ((c = TAILQ_FIRST(&env->clients)) != NULL)
		control_close(c);
	if (waitpid(env->fsmount_pid, &status, 0) == env->fsmount_pid &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		code = 1;
	log_info("exiting");
	exit(code);
}

static void
handle_signals(void)
{
	struct signalfd_siginfo	si;
	int			status;

	while (read(env->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			shutdown_start();
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading the configuration");
			parent_reload(NULL);
			break;
		case SIGCHLD:
			if (waitpid(env->fsmount_pid, &status, WNOHANG) ==
			    env->fsmount_pid) {
				if (!env->shutting_down)
					fatalx("fsmount died (status 0x%x)",
					    status);
				log_info("exiting");
				exit(WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0 ? 0 : 1);
			}
			break;
		}
	}
}

static void
read_fsmount(void)
{
	struct fsproto_msg	msg;
	ssize_t			n;
	int			rv;

	if ((n = fsproto_read(&env->fsmount)) == -1 && errno == EAGAIN)
		return;
	if (n == 0) {
		if (env->shutting_down)
			shutdown_finish();
		fatalx("fsmount closed its channel");
	}
	if (n == -1)
		fatal("channel to fsmount");
	while ((rv = fsproto_get(&env->fsmount, &msg)) == 1) {
		parent_dispatch_fsmount(&msg);
		fsproto_msg_free(&msg);
	}
	if (rv == -1)
		fatal("bad frame from fsmount");
}

/* Poll everything; the table is rebuilt each turn, it is small. */
static void
serve(void)
{
	struct pollfd	*pfd = NULL;
	struct client	*c, *cnext;
	struct mnt	*m, *mnext;
	size_t		 n, i, max = 0;

	for (;;) {
		n = 3 + env->nclients;
		TAILQ_FOREACH(m, &env->mnts, entry)
			n++;
		if (n > max) {
			max = n * 2;
			if ((pfd = reallocarray(pfd, max, sizeof(*pfd))) ==
			    NULL)
				fatal("%s", __func__);
		}
		pfd[0].fd = env->signal_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = env->fsmount.fd;
		pfd[1].events = POLLIN |
		    (fsproto_pending(&env->fsmount) ? POLLOUT : 0);
		pfd[2].fd = env->shutting_down || !capacity_may_accept() ?
		    -1 : env->listen_fd;
		pfd[2].events = POLLIN;
		i = 3;
		TAILQ_FOREACH(c, &env->clients, entry) {
			pfd[i].fd = c->chan.fd;
			pfd[i].events = (c->state == CL_CLOSING ? 0 : POLLIN) |
			    (fsproto_pending(&c->chan) ? POLLOUT : 0);
			i++;
		}
		TAILQ_FOREACH(m, &env->mnts, entry) {
			pfd[i].fd = m->has_chan ? m->chan.fd : -1;
			pfd[i].events = POLLIN | (m->has_chan &&
			    fsproto_pending(&m->chan) ? POLLOUT : 0);
			i++;
		}
		if (poll(pfd, i, capacity_poll_timeout()) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents)
			handle_signals();
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			read_fsmount();
		if (pfd[2].revents & POLLIN)
			control_accept();

		/* Walk in the order the table was built. */
		i = 3;
		TAILQ_FOREACH_SAFE(c, &env->clients, entry, cnext) {
			if (i < n && pfd[i].fd == c->chan.fd &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    c->state != CL_CLOSING)
				control_read(c);
			i++;
		}
		TAILQ_FOREACH_SAFE(m, &env->mnts, entry, mnext) {
			if (i < n && m->has_chan && pfd[i].fd == m->chan.fd &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				parent_read_worker(m);
			i++;
		}

		if (fsproto_write(&env->fsmount) == -1)
			fatal("write to fsmount");
		/* As on reading: a worker's end is reported by fsmount. */
		TAILQ_FOREACH(m, &env->mnts, entry)
			if (m->has_chan && fsproto_write(&m->chan) == -1) {
				close(m->chan.fd);
				fsproto_chan_clear(&m->chan);
				m->has_chan = 0;
			}
		TAILQ_FOREACH_SAFE(c, &env->clients, entry, cnext) {
			if (fsproto_write(&c->chan) == -1)
				control_close(c);
			else if (c->state == CL_CLOSING &&
			    fsproto_pending(&c->chan) == 0)
				control_close(c);
		}
	}
}

int
main(int argc, char *argv[])
{
	static struct fsmonitor_env	 e;
	struct conf			 conf;
	struct runas			 ra;
	char				 path[PATH_MAX];
	char				 actpath[sizeof(((struct sockaddr_un *)
					    NULL)->sun_path)];
	const char			*conffile, *sockpath, *pidfile = NULL;
	const char			*kernel = NULL;
	int				 ch, debug = 0, noaction = 0;
	int				 verbose = 0, buildtree = 0, sv[2];
	int				 foreground = 0, sockopt = 0;

	setproctitle_init(argc, argv, environ);
	env = &e;
	TAILQ_INIT(&env->clients);
	TAILQ_INIT(&env->mnts);
	conf_init(&env->conf);
	conf_init(&env->nconf);
	conffile = PATH_SYSCONF "/fsmonitor.conf";
	sockpath = PATH_RUN "/fsmonitor.sock";
	while ((ch = getopt(argc, argv, "dDf:K:np:s:Tv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			foreground = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'K':
			kernel = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 's':
			sockpath = optarg;
			sockopt = 1;
			break;
		case 'T':
			buildtree = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("fsmonitor");
	if (kernel != NULL && (!buildtree || fsproto_kernel(kernel) == NULL))
		fatalx("-K %s: 5.14, 6.1 or 6.8, for tests, with -T", kernel);
	if (conf_parse(conffile, &conf) == -1)
		fatalx("%s: configuration has errors", conffile);
	if (noaction) {
		if (verbose)
			conf_print(stdout, &conf);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	if (geteuid() != 0)
		fatalx("must be started as root");

	/* Everything that can fail on a bad set-up fails before detaching. */
	if ((env->listen_fd = service_listen_fd(actpath,
	    sizeof(actpath))) != -1) {
		if (sockopt && strcmp(sockpath, actpath) != 0)
			fatalx("socket activation: the socket passed is %s, "
			    "not %s", actpath, sockpath);
		sockpath = actpath;
	} else {
		if (sockpath[0] != '/')
			fatalx("%s: the socket path must be absolute",
			    sockpath);
		env->listen_fd = control_listen(sockpath);
	}
	runas_lookup(&ra);
	fsproto_libexec_path("fsmount", buildtree, path, sizeof(path));
	service_notify_open();
	log_init(debug, LOG_DAEMON);
	log_setverbose(verbose);
	log_procinit("fsmonitor");
	if (!debug && !foreground && daemon(0, 0) == -1)
		fatal("daemon");
	if (pidfile != NULL)
		service_pidfile(pidfile);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	env->signal_fd = setup_signals();
	env->fsmount_pid = start_fsmount(sv[1], path, conffile, sockpath,
	    debug, verbose, buildtree, kernel);
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fsproto_chan_init(&env->fsmount, sv[0], 0, FSPROTO_F_FDPASS) == -1)
		fatal("channel to fsmount");
	/* After fsmount started: its workers get the limits we were given. */
	capacity_init(&conf);
	conf_free(&conf);
	drop_privileges(&ra, sockpath);
	parent_sandbox();
	log_info("started, control socket %s, fsmount %d", sockpath,
	    (int)env->fsmount_pid);
	serve();
	return (0);
}
