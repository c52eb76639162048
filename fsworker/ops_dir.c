/*
 * Operations on names in a directory: creating nodes, removing,
 * renaming and linking them.  Every call is relative to the directory
 * node's descriptor and takes one validated name component.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

/* The name at off, which a creating op may use. */
static int
dir_name(const struct req *req, size_t off, const char **name, size_t *next)
{
	int	 error = 0;

	if ((error = req_name(req, off, name, next)) != 0)
		return error;
	return name_is_valid(*name) ? 0 : EINVAL;
}

/* Replies with the entry now at name, one more lookup on its node. */
static int
dir_reply_entry(struct req *req, struct inode *dir, const char *name)
{
	struct inode	*ip;
	struct stat	 st;
	int		 error = 0;

	if ((error = inode_lookup(dir, name, 0, &st, &ip)) != 0)
		return error;
	if (reply_entry(req, ip, &st) == ENOENT)
		inode_forget(ip->nodeid, 1);	/* not seen by the kernel */
	inode_put(ip);
	return 0;
}

static dev_t
fuse_decode_dev(uint32_t rdev)
{
	/* The kernel's 32-bit new_encode_dev() layout. */
	return makedev((rdev & 0xfff00) >> 8,
	    (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
}

static int
mknod_create(struct inode *dir, const char *name, const struct req *req,
    const struct fuse_mknod_in *in)
{
	struct cred_save	 cs;
	mode_t			 type = in->mode & S_IFMT;
	mode_t			 mode = in->mode & 07777;
	int			 error = 0;

	switch (type) {
	case 0:
		type = S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return EINVAL;
	}
	if ((error = cred_enter(req, in->umask, CRED_NOGROUP, &cs)) != 0)
		return error;
	if (mknodat(dir->fd, name, type | mode, fuse_decode_dev(in->rdev)) ==
	    -1)
		error = errno;
	cred_leave(&cs);
	return error;
}

int
op_mknod(struct req *req)
{
	const struct fuse_mknod_in	*in = (const void *)req->arg;
	struct inode			*dir;
	const char			*name;
	int				 error = 0;

	if ((error = dir_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = mknod_create(dir, name, req, in)) == 0)
		error = dir_reply_entry(req, dir, name);
	inode_put(dir);
	return error;
}

int
op_mkdir(struct req *req)
{
	const struct fuse_mkdir_in	*in = (const void *)req->arg;
	struct cred_save		 cs;
	struct inode			*dir;
	const char			*name;
	int				 error = 0;

	if ((error = dir_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = cred_enter(req, in->umask, CRED_NOGROUP, &cs)) == 0) {
		if (mkdirat(dir->fd, name, in->mode & 07777) == -1)
			error = errno;
		cred_leave(&cs);
	}
	if (error == 0)
		error = dir_reply_entry(req, dir, name);
	inode_put(dir);
	return error;
}

int
op_symlink(struct req *req)
{
	struct cred_save	 cs;
	struct inode		*dir;
	const char		*name, *target;
	size_t			 next;
	int			 error = 0;

	/* The entry's name comes first, then the link's contents. */
	if ((error = dir_name(req, 0, &name, &next)) != 0 ||
	    (error = req_name(req, next, &target, NULL)) != 0)
		return error;
	if (target[0] == '\0')
		return ENOENT;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = cred_enter(req, CRED_NOUMASK, CRED_NOGROUP, &cs)) == 0) {
		if (symlinkat(target, dir->fd, name) == -1)
			error = errno;
		cred_leave(&cs);
	}
	if (error == 0)
		error = dir_reply_entry(req, dir, name);
	inode_put(dir);
	return error;
}

static int
dir_remove(struct req *req, int flags)
{
	struct inode	*dir;
	const char	*name;
	int		 error = 0;

	if ((error = dir_name(req, 0, &name, NULL)) != 0)
		return error;
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (unlinkat(dir->fd, name, flags) == -1)
		error = errno;
	inode_put(dir);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_unlink(struct req *req)
{
	return dir_remove(req, 0);
}

int
op_rmdir(struct req *req)
{
	return dir_remove(req, AT_REMOVEDIR);
}

static int
dir_rename(struct req *req, uint64_t newdirid, size_t off, unsigned int flags)
{
	struct cred_save	 cs;
	struct inode		*olddir, *newdir;
	const char		*oldname, *newname;
	size_t			 next;
	int			 error = 0;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return EINVAL;
	if ((error = dir_name(req, off, &oldname, &next)) != 0 ||
	    (error = dir_name(req, next, &newname, NULL)) != 0)
		return error;
	if ((olddir = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((newdir = inode_get_dir(newdirid, &error)) == NULL) {
		inode_put(olddir);
		return error;
	}
	/*
	 * A whiteout is a new node: it gets the caller's ids and umask.
	 * In multiuser mode the request already acts as its caller
	 * (fuse.c); this adds nothing else to it.
	 */
	if (flags & RENAME_WHITEOUT)
		error = cred_enter(req, CRED_NOUMASK, CRED_NOGROUP, &cs);
	if (error == 0) {
		if (renameat2(olddir->fd, oldname, newdir->fd, newname,
		    flags) == -1)
			error = errno;
		if (flags & RENAME_WHITEOUT)
			cred_leave(&cs);
	}
	if (error == 0) {
		inode_renamed(newdir, newname);
		if (flags & RENAME_EXCHANGE)
			inode_renamed(olddir, oldname);
	}
	inode_put(newdir);
	inode_put(olddir);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

int
op_rename(struct req *req)
{
	const struct fuse_rename_in	*in = (const void *)req->arg;

	return dir_rename(req, in->newdir, sizeof(*in), 0);
}

int
op_rename2(struct req *req)
{
	const struct fuse_rename2_in	*in = (const void *)req->arg;

	return dir_rename(req, in->newdir, sizeof(*in), in->flags);
}

int
op_link(struct req *req)
{
	const struct fuse_link_in	*in = (const void *)req->arg;
	struct inode			*dir, *ip;
	const char			*name;
	int				 error = 0;

	if ((error = dir_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	if ((ip = inode_get(in->oldnodeid, &error)) == NULL)
		return error;
	if (ip->type == S_IFDIR) {
		inode_put(ip);
		return EPERM;
	}
	if ((dir = inode_get_dir(req->hdr->nodeid, &error)) == NULL) {
		inode_put(ip);
		return error;
	}
	/*
	 * The link keeps its node's owner, so the worker's own credentials
	 * serve, as for a rename: the kernel checked the caller's.
	 */
	error = inode_link(ip, dir->fd, name);
	inode_put(ip);
	if (error == 0)
		error = dir_reply_entry(req, dir, name);
	inode_put(dir);
	return error;
}
