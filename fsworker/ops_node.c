/*
 * Operations on a node itself: finding it, forgetting it, its
 * attributes, its link target, its filesystem.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/* How far up a ".." walk looks for the root before giving up. */
#define DOTDOT_MAXDEPTH	4096

static int	 lookup_dot(struct inode *, struct stat *, struct inode **);
static int	 lookup_dotdot(struct inode *, struct stat *,
		    struct inode **);
static int	 fd_is_beneath_root(int);

/* The node itself, one more kernel reference on it. */
static int
lookup_dot(struct inode *dir, struct stat *st, struct inode **ipp)
{
	return inode_lookup(dir, ".", 0, st, ipp);
}

/*
 * Whether the directory fd is the root or below it.  A directory moved
 * out of the tree behind our back would otherwise let ".." climb out.
 */
static int
fd_is_beneath_root(int fd)
{
	struct inode	*root;
	struct stat	 st, pst;
	int		 cur, up, depth, error, inside = 0;

	if ((root = inode_get(FUSE_ROOT_ID, &error)) == NULL)
		return 0;
	if ((cur = dup(fd)) == -1) {
		inode_put(root);
		return 0;
	}
	for (depth = 0; depth < DOTDOT_MAXDEPTH; depth++) {
		if (fstat(cur, &st) == -1)
			break;
		if (st.st_dev == root->dev && st.st_ino == root->ino) {
			inside = 1;
			break;
		}
		if ((up = openat(cur, "..", O_PATH | O_CLOEXEC)) == -1)
			break;
		close(cur);
		cur = up;
		if (fstat(cur, &pst) == -1 ||
		    (pst.st_dev == st.st_dev && pst.st_ino == st.st_ino))
			break;		/* the system's root: outside */
	}
	close(cur);
	inode_put(root);
	return inside;
}

static int
lookup_dotdot(struct inode *dir, struct stat *st, struct inode **ipp)
{
	int	 fd;

	if (dir->nodeid == FUSE_ROOT_ID)
		return lookup_dot(dir, st, ipp);
	if ((fd = openat(dir->fd, "..", O_PATH | O_CLOEXEC)) == -1)
		return errno;
	if (!fd_is_beneath_root(fd)) {
		log_warnx("%s: node %#llx: parent outside the tree", __func__,
		    (unsigned long long)dir->nodeid);
		close(fd);
		return EACCES;
	}
	if (fstat(fd, st) == -1) {
		close(fd);
		return errno;
	}
	return inode_add_fd(fd, st, ipp);
}

