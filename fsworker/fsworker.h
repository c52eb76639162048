/*
 * fsworker: the per-mount FUSE server.  It speaks the kernel protocol on
 * /dev/fuse itself and serves the source tree through O_PATH descriptors.
 */

#ifndef FSWORKER_H
#define FSWORKER_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse_compat.h"

#define FSWORKER_MAXTHREADS	64
#define FSWORKER_MAXGROUPS	65536
#define FSWORKER_MAX_WRITE	(1024 * 1024)
/* Room for the request header, the op's fixed struct and a name. */
#define FSWORKER_HEADROOM	4096
/* What of a thread's buffers small requests keep touching. */
#define FSWORKER_BUF_KEEP	(16 * 1024)
/* Microseconds a thread watches for the next request: fuse.c. */
#define FSWORKER_SPIN		0
/* Smaller files open for reading only are read through the page cache. */
#define FSWORKER_PT_MIN		32768

enum cache_mode {
	CACHE_NEVER,
	CACHE_AUTO,
	CACHE_ALWAYS
};

enum passthrough_mode {
	PASSTHROUGH_DEFAULT,
	PASSTHROUGH_ON,
	PASSTHROUGH_OFF
};

struct worker_conf {
	uid_t			 uid;
	gid_t			 gid;
	gid_t			*groups;
	int			 ngroups;
	int			 groups_given;	/* -G, maybe empty */
	const char		*mountpoint;	/* in log messages */
	int			 debug;
	int			 verbose;
	const struct fsproto_kernel *kernel;	/* tests: -K, or NULL */

	/* Mount options. */
	int			 ro;
	int			 allow_other;
	int			 default_permissions;
	int			 multiuser;
	int			 noexec;
	enum cache_mode		 cache;
	int			 timeout_set;
	unsigned int		 timeout;	/* entry, attr: seconds */
	int			 writeback;
	enum passthrough_mode	 passthrough;
	int			 noxattr;
	int			 restart;	/* restart in place */
	int			 nthreads;
	unsigned int		 spin;		/* microseconds */
	unsigned int		 pt_min;	/* bytes: passthrough.c */

	/* Descriptors, set up before the sandbox. */
	int			 fuse_fd[FSWORKER_MAXTHREADS];
	int			 proc_fd;	/* our procfs's fd dir, cwd */
	int			 ready_fd;	/* eventfd: INIT done */
};

/* What INIT settled on; written once, before INIT is answered. */
struct fuse_sess {
	uint32_t		 minor;
	uint64_t		 flags;		/* both words */
	uint64_t		 offered;	/* what the kernel offered */
	uint32_t		 max_write;
	uint32_t		 max_read;	/* largest READ we answer */
	atomic_int		 initialized;
};

struct worker_stats {
	atomic_uint_least64_t	 requests;
	atomic_uint_least64_t	 bytes_read;
	atomic_uint_least64_t	 bytes_written;
	atomic_uint_least64_t	 errors;
	atomic_uint_least64_t	 nodes;
	atomic_uint_least64_t	 handles;
};

/*
 * Interrupts one thread's wait with pthread_kill(3): a SETLKW waiter's
 * on INTERRUPT, and the read of a FUSE thread whose buffers the main
 * thread wants back.  Blocked but in those waits; its handler does
 * nothing (lock_init()).
 */
#define WAKE_SIGNAL		SIGUSR1

/* A thread's pipes for READ replies by splice(2): splice.c. */
enum splice_state {
	SPLICE_UNTRIED,
	SPLICE_ON,
	SPLICE_OFF
};

struct splicer {
	int			 data[2];	/* the file's pages */
	int			 out[2];	/* header, then the pages */
	size_t			 max;		/* the largest read spliced */
	enum splice_state	 state;
};

/*
 * One thread serving one (cloned) /dev/fuse descriptor.  Its buffers
 * are sized for the largest request, but only the pages a request or
 * reply touched are resident: beyond the first FSWORKER_BUF_KEEP bytes
 * the thread gives them back once the main thread has seen the worker
 * idle.
 */
struct fuse_thread {
	pthread_t		 tid;
	int			 fd;
	unsigned char		*in;
	size_t			 insize;
	unsigned char		*out;
	size_t			 outsize;
	size_t			 inused;	/* touched since the release */
	size_t			 outused;
	atomic_int		 dirty;		/* either beyond the keep */
	atomic_int		 release;	/* asked by the main thread */
	struct splicer		 splicer;
};

