/*
 * Makes a running process make one system call of our choosing, as
 * code that had taken it over would: the process is seized with
 * ptrace(2), its next system call entry is rewritten to personality(2)
 * (query only: harmless wherever it is let through), and it is let go.
 * The kernel checks a system call changed at its entry stop against
 * the seccomp filter (Linux 4.8 and later), so a worker whose
 * allowlist lacks personality(2) dies of SIGSYS, through its real
 * filter, without any test hook in its code.
 *
 *	sysinject pid		rewrite the next call of thread pid
 *	sysinject -m		print what this build's filters do with a
 *				refused call: "kill", or "log" (SECCOMP_LOG)
 *
 * x86_64 only; elsewhere it exits 2.
 */

#include <sys/types.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STOPS	64	/* stops to wait through for an entry */

static void
usage(void)
{
	fprintf(stderr, "usage: sysinject pid | -m\n");
	exit(1);
}

#ifdef __x86_64__
/* Resumes pid to its next system call entry stop. */
static void
to_entry(pid_t pid)
{
	struct __ptrace_syscall_info	 info;
	int				 i, status, sig = 0;

	for (i = 0; i < MAX_STOPS; i++) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, sig) == -1)
			err(1, "PTRACE_SYSCALL");
		sig = 0;
		if (waitpid(pid, &status, __WALL) == -1)
			err(1, "waitpid");
		if (!WIFSTOPPED(status))
			errx(1, "%d ended before a system call", (int)pid);
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			memset(&info, 0, sizeof(info));
			if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info),
			    &info) == -1)
				err(1, "PTRACE_GET_SYSCALL_INFO");
			if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
				return;
		} else if (status >> 16 == 0 && WSTOPSIG(status) != SIGTRAP)
			sig = WSTOPSIG(status);	/* a signal: pass it on */
	}
	errx(1, "%d made no system call", (int)pid);
}

static void
inject(pid_t pid)
{
	struct user_regs_struct	 regs;
	int			 status;

	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) == -1)
		err(1, "PTRACE_SEIZE %d", (int)pid);
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
		err(1, "PTRACE_INTERRUPT");
	if (waitpid(pid, &status, __WALL) == -1)
		err(1, "waitpid");
	to_entry(pid);
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
		err(1, "PTRACE_GETREGS");
	regs.orig_rax = SYS_personality;
	regs.rdi = 0xffffffff;		/* query, change nothing */
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) == -1)
		err(1, "PTRACE_SETREGS");
	if (ptrace(PTRACE_DETACH, pid, 0, 0) == -1)
		err(1, "PTRACE_DETACH");
}
#endif

int
main(int argc, char *argv[])
{
	char	*ep;
	long	 pid;

	if (argc != 2)
		usage();
	if (strcmp(argv[1], "-m") == 0) {
#ifdef SECCOMP_LOG
		puts("log");
#else
		puts("kill");
#endif
		return 0;
	}
	errno = 0;
	pid = strtol(argv[1], &ep, 10);
	if (argv[1][0] == '\0' || *ep != '\0' || errno != 0 || pid <= 0)
		usage();
#ifdef __x86_64__
	inject((pid_t)pid);
	return 0;
#else
	errx(2, "only x86_64 is supported");
#endif
}
