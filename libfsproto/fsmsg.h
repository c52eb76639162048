/*
 * The messages of every fsmonitor channel and their wire structures.
 * All integers are in host byte order: every peer is on this host.
 *
 * Three channels:
 *   control   fsctl <-> parent, on the control socket; opens with a hello
 *   fsmount   parent <-> fsmount, a socketpair on FSMOUNT_CHAN_FD
 *   worker    parent <-> fsworker, a socketpair on FSWORKER_CHAN_FD
 * Each receiver accepts only the types of its own channel.
 */

#ifndef FSMSG_H
#define FSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "fsproto.h"

/* Fixed descriptors of the re-executed children. */
#define FSMOUNT_CHAN_FD		3	/* fsmount: channel to the parent */
#define FSWORKER_FUSE_FD	3	/* fsworker: the /dev/fuse descriptor */
#define FSWORKER_SRC_FD		4	/* fsworker: the source directory */
#define FSWORKER_CHAN_FD	5	/* fsworker: channel to the parent */
#define FSWORKER_MNT_FD		6	/* fsworker: channel to fsmount */
#define FSWORKER_STATE_FD	7	/* fsworker: restart state (-o restart) */

#define FSMSG_PATH_MAX		4096	/* longest path carried, with NUL */
#define FSMSG_OPTS_MAX		1024	/* longest option string */
#define FSMSG_NAME_MAX		256	/* longest user name or message */

enum fsmsg_type {
	/* control: fsctl -> parent (after the hello) */
	MSG_CTL_MOUNT_SOURCE = FSPROTO_TYPE_FIRST, /* fd source; empty */
	MSG_CTL_MOUNT,			/* fd mountpoint; str options */
	MSG_CTL_UNMOUNT,		/* fd mountpoint; u32 flags */
	MSG_CTL_STATUS,			/* empty */
	MSG_CTL_RELOAD,			/* empty */
	/* control: parent -> fsctl; every request ends with FSPROTO_REPLY */
	MSG_CTL_STATUS_ENTRY,		/* struct fsmsg_mount_info + strs */
	MSG_CTL_LOG,			/* fsctl -> parent: u32 FSMSG_LOG_* */

	/* fsworker <-> parent */
	MSG_WORKER_READY = 32,		/* w->p: serving; fsmsg_features */
	MSG_WORKER_STATS,		/* w->p: struct fsmsg_stats */
	MSG_WORKER_SHUTDOWN,		/* p->w: stop serving, exit; empty */
	MSG_WORKER_LOG,			/* p->w: u32 FSMSG_LOG_* */

	/* fsworker <-> fsmount: backing files for kernel passthrough */
	MSG_BACKING_OPEN = 48,		/* w->m: fd open regular file;
					   struct fsmsg_backing_open */
	MSG_BACKING_CLOSE,		/* w->m: struct fsmsg_backing */
	MSG_BACKING_RESULT,		/* m->w: struct fsmsg_backing, to OPEN */

	/* parent -> fsmount */
	MSG_FSM_MOUNT_CLIENT = 64,	/* fd client socket; u32 reqid */
	MSG_FSM_MOUNT_SOURCE,		/* fd source; u32 reqid */
	MSG_FSM_MOUNT,			/* fd mountpoint; u32 reqid, str opts */
	MSG_FSM_STATIC_MOUNT,		/* u32 reqid, u32 index */
	MSG_FSM_UNMOUNT_CLIENT,		/* fd client socket; u32 reqid */
	MSG_FSM_UNMOUNT,		/* fd mountpoint; u32 reqid, u32 flags */
	MSG_FSM_UNMOUNT_ID,		/* u32 reqid, u32 id */
	MSG_FSM_RELOAD,			/* u32 reqid */
	MSG_FSM_SHUTDOWN,		/* empty */
	/* fsmount -> parent */
	MSG_FSM_CONFIG,			/* struct fsmsg_policy + gid/uid lists */
	MSG_FSM_STATIC,			/* u32 index, str src, str mnt, str opts */
	MSG_FSM_CONFIG_END,		/* empty: the configuration is whole */
	MSG_FSM_MOUNT_OK,		/* fd worker channel; fsmsg_mount_ok */
	MSG_FSM_MOUNT_FAIL,		/* u32 reqid, u32 errno, str message */
	MSG_FSM_UNMOUNT_RESULT,		/* u32 reqid, id, err; str msg, path */
	MSG_FSM_RELOAD_RESULT,		/* u32 reqid, u32 errno, str message */
	MSG_FSM_WORKER_EXIT,		/* struct fsmsg_worker_exit */
	MSG_FSM_LOG,			/* p->fsmount: u32 reqid, u32 FSMSG_LOG_* */
	MSG_FSM_WORKER_RESTART,		/* fd worker channel; fsmsg_worker_restart */

	MSG_TYPE_MAX
};

/* MSG_CTL_LOG, MSG_FSM_LOG, MSG_WORKER_LOG: what to log */
#define FSMSG_LOG_BRIEF		0	/* no debugging messages */
#define FSMSG_LOG_VERBOSE	1	/* debugging messages too */

/* MSG_CTL_UNMOUNT flags */
#define FSMSG_UNMOUNT_LAZY	0x01

