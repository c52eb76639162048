/*
 * fsworker: serves one FUSE mount of a source tree.  Started by fsmount
 * as root with the /dev/fuse descriptor, the source directory and the
 * channel to the parent on fixed descriptors; opens what it needs,
 * enters the sandbox (sandbox.c), starts its threads, then serves the
 * kernel and reports to the parent.
 */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"
#include "mntopt.h"

#define FUSE_DEV_MAJOR	10
#define FUSE_DEV_MINOR	229
#define STATS_INTERVAL	1000	/* ms: at most one STATS per second */
#define IDLE_INTERVAL	500	/* ms without a request: give memory back */
#define IDLE_TICK	250	/* ms: the main thread's wake-up until then */

struct worker_conf	*wconf;
struct worker_stats	 wstats;

static struct worker_conf	 conf;
static struct fuse_thread	 threads[FSWORKER_MAXTHREADS];
static volatile sig_atomic_t	 got_signal;
static sigset_t			 poll_sigmask;	/* the stop signals let in */

__attribute__((__noreturn__)) static void usage(void);
static void	 stdio_open(void);
static void	 parse_options(struct worker_conf *, const char *);
static void	 parse_args(struct worker_conf *, int, char *[]);
static void	 parse_groups(struct worker_conf *, const char *);
static unsigned long parse_number(const char *, unsigned long, const char *);
static void	 check_descriptors(void);
static void	 on_signal(int);
static void	 setup_signals(void);
static void	 setup_descriptors(struct worker_conf *);
static void	 take_over(struct worker_conf *);
static void	 start_threads(struct worker_conf *);
static void	 worker_dispatch_parent(struct fsproto_chan *);
static int	 worker_compose_stats(struct fsproto_chan *,
		    struct fsmsg_stats *, uint64_t *);
__attribute__((__noreturn__)) static void parent_loop(struct worker_conf *);

__attribute__((__noreturn__)) static void
usage(void)
{
	fprintf(stderr, "usage: fsworker [-dv] [-K kernel] -u uid -g gid "
	    "[-G gid,...] [-o option,...] mountpoint\n");
	exit(1);
}

static unsigned long
parse_number(const char *s, unsigned long max, const char *what)
{
	unsigned long	 v;
	char		*ep;

	if (s[0] < '0' || s[0] > '9')
		fatalx("%s: %s: not a number", what, s);
	errno = 0;
	v = strtoul(s, &ep, 10);
	if (*ep != '\0' || (errno == ERANGE && v == ULONG_MAX) || v > max)
		fatalx("%s: %s: invalid or out of range", what, s);
	return v;
}

/* 0, 1 and 2 must be open, or a later open(2) would land there. */
static void
stdio_open(void)
{
	int	 fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			err(1, "/dev/null");
	}
}

static void
parse_groups(struct worker_conf *c, const char *arg)
{
	char	*copy, *p, *tok;

	c->groups_given = 1;
	/* The requester may hold no supplementary group at all. */
	if (*arg == '\0')
		return;
	if ((copy = strdup(arg)) == NULL)
		fatal("%s", __func__);
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		if (c->ngroups == FSWORKER_MAXGROUPS)
			fatalx("-G: too many groups");
		if ((c->groups = reallocarray(c->groups, c->ngroups + 1,
		    sizeof(*c->groups))) == NULL)
			fatal("%s", __func__);
		c->groups[c->ngroups++] = parse_number(tok, UINT_MAX - 1, "-G");
	}
	free(copy);
}

/* The same allowlist as the parent and fsmount, from libfsproto. */
static void
parse_options(struct worker_conf *c, const char *arg)
{
	struct mntopts	mo;
	char		err[128];

	if (mntopt_parse(arg, &mo, err, sizeof(err)) == -1)
		fatalx("options: %s", err);
	c->ro = (mo.flags & MO_RO) != 0;
	c->allow_other = (mo.flags & MO_ALLOW_OTHER) != 0;
	c->default_permissions = (mo.flags & MO_DEFAULT_PERMISSIONS) != 0;
	c->multiuser = (mo.flags & MO_MULTIUSER) != 0;
	c->noexec = (mo.flags & MO_NOEXEC) != 0;
	c->writeback = (mo.flags & MO_WRITEBACK) != 0;
	c->noxattr = (mo.flags & MO_NOXATTR) != 0;
	c->restart = (mo.flags & MO_RESTART) != 0;
	if (mo.flags & MO_PASSTHROUGH)
		c->passthrough = PASSTHROUGH_ON;
	else if (mo.flags & MO_NOPASSTHROUGH)
		c->passthrough = PASSTHROUGH_OFF;
	c->cache = mo.cache == MO_CACHE_NEVER ? CACHE_NEVER :
	    mo.cache == MO_CACHE_ALWAYS ? CACHE_ALWAYS : CACHE_AUTO;
	if (mo.timeout >= 0) {
		c->timeout = mo.timeout;
		c->timeout_set = 1;
	}
	if (mo.threads > 0)
		c->nthreads = mo.threads;
	if (mo.spin >= 0)
		c->spin = mo.spin;
	if (mo.ptmin >= 0)
		c->pt_min = mo.ptmin;
}

