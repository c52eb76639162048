/*
 * Extended attributes.  The calls go through the node's path in
 * inode.c, which reaches any node type without opening it.
 *
 * Where the kernel checks permissions (FUSE_POSIX_ACL, fuse.c) it reads
 * the POSIX ACLs through GETXATTR for its checks and sets them through
 * SETXATTR and REMOVEXATTR; the backing filesystem keeps the mode bits
 * in step with them.  noxattr then refuses every other name but still
 * serves theirs: an error in reading them would refuse every caller.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <string.h>

#include "fsproto.h"
#include "fsworker.h"

#define XATTR_PATH_MAX	32

static const char	*const xattr_acl_names[] = {
	"system.posix_acl_access",
	"system.posix_acl_default",
};

#define XATTR_NACL	(sizeof(xattr_acl_names) / sizeof(xattr_acl_names[0]))

static int
xattr_acl(const char *name)
{
	size_t	 i;

	if (!(fsess.flags & FUSE_POSIX_ACL))
		return 0;
	for (i = 0; i < XATTR_NACL; i++)
		if (strcmp(name, xattr_acl_names[i]) == 0)
			return 1;
	return 0;
}

static int
xattr_refused(const char *name)
{
	return wconf->noxattr && !xattr_acl(name);
}

/*
 * Setting an access ACL clears the set-group-ID bit of a caller outside
 * the file's group and without CAP_FSETID, as posix_acl_update_mode()
 * does natively.  Only the kernel knows the caller's groups, and says
 * so (FUSE_SETXATTR_ACL_KILL_SGID); the backing filesystem would judge
 * by the worker's.  So a multiuser worker sets ACLs with its own
 * credentials, holding CAP_FSETID, which keeps the bit (the kernel has
 * checked that the caller owns the file), and clears it where the
 * kernel says.  It says so for a default ACL too, which natively leaves
 * the mode alone.
 */
static int
xattr_kill_sgid(const struct inode *ip, const char *name)
{
	struct stat	 st;
	int		 error;

	if (strcmp(name, xattr_acl_names[0]) != 0)
		return 0;
	if ((error = inode_stat(ip, &st)) != 0)
		return error;
	if (!(st.st_mode & S_ISGID))
		return 0;
	return kill_suidgid_error(inode_chmod(ip,
	    st.st_mode & 07777 & ~S_ISGID));
}

int
op_setxattr(struct req *req)
{
	const struct fuse_setxattr_in	*in = (const void *)req->arg;
	struct cred_save		 cs;
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
	if (fixed == sizeof(*in) &&
	    (in->setxattr_flags & ~FUSE_SETXATTR_ACL_KILL_SGID))
		return EINVAL;
	if (xattr_refused(name))
		return EOPNOTSUPP;
	if ((ip = inode_get(req->hdr->nodeid, &error)) == NULL)
		return error;
	if (xattr_acl(name) && (error = cred_enter_self(&cs)) != 0) {
		inode_put(ip);
		return error;
	}
	if ((error = inode_xattr_path(ip, path, sizeof(path))) == 0 &&
	    setxattr(path, name, req->arg + next, in->size, in->flags) == -1)
		error = errno;
	if (error == 0 && fixed == sizeof(*in) &&
	    (in->setxattr_flags & FUSE_SETXATTR_ACL_KILL_SGID))
		error = xattr_kill_sgid(ip, name);
	if (xattr_acl(name))
		cred_leave(&cs);
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
	if (xattr_refused(name))
		return EOPNOTSUPP;
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

/* listxattr(2) of what noxattr leaves: the ACLs the node has. */
static ssize_t
xattr_list_acls(const char *path, char *buf, size_t size)
{
	size_t	 i, len, n = 0;

	for (i = 0; i < XATTR_NACL; i++) {
		if (getxattr(path, xattr_acl_names[i], NULL, 0) == -1) {
			if (errno == ENODATA)
				continue;
			return -1;
		}
		len = strlen(xattr_acl_names[i]) + 1;
		if (size != 0 && n + len > size) {
			errno = ERANGE;
			return -1;
		}
		if (size != 0)
			memcpy(buf + n, xattr_acl_names[i], len);
		n += len;
	}
	return n;
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
	    (n = wconf->noxattr ?
	    xattr_list_acls(path, (char *)req->out, size) :
	    listxattr(path, size ? (char *)req->out : NULL, size)) == -1)
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
	if (xattr_refused(name))
		return EOPNOTSUPP;
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
