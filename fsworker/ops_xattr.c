/*
 * Extended attributes.  The calls go through the node's path in
 * inode.c, which reaches any node type without opening it.
 */

#include <sys/types.h>
#include <sys/xattr.h>

#include <errno.h>
#include <string.h>

#include "fsproto.h"
#include "fsworker.h"

#define XATTR_PATH_MAX	32

int
op_setxattr(struct req *req)
{
	const struct fuse_setxattr_in	*in = (const void *)req->arg;
	struct inode			*ip;
	char				 path[XATTR_PATH_MAX];
	const char			*name;
	size_t				 fixed, next;
	int				 error = 0;

	/* Without SETXATTR_EXT the kernel sends the short, old struct. */
	fixed = (fsess.flags & FUSE_SETXATTR_EXT) ? sizeof(*in) :
	    FUSE_COMPAT_SETXATTR_IN_SIZE;
	if (req->arglen < fixed)
		return EINVAL;
	if ((error = req_name(req, fixed, &name, &next)) != 0)
		return error;
	if (req->arglen - next != in->size)
		return EINVAL;
	if (in->flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return EINVAL;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = inode_xattr_path(ip, path, sizeof(path))) == 0 &&
	    setxattr(path, name, req->arg + next, in->size, in->flags) == -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}

/* The reply of GETXATTR and LISTXATTR: a size probe, or the bytes. */
static int
xattr_reply(struct req *req, uint32_t size, ssize_t n)
{
	struct fuse_getxattr_out	 out;

	if (size == 0) {
		memset(&out, 0, sizeof(out));
		out.size = n;
		reply_data(req, &out, sizeof(out));
	} else
		reply_data(req, req->out, n);
	return 0;
}

int
op_getxattr(struct req *req)
{
	const struct fuse_getxattr_in	*in = (const void *)req->arg;
	struct inode			*ip;
	char				 path[XATTR_PATH_MAX];
	const char			*name;
	size_t				 size;
	ssize_t				 n = -1;
	int				 error = 0;

	if ((error = req_name(req, sizeof(*in), &name, NULL)) != 0)
		return error;
	size = in->size < req->outsize ? in->size : req->outsize;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = inode_xattr_path(ip, path, sizeof(path))) == 0 &&
	    (n = getxattr(path, name, size ? req->out : NULL, size)) == -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	return xattr_reply(req, in->size, n);
}

int
op_listxattr(struct req *req)
{
	const struct fuse_getxattr_in	*in = (const void *)req->arg;
	struct inode			*ip;
	char				 path[XATTR_PATH_MAX];
	size_t				 size;
	ssize_t				 n = -1;
	int				 error = 0;

	size = in->size < req->outsize ? in->size : req->outsize;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = inode_xattr_path(ip, path, sizeof(path))) == 0 &&
	    (n = listxattr(path, size ? (char *)req->out : NULL, size)) == -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	return xattr_reply(req, in->size, n);
}

int
op_removexattr(struct req *req)
{
	struct inode	*ip;
	char		 path[XATTR_PATH_MAX];
	const char	*name;
	int		 error = 0;

	if ((error = req_name(req, 0, &name, NULL)) != 0)
		return error;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((error = inode_xattr_path(ip, path, sizeof(path))) == 0 &&
	    removexattr(path, name) == -1)
		error = errno;
	inode_put(ip);
	if (error)
		return error;
	reply_err(req, 0);
	return 0;
}