static int
default_threads(void)
{
	long	 n;

	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		return 1;
	return n > FSWORKER_MAXTHREADS ? FSWORKER_MAXTHREADS : (int)n;
}

/* The fixed descriptors must be what fsmount promised. */
static void
check_descriptors(void)
{
	struct stat	 st;
	int		 type;
	socklen_t	 len = sizeof(type);

	if (fstat(FSWORKER_FUSE_FD, &st) == -1)
		fatal("fuse descriptor %d", FSWORKER_FUSE_FD);
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != FUSE_DEV_MAJOR ||
	    minor(st.st_rdev) != FUSE_DEV_MINOR)
		fatalx("descriptor %d is not /dev/fuse", FSWORKER_FUSE_FD);
	if (fstat(FSWORKER_SRC_FD, &st) == -1)
		fatal("source descriptor %d", FSWORKER_SRC_FD);
	if (!S_ISDIR(st.st_mode))
		fatalx("descriptor %d is not a directory", FSWORKER_SRC_FD);
	if (fstat(FSWORKER_CHAN_FD, &st) == -1)
		fatal("channel descriptor %d", FSWORKER_CHAN_FD);
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(FSWORKER_CHAN_FD, SOL_SOCKET, SO_TYPE, &type,
	    &len) == -1 || type != SOCK_STREAM)
		fatalx("descriptor %d is not a stream socket",
		    FSWORKER_CHAN_FD);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * The first process of a pid namespace gets only the signals it has a
 * handler for, and fsmount stops workers with SIGTERM.  The stop
 * signals are blocked in every thread, and let in only while the main
 * thread waits in ppoll().
 */
static void
setup_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 stop;
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP };
	size_t			 i;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&stop, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_mask = stop;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("%s: sigaction", __func__);
	if (sigprocmask(SIG_BLOCK, &stop, &poll_sigmask) == -1)
		fatal("%s: sigprocmask", __func__);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&poll_sigmask, sigs[i]);
}

/*
 * Takes the descriptors the worker needs (fsworker.h), raising the hard
 * limit while still privileged.  Where it stays lower, the node and
 * handle budgets shrink to fit: a quarter of what is left goes to
 * handles (two descriptors each), the rest to nodes.
 */
