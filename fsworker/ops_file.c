/*
 * Open files: opening and creating them, I/O on their handles, and
 * closing them.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/*
 * Whether a close(2) of a file of the source's own filesystem can tell
 * anything, and so whether the kernel must send FLUSH.  On these
 * filesystems it cannot: they have no flush method, and our locks go
 * with the handle, not with a close.
 */
static dev_t	 flush_dev;
static int	 flush_needless;

/*
 * The open(2) flags the worker honours.  The rest is either the
 * kernel's business (O_CREAT, O_EXCL, O_NOCTTY, exec bits), ours
 * (O_NOFOLLOW, O_CLOEXEC), or dropped: O_DIRECT, because our buffers
 * follow the protocol's layout, not the backing device's alignment;
 * the kernel already bypasses its own cache for such opens.
 */
#define OPEN_FLAGS_KEPT	(O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | \
	O_DSYNC | O_NOATIME | O_NONBLOCK)

static int
open_flags(uint32_t kflags)
{
	int	 flags = kflags & OPEN_FLAGS_KEPT;

	/*
	 * With the writeback cache the kernel reads pages of files open
	 * for writing and resolves O_APPEND itself.
	 */
	if (wconf->writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags;
}

static uint32_t
fopen_flags(void)
{
	switch (wconf->cache) {
	case CACHE_NEVER:
		return FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES;
	case CACHE_ALWAYS:
		return FOPEN_KEEP_CACHE;
	case CACHE_AUTO:
		break;
	}
	return 0;
}

/*
 * Whether the file open on fd is append-only or immutable: 1 if so, 0
 * if not, -1 where statx(2) cannot tell (the filesystem reports neither
 * attribute).  The kernel's FUSE inode carries no such flags, so
 * nothing but the backing file refuses what they forbid: such a file is
 * never passed through (passthrough.c), and an open of it that may
 * write is served without the page cache (file_handle()).
 */
int
file_unwritable(int fd)
{
	const uint64_t	 attrs = STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE;
	struct statx	 stx;

	if (statx(fd, "", AT_EMPTY_PATH, 0, &stx) == -1 ||
	    (stx.stx_attributes_mask & attrs) != attrs)
		return -1;
	return (stx.stx_attributes & attrs) != 0;
}

static int
open_is_write(uint32_t kflags)
{
	return (kflags & O_ACCMODE) != O_RDONLY || (kflags & O_TRUNC);
}

/*
 * The permission bits of st as a write or truncate by the request's
 * caller leaves them, when the kernel says the caller lacks CAP_FSETID
 * (the KILL_SUIDGID flags): the kernel's own rule for a local caller
 * (setattr_should_drop_suidgid()) drops set-user-ID, and set-group-ID
 * where it means one (with g+x) or where the caller is not in the
 * file's group.  Of the caller's groups the worker knows only the
 * primary one.
 */
mode_t
mode_kill_suidgid(const struct req *req, const struct stat *st)
{
	mode_t	 mode = st->st_mode & 07777;

	if ((mode & S_IXGRP) || st->st_gid != req->hdr->gid)
		return mode & ~(S_ISUID | S_ISGID);
	return mode & ~S_ISUID;
}

/*
 * What failing to clear set-ID bits means.  In owner mode the worker
 * may change the mode of the owner's files only, and must not fail a
 * write or truncate the owner may make to someone else's: holding no
 * CAP_FSETID, it has the backing file system clear the bits itself when
 * it writes or truncates (file_remove_privs()), by the rule for the
 * owner.
 */
int
kill_suidgid_error(int error)
{
	if (error == EPERM && !wconf->multiuser)
		return 0;
	return error;
}

/*
 * Clears the bits for the kernel, which asks it of anyone who may
 * write the file: in multiuser mode with the worker's own credentials,
 * since the caller need not own the file.
 */
int
kill_suidgid(const struct req *req, int fd)
{
	struct cred_save	 cs;
	struct stat		 st;
	mode_t			 mode;
	int			 error;

	if (fstat(fd, &st) == -1)
		return errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((mode = mode_kill_suidgid(req, &st)) == (st.st_mode & 07777))
		return 0;
	if ((error = cred_enter_self(&cs)) != 0)
		return error;
	error = fchmod(fd, mode) == -1 ? kill_suidgid_error(errno) : 0;
	cred_leave(&cs);
	return error;
}

/*
 * Before the threads: whether closes on the source's filesystem need a
 * FLUSH.  The writeback cache always does, to write back what the
 * kernel holds.
 */
void
file_init(int rootfd)
{
	struct statfs	 sf;
	struct stat	 st;

	if (wconf->writeback || fstat(rootfd, &st) == -1 ||
	    fstatfs(rootfd, &sf) == -1)
		return;
	switch (sf.f_type) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:		/* and ext2, ext3 */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		flush_dev = st.st_dev;
		flush_needless = 1;
		break;
	}
}