struct uring_ent;

/*
 * A request being served; arg points past the header.  It came from
 * /dev/fuse (fd) or from an io_uring entry (ent), where its reply goes.
 */
struct req {
	int				 fd;	/* for the reply */
	struct uring_ent		*ent;
	struct splicer			*splicer; /* /dev/fuse only */
	int				 deferred; /* another thread replies */
	const struct fuse_in_header	*hdr;
	const unsigned char		*arg;
	size_t				 arglen; /* without extensions */
	const unsigned char		*groups; /* FUSE_EXT_GROUPS, unaligned */
	uint32_t			 ngroups;
	unsigned char			*out;	/* reply scratch */
	size_t				 outsize;
	size_t				 outlen; /* of out, the reply touched */
};

/*
 * A node: one (st_dev, st_ino), with an O_PATH descriptor while it is
 * in use or among the most recently used (inode.c); the directory node
 * and name it was last found under find it again.
 */
/*
 * What tells an evicted node's file from another of its number: birth
 * time, file handle (which carries the inode's generation), or both.
 * Handles are a few bytes long (8 on ext4 and xfs, 12 on tmpfs, 20 on
 * btrfs); a longer one is not kept.
 */
#define INODE_FH_MAX	20

struct inode_id {
	int64_t			 btime_sec;
	uint32_t		 btime_nsec;
	int32_t			 fh_type;
	uint8_t			 has_btime;
	uint8_t			 fh_len;
	unsigned char		 fh[INODE_FH_MAX];
};

struct inode {
	int			 fd;		/* O_PATH|O_NOFOLLOW, or -1 */
	dev_t			 dev;
	ino_t			 ino;
	mode_t			 type;		/* S_IFMT bits */
	uint64_t		 nodeid;
	uint64_t		 nlookup;	/* the kernel's references */
	unsigned int		 refs;		/* ours: in use */
	struct inode		*hnext;
	/* Where it was last found, and what tells it again; itab_lock. */
	struct inode		*up;		/* holds up->kids */
	char			*name;
	unsigned int		 kids;		/* nodes found in it */
	uint8_t			 on_lru;
	uint8_t			 stale;		/* unhashed, nlookup > 0 */
	uint8_t			 no_id;		/* never evicted: see inode.c */
	uint8_t			 pt_registering; /* with fsmount now */
	struct inode_id		 id;		/* when evicted */
	TAILQ_ENTRY(inode)	 lru;		/* unused, with fd */
	/* Opens by kind, and the backing file: passthrough.c. */
	unsigned int		 pt_opens;
	unsigned int		 cached_opens;
	int32_t			 backing_id;
	uid_t			 pt_uid;	/* whose it is (multiuser) */
	/* The directory node it was last found in; atomic. */
	uint64_t		 parent;
	/*
	 * On one clock (itab_lock): when the kernel last took a lookup of
	 * the node; a directory's, when its listing was last read from the
	 * start, and when the kernel last forgot a child it had since.
	 */
	uint64_t		 looked_at;
	uint64_t		 listed_at;
	uint64_t		 forgot_at;
	/* A directory's: its last lookup found a node held; atomic. */
	int			 lookup_held;
};

struct dirstream;

/* An open file or directory, named by fh. */
struct handle {
	int			 fd;
	struct inode		*inode;		/* a reference */
	uint64_t		 fh;
	unsigned int		 refs;
	int			 open;		/* not yet released */
	struct dirstream	*dir;		/* directories only */
	int			 counted;	/* by passthrough_open() */
	int32_t			 backing_id;	/* what it gave */
	uid_t			 uid;		/* who opened it */
	gid_t			 gid;
	gid_t			 group;		/* cred_group(), or none */
	int			 user_counted;	/* in its share (handle.c) */
};

/*
 * What a worker of a restartable mount keeps for the next (restart.c):
 * one record per node slot and per handle slot.
 */
struct rs_node {
	uint32_t		 gen;
	uint32_t		 type;		/* S_IFMT bits */
	uint64_t		 nlookup;	/* 0: not held by the kernel */
	uint64_t		 dev;
	uint64_t		 ino;
	uint64_t		 parent;	/* 0 while name is written */
	char			 name[256];
};

struct rs_handle {
	uint32_t		 gen;
	uint32_t		 open;		/* not yet released */
	uint64_t		 nodeid;
	int32_t			 flags;		/* of its descriptor */
	int32_t			 backing_id;
	uint32_t		 dir;
	uint32_t		 uid;		/* its owner's share */
	uint32_t		 gid;		/* its opener's; once padding */
};