static void
raise_nofile(const struct worker_conf *c)
{
	struct rlimit	 rl;
	rlim_t		 want, left;
	unsigned int	 nodes = FSWORKER_NODE_FDS, handles = FSWORKER_HANDLES;

	want = nodes + 2 * handles + FSWORKER_AHEAD_FDS + FSWORKER_FIXED_FDS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("%s: getrlimit", __func__);
	if (rl.rlim_max < want) {
		rl.rlim_cur = rl.rlim_max = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("%s: getrlimit", __func__);
	}
	if (rl.rlim_max < want) {
		left = rl.rlim_max > FSWORKER_AHEAD_FDS + FSWORKER_FIXED_FDS ?
		    rl.rlim_max - FSWORKER_AHEAD_FDS - FSWORKER_FIXED_FDS : 0;
		handles = left / 4;
		nodes = left - 2 * handles;
		log_warnx("%s: %llu descriptors: %u for nodes, %u handles",
		    __func__, (unsigned long long)rl.rlim_max, nodes, handles);
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("%s: setrlimit", __func__);
	inode_set_fd_cap(nodes);
	handle_set_cap(handles, c->multiuser || c->allow_other);
}

/*
 * Everything opened before the sandbox but the root node and procfs,
 * which the sandbox opens; the clones need /dev/fuse.
 */
static void
setup_descriptors(struct worker_conf *c)
{
	uint32_t	 session = FSWORKER_FUSE_FD;
	int		 i, fd;

	for (fd = FSWORKER_FUSE_FD; fd <= FSWORKER_CHAN_FD; fd++)
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
			fatal("%s: FD_CLOEXEC", __func__);
	if ((c->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("%s: eventfd", __func__);
	c->fuse_fd[0] = FSWORKER_FUSE_FD;
	for (i = 1; i < c->nthreads; i++) {
		/*
		 * A request read on a clone dies with it; one read on the
		 * descriptor fsmount shares stays for the next worker.
		 */
		if (c->restart) {
			c->fuse_fd[i] = FSWORKER_FUSE_FD;
			continue;
		}
		if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1)
			fatal("%s: /dev/fuse", __func__);
		if (ioctl(fd, FUSE_DEV_IOC_CLONE, &session) == -1)
			fatal("%s: FUSE_DEV_IOC_CLONE", __func__);
		c->fuse_fd[i] = fd;
	}
}

/*
 * The last worker of this mount died: its nodes and handles come back
 * from the restart state, then the kernel sends again what it had not
 * answered.  If it died before answering INIT, INIT is among those.
 */
static void
take_over(struct worker_conf *c)
{
	uint64_t	 one = 1;
	uint32_t	 nlost, hlost;

	nlost = inode_recover();
	hlost = handle_recover();
	log_info("%s: took over %llu nodes, %llu handles; lost %u nodes, "
	    "%u handles", c->mountpoint,
	    (unsigned long long)atomic_load(&wstats.nodes),
	    (unsigned long long)atomic_load(&wstats.handles), nlost, hlost);
	if (restart_load_session(&fsess) == 0) {
		/*
		 * What the dead worker had read is lost for good: its
		 * callers would wait for ever, on a mount that seems
		 * alive.  Ending it is what a mount without restart does.
		 */
		if (!(fsess.offered & FUSE_HAS_RESEND))
			worker_exit(0, "restart: the kernel cannot send the "
			    "lost requests again (no FUSE_NOTIFY_RESEND)");
		atomic_store_explicit(&fsess.initialized, 1,
		    memory_order_release);
		if (write(c->ready_fd, &one, sizeof(one)) != sizeof(one))
			fatal("%s: eventfd", __func__);
	}
	restart_resend(FSWORKER_FUSE_FD);
}

static void
start_threads(struct worker_conf *c)
{
	int	 i, rv;

	for (i = 0; i < c->nthreads; i++) {
		fuse_thread_alloc(&threads[i], c->fuse_fd[i]);
		if ((rv = pthread_create(&threads[i].tid, NULL,
		    fuse_thread_main, &threads[i])) != 0)
			fatalx("%s: pthread_create: %s", __func__,
			    strerror(rv));
	}
}

void
worker_exit(int code, const char *why)
{
	static atomic_flag	 exiting = ATOMIC_FLAG_INIT;

	/* The first thread to get here ends the process. */
	if (atomic_flag_test_and_set(&exiting))
		for (;;)
			pause();
	if (fsess.flags & FUSE_OVER_IO_URING)
		log_info("%s: %llu requests through io_uring",
		    wconf->mountpoint, (unsigned long long)uring_served());
	log_info("%s: exiting: %s", wconf->mountpoint, why);
	exit(code);
}

static void
worker_dispatch_parent(struct fsproto_chan *chan)
{
	struct fsproto_msg	 msg;
	uint32_t		 level;
	int			 n;

	for (;;) {
		if ((n = fsproto_get(chan, &msg)) == -1)
			fatalx("%s: malformed frame from the parent", __func__);
		if (n == 0)
			return;
		switch (msg.hdr.type) {
		case MSG_WORKER_SHUTDOWN:
			if (msg.len != 0 || msg.fd != -1)
				fatalx("%s: SHUTDOWN with a payload",
				    __func__);
			fsproto_msg_free(&msg);
			worker_exit(0, "shutdown requested by the parent");
		case MSG_WORKER_LOG:
			if (msg.fd != -1 || fsproto_get_exact(&msg, &level,
			    sizeof(level)) == -1 || level > FSMSG_LOG_VERBOSE)
				fatalx("%s: bad LOG message", __func__);
			log_setverbose(level == FSMSG_LOG_VERBOSE);
			fsproto_msg_free(&msg);
			break;
		default:
			fatalx("%s: unexpected message type %u", __func__,
			    msg.hdr.type);
		}
	}
}

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Queues STATS if the counters changed and the last is old enough.
 * Returns in how many ms to look again: when changed counters are due.
 */
static int
worker_compose_stats(struct fsproto_chan *chan, struct fsmsg_stats *last,
    uint64_t *last_ms)
{
	struct fsmsg_stats	 st;
	uint64_t		 now = now_ms();

	memset(&st, 0, sizeof(st));
	st.requests = atomic_load(&wstats.requests);
	st.bytes_read = atomic_load(&wstats.bytes_read);
	st.bytes_written = atomic_load(&wstats.bytes_written);
	st.errors = atomic_load(&wstats.errors);
	st.nodes = atomic_load(&wstats.nodes);
	st.handles = atomic_load(&wstats.handles);
	if (memcmp(&st, last, sizeof(st)) == 0)
		return STATS_INTERVAL;
	if (now - *last_ms < STATS_INTERVAL)
		return STATS_INTERVAL - (int)(now - *last_ms);
	if (fsproto_compose(chan, MSG_WORKER_STATS, 0, -1, &st,
	    sizeof(st)) == -1)
		fatal("%s: compose", __func__);
	*last = st;
	*last_ms = now;
	return STATS_INTERVAL;
}

/*
 * Once no request has come for IDLE_INTERVAL, what a burst left behind
 * goes back to the system: the pages big requests and replies touched
 * in the threads' buffers, the node hash grown for many nodes, and what
 * malloc keeps free.  Returns whether that is still to do, for the next
 * wake-up to come sooner.
 */
static int
worker_trim(struct worker_conf *c)
{
	static uint64_t	 seen, since;
	static int	 trimmed = 1;
	uint64_t	 requests, now;
	int		 i;

	requests = atomic_load(&wstats.requests);
	now = now_ms();
	if (requests != seen) {
		seen = requests;
		since = now;
		trimmed = 0;
		return 1;
	}
	if (now - since < IDLE_INTERVAL)
		return !trimmed;
	for (i = 0; i < c->nthreads; i++)
		fuse_thread_trim(&threads[i]);
	if (!trimmed) {
		inode_trim();
		malloc_trim(0);
		trimmed = 1;
	}
	return 0;
}

static void
worker_flush_parent(struct fsproto_chan *chan)
{
	if (fsproto_flush(chan) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			worker_exit(0, "parent gone");
		fatal("%s: write to the parent", __func__);
	}
}

/* The main thread's job once the FUSE threads run: the parent channel. */
static void
parent_loop(struct worker_conf *c)
{
	struct fsproto_chan	 chan;
	struct fsmsg_stats	 last;
	struct fsmsg_features	 feat;
	struct pollfd		 pfd[3];
	struct timespec		 ts;
	char			 why[32];
	uint64_t		 v, last_ms = 0, flush_at = 0, now;
	ssize_t			 n;
	int			 ms = STATS_INTERVAL;

	if (fsproto_chan_init(&chan, FSWORKER_CHAN_FD, FSPROTO_MAXPAYLOAD,
	    0) == -1)
		fatal("%s: channel", __func__);
	memset(&last, 0, sizeof(last));
	pfd[0].fd = FSWORKER_CHAN_FD;
	pfd[0].events = POLLIN;
	pfd[1].fd = c->ready_fd;
	pfd[1].events = POLLIN;
	pfd[2].fd = passthrough_wake_fd();
	pfd[2].events = POLLIN;
	for (;;) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = ms % 1000 * 1000000L;
		if (ppoll(pfd, 3, &ts, &poll_sigmask) == -1) {
			if (errno != EINTR)
				fatal("%s: ppoll", __func__);
			if (got_signal != 0) {
				(void)snprintf(why, sizeof(why), "signal %d",
				    (int)got_signal);
				worker_exit(0, why);
			}
			continue;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(c->ready_fd, &v, sizeof(v)) != sizeof(v))
				fatal("%s: eventfd", __func__);
			fuse_features(&feat);
			if (fsproto_compose(&chan, MSG_WORKER_READY, 0, -1,
			    &feat, sizeof(feat)) == -1)
				fatal("%s: compose", __func__);
			pfd[1].fd = -1;
			log_debug("%s: serving %s", __func__, c->mountpoint);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = fsproto_read(&chan)) == -1) {
				if (errno != ECONNRESET)
					fatal("%s: read", __func__);
				n = 0;
			}
			if (n == 0)
				worker_exit(0, "parent closed the channel");
			worker_dispatch_parent(&chan);
		}
		ms = STATS_INTERVAL;
		if (pfd[1].fd == -1)
			ms = worker_compose_stats(&chan, &last, &last_ms);
		worker_flush_parent(&chan);
		if (worker_trim(c) && ms > IDLE_TICK)
			ms = IDLE_TICK;
		/* Closes of registrations, gathered for a moment. */
		if (pfd[2].revents & POLLIN) {
			if (read(pfd[2].fd, &v, sizeof(v)) == -1 &&
			    errno != EAGAIN)
				fatal("%s: eventfd", __func__);
			if (flush_at == 0)
				flush_at = now_ms() + PASSTHROUGH_FLUSH_MS;
		}
		if (flush_at != 0) {
			if ((now = now_ms()) >= flush_at) {
				passthrough_flush();
				flush_at = 0;
			} else if (ms > (int)(flush_at - now))
				ms = (int)(flush_at - now);
		}
	}
}