/*
 * The open reply of OPEN, CREATE and TMPFILE: a handle for fd on ip
 * (whose reference it takes), described in o, with the backing file of
 * the kernel's passthrough where there is one.  rdonly says the open
 * neither writes nor truncates.
 */
static int
file_handle(const struct req *req, int fd, struct inode *ip, int rdonly,
    struct fuse_open_out *o)
{
	int32_t		 id;
	int		 error = 0;

	memset(o, 0, sizeof(*o));
	if ((id = passthrough_open(req, ip, fd, rdonly)) < 0)
		return -id;
	if ((error = handle_new(fd, ip, NULL, id, req, &o->fh)) != 0) {
		passthrough_close(ip, id);
		return error;
	}
	if (id > 0) {
		o->open_flags = FOPEN_PASSTHROUGH;
		FUSE_OPEN_OUT_BACKING_ID(o) = id;
	} else if (!rdonly && file_unwritable(fd) == 1) {
		/*
		 * Every write comes to us, where the backing file appends
		 * it (or refuses it), and no page cache shows it at the
		 * offset the caller asked for.  Without
		 * FUSE_DIRECT_IO_ALLOW_MMAP the kernel refuses a shared
		 * mapping of such an open.
		 */
		o->open_flags = FOPEN_DIRECT_IO;
	} else
		o->open_flags = fopen_flags();
	if (flush_needless && ip->dev == flush_dev)
		o->open_flags |= FOPEN_NOFLUSH;
	return 0;
}

int
op_open(struct req *req)
{
	const struct fuse_open_in	*in = (const void *)req->arg;
	struct fuse_open_out		 o;
	struct inode			*ip;
	int				 fd, error = 0;

	if (wconf->ro && open_is_write(in->flags))
		return EROFS;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (ip->type == S_IFDIR) {
		inode_put(ip);
		return EISDIR;
	}
	if ((fd = inode_reopen(ip, open_flags(in->flags))) == -1) {
		error = errno;
		inode_put(ip);
		return error;
	}
	if ((in->open_flags & FUSE_OPEN_KILL_SUIDGID) &&
	    (error = kill_suidgid(req, fd)) != 0) {
		close(fd);
		inode_put(ip);
		return error;
	}
	if ((error = file_handle(req, fd, ip, !open_is_write(in->flags),
	    &o)) != 0) {
		close(fd);
		inode_put(ip);
		return error;
	}
	if (reply_data(req, &o, sizeof(o)) == ENOENT)
		handle_release(o.fh, req->hdr->nodeid);
	return 0;
}

