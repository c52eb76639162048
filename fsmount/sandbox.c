/*
 * The sandbox of fsmount: root, but only with the capabilities that
 * mounting, credential checks and starting workers need.
 */

#include <sys/types.h>
#include <linux/capability.h>

#include "fsmount.h"
#include "sandbox.h"

/* What fsmount itself uses. */
static const int fsmount_caps[] = {
	CAP_SYS_ADMIN,		/* fsopen, fsmount, move_mount, umount2 */
	CAP_KILL,		/* stopping workers that run as their owner */
	CAP_DAC_OVERRIDE,	/* static mounts' paths, whoever owns them */
	CAP_DAC_READ_SEARCH,	/* the same, for directories */
};

/*
 * What a worker may start with, on top: it builds its own sandbox
 * (namespaces and pivot_root need CAP_SYS_ADMIN, taking its owner's
 * ids CAP_SETUID and CAP_SETGID, shrinking its sets CAP_SETPCAP) and,
 * in multiuser mode, keeps the set that lets it act for each caller.
 * Root programs we execute start with the bounding set.
 */
static const int worker_caps[] = {
	CAP_SETUID,
	CAP_SETGID,
	CAP_SETPCAP,
	CAP_CHOWN,
	CAP_FOWNER,
	CAP_FSETID,
	CAP_MKNOD,
	CAP_SETFCAP,
};

void
fsmount_sandbox(void)
{
	sandbox_caps(fsmount_caps, SC_COUNT(fsmount_caps), worker_caps,
	    SC_COUNT(worker_caps));
}