/* fsworker.c */
extern struct worker_conf	*wconf;
extern struct worker_stats	 wstats;
__attribute__((__noreturn__)) void worker_exit(int, const char *);

/* fuse.c */
extern struct fuse_sess		 fsess;
void	 fuse_thread_alloc(struct fuse_thread *, int);
void	*fuse_thread_main(void *);
void	 fuse_thread_dispatch(struct fuse_thread *, size_t);
void	 fuse_thread_trim(struct fuse_thread *);
void	 fuse_dispatch(struct req *, size_t);
struct fsmsg_features;
void	 fuse_features(struct fsmsg_features *);
int	 reply_iov(struct req *, int, struct iovec *, int);
int	 reply_sent(const struct req *, ssize_t, size_t);
int	 reply_err(struct req *, int);
int	 reply_data(struct req *, const void *, size_t);

/* splice.c */
void	 splice_init(struct splicer *);
int	 splice_wanted(struct req *, size_t);
int	 splice_read(struct req *, int, size_t, off_t, size_t *);
int	 reply_entry(struct req *, const struct inode *,
	    const struct stat *);
int	 reply_attr(struct req *, const struct stat *);
int	 reply_open(struct req *, uint64_t, uint32_t);
int	 req_name(const struct req *, size_t, const char **, size_t *);
int	 req_ext(struct req *, const unsigned char *, size_t);
int	 name_is_valid(const char *);
void	 fill_attr(struct fuse_attr *, const struct stat *);
void	 fill_entry(struct fuse_entry_out *, const struct inode *,
	    const struct stat *);
uint32_t attr_timeout(void);

/*
 * The worker's descriptors (fsworker.c sets RLIMIT_NOFILE to their sum):
 * those of nodes not in use, of open handles (a handle's own, and its
 * node's), of entries looked up ahead of a READDIRPLUS, and the rest.
 */
#define FSWORKER_NODE_FDS	4096
#define FSWORKER_NODE_FDS_MIN	64
#define FSWORKER_HANDLES	4096
#define FSWORKER_HANDLES_MIN	64
#define FSWORKER_AHEAD_FDS	1024
#define FSWORKER_FIXED_FDS	(8 * FSWORKER_MAXTHREADS + 64)

/* inode.c */
void		 inode_init(int);
void		 inode_set_fd_cap(unsigned int);
uint32_t	 inode_recover(void);
void		 inode_trim(void);
int		 inode_note_name(struct inode *, uint64_t,
		    const char *);
void		 inode_renamed(struct inode *, const char *);
struct inode	*inode_get(uint64_t, int *);
struct inode	*inode_get_dir(uint64_t, int *);
int		 inode_forgot_child(struct inode *);
void		 inode_listing_starts(struct inode *);
void		 inode_put(struct inode *);
int		 inode_lookup(struct inode *, const char *, ino_t,
		    struct stat *, struct inode **);
int		 inode_lookup_ahead(struct inode *, const char *, ino_t,
		    struct stat *, int *);
int		 inode_lookup_finish(struct inode *, const char *, int,
		    struct stat *, struct inode **);
int		 inode_add_fd(int, struct stat *, struct inode **);
void		 inode_forget(uint64_t, uint64_t);
int		 inode_stat(const struct inode *, struct stat *);
int		 inode_reopen(const struct inode *, int);
int		 fd_reopen_path(int);
int		 inode_chmod(const struct inode *, mode_t);
int		 inode_link(const struct inode *, int, const char *);
int		 inode_xattr_path(const struct inode *, char *, size_t);

/* handle.c */
void		 handle_set_cap(unsigned int, int);
int		 handle_new(int, struct inode *, struct dirstream *, int32_t,
		    const struct req *, uint64_t *);
struct handle	*handle_get(uint64_t, uint64_t, int *);
struct handle	*handle_get_file(uint64_t, uint64_t, int, int *);
void		 handle_put(struct handle *);
uint32_t	 handle_recover(void);
int		 handle_release(uint64_t, uint64_t);

/* uring.c */
void	 uring_prepare(int);
int	 uring_possible(void);
const char *uring_absent(void);
void	 uring_start(void);
int	 uring_reply(struct req *, const struct fuse_out_header *,
	    const struct iovec *, int);
