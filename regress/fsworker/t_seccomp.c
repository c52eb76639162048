/*
 * The worker's seccomp allowlist (libfsproto/sandbox_worker.c), loaded
 * in a child as fsworker loads it: a call outside it kills the process
 * (in a SECCOMP_LOG build it is logged and let through), no socket can
 * be made, threads can but processes cannot, and every call is listed
 * once, with a reason.  Then fsmount's (fsmount/sandbox.c), which its
 * workers inherit.  That a running worker and fsmount have their
 * filters is for t_ops and fsmonitor's t_daemon to show (Seccomp: 2 in
 * their status).
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "sandbox.h"
#include "fsmount.h"

/* What the worker must never be able to do once it serves. */
static const char *const never[] = {
	"execve", "execveat", "ptrace", "process_vm_readv",
	"process_vm_writev", "kill", "setns", "chroot", "mount", "umount2",
	"pivot_root", "open_tree", "move_mount", "fsopen", "fsmount",
	"fsconfig", "mount_setattr", "socketpair", "connect", "bind",
	"listen", "accept", "accept4", "bpf", "perf_event_open",
	"init_module", "finit_module", "kexec_load", "keyctl", "add_key",
	"userfaultfd", "io_uring_setup", "personality", "fork", "vfork",
};

/* Which filter the child loads: the worker's, or fsmount's. */
static int	 as_fsmount;

static int
filtered(void (*fn)(void))
{
	struct sandbox_list	 l[FSMOUNT_FILTER_LISTS] = {
				    { sandbox_worker_syscalls,
				    sandbox_worker_nsyscalls } };
	pid_t			 pid;
	int			 status;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (as_fsmount) {
			fsmount_filter(l);
			sandbox_seccomp(l, FSMOUNT_FILTER_LISTS,
			    SANDBOX_KEEPPRIVS);
		} else {
			sandbox_nonewprivs();
			sandbox_seccomp(l, 1, 0);
		}
		fn();
		_exit(0);
	}
	ATF_REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

/* fn ran to its end under the filter. */
static void
check_allowed(void (*fn)(void), const char *what)
{
	int	 status = filtered(fn);

	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %#x", what, status);
}

static void
check_refused(void (*fn)(void), const char *what)
{
	int	 status = filtered(fn);

#ifdef SECCOMP_LOG
	/* Logged by the kernel and let through: the child went on. */
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %#x, not let through", what, status);
#else
	ATF_CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "%s: status %#x, not killed by SIGSYS", what, status);
#endif
}

static void
call_ptrace(void)
{
	(void)syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
}

static void
call_execve(void)
{
	char	*argv[] = { (char *)(uintptr_t)"true", NULL };
	char	*envp[] = { NULL };

	(void)execve("/bin/true", argv, envp);
}

static void
call_fork(void)
{
	(void)fork();
}

static char	clone_stack[16384] __attribute__((aligned(16)));

static int
clone_child(void *arg)
{
	(void)arg;
	_exit(0);
}

/* The child came and went: clone(2) returned its pid, and it is reaped. */
static void
clone_with(unsigned long flags)
{
	pid_t	pid;
	int	status;

	if ((pid = clone(clone_child, clone_stack + sizeof(clone_stack),
	    flags | SIGCHLD, NULL)) == -1 ||
	    waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		_exit(1);
}

static void
clone_worker(void)
{
	clone_with(WORKER_CLONE_FLAGS);
}

static void
clone_vfork(void)
{
	clone_with(CLONE_VM | CLONE_VFORK);
}

static void
clone_ns_fewer(void)
{
	clone_with(WORKER_CLONE_FLAGS & ~CLONE_NEWNET);
}

/* clone3(2) fails, so nothing gets round the filter's look at flags. */
static void
clone3_fails(void)
{
	long	rv = syscall(SYS_clone3, NULL, 0);

	if (rv != -1 || errno != ENOSYS)
		_exit(1);
}

static void
call_unshare_net(void)
{
	(void)unshare(CLONE_NEWNET);
}

static void
call_connect(void)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)connect(-1, (struct sockaddr *)&sin, sizeof(sin));
}

static void
call_umount(void)
{
	(void)umount2("/nonexistent/t_seccomp", MNT_DETACH);
}

ATF_TC_WITHOUT_HEAD(kills);
ATF_TC_BODY(kills, tc)
{
	check_refused(call_ptrace, "ptrace");
	check_refused(call_execve, "execve");
	check_refused(call_fork, "fork");
	check_refused(call_unshare_net, "unshare(CLONE_NEWNET)");
	check_refused(call_connect, "connect");
	check_refused(call_umount, "umount2");
}

static void
make_sockets(void)
{
	static const int	 domains[] = { AF_INET, AF_INET6, AF_UNIX,
				    AF_NETLINK, AF_PACKET };
	size_t			 i;

	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		if (socket(domains[i], SOCK_DGRAM, 0) != -1 ||
		    errno != EACCES)
			_exit(1);
}

