/*
 * Linked only into the valgrind build (regress/valgrind.sh), with
 * -Wl,--wrap=sandbox_seccomp,--wrap=sandbox_enter.  Valgrind 3.19 has
 * no wrappers for seccomp(2) nor for the mount API the worker's
 * sandbox is built with (open_tree(2), mount_setattr(2), fsopen(2),
 * move_mount(2)), so under it:
 *
 *  - no process loads a seccomp filter;
 *  - the worker keeps the host's file tree, and only takes the
 *    owner's ids and no_new_privs, as its sandbox ends.
 *
 * What valgrind checks is everything else: the requests, the node and
 * handle tables, the channels.  The sandboxes themselves run under the
 * ASan build.  No log.c here: some programs link this before
 * libfsproto.
 */

#include <sys/types.h>
#include <sys/prctl.h>

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"
#include "sandbox.h"

void	__wrap_sandbox_seccomp(const struct sandbox_syscall *, size_t,
	    const struct sandbox_syscall *, size_t);
int	__wrap_sandbox_enter(struct worker_conf *);

void
__wrap_sandbox_seccomp(const struct sandbox_syscall *list, size_t n,
    const struct sandbox_syscall *extra, size_t nextra)
{
	(void)list;
	(void)extra;
	fprintf(stderr, "valgrind build: no seccomp filter (%zu calls "
	    "listed)\n", n + nextra);
}

static void
stub_fail(const char *what)
{
	perror(what);
	exit(1);
}

int
__wrap_sandbox_enter(struct worker_conf *conf)
{
	int	 rootfd;

	fprintf(stderr, "valgrind build: the worker has no sandbox\n");
	if ((conf->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		stub_fail("/proc/self/fd");
	if ((rootfd = openat(FSWORKER_SRC_FD, ".", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		stub_fail("source");
	close(FSWORKER_SRC_FD);
	if (!conf->multiuser &&
	    (setgroups(conf->ngroups, conf->groups) == -1 ||
	    setresgid(conf->gid, conf->gid, conf->gid) == -1 ||
	    setresuid(conf->uid, conf->uid, conf->uid) == -1))
		stub_fail("ids");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		stub_fail("no_new_privs");
	if (fchdir(conf->proc_fd) == -1)
		stub_fail("fchdir");
	return rootfd;
}