uint64_t uring_served(void);

/* passthrough.c */
void	 passthrough_init(struct worker_conf *);
int	 passthrough_possible(void);
int32_t	 passthrough_open(const struct req *, struct inode *, int, int);
void	 passthrough_close(struct inode *, int32_t);
int	 passthrough_recover(struct inode *, int32_t);
void	 passthrough_forget(int32_t, int);
int	 passthrough_wake_fd(void);
void	 passthrough_flush(void);
/* How long a close of a registration may wait for others. */
#define PASSTHROUGH_FLUSH_MS	10

/* ops_node.c */
int	 op_lookup(struct req *);
int	 op_forget(struct req *);
int	 op_batch_forget(struct req *);
int	 op_getattr(struct req *);
int	 op_setattr(struct req *);
int	 op_readlink(struct req *);
int	 op_statfs(struct req *);
int	 op_access(struct req *);
int	 op_statx(struct req *);

/* ops_dir.c */
int	 op_mknod(struct req *);
int	 op_mkdir(struct req *);
int	 op_symlink(struct req *);
int	 op_unlink(struct req *);
int	 op_rmdir(struct req *);
int	 op_rename(struct req *);
int	 op_rename2(struct req *);
int	 op_link(struct req *);

/* readdir.c */
int	 op_opendir(struct req *);
int	 op_readdir(struct req *);
int	 op_readdirplus(struct req *);
int	 op_releasedir(struct req *);
struct dirstream *dirstream_new(void);
void	 dirstream_free(struct dirstream *);

/* ops_file.c */
void	 file_init(int);
int	 file_unwritable(int);
int	 op_open(struct req *);
int	 op_create(struct req *);
int	 op_tmpfile(struct req *);
int	 op_read(struct req *);
int	 op_write(struct req *);
int	 op_flush(struct req *);
int	 op_release(struct req *);
int	 op_fsync(struct req *);
int	 op_fallocate(struct req *);
int	 op_lseek(struct req *);
int	 op_copy_file_range(struct req *);
int	 op_copy_file_range_64(struct req *);
int	 kill_suidgid(const struct req *, int);
int	 kill_suidgid_error(int);
mode_t	 mode_kill_suidgid(const struct req *, const struct stat *);

/* ops_xattr.c */
int	 op_setxattr(struct req *);
int	 op_getxattr(struct req *);
int	 op_listxattr(struct req *);
int	 op_removexattr(struct req *);

/* lock.c */
void	 lock_init(void);
int	 op_getlk(struct req *);
int	 op_setlk(struct req *);
int	 op_setlkw(struct req *);
int	 op_interrupt(struct req *);

/* cred.c */
#define CRED_NOUMASK	((mode_t)-1)
#define CRED_NOGROUP	((gid_t)-1)
/* Groups a request may carry, and the worker's own at most. */
#define CRED_MAXGROUPS	32
struct cred_ids {
	uid_t	 uid;
	gid_t	 gid;
	int	 ngroups;
	gid_t	 groups[CRED_MAXGROUPS];
};
struct cred_save {
	int		 ids;		/* switched: prev is to come back to */
	mode_t		 umask;		/* to restore, or CRED_NOUMASK */
	struct cred_ids	 prev;
};
void	 cred_thread_init(void);
int	 cred_enter(const struct req *, mode_t, gid_t, struct cred_save *);
int	 cred_enter_handle(const struct handle *, struct cred_save *);
int	 cred_enter_self(struct cred_save *);
gid_t	 cred_group(const struct req *);
void	 cred_leave(struct cred_save *);

/* restart.c */
void		 restart_init(struct worker_conf *);
int		 restart_active(void);
int		 restart_recovering(void);
uint32_t	 restart_node_capacity(void);
uint32_t	 restart_handle_capacity(void);
void		 restart_save_session(const struct fuse_sess *);
int		 restart_load_session(struct fuse_sess *);
struct rs_node	*restart_node(uint32_t);
struct rs_handle *restart_handle(uint32_t);
uint32_t	 restart_node_hiwat(void);
uint32_t	 restart_handle_hiwat(void);
void		 restart_set_node_hiwat(uint32_t);
void		 restart_set_handle_hiwat(uint32_t);
void		 restart_name(struct rs_node *, uint64_t, const char *);
void		 restart_resend(int);

/* sandbox.c */
int	 sandbox_enter(struct worker_conf *);

#endif /* FSWORKER_H */
