/*
 * The worker's sandbox, entered once every descriptor it needs is open
 * and before the first request is read.
 *
 * Now: the owner-mode credential drop.  The worker becomes the mount
 * owner (groups, gid, uid), proves the old ids cannot come back, keeps
 * no capability, and sets no_new_privs.
 *
 * A mount owned by root is the exception: it runs as uid 0, but with
 * only CHOWN, DAC_OVERRIDE, FOWNER, FSETID, MKNOD and SETFCAP, the
 * capabilities a root user's file operations rely on (chown to another
 * user, reading files it does not own, device nodes).  Nothing that
 * reaches beyond the filesystem (SYS_ADMIN, SETUID, NET_*, ...) stays.
 *
 * Still to come, in the sandbox issue, in this order after the drop's
 * preparation: a new mount namespace with slave propagation, the source
 * bind-mounted nodev,nosuid and made the root with pivot_root (the
 * /proc/self/fd uses in inode.c move with it), new pid, net, ipc and uts
 * namespaces, rlimits, and the seccomp allowlist.  Multiuser mode (root
 * with the virtiofsd set, per-request fsuid in cred.c, supplementary
 * groups dropped) comes with it.  None of that is done here yet.
 */

#include <sys/types.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

static const unsigned int root_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_MKNOD,
	CAP_SETFCAP
};

/* The set kept: none, or root_caps for a root-owned mount. */
static void
sandbox_caps_select(struct worker_conf *conf, capng_type_t type)
{
	size_t	 i;

	if (conf->uid != 0)
		return;
	for (i = 0; i < sizeof(root_caps) / sizeof(root_caps[0]); i++)
		if (capng_update(CAPNG_ADD, type, root_caps[i]) == -1)
			fatalx("%s: capng_update", __func__);
}

/* While still privileged: the bounding and ambient sets, for good. */
static void
sandbox_bound(struct worker_conf *conf)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() == -1)
		fatalx("%s: capng_get_caps_process", __func__);
	capng_clear(CAPNG_SELECT_BOUNDS | CAPNG_SELECT_AMBIENT);
	sandbox_caps_select(conf, CAPNG_BOUNDING_SET);
	if (capng_apply(CAPNG_SELECT_BOUNDS | CAPNG_SELECT_AMBIENT) != 0)
		fatalx("%s: capng_apply bounding set", __func__);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_KEEPCAPS", __func__);
}

static void
sandbox_ids(struct worker_conf *conf)
{
	if (setgroups(conf->ngroups, conf->groups) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(conf->gid, conf->gid, conf->gid) == -1)
		fatal("%s: setresgid %u", __func__, conf->gid);
	if (setresuid(conf->uid, conf->uid, conf->uid) == -1)
		fatal("%s: setresuid %u", __func__, conf->uid);
}

static void
sandbox_caps(struct worker_conf *conf)
{
	capng_clear(CAPNG_SELECT_CAPS);
	sandbox_caps_select(conf, CAPNG_EFFECTIVE | CAPNG_PERMITTED);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		fatalx("%s: capng_apply", __func__);
}

/* In the manner of OpenSSH's permanently_drop_uid(): trust, but check. */
static void
sandbox_verify(struct worker_conf *conf)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("%s: getres[ug]id", __func__);
	if (ruid != conf->uid || euid != conf->uid || suid != conf->uid ||
	    rgid != conf->gid || egid != conf->gid || sgid != conf->gid)
		fatalx("%s: ids not dropped", __func__);
	if (conf->uid != 0 && (setresuid(0, 0, 0) != -1 || seteuid(0) != -1))
		fatalx("%s: uid 0 could be regained", __func__);
	if (conf->gid != 0 && (setresgid(0, 0, 0) != -1 || setegid(0) != -1))
		fatalx("%s: gid 0 could be regained", __func__);
	if (capng_get_caps_process() == -1)
		fatalx("%s: capng_get_caps_process", __func__);
	if (conf->uid != 0 &&
	    capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		fatalx("%s: capabilities left", __func__);
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) ||
	    capng_have_capability(CAPNG_PERMITTED, CAP_SETUID) ||
	    capng_have_capability(CAPNG_BOUNDING_SET, CAP_SYS_ADMIN))
		fatalx("%s: privileged capabilities left", __func__);
}

void
sandbox_enter(struct worker_conf *conf)
{
	if (geteuid() != 0)
		fatalx("%s: must start as root", __func__);
	sandbox_bound(conf);
	sandbox_ids(conf);
	sandbox_caps(conf);
	sandbox_verify(conf);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	log_debug("%s: uid %u gid %u, %d groups", __func__, conf->uid,
	    conf->gid, conf->ngroups);
}
