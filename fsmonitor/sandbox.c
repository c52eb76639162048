/*
 * The parent's sandbox.  By the time it is entered the parent is an
 * unprivileged user in an empty chroot; this takes away every system
 * call it does not make while serving.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <errno.h>

#include "fsmonitor.h"
#include "sandbox.h"

static const struct sandbox_syscall parent_syscalls[] = {
	SC_ALLOW(poll,		"the event loop"),
	SC_ALLOW(ppoll,		"the event loop, where libc maps poll() to it"),
	SC_ALLOW(accept4,	"control clients"),
	SC_ALLOW(recvmsg,	"frames and descriptors on every channel"),
	SC_ALLOW(sendmsg,	"frames and descriptors on every channel"),
	SC_ALLOW(getsockopt,	"SO_PEERCRED and SO_PEERGROUPS of clients"),
	SC_ALLOW(fcntl,		"duplicating a client socket for fsmount"),
	SC_ALLOW(close,		"descriptors passed on, clients gone"),
	SC_ALLOW(read,		"the signalfd"),
	SC_ALLOW(wait4,		"reaping fsmount"),
	SC_ALLOW(getpid,	"the pid stamped on frames"),
	SC_ALLOW(write,		"logging to stderr with -d"),
	SC_ALLOW(writev,	"logging to stderr with -d"),
	SC_ALLOW(lseek,		"stdio on stderr"),
	SC_ALLOW(fstat,		"stdio on stderr"),
	SC_ALLOW(newfstatat,	"stdio on stderr"),
	SC_ALLOW(sendto,	"syslog; send() to the service manager"),
	SC_FAIL(socket, EACCES,	"syslog reconnecting: refused, not fatal"),
	SC_FAIL(connect, EACCES, "syslog reconnecting: refused, not fatal"),
	SC_ALLOW(clock_gettime,	"time(), where the vDSO is not used"),
	SC_ALLOW(gettimeofday,	"time(), where the vDSO is not used"),
	SC_ALLOW(time,		"time(), where the vDSO is not used"),
	SC_ALLOW(brk,		"malloc"),
	SC_ALLOW(mmap,		"malloc"),
	SC_ALLOW(munmap,	"malloc"),
	SC_ALLOW(mremap,	"realloc"),
	SC_ALLOW(madvise,	"free"),
	SC_ALLOW(getrandom,	"malloc's tcache"),
	SC_ALLOW(futex,		"libc locks (syslog)"),
	SC_ALLOW(rt_sigreturn,	"return from SIGPIPE's default, ignored"),
	SC_ALLOW(restart_syscall, "a poll() resumed after a stop"),
	SC_ALLOW(exit_group,	"exit"),
	SC_ALLOW(exit,		"exit"),
};

/*
 * After the parent has dropped to its user: no new privileges, no new
 * processes or files, and the allowlist.
 */
void
parent_sandbox(void)
{
	struct sandbox_list	l = { parent_syscalls, SC_COUNT(parent_syscalls) };
	struct rlimit		rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_NPROC, &rl) == -1)
		fatal("%s: RLIMIT_NPROC", __func__);
	sandbox_nonewprivs();
	sandbox_seccomp(&l, 1, 0);
}