static int
create_open(const struct req *req, struct inode *dir, const char *name,
    const struct fuse_create_in *in)
{
	struct cred_save	 cs;
	mode_t			 mode = in->mode & 07777;
	int			 flags, cflags, fd, error = 0;

	flags = open_flags(in->flags);
	/*
	 * A file we create is opened for reading and writing, whatever
	 * the caller asked: with passthrough its descriptor is then the
	 * one fsmount checks (passthrough.c), which spares opening it
	 * again.  The kernel sends no READ for an open that may not read.
	 */
	cflags = flags;
	if (fsess.flags & FUSE_PASSTHROUGH)
		cflags = (flags & ~O_ACCMODE) | O_RDWR;

	if ((error = cred_enter(req, in->umask, CRED_NOGROUP, &cs)) != 0) {
		errno = error;
		return -1;
	}
	fd = openat(dir->fd, name,
	    cflags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	error = errno;
	cred_leave(&cs);
	/*
	 * A name that exists after all, made beside the mount since the
	 * kernel's LOOKUP, is not opened here: the kernel, which took it
	 * for new, has checked no right to open it, and the worker cannot
	 * check them as the kernel does (a multiuser worker knows only
	 * some of the caller's groups, and overrides the rest).  ESTALE
	 * has the kernel walk the path again (do_filp_open()'s
	 * LOOKUP_REVAL), find the name, and open it as any existing file,
	 * with its own checks.
	 */
	if (fd == -1 && error == EEXIST && !(in->flags & O_EXCL))
		error = ESTALE;
	errno = error;
	return fd;
}

/* Makes the node and handle of a file just created and replies. */
static int
create_reply(struct req *req, int fd, const char *name)
{
	struct {
		struct fuse_entry_out	e;
		struct fuse_open_out	o;
	} out;
	struct inode	*ip;
	struct stat	 st;
	int		 pathfd, error = 0;

	if (fstat(fd, &st) == -1)
		return errno;
	if ((pathfd = fd_reopen_path(fd)) == -1)
		return errno;
	if ((error = inode_add_fd(pathfd, &st, &ip)) != 0)
		return error;
	if (name != NULL &&
	    (error = inode_note_name(ip, req->hdr->nodeid, name)) != 0) {
		inode_forget(ip->nodeid, 1);
		inode_put(ip);
		return error;
	}
	fill_entry(&out.e, ip, &st);
	if ((error = file_handle(req, fd, ip, 0, &out.o)) != 0) {
		inode_forget(ip->nodeid, 1);
		inode_put(ip);
		return error;
	}
	if (reply_data(req, &out, sizeof(out)) == ENOENT) {
		/* The kernel never saw either: undo both. */
		inode_forget(out.e.nodeid, 1);
		handle_release(out.o.fh, out.e.nodeid);
	}
	return 0;
}

int
op_create(struct req *req)
{
	const struct fuse_create_in	*in = (const void *)req->arg;
	struct inode			*dir;
	const char			*name;
	int				 fd, error = 0;

	if ((error = req_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	if (!name_is_valid(name))
		return EINVAL;
	if ((in->mode & S_IFMT) != 0 && (in->mode & S_IFMT) != S_IFREG)
		return EINVAL;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	fd = create_open(req, dir, name, in);
	error = errno;
	inode_put(dir);
	if (fd == -1)
		return error;
	/* An existing file truncated by this open, as in op_open(). */
	if ((in->open_flags & FUSE_OPEN_KILL_SUIDGID) &&
	    (error = kill_suidgid(req, fd)) != 0) {
		close(fd);
		return error;
	}
	if ((error = create_reply(req, fd, name)) != 0)
		close(fd);
	return error;
}

int
op_tmpfile(struct req *req)
{
	const struct fuse_create_in	*in = (const void *)req->arg;
	struct cred_save		 cs;
	struct inode			*dir;
	const char			*name;
	int				 flags, fd = -1, error = 0;

	/* The kernel names the unnamed file "/"; only its form matters. */
	if ((error = req_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	flags = open_flags(in->flags) | (in->flags & O_EXCL);
	if ((flags & O_ACCMODE) == O_RDONLY)
		flags |= O_RDWR;
	if ((error = cred_enter(req, in->umask, CRED_NOGROUP, &cs)) == 0) {
		fd = openat(dir->fd, ".", flags | O_TMPFILE | O_CLOEXEC,
		    in->mode & 07777);
		error = fd == -1 ? errno : 0;
		cred_leave(&cs);
	}
	inode_put(dir);
	if (error)
		return error;
	if ((error = create_reply(req, fd, NULL)) != 0)
		close(fd);
	return error;
}

int
op_read(struct req *req)
{
	const struct fuse_read_in	*in = (const void *)req->arg;
	struct handle			*hp;
	ssize_t				 n;
	size_t				 sent;
	int				 error = 0;

	if (in->size > req->outsize || in->size > fsess.max_read ||
	    in->offset > INT64_MAX)
		return EINVAL;
	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	if (splice_wanted(req, in->size) &&
	    splice_read(req, hp->fd, in->size, in->offset, &sent) != -1) {
		handle_put(hp);
		atomic_fetch_add(&wstats.bytes_read, sent);
		return 0;
	}
	if ((n = pread(hp->fd, req->out, in->size, in->offset)) == -1)
		error = errno;
	handle_put(hp);
	if (error)
		return error;
	atomic_fetch_add(&wstats.bytes_read, n);
	reply_data(req, req->out, n);
	return 0;
}

int
op_write(struct req *req)
{
	const struct fuse_write_in	*in = (const void *)req->arg;
	struct fuse_write_out		 out;
	struct cred_save		 cs;
	struct handle			*hp;
	ssize_t				 n = 0;
	int				 error = 0;

	if (in->size != req->arglen - sizeof(*in) || in->offset > INT64_MAX)
		return EINVAL;
	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	/* Before the data lands, so no new contents keep a set-ID bit. */
	if (in->write_flags & FUSE_WRITE_KILL_SUIDGID)
		error = kill_suidgid(req, hp->fd);
	if (error == 0 && (error = cred_enter_handle(hp, &cs)) == 0) {
		if ((n = pwrite(hp->fd, req->arg + sizeof(*in), in->size,
		    in->offset)) == -1)
			error = errno;
		cred_leave(&cs);
	}
	handle_put(hp);
	if (error)
		return error;
	atomic_fetch_add(&wstats.bytes_written, n);
	memset(&out, 0, sizeof(out));
	out.size = n;
	reply_data(req, &out, sizeof(out));
	return 0;
}

/*
 * close(2) of a file descriptor through the mount.  Closing a duplicate
 * lets a backing filesystem that reports write errors at close (NFS)
 * report them to the close that caused this.
 */
int
op_flush(struct req *req)
{
	const struct fuse_flush_in	*in = (const void *)req->arg;
	struct handle			*hp;
	int				 fd, error = 0;

	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	if ((fd = dup(hp->fd)) == -1 || close(fd) == -1)
		error = errno;
	handle_put(hp);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_release(struct req *req)
{
	const struct fuse_release_in	*in = (const void *)req->arg;
	struct handle			*hp;
	int				 error = 0;

	if (in->release_flags & FUSE_RELEASE_FLOCK_UNLOCK) {
		/* A waiter may still hold the handle: unlock now. */
		if ((hp = handle_get(in->fh, req->hdr->nodeid, &error)) ==
		    NULL)
			return error;
		(void)flock(hp->fd, LOCK_UN);
		handle_put(hp);
	}
	if ((error = handle_release(in->fh, req->hdr->nodeid)) != 0)
		return error;
	reply_err(req, 0);
	return 0;
}

/* FSYNC and FSYNCDIR. */
int
op_fsync(struct req *req)
{
	const struct fuse_fsync_in	*in = (const void *)req->arg;
	struct handle			*hp;
	int				 error = 0, r;

	if ((hp = handle_get(in->fh, req->hdr->nodeid, &error)) == NULL)
		return error;
	if (in->fsync_flags & FUSE_FSYNC_FDATASYNC)
		r = fdatasync(hp->fd);
	else
		r = fsync(hp->fd);
	if (r == -1)
		error = errno;
	handle_put(hp);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_fallocate(struct req *req)
{
	const struct fuse_fallocate_in	*in = (const void *)req->arg;
	struct cred_save		 cs;
	struct handle			*hp;
	int				 error = 0;

	if (in->offset > INT64_MAX || in->length > INT64_MAX)
		return EINVAL;
	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	if ((error = cred_enter_handle(hp, &cs)) == 0) {
		if (fallocate(hp->fd, in->mode, in->offset, in->length) == -1)
			error = errno;
		cred_leave(&cs);
	}
	handle_put(hp);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_lseek(struct req *req)
{
	const struct fuse_lseek_in	*in = (const void *)req->arg;
	struct fuse_lseek_out		 out;
	struct handle			*hp;
	off_t				 off;
	int				 error = 0;

	/* The kernel resolves the other whences from its own state. */
	if ((in->whence != SEEK_DATA && in->whence != SEEK_HOLE) ||
	    in->offset > INT64_MAX)
		return EINVAL;
	if ((hp = handle_get_file(in->fh, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	if ((off = lseek(hp->fd, in->offset, in->whence)) == -1)
		error = errno;
	handle_put(hp);
	if (error)
		return error;
	memset(&out, 0, sizeof(out));
	out.offset = off;
	reply_data(req, &out, sizeof(out));
	return 0;
}

/* Copies with both handles checked against their nodes. */
static int
copy_range(struct req *req, uint64_t maxlen, uint64_t *copied)
{
	const struct fuse_copy_file_range_in	*in;
	struct cred_save			 cs;
	struct handle				*hin, *hout;
	loff_t					 offin, offout;
	ssize_t					 n;
	int					 error = 0;

	in = (const void *)req->arg;
	if (in->flags != 0)
		return EINVAL;
	if (in->off_in > INT64_MAX || in->off_out > INT64_MAX)
		return EINVAL;
	offin = in->off_in;
	offout = in->off_out;
	if ((hin = handle_get_file(in->fh_in, req->hdr->nodeid, EISDIR, &error)) == NULL)
		return error;
	if ((hout = handle_get(in->fh_out, in->nodeid_out, &error)) == NULL) {
		handle_put(hin);
		return error;
	}
	if (hout->dir != NULL)
		error = EISDIR;
	else if ((error = cred_enter_handle(hout, &cs)) == 0) {
		if ((n = copy_file_range(hin->fd, &offin, hout->fd, &offout,
		    in->len < maxlen ? in->len : maxlen, 0)) == -1)
			error = errno;
		else
			*copied = n;
		cred_leave(&cs);
	}
	handle_put(hout);
	handle_put(hin);
	return error;
}

int
op_copy_file_range(struct req *req)
{
	struct fuse_write_out	 out;
	uint64_t		 copied;
	int			 error = 0;

	/* The reply's 32 bits bound the copy; the kernel loops for more. */
	if ((error = copy_range(req, UINT32_MAX & ~4095U, &copied)) != 0)
		return error;
	memset(&out, 0, sizeof(out));
	out.size = copied;
	reply_data(req, &out, sizeof(out));
	return 0;
}

int
op_copy_file_range_64(struct req *req)
{
	struct fuse_copy_file_range_out	 out;
	uint64_t			 copied;
	int				 error = 0;

	if ((error = copy_range(req, SSIZE_MAX, &copied)) != 0)
		return error;
	out.bytes_copied = copied;
	reply_data(req, &out, sizeof(out));
	return 0;
}