ATF_TC_WITHOUT_HEAD(no_sockets);
ATF_TC_BODY(no_sockets, tc)
{
	check_allowed(make_sockets, "socket(2) not refused with EACCES");
}

static void *
thread_main(void *arg)
{
	return arg;
}

/* What a FUSE thread's start makes: pthread_create, CLONE_FS. */
static void
start_thread(void)
{
	pthread_t	 tid;
	void		*p, *rv;

	if ((p = malloc(1 << 20)) == NULL)
		_exit(1);
	if (pthread_create(&tid, NULL, thread_main, p) != 0 ||
	    pthread_join(tid, &rv) != 0 || rv != p)
		_exit(2);
	if (unshare(CLONE_FS) == -1)
		_exit(3);
	free(p);
}

ATF_TC_WITHOUT_HEAD(threads);
ATF_TC_BODY(threads, tc)
{
	check_allowed(start_thread, "a thread and CLONE_FS");
}

static char *
name_of(int nr)
{
	char	*name;

	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	return name != NULL ? name : strdup("?");
}

/* Each call once per list, with a reason, known on this architecture. */
static void
check_list(const struct sandbox_syscall *list, size_t n, const char *what)
{
	size_t	 i, j;
	char	*name;

	for (i = 0; i < n; i++) {
		name = name_of(list[i].nr);
		ATF_CHECK_MSG(list[i].nr >= 0, "%s: entry %zu not on this "
		    "architecture", what, i);
		ATF_CHECK_MSG(list[i].why != NULL && list[i].why[0] != '\0',
		    "%s: %s without a reason", what, name);
		for (j = i + 1; j < n; j++)
			ATF_CHECK_MSG(list[i].nr != list[j].nr,
			    "%s: %s twice", what, name);
		free(name);
	}
}

ATF_TC_WITHOUT_HEAD(lists);
ATF_TC_BODY(lists, tc)
{
	const struct sandbox_syscall	*sv = sandbox_worker_syscalls;
	const struct sandbox_syscall	*su = sandbox_worker_setup_syscalls;
	struct sandbox_list		 fl[FSMOUNT_FILTER_LISTS];
	size_t				 i, j;
	char				*name;
	int				 nr;

	check_list(sv, sandbox_worker_nsyscalls, "serving");
	check_list(su, sandbox_worker_nsetup_syscalls, "setup");
	fsmount_filter(fl);
	check_list(fl[0].calls, fl[0].n, "fsmount");
	/* In both lists only where serving restricts what setup allows. */
	for (i = 0; i < sandbox_worker_nsyscalls; i++)
		for (j = 0; j < sandbox_worker_nsetup_syscalls; j++) {
			if (sv[i].nr != su[j].nr)
				continue;
			name = name_of(sv[i].nr);
			ATF_CHECK_MSG((sv[i].errnum != 0 || sv[i].a0mask != 0)
			    && su[j].errnum == 0 && su[j].a0mask == 0,
			    "%s in both lists alike", name);
			free(name);
		}
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		if ((nr = seccomp_syscall_resolve_name(never[i])) < 0)
			continue;
		for (j = 0; j < sandbox_worker_nsyscalls; j++)
			ATF_CHECK_MSG(sv[j].nr != nr || sv[j].errnum != 0,
			    "%s allowed while serving", never[i]);
	}
}

/*
 * Without no_new_privs, a root program fsmount executes gains its
 * capabilities: that the workers have theirs is t_daemon's to show.
 */
static void
nnp_unset(void)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		_exit(1);
}

static void
make_inet_socket(void)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void
make_unix_socket(void)
{
	int	fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		_exit(1);
	close(fd);
}

ATF_TC(fsmount);
ATF_TC_HEAD(fsmount, tc)
{
	atf_tc_set_md_var(tc, "descr", "fsmount's filter: local sockets, "
	    "no network, no fork but a worker's clone, no ptrace; "
	    "no_new_privs unset");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(fsmount, tc)
{
	as_fsmount = 1;
	check_allowed(make_unix_socket, "socket(AF_UNIX)");
	check_allowed(nnp_unset, "no_new_privs left unset");
	check_allowed(start_thread, "a thread");
	check_refused(make_inet_socket, "socket(AF_INET)");
	check_refused(call_ptrace, "ptrace");
	check_refused(call_fork, "fork");
	check_allowed(clone_worker, "a worker's clone");
	check_allowed(clone3_fails, "clone3 failing with ENOSYS");
	check_refused(clone_vfork, "clone(CLONE_VM | CLONE_VFORK)");
	check_refused(clone_ns_fewer, "a worker's clone without CLONE_NEWNET");
	check_refused(call_unshare_net, "unshare(CLONE_NEWNET)");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, kills);
	ATF_TP_ADD_TC(tp, no_sockets);
	ATF_TP_ADD_TC(tp, threads);
	ATF_TP_ADD_TC(tp, lists);
	ATF_TP_ADD_TC(tp, fsmount);
	return atf_no_error();
}
