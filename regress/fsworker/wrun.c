/*
 * wrun: run fsworker on a fresh mount without the daemon, for tests.
 *
 *	wrun [-fv] [-b count] [-g gid] [-G gid,...] [-l log] [-o options]
 *	    [-p pidfile] [-s statsfile] [-u uid] [-x exitfile] source
 *	    mountpoint -- command ...
 *
 * Root only.  Mounts /dev/fuse at mountpoint as fsmount would, starts
 * "command ... -d -u uid -g gid [-G groups] [-o options] mountpoint" with
 * the FUSE descriptor, the source directory and a channel on 3, 4 and 5,
 * in new pid, network, ipc and uts namespaces as fsmount does, and waits
 * for MSG_WORKER_READY.  Then, by default, it prints the
 * worker's pid and returns, leaving a holder process that keeps the
 * channel; with -f it stays in the foreground as that holder.
 *
 * The holder writes each MSG_WORKER_STATS to the stats file, and the
 * worker's exit status to the exit file once it has reaped it.  SIGTERM
 * or SIGINT: detach the mount and wait for the worker (SIGKILL after a
 * while).  SIGUSR1: send MSG_WORKER_SHUTDOWN and wait for the worker.
 * SIGUSR2: send a message the worker must never get (READY), which it
 * has to take for a compromised parent.
 * The pid file holds "workerpid holderpid".
 *
 * With -b, the holder also stands in for fsmount on a channel on 6: it
 * registers the first count files the worker hands it for passthrough
 * (without fsmount's checks), ends registrations when asked, and at the
 * next registration closes the channel unanswered, as if fsmount were
 * gone, with whatever else the worker has sent meanwhile.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fuse_compat.h"

#define READY_TIMEOUT	60	/* s; valgrind starts slowly */
#define KILL_TIMEOUT	20	/* s after detaching, then SIGKILL */

struct wrun {
	const char	*source;
	const char	*mountpoint;
	const char	*options;
	const char	*groups;
	const char	*logfile;
	const char	*pidfile;
	const char	*statsfile;
	const char	*exitfile;
	unsigned int	 uid;
	unsigned int	 gid;
	int		 foreground;
	int		 verbose;
	char		**cmd;
	pid_t		 worker;
	struct fsproto_chan chan;
	long		 backing;	/* -b: registrations left, or -1 */
	int		 fusefd;	/* -b: to register on */
	struct fsproto_chan bchan;	/* -b: the channel on 6 */
	int		 bchan_open;
};

static volatile sig_atomic_t	 got_term, got_usr1, got_usr2;

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: wrun [-fv] [-b count] [-g gid] [-G gid,...] "
	    "[-l log] [-o options]\n"
	    "\t[-p pidfile] [-s statsfile] [-u uid] [-x exitfile] source "
	    "mountpoint -- command ...\n");
	exit(2);
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else
		got_term = 1;
}

