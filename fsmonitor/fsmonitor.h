/*
 * fsmonitor: the unprivileged parent.  It serves the control socket,
 * applies policy, keeps the mount table and supervises the workers;
 * everything that needs privilege it asks of fsmount.
 */

#ifndef FSMONITOR_H
#define FSMONITOR_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include <time.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "mntopt.h"
#include "conf.h"

#define FSMONITOR_USER		"_fsmonitor"
#define FSMONITOR_USER_FALLBACK	"nobody"
#ifndef PATH_CHROOT
#define PATH_CHROOT		"/var/empty"
#endif
#define CLIENTS_MAX		512
/* Descriptors: what each is for is told in capacity.c. */
#define PARENT_FDS_MOUNT	1	/* every mount */
#define PARENT_FDS_CLIENT	5	/* every client, at most */
#define PARENT_FDS_RESERVE	16	/* never used by mounts or clients */
#define CLIENT_GROUPS_MAX	256

enum client_state {
	CL_HELLO,		/* waiting for the hello */
	CL_READY,		/* waiting for a request */
	CL_SOURCE,		/* mount: have the source, want the mountpoint */
	CL_BUSY,		/* request forwarded to fsmount */
	CL_CLOSING		/* reply queued; close once sent */
};

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct fsproto_chan	 chan;
	uint32_t		 id;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	gid_t			 groups[CLIENT_GROUPS_MAX];
	int			 ngroups;
	int			 state;
	int			 src_fd;
	uint32_t		 reqid;		/* forwarded request */
};

TAILQ_HEAD(clients, client);

struct mnt {
	TAILQ_ENTRY(mnt)	 entry;
	uint32_t		 id;
	uid_t			 uid;
	pid_t			 pid;
	int			 state;		/* enum fsmsg_mount_state */
	uint32_t		 flags;		/* FSMSG_MOUNT_* */
	uint32_t		 index;		/* static: configuration index */
	time_t			 started;
	char			*source;
	char			*mountpoint;
	char			*options;
	char			*owner;
	char			 reason[128];
	struct fsmsg_stats	 stats;
	struct fsmsg_features	 features;	/* from the worker's READY */
	struct fsproto_chan	 chan;		/* to the worker */
	int			 has_chan;
	uint32_t		 wait_reqid;	/* client waiting for READY */
	uint32_t		 restarts;	/* workers restarted in place */
};

TAILQ_HEAD(mnts, mnt);

struct fsmonitor_env {
	struct fsproto_chan	 fsmount;
	pid_t			 fsmount_pid;
	int			 listen_fd;
	int			 signal_fd;
	struct conf		 conf;		/* as fsmount sent it */
	struct conf		 nconf;		/* being received */
	size_t			 nconf_statics;	/* static mounts announced */
	int			 nconf_open;	/* between CONFIG and END */
	int			 have_conf;
	struct clients		 clients;
	int			 nclients;
	struct mnts		 mnts;
	uint32_t		 next_client;
	uint32_t		 next_reqid;
	uint32_t		 reload_reqid;	/* outstanding reload */
	struct client		*reload_client;
	int			 shutting_down;
	int			 fd_base;	/* open before any client */
	rlim_t			 fd_limit;	/* RLIMIT_NOFILE, raised */
	struct timespec		 accept_paused;	/* until then; 0: not */
};

extern struct fsmonitor_env	*env;

/* service.c */
int	 service_listen_fd(char *, size_t);
void	 service_notify_open(void);
void	 service_notify(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 service_notify_reloading(void);
void	 service_pidfile(const char *);

/* sandbox.c */
void	 parent_sandbox(void);

/* capacity.c */
void	 capacity_init(const struct conf *);
int	 capacity_mount_check(char *, size_t);
int	 capacity_may_accept(void);
void	 capacity_accept_pause(void);
int	 capacity_poll_timeout(void);

/* control.c */
void	 control_accept(void);
void	 control_read(struct client *);
void	 control_close(struct client *);
void	 control_reply(struct client *, int, const char *, ...)
	    __attribute__((__format__(__printf__, 3, 4)));
struct client *control_find_reqid(uint32_t);

/* mounts.c */
void	 parent_dispatch_fsmount(struct fsproto_msg *);
void	 parent_read_worker(struct mnt *);
void	 parent_compose_fsmount(uint32_t, int, const void *, size_t);
void	 parent_send_status(struct client *);
int	 parent_mount_count(uid_t);
void	 parent_reload(struct client *);
void	 parent_set_log(uint32_t);

#endif /* FSMONITOR_H */
