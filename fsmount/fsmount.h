/*
 * fsmount: the only root process of fsmonitor.  It trusts nothing the
 * parent says: every request is checked again here.
 */

#ifndef FSMOUNT_H
#define FSMOUNT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <limits.h>
#include <time.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "mntopt.h"
#include "conf.h"

#define FSMOUNT_GROUPS_MAX	256
#define FSMOUNT_ERRLEN		FSPROTO_REPLY_MAXMSG
/* Restart in place: at most this many restarts in this many seconds. */
#define FSMOUNT_RESTART_BURST	5
#define FSMOUNT_RESTART_WINDOW	60
/* Descriptors: what each is for is told in capacity.c. */
#define FSMOUNT_FDS_MOUNT	4	/* every mount */
#define FSMOUNT_FDS_RESTART	2	/* more with -o restart */
#define FSMOUNT_FDS_RESERVE	32	/* never used by mounts */
/*
 * clone(2) of a worker: its namespaces, and our memory shared until it
 * executes (worker.c); the seccomp filter allows exactly these.
 */
#define WORKER_CLONE_FLAGS	(CLONE_VM | CLONE_VFORK | CLONE_NEWPID | \
	CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

struct cred {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	gid_t	groups[FSMOUNT_GROUPS_MAX];
	int	ngroups;
	int	peer_groups;	/* groups are the requester's, maybe none */
};

enum fsm_mount_state {
	FSM_MOUNTED,
	FSM_UNMOUNTED,		/* unmounted, waiting for the worker to go */
};

struct fsm_mount {
	TAILQ_ENTRY(fsm_mount)	 entry;
	uint32_t		 id;
	uid_t			 uid;
	pid_t			 worker;
	int			 fuse_fd;	/* our copy: -1 once closed */
	int			 parent_fd;	/* O_PATH: mountpoint's parent */
	char			*name;		/* mountpoint's last component */
	int			 mnt_id;
	int			 state;
	int			 is_static;
	uint32_t		 index;		/* static: configuration index */
	uint32_t		 unmount_reqid;	/* reply owed on worker exit */
	struct timespec		 kill_at;	/* SIGKILL the worker then */
	char			*source;
	char			*mountpoint;
	char			*options;
	dev_t			 src_dev;	/* the source's filesystem */
	int			 multiuser;	/* -o multiuser */
	/* The worker's groups: those of backing files (owner mode). */
	gid_t			 wgroups[FSMOUNT_GROUPS_MAX];
	int			 nwgroups;
	struct fsproto_chan	 wchan;		/* the worker's, for backing */
	int			 wchan_open;
	unsigned int		 nbacking;	/* files registered now */
	struct cred		 cred;		/* whom the workers run for */
	/* Restart in place (-o restart); state_fd is -1 without. */
	int			 state_fd;	/* the workers' memfd */
	int			 src_fd;	/* the source, for the next */
	uint32_t		 restarts;
	time_t			 restart_at[FSMOUNT_RESTART_BURST];
};

TAILQ_HEAD(fsm_mounts, fsm_mount);

struct fsm_env {
	struct fsproto_chan	 chan;
	struct conf		 conf;
	const char		*conffile;
	const char		*sockpath;	/* the control socket's name */
	char			 worker_path[PATH_MAX];
	char			 worker_wrap[PATH_MAX];	/* -T only */
	const char		*kernel;	/* -T -K: the workers' cap */
	int			 debug;
	int			 verbose;
	struct fsm_mounts	 mounts;
	uint32_t		 next_id;
	int			 shutting_down;
	int			 fd_base;	/* open before any mount */
	rlim_t			 fd_limit;	/* RLIMIT_NOFILE, raised */
	struct rlimit		 worker_nofile;	/* as we were started */
};

extern struct fsm_env	*env;

/* A request from the parent, once its frames are all in. */
struct request {
	uint32_t	 type;		/* MSG_FSM_* of the last frame */
	uint32_t	 reqid;
	uint32_t	 arg;		/* flags, static index or mount id */
	const char	*opts;		/* MSG_FSM_MOUNT: points into the frame */
	int		 client_fd;	/* mount and unmount */
	int		 src_fd;	/* mount */
	int		 fd;		/* mountpoint */
};

struct request_state {
	int		 stage;		/* frames of the request so far */
	uint32_t	 type;		/* MSG_FSM_MOUNT or MSG_FSM_UNMOUNT */
	uint32_t	 reqid;
	int		 client_fd;
	int		 src_fd;
};

/* request.c */
void	 request_init(struct request_state *);
void	 request_reset(struct request_state *);
void	 request_done(struct request *);
int	 request_feed(struct request_state *, struct fsproto_msg *,
	    struct request *, const char **);

/* fsmount.c */
void	 fsmount_compose_parent(uint32_t, int, const void *, size_t);
void	 fsmount_send_mount_fail(uint32_t, int, const char *);
void	 fsmount_send_config(void);

/* capacity.c */
void	 capacity_init(void);
void	 capacity_check_conf(const struct conf *);
int	 capacity_check(int, char *, size_t);

/* check.c */
int	 check_client(int, int, struct cred *, char *, size_t);
int	 check_mount_max(const struct cred *, char *, size_t);
int	 check_source(int, char *, size_t, char *, size_t);
int	 check_mountpoint(const struct cred *, int, char *, size_t, char *,
	    size_t);
int	 check_static_path(const char *, int, int, int *, char *, size_t);
int	 mnt_id_of(int);
#define MOUNTINFO_TYPELEN	32	/* a type, as " - %31s" reads it */
int	 mountinfo_of(int, int *, char [MOUNTINFO_TYPELEN]);
int	 fd_path(int, char *, size_t);

/* mount.c */
int	 mount_fuse(const struct cred *, int, int, const char *,
	    const struct mntopts *, const char *, struct fsm_mount *, char *,
	    size_t);
int	 mount_detach(struct fsm_mount *, int, char *, size_t);
struct fsm_mount *mount_find_mnt_id(int);
struct fsm_mount *mount_find_id(uint32_t);
struct fsm_mount *mount_find_pid(pid_t);
void	 mount_free(struct fsm_mount *);
int	 mount_count(uid_t);

/* backing.c */
void	 backing_init(void);
void	 backing_chan_init(struct fsm_mount *, int);
void	 backing_chan_close(struct fsm_mount *);
void	 backing_event(struct fsm_mount *, short);

/* sandbox.c */
struct sandbox_list;
#define FSMOUNT_FILTER_LISTS	3
void	 fsmount_filter(struct sandbox_list *);
void	 fsmount_sandbox(void);

/* worker.c */
pid_t	 worker_start(const struct cred *, struct fsm_mount *, int, int *,
	    char *, size_t);
void	 worker_stop_later(struct fsm_mount *);
void	 worker_reap(void);
void	 worker_kill_overdue(void);
int	 worker_poll_timeout(void);
void	 worker_shutdown_all(void);

#endif /* FSMOUNT_H */
