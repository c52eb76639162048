/*
 * Runs a command with some system calls failing with ENOSYS, as on a
 * kernel older than them or under a container's seccomp profile that
 * refuses what it does not know.  The filter is inherited by every
 * process the command starts, through fork(2), clone(2) and execve(2):
 * run as the command, fsmonitor passes it on to fsmount and each
 * worker, whose own filters stack on it.
 *
 *	enosys call[,call...] command [argument ...]
 *
 * Root only: no_new_privs is left unset (which needs CAP_SYS_ADMIN), as
 * fsmount executes the workers with capabilities.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
usage(void)
{
	fprintf(stderr, "usage: enosys call[,call...] command "
	    "[argument ...]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	scmp_filter_ctx	 ctx;
	char		*list, *name;
	int		 nr, rv;

	if (argc < 3)
		usage();
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		errx(1, "seccomp_init");
	if ((rv = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) != 0)
		errc(1, -rv, "SCMP_FLTATR_CTL_NNP");
	if ((list = strdup(argv[1])) == NULL)
		err(1, NULL);
	while ((name = strsep(&list, ",")) != NULL) {
		if ((nr = seccomp_syscall_resolve_name(name)) ==
		    __NR_SCMP_ERROR)
			errx(1, "%s: no such system call", name);
		if ((rv = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr,
		    0)) != 0)
			errc(1, -rv, "%s", name);
	}
	if ((rv = seccomp_load(ctx)) != 0)
		errc(1, -rv, "seccomp_load");
	seccomp_release(ctx);
	execvp(argv[2], argv + 2);
	err(127, "%s", argv[2]);
}
