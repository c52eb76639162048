/*
 * The checks fsmount makes on every request, on descriptors it holds
 * itself, whatever the parent already decided.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmount.h"

/*
 * Filesystems a user may mount on, by magic number: ordinary disk and
 * network filesystems.  Anything else (procfs, sysfs, devpts, cgroup,
 * debugfs, securityfs, ...) is refused.
 */
static const struct {
	unsigned long	 magic;
	const char	*name;
} check_fstypes[] = {
	{ 0xef53,	"ext4" },
	{ 0x58465342,	"xfs" },
	{ 0x9123683e,	"btrfs" },
	{ 0x01021994,	"tmpfs" },
	{ 0x858458f6,	"ramfs" },
	{ 0x65735546,	"fuse" },
	{ 0x6969,	"nfs" },
	{ 0xff534d42,	"cifs" },
	{ 0xfe534d42,	"smb2" },
	{ 0xf2f52010,	"f2fs" },
	{ 0x794c7630,	"overlay" },
	{ 0x4d44,	"vfat" },
	{ 0x2011bab0,	"exfat" },
	{ 0x5346544e,	"ntfs" },
	{ 0x7366746e,	"ntfs3" },
	{ 0x2fc12fc1,	"zfs" },
	{ 0xf15f,	"ecryptfs" },
	{ 0x3153464a,	"jfs" },
	{ 0x52654973,	"reiserfs" },
	{ 0xca451a4e,	"bcachefs" },
	{ 0x01021997,	"9p" },
	{ 0x00c36400,	"ceph" },
	{ 0x15013346,	"udf" },
	{ 0x482b,	"hfsplus" },
};

int
fd_path(int fd, char *buf, size_t len)
{
	char	link[64];
	ssize_t	n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, len - 1)) == -1)
		return (-1);
	if ((size_t)n >= len - 1) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	buf[n] = '\0';
	if (buf[0] != '/') {
		errno = ENOENT;
		return (-1);
	}
	return (0);
}