static void
parse_args(struct worker_conf *c, int argc, char *argv[])
{
	int	 ch;

	c->cache = CACHE_AUTO;
	c->nthreads = default_threads();
	c->spin = FSWORKER_SPIN;
	c->pt_min = FSWORKER_PT_MIN;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->proc_fd = c->ready_fd = -1;
	wconf = c;
	while ((ch = getopt(argc, argv, "dg:G:K:o:u:v")) != -1) {
		switch (ch) {
		case 'd':
			c->debug = 1;
			break;
		case 'g':
			c->gid = parse_number(optarg, UINT_MAX - 1, "-g");
			break;
		case 'G':
			parse_groups(c, optarg);
			break;
		case 'K':
			/* fsmount gives it with -T alone. */
			if ((c->kernel = fsproto_kernel(optarg)) == NULL)
				fatalx("-K %s: no such kernel", optarg);
			break;
		case 'o':
			parse_options(c, optarg);
			break;
		case 'u':
			c->uid = parse_number(optarg, UINT_MAX - 1, "-u");
			break;
		case 'v':
			c->verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || c->uid == (uid_t)-1 || c->gid == (gid_t)-1)
		usage();
	c->mountpoint = argv[0];
	if (c->writeback && c->passthrough == PASSTHROUGH_ON)
		fatalx("options writeback and passthrough exclude each other");
	if (!c->groups_given) {
		/* No list given: the owner's primary group alone. */
		if ((c->groups = malloc(sizeof(*c->groups))) == NULL)
			fatal("groups");
		c->groups[0] = c->gid;
		c->ngroups = 1;
	}
}

int
main(int argc, char *argv[])
{
	int	 rootfd;

	/* Nothing inherited beyond the descriptors of the contract. */
	if (close_range(FSWORKER_STATE_FD + 1, ~0U, 0) == -1)
		err(1, "close_range");
	stdio_open();
	/* Before getopt(): it moves the arguments out of the way. */
	setproctitle_init(argc, argv, environ);
	log_init(1, LOG_DAEMON);
	parse_args(&conf, argc, argv);
	setproctitle("%s", conf.mountpoint);
	log_init(conf.debug, LOG_DAEMON);
	log_procinit("fsworker");
	log_setverbose(conf.verbose);
	check_descriptors();
	restart_init(&conf);
	passthrough_init(&conf);
	setup_signals();
	/*
	 * One arena for every thread: malloc_trim() gives back the top of
	 * the main arena only, and a thread's own arena keeps what a burst
	 * of lookups left free there.
	 */
	mallopt(M_ARENA_MAX, 1);
	umask(0);		/* the requests carry the caller's umask */
	raise_nofile(&conf);
	setup_descriptors(&conf);
	uring_prepare(FSWORKER_FUSE_FD);
	lock_init();
	rootfd = sandbox_enter(&conf);
	inode_init(rootfd);
	file_init(rootfd);
	if (restart_recovering())
		take_over(&conf);
	start_threads(&conf);
	log_info("%s: %d threads, uid %u gid %u", conf.mountpoint,
	    conf.nthreads, conf.uid, conf.gid);
	parent_loop(&conf);
}