int
op_lookup(struct req *req)
{
	struct inode	*dir, *ip;
	struct stat	 st;
	const char	*name;
	int		 error = 0;

	if ((error = req_name(req, 0, &name, NULL)) != 0)
		return error;
	if ((dir = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (dir->type != S_IFDIR)
		error = ENOTDIR;
	else if (strcmp(name, ".") == 0)
		error = lookup_dot(dir, &st, &ip);
	else if (strcmp(name, "..") == 0)
		error = lookup_dotdot(dir, &st, &ip);
	else if (!name_is_valid(name))
		error = EINVAL;
	else
		error = inode_lookup(dir, name, 0, &st, &ip);
	inode_put(dir);
	if (error)
		return error;
	if (reply_entry(req, ip, &st) == ENOENT)
		inode_forget(ip->nodeid, 1);	/* not seen by the kernel */
	inode_put(ip);
	return 0;
}

int
op_forget(struct req *req)
{
	const struct fuse_forget_in	*in = (const void *)req->arg;

	inode_forget(req->hdr->nodeid, in->nlookup);
	return 0;
}

int
op_batch_forget(struct req *req)
{
	const struct fuse_batch_forget_in	*in = (const void *)req->arg;
	const struct fuse_forget_one		*one;
	uint32_t				 i;

	if ((req->arglen - sizeof(*in)) / sizeof(*one) < in->count) {
		log_warnx("%s: %u entries in %zu bytes", __func__, in->count,
		    req->arglen);
		return EINVAL;
	}
	one = (const void *)(req->arg + sizeof(*in));
	for (i = 0; i < in->count; i++)
		inode_forget(one[i].nodeid, one[i].nlookup);
	return 0;
}

int
op_getattr(struct req *req)
{
	const struct fuse_getattr_in	*in = (const void *)req->arg;
	struct handle			*hp;
	struct inode			*ip;
	struct stat			 st;
	int				 error = 0;

	if (in->getattr_flags & FUSE_GETATTR_FH) {
		if ((hp = handle_get(in->fh, req->hdr->nodeid, &error)) ==
		    NULL)
			return error;
		error = fstat(hp->fd, &st) == -1 ? errno : 0;
		handle_put(hp);
	} else {
		if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
			return error;
		error = inode_stat(ip, &st);
		inode_put(ip);
	}
	if (error)
		return error;
	reply_attr(req, &st);
	return 0;
}

/* As kill_suidgid(), for a node without an open descriptor. */
static int
setattr_kill_suidgid(const struct req *req, const struct inode *ip)
{
	struct cred_save	 cs;
	struct stat		 st;
	mode_t			 mode;
	int			 error = 0;

	if (ip->type != S_IFREG)
		return 0;
	if ((error = inode_stat(ip, &st)) != 0)
		return error;
	if ((mode = mode_kill_suidgid(req, &st)) == (st.st_mode & 07777))
		return 0;
	if ((error = cred_enter_self(&cs)) != 0)
		return error;
	error = kill_suidgid_error(inode_chmod(ip, mode));
	cred_leave(&cs);
	return error;
}

/*
 * chown(2), in multiuser mode as the caller, with the new group among
 * its groups (the kernel has checked that it is one).  The backing
 * filesystem then clears set-ID bits as it would for the caller, for
 * whom a root worker's CAP_FSETID would keep them.
 *
 * Without a uid or gid this is chown(path, -1, -1), which the kernel
 * sends as a SETATTR with nothing in it, and which still updates ctime
 * and clears set-ID bits.  The kernel sends the same before a write or
 * truncate that must clear them (file_remove_privs()), for the owner
 * and for anyone else who may write, and then it must not fail: for
 * someone else the worker does it with its own credentials, and the
 * write's KILL_SUIDGID flag finishes the caller's part.  In owner mode
 * those credentials may not suffice, and the write clears the bits.
 */
static int
setattr_owner(const struct req *req, const struct inode *ip,
    const struct fuse_setattr_in *in)
{
	struct cred_save	 cs;
	struct stat		 st;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	int			 as_caller = 1, error = 0;

	if (in->valid & FATTR_UID)
		uid = in->uid;
	if (in->valid & FATTR_GID)
		gid = in->gid;
	if (uid == (uid_t)-1 && gid == (gid_t)-1) {
		if ((error = inode_stat(ip, &st)) != 0)
			return error;
		as_caller = st.st_uid == req->hdr->uid;
	}
	if (as_caller)
		error = cred_enter(req, CRED_NOUMASK,
		    gid == (gid_t)-1 ? CRED_NOGROUP : gid, &cs);
	else
		error = cred_enter_self(&cs);
	if (error)
		return error;
	if (fchownat(ip->fd, "", uid, gid,
	    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		error = errno;
	cred_leave(&cs);
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		error = kill_suidgid_error(error);
	return error;
}

static int
setattr_size(const struct inode *ip, struct handle *hp, off_t size)
{
	int	 fd, error = 0;

	if (size < 0)
		return EINVAL;
	if (hp != NULL)
		return ftruncate(hp->fd, size) == -1 ? errno : 0;
	if (ip->type == S_IFDIR)
		return EISDIR;
	if (ip->type != S_IFREG)
		return EINVAL;
	if ((fd = inode_reopen(ip, O_WRONLY)) == -1)
		return errno;
	if (ftruncate(fd, size) == -1)
		error = errno;
	close(fd);
	return error;
}

/*
 * chmod(2), with the worker's own credentials in multiuser mode: the
 * kernel has checked that the caller owns the file and has already
 * taken out a set-group-ID bit the caller may not set, with all of the
 * caller's groups, of which the worker knows only a part.
 */
static int
setattr_mode(const struct inode *ip, struct handle *hp, mode_t mode)
{
	struct cred_save	 cs;
	int			 error;

	if ((error = cred_enter_self(&cs)) != 0)
		return error;
	if (hp != NULL)
		error = fchmod(hp->fd, mode) == -1 ? errno : 0;
	else
		error = inode_chmod(ip, mode);
	cred_leave(&cs);
	return error;
}

/* One timestamp of a SETATTR: set, now, or left alone. */
static int
setattr_time(struct timespec *ts, uint32_t valid, uint32_t set,
    uint32_t now, uint64_t sec, uint32_t nsec)
{
	ts->tv_sec = 0;
	ts->tv_nsec = UTIME_OMIT;
	if (valid & now)
		ts->tv_nsec = UTIME_NOW;
	else if (valid & set) {
		if (nsec >= 1000000000U || sec > INT64_MAX)
			return EINVAL;
		ts->tv_sec = sec;
		ts->tv_nsec = nsec;
	}
	return 0;
}

static int
setattr_utimens(const struct inode *ip, struct handle *hp,
    const struct timespec *ts)
{
	if (hp != NULL)
		return futimens(hp->fd, ts);
	return utimensat(ip->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
}

static int
setattr_times(const struct inode *ip, struct handle *hp,
    const struct fuse_setattr_in *in)
{
	struct timespec	 ts[2];

	if (setattr_time(&ts[0], in->valid, FATTR_ATIME, FATTR_ATIME_NOW,
	    in->atime, in->atimensec) != 0 ||
	    setattr_time(&ts[1], in->valid, FATTR_MTIME, FATTR_MTIME_NOW,
	    in->mtime, in->mtimensec) != 0)
		return EINVAL;
	if (setattr_utimens(ip, hp, ts) == 0)
		return 0;
	/*
	 * With the writeback cache the kernel keeps mtime itself and sends
	 * it as a value, with a size change or when it writes back.  Where
	 * the kernel checks permissions, an explicit time reaches us from a
	 * caller only if the caller owns the file; so a refusal here is the
	 * kernel's own update on behalf of a writer who does not own it.
	 * The backing file's mtime is already that of our truncate or
	 * write, which is what the writer could have set (only together
	 * with atime, which we must not touch).
	 */
	if (errno == EPERM && wconf->writeback && !(in->valid & FATTR_ATIME) &&
	    (wconf->default_permissions || wconf->multiuser))
		return 0;
	return errno;
}

/* What a SETATTR can change; the rest says how. */
#define FATTR_CHANGES	(FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | \
	FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)

static int
setattr_apply(const struct req *req, const struct inode *ip,
    struct handle *hp, const struct fuse_setattr_in *in)
{
	int	 error = 0;

	/* Ownership first: chown clears set-ID bits a mode may set. */
	if ((in->valid & (FATTR_UID | FATTR_GID)) ||
	    (in->valid & FATTR_CHANGES) == 0) {
		if ((error = setattr_owner(req, ip, in)) != 0)
			return error;
	}
	if (in->valid & FATTR_MODE) {
		if ((error = setattr_mode(ip, hp, in->mode & 07777)) != 0)
			return error;
	}
	if (in->valid & FATTR_SIZE) {
		if ((error = setattr_size(ip, hp, in->size)) != 0)
			return error;
	}
	/*
	 * With a size, the flag says the caller lacks CAP_FSETID; with a
	 * chown the kernel sets it always, and the chown has done it.
	 */
	if ((in->valid & FATTR_KILL_SUIDGID) &&
	    !(in->valid & (FATTR_MODE | FATTR_UID | FATTR_GID))) {
		if ((error = setattr_kill_suidgid(req, ip)) != 0)
			return error;
	}
	if (in->valid & (FATTR_ATIME | FATTR_MTIME))
		error = setattr_times(ip, hp, in);
	return error;
}

int
op_setattr(struct req *req)
{
	const struct fuse_setattr_in	*in = (const void *)req->arg;
	struct handle			*hp = NULL;
	struct inode			*ip;
	struct stat			 st;
	int				 error = 0;

	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((in->valid & FATTR_FH) &&
	    (hp = handle_get(in->fh, req->hdr->nodeid, &error)) == NULL) {
		inode_put(ip);
		return error;
	}
	log_debug("%s: node %llu valid %#x", __func__,
	    (unsigned long long)req->hdr->nodeid, in->valid);
	if ((error = setattr_apply(req, ip, hp, in)) == 0)
		error = inode_stat(ip, &st);
	if (hp != NULL)
		handle_put(hp);
	inode_put(ip);
	if (error)
		return error;
	reply_attr(req, &st);
	return 0;
}

int
op_readlink(struct req *req)
{
	struct inode	*ip;
	ssize_t		 n = 0;
	int		 error = 0;

	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (ip->type != S_IFLNK)
		error = EINVAL;
	else if ((n = readlinkat(ip->fd, "", (char *)req->out,
	    req->outsize)) == -1)
		error = errno;
	else if ((size_t)n == req->outsize)
		error = ENAMETOOLONG;
	inode_put(ip);
	if (error)
		return error;
	reply_data(req, req->out, n);
	return 0;
}

int
op_statfs(struct req *req)
{
	struct fuse_statfs_out	 out;
	struct statvfs		 sv;
	struct inode		*ip;
	int			 error = 0;

	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (fstatvfs(ip->fd, &sv) == -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	memset(&out, 0, sizeof(out));
	out.st.blocks = sv.f_blocks;
	out.st.bfree = sv.f_bfree;
	out.st.bavail = sv.f_bavail;
	out.st.files = sv.f_files;
	out.st.ffree = sv.f_ffree;
	out.st.bsize = sv.f_bsize;
	out.st.namelen = sv.f_namemax;
	out.st.frsize = sv.f_frsize;
	reply_data(req, &out, sizeof(out));
	return 0;
}

int
op_access(struct req *req)
{
	const struct fuse_access_in	*in = (const void *)req->arg;
	struct inode			*ip;
	int				 error = 0;

	if (in->mask & ~(R_OK | W_OK | X_OK))
		return EINVAL;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (wconf->ro && (in->mask & W_OK) &&
	    (ip->type == S_IFREG || ip->type == S_IFDIR ||
	    ip->type == S_IFLNK))
		error = EROFS;
	else if (faccessat(ip->fd, "", in->mask, AT_EACCESS | AT_EMPTY_PATH) ==
	    -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

static void
fill_statx(struct fuse_statx *sx, const struct statx *stx)
{
	memset(sx, 0, sizeof(*sx));
	sx->mask = stx->stx_mask & (STATX_BASIC_STATS | STATX_BTIME);
	sx->blksize = stx->stx_blksize;
	sx->attributes = stx->stx_attributes;
	sx->nlink = stx->stx_nlink;
	sx->uid = stx->stx_uid;
	sx->gid = stx->stx_gid;
	sx->mode = stx->stx_mode;
	sx->ino = stx->stx_ino;
	sx->size = stx->stx_size;
	sx->blocks = stx->stx_blocks;
	sx->attributes_mask = stx->stx_attributes_mask;
	sx->atime.tv_sec = stx->stx_atime.tv_sec;
	sx->atime.tv_nsec = stx->stx_atime.tv_nsec;
	sx->btime.tv_sec = stx->stx_btime.tv_sec;
	sx->btime.tv_nsec = stx->stx_btime.tv_nsec;
	sx->ctime.tv_sec = stx->stx_ctime.tv_sec;
	sx->ctime.tv_nsec = stx->stx_ctime.tv_nsec;
	sx->mtime.tv_sec = stx->stx_mtime.tv_sec;
	sx->mtime.tv_nsec = stx->stx_mtime.tv_nsec;
	sx->rdev_major = stx->stx_rdev_major;
	sx->rdev_minor = stx->stx_rdev_minor;
	sx->dev_major = stx->stx_dev_major;
	sx->dev_minor = stx->stx_dev_minor;
}

int
op_statx(struct req *req)
{
	const struct fuse_statx_in	*in = (const void *)req->arg;
	struct fuse_statx_out		 out;
	struct statx			 stx;
	struct handle			*hp;
	struct inode			*ip;
	int				 flags, error = 0;

	flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW |
	    (in->sx_flags & AT_STATX_SYNC_TYPE);
	if (in->getattr_flags & FUSE_GETATTR_FH) {
		if ((hp = handle_get(in->fh, req->hdr->nodeid, &error)) ==
		    NULL)
			return error;
		if (statx(hp->fd, "", flags, in->sx_mask, &stx) == -1)
			error = errno;
		handle_put(hp);
	} else {
		if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
			return error;
		if (statx(ip->fd, "", flags, in->sx_mask, &stx) == -1)
			error = errno;
		inode_put(ip);
	}
	if (error)
		return error;
	memset(&out, 0, sizeof(out));
	out.attr_valid = attr_timeout();
	fill_statx(&out.stat, &stx);
	reply_data(req, &out, sizeof(out));
	return 0;
}