/* The mount id of the mount a descriptor is on, from /proc, never FUSE. */
int
mnt_id_of(int fd)
{
	char	 path[64], line[128];
	FILE	*fp;
	int	 id = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((fp = fopen(path, "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	fclose(fp);
	return (id);
}

/*
 * The requester is whoever connected to our control socket: the
 * descriptor must be the accepted end of a connection to it, so that
 * SO_PEERCRED names the client and not some server it connected to.
 */
int
check_client(int fd, int mounting, struct cred *cr, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct ucred		uc;
	struct stat		sb;
	socklen_t		len;
	int			domain;

	len = sizeof(domain);
	if (fstat(fd, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1 ||
	    domain != AF_UNIX)
		fatalx("%s: client descriptor is not a unix socket", __func__);
	len = sizeof(sun);
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(sun.sun_path, env->sockpath, sizeof(sun.sun_path)) != 0)
		fatalx("%s: client socket is not on the control socket",
		    __func__);
	len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		fatal("%s: SO_PEERCRED", __func__);
	cr->uid = uc.uid;
	cr->gid = uc.gid;
	cr->pid = uc.pid;
	len = sizeof(cr->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cr->groups,
	    &len) == -1) {
		snprintf(err, errlen, "cannot read your groups: %s",
		    strerror(errno));
		return (EPERM);
	}
	cr->ngroups = len / sizeof(gid_t);
	cr->peer_groups = 1;
	/* Allow lines govern mounting; anyone may undo their own mounts. */
	if (mounting && !conf_allows(&env->conf, cr->uid, cr->gid, cr->groups,
	    cr->ngroups)) {
		snprintf(err, errlen, "you are not allowed to use fsmonitor");
		return (EPERM);
	}
	return (0);
}

int
check_mount_max(const struct cred *cr, char *err, size_t errlen)
{
	if (cr->uid == 0)
		return (0);
	if ((unsigned int)mount_count(cr->uid) >= env->conf.mount_max) {
		snprintf(err, errlen, "too many mounts (mount_max is %u)",
		    env->conf.mount_max);
		return (EUSERS);
	}
	return (0);
}

/* The source: a directory the requester opened for reading. */
int
check_source(int fd, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct stat	sb;
	int		fl;

	if (fstat(fd, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) == -1 || (fl & O_PATH) ||
	    (fl & O_ACCMODE) != O_RDONLY) {
		snprintf(err, errlen, "source is not a directory opened "
		    "for reading");
		return (ENOTDIR);
	}
	if (fd_path(fd, path, pathlen) == -1 ||
	    strstr(path, " (deleted)") != NULL) {
		snprintf(err, errlen, "source has no path (removed?)");
		return (ENOENT);
	}
	return (0);
}

static const char *
check_fstype(unsigned long magic)
{
	size_t	i;

	for (i = 0; i < sizeof(check_fstypes) / sizeof(check_fstypes[0]); i++)
		if (check_fstypes[i].magic == magic)
			return (check_fstypes[i].name);
	return (NULL);
}

/*
 * One step of a path, never through a symbolic link, /proc's magic
 * links included.  Debian 12's libc has no openat2() of its own.
 */
static int
check_openat2(int dfd, const char *name, int flags)
{
	struct open_how	how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned int)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return ((int)syscall(SYS_openat2, dfd, name, &how, sizeof(how)));
}

/*
 * Whether only root may change what the directory holds, or at least
 * which directories it holds: others may write in a sticky directory
 * of root's, but not rename or remove what root owns there, and
 * every directory that follows must be root's too.
 */
/*
 * The parent mount and the type of mount id, from /proc/self/mountinfo:
 * asking the file system itself (fstat(2), fstatfs(2), a lookup) would
 * ask its server, which on a FUSE mount may be a user's and never
 * answer.  Returns 0, or -1 if there is no such mount.
 */
int
mountinfo_of(int id, int *parent, char type[MOUNTINFO_TYPELEN])
{
	FILE	*fp;
	char	*line = NULL, *dash;
	size_t	 len = 0;
	int	 mid, up, rv = -1;

	if (id == -1 || (fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return (-1);
	while (getline(&line, &len, fp) != -1) {
		if (sscanf(line, "%d %d", &mid, &up) != 2 || mid != id)
			continue;
		if ((dash = strstr(line, " - ")) != NULL &&
		    sscanf(dash, " - %31s", type) == 1) {
			if (parent != NULL)
				*parent = up;
			rv = 0;
		}
		break;
	}
	free(line);
	fclose(fp);
	return (rv);
}

/* Whether fd is on a FUSE mount, or cannot be told. */
static int
check_on_fuse(int fd)
{
	char	type[MOUNTINFO_TYPELEN];

	return (mountinfo_of(mnt_id_of(fd), NULL, type) == -1 ||
	    strncmp(type, "fuse", 4) == 0);
}

static int
check_root_only(int fd, const char *path, size_t pathlen, char *err,
    size_t errlen)
{
	struct stat	sb;

	if (check_on_fuse(fd)) {
		snprintf(err, errlen, "%.*s is on a FUSE file system, whose "
		    "server says who owns it: refused as part of a static "
		    "mountpoint", (int)pathlen, path);
		return (EPERM);
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%.*s: %s", (int)pathlen, path,
		    strerror(errno));
		return (errno);
	}
	if (sb.st_uid != 0 || ((sb.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(sb.st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%.*s is writable by others than root "
		    "(owner %u, mode %04o): refused as part of a static "
		    "mountpoint", (int)pathlen, path, (unsigned int)sb.st_uid,
		    (unsigned int)(sb.st_mode & 07777));
		return (EPERM);
	}
	return (0);
}

/*
 * A static mount's source or mountpoint, opened from / a component at
 * a time without following any symbolic link.  With root_only, / and
 * every directory on the way, the last included, must be root's and
 * writable by no one else, sticky directories aside: whoever may write
 * in one could swap what follows it for a link, or for a directory of
 * their own, before the next mount or reload.  Returns the descriptor,
 * or -1 with *rv and err set.
 */
int
check_static_path(const char *path, int flags, int root_only, int *rv,
    char *err, size_t errlen)
{
	char	 buf[PATH_MAX], *p, *name;
	size_t	 end = 1;
	int	 dfd, fd, error;

	if (path[0] != '/' || strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: not an absolute path", path);
		*rv = EINVAL;
		return (-1);
	}
	if ((dfd = check_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY)) == -1) {
		error = errno;
		goto fail;
	}
	for (p = buf + 1;;) {
		if (root_only && (*rv = check_root_only(dfd, path, end, err,
		    errlen)) != 0) {
			close(dfd);
			return (-1);
		}
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (*p != '/' && *p != '\0')
			p++;
		end = (size_t)(p - buf);
		if (*p == '/')
			*p++ = '\0';
		while (*p == '/')
			p++;
		/* Directories on the way; the last one as asked. */
		fd = check_openat2(dfd, name, *p == '\0' ? flags :
		    O_PATH | O_DIRECTORY);
		error = errno;
		close(dfd);
		if ((dfd = fd) == -1)
			goto fail;
	}
	if (end == 1) {
		/* The path is / itself, opened as asked. */
		fd = check_openat2(dfd, ".", flags);
		error = errno;
		close(dfd);
		if ((dfd = fd) == -1)
			goto fail;
	}
	return (dfd);
 fail:
	*rv = error;
	if (error == ELOOP)
		snprintf(err, errlen, "%.*s: a symbolic link, not followed "
		    "(%s)", (int)end, path, strerror(error));
	else
		snprintf(err, errlen, "%.*s: %s", (int)end, path,
		    strerror(error));
	return (-1);
}

/*
 * Whether the pinned directory is what its path leads to now, the
 * topmost mount there: mounting on a directory another mount covers
 * would hide that mount.  The mount is compared first, from /proc:
 * fstat() of what covers it would ask that filesystem, which may be
 * a FUSE server that never answers.
 */
static int
check_topmost(int fd, const char *path)
{
	struct stat	a, b;
	int		top, id, same;

	if ((id = mnt_id_of(fd)) == -1 ||
	    (top = check_openat2(AT_FDCWD, path, O_PATH)) == -1)
		return (0);
	same = mnt_id_of(top) == id && fstat(top, &a) == 0 &&
	    fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
	close(top);
	return (same);
}

/*
 * fusermount's rules, on the pinned descriptor: a directory, owned and
 * writable by the requester, on an ordinary filesystem.  Ownership also
 * settles sticky directories: /tmp itself belongs to root, a directory
 * of the user's inside it may be used.  Root may mount on any directory
 * but /.
 */
int
check_mountpoint(const struct cred *cr, int fd, char *path, size_t pathlen,
    char *err, size_t errlen)
{
	struct statfs	sfs;
	struct stat	sb;

	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "mountpoint: %s", strerror(errno));
		return (errno);
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "mountpoint is not a directory");
		return (ENOTDIR);
	}
	if (fd_path(fd, path, pathlen) == -1 ||
	    strstr(path, " (deleted)") != NULL) {
		snprintf(err, errlen, "mountpoint has no path (removed?)");
		return (ENOENT);
	}
	if (strcmp(path, "/") == 0) {
		snprintf(err, errlen, "cannot mount on /");
		return (EBUSY);
	}
	if (!check_topmost(fd, path)) {
		snprintf(err, errlen, "mountpoint is covered by another mount");
		return (EBUSY);
	}
	if (cr->uid == 0)
		return (0);
	if (sb.st_uid != cr->uid) {
		snprintf(err, errlen, "mountpoint not owned by you");
		return (EPERM);
	}
	if ((sb.st_mode & S_IWUSR) == 0) {
		snprintf(err, errlen, "no write access to mountpoint");
		return (EACCES);
	}
	if (fstatfs(fd, &sfs) == -1 ||
	    check_fstype((unsigned long)sfs.f_type) == NULL) {
		snprintf(err, errlen, "mounting on this filesystem (type "
		    "0x%lx) is not allowed", (unsigned long)sfs.f_type);
		return (EPERM);
	}
	return (0);
}
