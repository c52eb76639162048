/*
 * The statically linked worker's user and group database: none.
 *
 * libcap-ng's capng_change_id(), which the worker never calls, lives in
 * an object file with calls it does use and refers to getpwuid(3) and
 * initgroups(3).  libc's versions load NSS modules at run time, which a
 * static program cannot do safely and a chrooted worker could not find;
 * the linker warns about them.  These take their place and fail, so the
 * link is clean and any such call inside the sandbox fails closed.
 */

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>

struct passwd *
getpwuid(uid_t uid)
{
	(void)uid;
	errno = ENOSYS;
	return NULL;
}

int
initgroups(const char *user, gid_t group)
{
	(void)user;
	(void)group;
	errno = ENOSYS;
	return -1;
}