struct fsmsg_stats {
	uint64_t	requests;	/* FUSE requests answered */
	uint64_t	bytes_read;	/* payload of READ replies */
	uint64_t	bytes_written;	/* payload of WRITE requests */
	uint64_t	errors;		/* replies with a negative error */
	uint64_t	nodes;		/* live node ids */
	uint64_t	handles;	/* open file and directory handles */
};

/*
 * What a mount's worker and the kernel settled on at INIT: the FUSE
 * minor (0 until the worker serves) and the features it got.
 */
struct fsmsg_features {
	uint32_t	minor;
	uint32_t	flags;		/* FSMSG_FEAT_* */
};

#define FSMSG_FEAT_PASSTHROUGH	0x01	/* reads and writes to backing files */
#define FSMSG_FEAT_URING	0x02	/* FUSE over io_uring */
#define FSMSG_FEAT_RESEND	0x04	/* restart in place can resend */
#define FSMSG_FEAT_WRITEBACK	0x08	/* the kernel's write cache */
#define FSMSG_FEAT_READDIRPLUS	0x10
#define FSMSG_FEAT_SUPP_GROUPS	0x20	/* FUSE_CREATE_SUPP_GROUP */
#define FSMSG_FEAT_SETXATTR_EXT	0x40	/* setxattr's flags reach us */
#define FSMSG_FEAT_ALL		0x7f

enum fsmsg_mount_state {
	MOUNT_STARTING = 1,	/* mounted, worker not yet serving */
	MOUNT_RUNNING,		/* worker serving */
	MOUNT_UNMOUNTING,	/* unmount asked */
	MOUNT_FAILED		/* worker died; mount detached */
};

/* MSG_CTL_STATUS_ENTRY: then str mountpoint, source, options, owner,
 * reason. */
struct fsmsg_mount_info {
	uint32_t		id;
	uint32_t		uid;
	int32_t			pid;
	uint32_t		state;
	int64_t			started;	/* seconds since the epoch */
	int64_t			now;		/* the daemon's clock */
	uint32_t		flags;		/* FSMSG_MOUNT_* */
	uint32_t		restarts;	/* workers restarted in place */
	struct fsmsg_stats	stats;
	struct fsmsg_features	features;
};

#define FSMSG_MOUNT_STATIC	0x01	/* from the configuration */

/* MSG_FSM_CONFIG: then nuids uint32 uids and ngids uint32 gids. */
struct fsmsg_policy {
	uint32_t	user_allow_other;
	uint32_t	mount_max;
	uint32_t	allow_all;	/* no allow lines: everyone */
	uint32_t	nuids;
	uint32_t	ngids;
	uint32_t	nstatic;
};

#define FSMSG_ALLOW_MAX		256	/* uids plus gids in allow lines */

/* MSG_FSM_MOUNT_OK: then str source, mountpoint, options, owner. */
struct fsmsg_mount_ok {
	uint32_t	reqid;
	uint32_t	id;
	uint32_t	uid;
	int32_t		pid;
	uint32_t	flags;		/* FSMSG_MOUNT_* */
	uint32_t	index;		/* static mounts: configuration index */
};

struct fsmsg_worker_exit {
	uint32_t	id;
	int32_t		pid;
	int32_t		status;		/* as from waitpid() */
	uint32_t	detached;	/* fsmount detached the mount */
	uint32_t	unmounted;	/* it exited after an unmount */
	uint32_t	pad;
};

/*
 * A restartable mount's worker died and fsmount started another on the
 * same FUSE connection; the mount stays.  The new worker's channel is
 * the message's descriptor.
 */
struct fsmsg_worker_restart {
	uint32_t	id;
	int32_t		old_pid;
	int32_t		status;		/* the old worker's, from waitpid() */
	int32_t		pid;		/* the new worker */
	uint32_t	restarts;	/* since the mount was made */
	uint32_t	pad;
};

/*
 * The restart state: a memfd fsmount makes for each restartable mount,
 * of this fixed size, sealed against shrinking and growing, and hands
 * to every worker of the mount on FSWORKER_STATE_FD.  Only workers read
 * and write what is in it (fsworker/restart.c).
 */
#define FSMSG_STATE_SIZE	(64UL * 1024 * 1024)

/*
 * MSG_BACKING_CLOSE names id and is not answered; MSG_BACKING_RESULT
 * answers each MSG_BACKING_OPEN in turn, with the id registered (0 if
 * none) and 0 or an errno.
 */
struct fsmsg_backing {
	int32_t		id;
	int32_t		error;
};

/*
 * MSG_BACKING_OPEN: whose credentials the kernel keeps for the file and
 * does every passthrough open, read and write of it with: the opener's
 * (fsmount/backing.c).  Only the first ngroups of groups are sent.
 */
#define FSMSG_BACKING_GROUPS	256
struct fsmsg_backing_open {
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	ngroups;
	uint32_t	groups[FSMSG_BACKING_GROUPS];
};
#define FSMSG_BACKING_OPEN_LEN(n) \
	(offsetof(struct fsmsg_backing_open, groups) + (n) * sizeof(uint32_t))

#endif /* FSMSG_H */