/* Whether opt appears in the comma-separated list. */
static int
has_option(const char *list, const char *opt)
{
	size_t	 len = strlen(opt);
	const char *p;

	for (p = list; p != NULL && *p != '\0';) {
		if (strncmp(p, opt, len) == 0 && (p[len] == ',' ||
		    p[len] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

static int
do_mount(struct wrun *w, int fusefd)
{
	char		 data[256];
	unsigned long	 flags = MS_NOSUID | MS_NODEV;
	int		 n;

	n = snprintf(data, sizeof(data),
	    "fd=%d,rootmode=40000,user_id=%u,group_id=%u%s%s", fusefd,
	    w->uid, w->gid,
	    has_option(w->options, "allow_other") ||
	    has_option(w->options, "multiuser") ? ",allow_other" : "",
	    has_option(w->options, "default_permissions") ||
	    has_option(w->options, "allow_other") ||
	    has_option(w->options, "multiuser") ?
	    ",default_permissions" : "");
	if (n < 0 || (size_t)n >= sizeof(data))
		errx(1, "mount data too long");
	if (has_option(w->options, "ro"))
		flags |= MS_RDONLY;
	if (has_option(w->options, "noexec"))
		flags |= MS_NOEXEC;
	return mount(w->source, w->mountpoint, "fuse.fsmonitor", flags, data);
}

/* Moves fd to target, whatever descriptors the others occupy now. */
static int
move_high(int fd)
{
	int	 nfd;

	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) == -1)
		err(1, "F_DUPFD");
	close(fd);
	return nfd;
}

__attribute__((__noreturn__)) static void
exec_worker(struct wrun *w, int fusefd, int srcfd, int chanfd, int bfd)
{
	char	*argv[64];
	char	 uid[16], gid[16];
	char	*envp[] = { NULL };
	int	 i = 0, j, fd;

	fusefd = move_high(fusefd);
	srcfd = move_high(srcfd);
	chanfd = move_high(chanfd);
	if (bfd != -1)
		bfd = move_high(bfd);
	if (dup2(fusefd, FSWORKER_FUSE_FD) == -1 ||
	    dup2(srcfd, FSWORKER_SRC_FD) == -1 ||
	    dup2(chanfd, FSWORKER_CHAN_FD) == -1 ||
	    (bfd != -1 && dup2(bfd, FSWORKER_MNT_FD) == -1))
		err(1, "dup2");
	if (w->logfile != NULL) {
		if ((fd = open(w->logfile, O_WRONLY | O_CREAT | O_APPEND,
		    0644)) == -1)
			err(1, "%s", w->logfile);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	for (j = 0; w->cmd[j] != NULL && i < 48; j++)
		argv[i++] = w->cmd[j];
	snprintf(uid, sizeof(uid), "%u", w->uid);
	snprintf(gid, sizeof(gid), "%u", w->gid);
	argv[i++] = (char *)(uintptr_t)"-d";
	if (w->verbose)
		argv[i++] = (char *)(uintptr_t)"-v";
	argv[i++] = (char *)(uintptr_t)"-u";
	argv[i++] = uid;
	argv[i++] = (char *)(uintptr_t)"-g";
	argv[i++] = gid;
	if (w->groups != NULL) {
		argv[i++] = (char *)(uintptr_t)"-G";
		argv[i++] = (char *)(uintptr_t)w->groups;
	}
	if (w->options != NULL) {
		argv[i++] = (char *)(uintptr_t)"-o";
		argv[i++] = (char *)(uintptr_t)w->options;
	}
	argv[i++] = (char *)(uintptr_t)w->mountpoint;
	argv[i] = NULL;
	execve(argv[0], argv, envp);
	err(1, "execve %s", argv[0]);
}

static void
write_file(const char *path, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
write_file(const char *path, const char *fmt, ...)
{
	char	 tmp[PATH_MAX];
	FILE	*f;
	va_list	 ap;

	if (path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		err(1, "%s", tmp);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		err(1, "%s", path);
}

static void
record_stats(struct wrun *w, const struct fsproto_msg *msg)
{
	struct fsmsg_stats	 st;

	if (fsproto_get_exact(msg, &st, sizeof(st)) == -1)
		errx(1, "STATS of %zu bytes", msg->len);
	write_file(w->statsfile, "requests %llu\nbytes_read %llu\n"
	    "bytes_written %llu\nerrors %llu\nnodes %llu\nhandles %llu\n",
	    (unsigned long long)st.requests,
	    (unsigned long long)st.bytes_read,
	    (unsigned long long)st.bytes_written,
	    (unsigned long long)st.errors, (unsigned long long)st.nodes,
	    (unsigned long long)st.handles);
}

/*
 * Reads what the worker sent.  Returns -1 at EOF, else the number of
 * READY messages seen.
 */
static int
drain_channel(struct wrun *w)
{
	struct fsproto_msg	 msg;
	struct fsmsg_features	 feat;
	ssize_t			 n;
	int			 ready = 0, r;

	if ((n = fsproto_read(&w->chan)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		warn("channel");
		return -1;
	}
	if (n == 0)
		return -1;
	while ((r = fsproto_get(&w->chan, &msg)) == 1) {
		switch (msg.hdr.type) {
		case MSG_WORKER_READY:
			if (fsproto_get_exact(&msg, &feat, sizeof(feat)) == -1 ||
			    feat.minor == 0 ||
			    (feat.flags & ~FSMSG_FEAT_ALL) != 0)
				errx(1, "READY without the features INIT "
				    "settled on");
			ready++;
			break;
		case MSG_WORKER_STATS:
			record_stats(w, &msg);
			break;
		default:
			errx(1, "unexpected message %u", msg.hdr.type);
		}
		fsproto_msg_free(&msg);
	}
	if (r == -1)
		err(1, "malformed frame from the worker");
	return ready;
}

static int
reap_worker(struct wrun *w)
{
	int	 status, i;

	for (i = 0; i < KILL_TIMEOUT * 10; i++) {
		if (waitpid(w->worker, &status, WNOHANG) == w->worker)
			goto reaped;
		usleep(100000);
	}
	warnx("worker %ld did not exit, killing it", (long)w->worker);
	kill(w->worker, SIGKILL);
	if (waitpid(w->worker, &status, 0) == -1)
		err(1, "waitpid");
 reaped:
	if (WIFEXITED(status)) {
		write_file(w->exitfile, "exit %d\n", WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	write_file(w->exitfile, "signal %d\n", WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

/*
 * -b: what the worker sent on the channel on 6.  A registration past
 * the count closes the channel, with every request after it unread.
 */
static void
backing_serve(struct wrun *w)
{
	struct fsproto_msg	 msg;
	struct fsmsg_backing	 req, res;
	struct fuse_backing_map	 map;
	uint32_t		 id;
	ssize_t			 n;
	int			 r;

	if ((n = fsproto_read(&w->bchan)) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		goto gone;
	while ((r = fsproto_get(&w->bchan, &msg)) == 1) {
		switch (msg.hdr.type) {
		case MSG_BACKING_OPEN:
			if (msg.fd == -1)
				errx(1, "BACKING_OPEN without a descriptor");
			if (w->backing == 0) {
				fsproto_msg_free(&msg);
				goto gone;
			}
			w->backing--;
			memset(&map, 0, sizeof(map));
			map.fd = msg.fd;
			memset(&res, 0, sizeof(res));
			if ((r = ioctl(w->fusefd, FUSE_DEV_IOC_BACKING_OPEN,
			    &map)) == -1)
				res.error = errno;
			else
				res.id = r;
			if (fsproto_compose(&w->bchan, MSG_BACKING_RESULT, 0,
			    -1, &res, sizeof(res)) == -1 ||
			    fsproto_flush(&w->bchan) == -1)
				err(1, "BACKING_RESULT");
			break;
		case MSG_BACKING_CLOSE:
			if (fsproto_get_exact(&msg, &req, sizeof(req)) == -1)
				errx(1, "BACKING_CLOSE of %zu bytes", msg.len);
			id = (uint32_t)req.id;
			if (ioctl(w->fusefd, FUSE_DEV_IOC_BACKING_CLOSE,
			    &id) == -1)
				warn("backing close %d", req.id);
			break;
		default:
			errx(1, "unexpected backing message %u",
			    msg.hdr.type);
		}
		fsproto_msg_free(&msg);
	}
	if (r == -1)
		err(1, "malformed frame on the backing channel");
	return;
 gone:
	close(w->bchan.fd);
	fsproto_chan_clear(&w->bchan);
	w->bchan_open = 0;
}

/* The holder's life after READY: until the worker's channel closes. */
static int
hold(struct wrun *w)
{
	struct pollfd	 pfd[2];
	int		 detached = 0;

	pfd[0].fd = w->chan.fd;
	pfd[0].events = POLLIN;
	pfd[1].events = POLLIN;
	for (;;) {
		if (got_term && !detached) {
			if (umount2(w->mountpoint, MNT_DETACH) == -1)
				warn("umount2 %s", w->mountpoint);
			detached = 1;
		}
		if (got_usr1) {
			got_usr1 = 0;
			if (fsproto_compose(&w->chan, MSG_WORKER_SHUTDOWN, 0,
			    -1, NULL, 0) == -1 || fsproto_flush(&w->chan) == -1)
				warn("SHUTDOWN");
		}
		if (got_usr2) {
			got_usr2 = 0;
			if (fsproto_compose(&w->chan, MSG_WORKER_READY, 0, -1,
			    NULL, 0) == -1 || fsproto_flush(&w->chan) == -1)
				warn("bad frame");
		}
		pfd[1].fd = w->bchan_open ? w->bchan.fd : -1;
		pfd[1].revents = 0;
		if (poll(pfd, 2, 1000) == -1 && errno != EINTR)
			err(1, "poll");
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			backing_serve(w);
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    drain_channel(w) == -1)
			break;
	}
	return reap_worker(w);
}

static int
wait_ready(struct wrun *w)
{
	struct pollfd	 pfd;
	int		 i, r;

	pfd.fd = w->chan.fd;
	pfd.events = POLLIN;
	for (i = 0; i < READY_TIMEOUT * 10; i++) {
		if (poll(&pfd, 1, 100) == -1 && errno != EINTR)
			err(1, "poll");
		if (pfd.revents == 0)
			continue;
		if ((r = drain_channel(w)) == -1)
			return -1;
		if (r > 0)
			return 0;
	}
	warnx("no READY from the worker in %d s", READY_TIMEOUT);
	return -1;
}

/* The holder: starts the worker and reports its pid on report. */
__attribute__((__noreturn__)) static void
holder(struct wrun *w, int fusefd, int srcfd, int report)
{
	struct sigaction	 sa;
	int			 sp[2], bp[2] = { -1, -1 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		err(1, "socketpair");
	if (w->backing >= 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bp) == -1)
		err(1, "socketpair");
	/*
	 * As fsmount starts it: the first process of new pid, network, ipc
	 * and uts namespaces, which the holder joins too but for the pid.
	 */
	if (unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	    CLONE_NEWUTS) == -1)
		err(1, "unshare");
	if ((w->worker = fork()) == -1)
		err(1, "fork");
	if (w->worker == 0)
		exec_worker(w, fusefd, srcfd, sp[1], bp[1]);
	close(sp[1]);
	close(srcfd);
	if (fsproto_chan_init(&w->chan, sp[0], FSPROTO_MAXPAYLOAD, 0) == -1)
		err(1, "fsproto_chan_init");
	if (w->backing >= 0) {
		close(bp[1]);
		w->fusefd = fusefd;
		if (fsproto_chan_init(&w->bchan, bp[0],
		    sizeof(struct fsmsg_backing_open), FSPROTO_F_FDPASS) == -1)
			err(1, "fsproto_chan_init");
		w->bchan_open = 1;
	} else
		close(fusefd);
	if (wait_ready(w) == -1) {
		kill(w->worker, SIGTERM);
		umount2(w->mountpoint, MNT_DETACH);
		reap_worker(w);
		exit(1);
	}
	/* The pid file exists before the waiting caller is let go. */
	write_file(w->pidfile, "%ld %ld\n", (long)w->worker, (long)getpid());
	if (report != -1) {
		dprintf(report, "%ld\n", (long)w->worker);
		close(report);
	}
	exit(hold(w));
}

int
main(int argc, char *argv[])
{
	struct wrun	 w;
	char		 buf[32];
	ssize_t		 n;
	pid_t		 pid;
	int		 ch, fd, fusefd, srcfd, p[2];

	memset(&w, 0, sizeof(w));
	w.backing = -1;
	while ((ch = getopt(argc, argv, "+b:fg:G:l:o:p:s:u:vx:")) != -1) {
		switch (ch) {
		case 'b':
			w.backing = strtol(optarg, NULL, 10);
			if (w.backing < 0)
				usage();
			break;
		case 'f':
			w.foreground = 1;
			break;
		case 'g':
			w.gid = strtoul(optarg, NULL, 10);
			break;
		case 'G':
			w.groups = optarg;
			break;
		case 'l':
			w.logfile = optarg;
			break;
		case 'o':
			w.options = optarg;
			break;
		case 'p':
			w.pidfile = optarg;
			break;
		case 's':
			w.statsfile = optarg;
			break;
		case 'u':
			w.uid = strtoul(optarg, NULL, 10);
			break;
		case 'v':
			w.verbose = 1;
			break;
		case 'x':
			w.exitfile = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 4 || strcmp(argv[2], "--") != 0)
		usage();
	w.source = argv[0];
	w.mountpoint = argv[1];
	w.cmd = argv + 3;

	if ((fusefd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1)
		err(1, "/dev/fuse");
	if ((srcfd = open(w.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		err(1, "%s", w.source);
	if (do_mount(&w, fusefd) == -1)
		err(1, "mount %s", w.mountpoint);
	if (w.foreground)
		holder(&w, fusefd, srcfd, -1);

	if (pipe2(p, O_CLOEXEC) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(p[0]);
		setsid();
		/* Whoever reads our stdout must not wait for the holder. */
		if ((fd = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(fd, STDIN_FILENO) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1)
			err(1, "/dev/null");
		if (fd > STDERR_FILENO)
			close(fd);
		holder(&w, fusefd, srcfd, p[1]);
	}
	close(p[1]);
	close(fusefd);
	close(srcfd);
	if ((n = read(p[0], buf, sizeof(buf) - 1)) <= 0) {
		waitpid(pid, NULL, 0);
		errx(1, "the worker did not start");
	}
	buf[n] = '\0';
	fputs(buf, stdout);
	return 0;
}
