/*
 * The credentials a creating request runs with.
 *
 * Owner mode, the only mode so far, does everything as the mount's
 * owner: the worker already runs with the owner's ids (sandbox.c), so
 * there is nothing to switch and the request's uid/gid are not used.
 *
 * Multiuser mode will switch this thread's fsuid/fsgid (and groups) to
 * the request's caller here, so the files it creates belong to the
 * caller; every creating op (MKNOD, MKDIR, SYMLINK, CREATE, TMPFILE,
 * LINK, RENAME with RENAME_WHITEOUT) already brackets its syscall with
 * cred_enter() and cred_leave().
 */

#include <sys/types.h>

#include <string.h>

#include "fsproto.h"
#include "fsworker.h"

int
cred_enter(const struct req *req, struct cred_save *cs)
{
	(void)req;
	memset(cs, 0, sizeof(*cs));
	return 0;
}

void
cred_leave(struct cred_save *cs)
{
	cs->switched = 0;
}
