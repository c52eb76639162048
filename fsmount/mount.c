/*
 * Mounting onto a pinned descriptor with the new mount API, and
 * unmounting exactly the mount we made.
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmount.h"

static void
mount_fs_error(int fsfd, const char *what, char *err, size_t errlen)
{
	char	buf[256];
	ssize_t	n;
	int	saved = errno;

	/* The kernel explains a refused fsconfig() on the context. */
	while ((n = read(fsfd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		log_warnx("%s: kernel: %s", __func__, buf);
	}
	snprintf(err, errlen, "%s: %s", what, strerror(saved));
	errno = saved;
}

static int
mount_config(int fsfd, const char *key, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static int
mount_config(int fsfd, const char *key, const char *fmt, ...)
{
	char	val[PATH_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return (fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0));
}

/*
 * fsopen(2) and the calls after it came with Linux 5.2; a kernel
 * without them, or a seccomp profile that refuses what it does not
 * know, answers ENOSYS, and mount(2) does instead.  Probed once.
 */
static int	has_fsopen = 1;

#define MOUNT_LEGACY	-2	/* mount_context(): use mount(2) */

/*
 * A FUSE filesystem context for this request, ready to create; or
 * MOUNT_LEGACY.
 */
static int
mount_context(const struct cred *cr, int fusefd, const char *source,
    const struct mntopts *mo, char *err, size_t errlen)
{
	int	fsfd;

	if (!has_fsopen)
		return (MOUNT_LEGACY);
	if ((fsfd = fsopen("fuse", FSOPEN_CLOEXEC)) == -1) {
		if (errno == ENOSYS) {
			has_fsopen = 0;
			log_debug("%s: fsopen: not available, mount(2) "
			    "instead", __func__);
			return (MOUNT_LEGACY);
		}
		snprintf(err, errlen, "fsopen: %s", strerror(errno));
		return (-1);
	}
	if (mount_config(fsfd, "source", "%s", source) == -1 ||
	    mount_config(fsfd, "subtype", "fsmonitor") == -1 ||
	    mount_config(fsfd, "fd", "%d", fusefd) == -1 ||
	    mount_config(fsfd, "rootmode", "%o", S_IFDIR) == -1 ||
	    mount_config(fsfd, "user_id", "%u", (unsigned int)cr->uid) == -1 ||
	    mount_config(fsfd, "group_id", "%u",
	    (unsigned int)cr->gid) == -1 ||
	    ((mo->flags & MO_ALLOW_OTHER) && fsconfig(fsfd, FSCONFIG_SET_FLAG,
	    "allow_other", NULL, 0) == -1) ||
	    ((mo->flags & MO_DEFAULT_PERMISSIONS) && fsconfig(fsfd,
	    FSCONFIG_SET_FLAG, "default_permissions", NULL, 0) == -1) ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1) {
		mount_fs_error(fsfd, "mount", err, errlen);
		close(fsfd);
		return (-1);
	}
	return (fsfd);
}

/*
 * Whether the mountpoint's name in its parent still leads to the
 * pinned directory, on the mount it was on.
 */
static int
mount_name_is(int pfd, const char *name, int mpfd, int below)
{
	struct stat	 a, b;
	int		 fd, same;

	if ((fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return (0);
	/* The mount first: fstat() only asks the filesystem below. */
	same = mnt_id_of(fd) == below && fstat(fd, &a) == 0 &&
	    fstat(mpfd, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino;
	close(fd);
	return (same);
}

/*
 * Whether mount id is a FUSE mount of ours stacked right on mount
 * below, by /proc/self/mountinfo: asking the filesystem itself
 * (fstatfs(2), fstat(2)) would wait for ever for a worker that never
 * comes.
 */
static int
mount_is_ours_on(int id, int below)
{
	char	 type[MOUNTINFO_TYPELEN];
	int	 parent;

	return (mountinfo_of(id, &parent, type) == 0 &&
	    parent == below && strcmp(type, "fuse.fsmonitor") == 0);
}

/*
 * Detach the FUSE mount mount(2) just stacked on the pinned directory
 * when its name no longer leads there.  A directory a mount sits on
 * cannot be renamed, so its path now stays put: we open the mount's
 * root by that path, make sure it is our FUSE mount right over the
 * pinned directory's (same path, mounted on the mount below) and
 * detach through that descriptor, never through a name someone may
 * swap.
 */
static void
mount_legacy_undo(int mpfd, int below)
{
	char		 path[PATH_MAX], top_path[PATH_MAX], link[32];
	int		 top;

	if (fd_path(mpfd, path, sizeof(path)) == -1 ||
	    (top = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("%s: the mount made is out of reach", __func__);
		return;
	}
	if (fd_path(top, top_path, sizeof(top_path)) == -1 ||
	    strcmp(path, top_path) != 0 ||
	    !mount_is_ours_on(mnt_id_of(top), below)) {
		log_warnx("%s: %s: not the mount made, left alone",
		    __func__, path);
		close(top);
		return;
	}
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", top);
	if (umount2(link, MNT_DETACH) == -1)
		log_warn("%s: detach %s", __func__, path);
	else
		log_debug("%s: %s: detached", __func__, path);
	close(top);
}

/*
 * mount(2) onto the pinned mountpoint, named through its descriptor
 * (the kernel follows the magic link to the pinned directory, not to
 * a name), and the new mount's root opened as fsmount(2) would return
 * it: what the mountpoint's name leads to now, a mount other than the
 * one the mountpoint is on.  The name is checked before, to refuse a
 * swap already made, and after, since it may be made meanwhile; a
 * mount that ends up elsewhere is detached.
 */
static int
mount_legacy(const struct cred *cr, int fusefd, int mpfd, int pfd,
    const char *name, const char *source, const struct mntopts *mo,
    char *err, size_t errlen)
{
	unsigned long	 flags = MS_NOSUID | MS_NODEV;
	char		 target[32], data[256];
	int		 below, mfd;

	if (mo->flags & MO_RO)
		flags |= MS_RDONLY;
	if (mo->flags & MO_NOEXEC)
		flags |= MS_NOEXEC;
	(void)snprintf(target, sizeof(target), "/proc/self/fd/%d", mpfd);
	(void)snprintf(data, sizeof(data),
	    "fd=%d,rootmode=%o,user_id=%u,group_id=%u%s%s", fusefd, S_IFDIR,
	    (unsigned int)cr->uid, (unsigned int)cr->gid,
	    (mo->flags & MO_ALLOW_OTHER) ? ",allow_other" : "",
	    (mo->flags & MO_DEFAULT_PERMISSIONS) ?
	    ",default_permissions" : "");
	if ((below = mnt_id_of(mpfd)) == -1 ||
	    !mount_name_is(pfd, name, mpfd, below)) {
		snprintf(err, errlen, "mountpoint changed before mounting");
		return (-1);
	}
	if (mount(source, target, "fuse.fsmonitor", flags, data) == -1) {
		snprintf(err, errlen, "mount: %s", strerror(errno));
		return (-1);
	}
	/* Nothing that asks the filesystem: no worker serves it yet. */
	mfd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (mfd == -1 || mnt_id_of(mfd) == below) {
		snprintf(err, errlen, "mountpoint changed while mounting");
		if (mfd != -1)
			close(mfd);
		mount_legacy_undo(mpfd, below);
		return (-1);
	}
	return (mfd);
}

/*
 * Mount onto the mountpoint descriptor the client opened.  We keep an
 * O_PATH descriptor of the mountpoint's parent and its name: the name
 * cannot be renamed or replaced while it is a mountpoint, so unmounting
 * through them never follows a path someone swapped.
 */
int
mount_fuse(const struct cred *cr, int fusefd, int mpfd, const char *source,
    const struct mntopts *mo, const char *mppath, struct fsm_mount *m,
    char *err, size_t errlen)
{
	unsigned int	 attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	char		 tmp[PATH_MAX];
	int		 fsfd, mfd, pfd, top, below;

	/* Where the mount must land: right on the pinned directory. */
	below = mnt_id_of(mpfd);
	if ((pfd = openat(mpfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "mountpoint's directory: %s",
		    strerror(errno));
		return (errno);
	}
	if ((fsfd = mount_context(cr, fusefd, source, mo, err, errlen)) ==
	    -1) {
		close(pfd);
		return (EINVAL);
	}
	strlcpy(tmp, mppath, sizeof(tmp));
	if (fsfd == MOUNT_LEGACY) {
		if ((mfd = mount_legacy(cr, fusefd, mpfd, pfd, basename(tmp),
		    source, mo, err, errlen)) == -1) {
			close(pfd);
			return (EINVAL);
		}
		goto mounted;
	}
	if (mo->flags & MO_RO)
		attr |= MOUNT_ATTR_RDONLY;
	if (mo->flags & MO_NOEXEC)
		attr |= MOUNT_ATTR_NOEXEC;
	if ((mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attr)) == -1) {
		mount_fs_error(fsfd, "fsmount", err, errlen);
		close(fsfd);
		close(pfd);
		return (EINVAL);
	}
	close(fsfd);
	if (move_mount(mfd, "", mpfd, "", MOVE_MOUNT_F_EMPTY_PATH |
	    MOVE_MOUNT_T_EMPTY_PATH) == -1) {
		snprintf(err, errlen, "move_mount: %s", strerror(errno));
		close(mfd);
		close(pfd);
		return (EINVAL);
	}
 mounted:
	m->mnt_id = mnt_id_of(mfd);
	strlcpy(tmp, mppath, sizeof(tmp));
	m->parent_fd = pfd;
	if ((m->name = strdup(basename(tmp))) == NULL)
		fatal("%s", __func__);

	/*
	 * What the name now leads to must be the mount we just made, and
	 * it must sit on the pinned directory itself: the kernel stacks a
	 * new mount on the topmost one at a place, so a mount someone made
	 * there since we checked would be hidden under ours.
	 */
	top = openat(pfd, m->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (m->mnt_id == -1 || top == -1 || mnt_id_of(top) != m->mnt_id ||
	    !mount_is_ours_on(m->mnt_id, below)) {
		log_warnx("%s: %s: mount not found where it was made",
		    __func__, mppath);
		if (top != -1)
			close(top);
		/* Our mount descriptor still names it: detach through it. */
		snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", mfd);
		if (umount2(tmp, MNT_DETACH) == -1)
			log_warn("%s: detach %s", __func__, mppath);
		close(mfd);
		close(pfd);
		m->parent_fd = -1;
		snprintf(err, errlen, "mountpoint changed while mounting");
		return (EBUSY);
	}
	close(mfd);
	close(top);
	return (0);
}

/*
 * Unmount the mount we made: only if the name in the pinned parent
 * still leads to it (nothing stacked over it), and without following
 * anything.
 */
int
mount_detach(struct fsm_mount *m, int lazy, char *err, size_t errlen)
{
	int	top, id, rv = 0;
	useconds_t delay;

	if (m->parent_fd == -1)
		return (0);
	top = openat(m->parent_fd, m->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	id = top == -1 ? -1 : mnt_id_of(top);
	if (top != -1)
		close(top);
	if (id != m->mnt_id) {
		snprintf(err, errlen, "%s", id == -1 ? "mountpoint is gone" :
		    "another mount is stacked over it");
		return (id == -1 ? ENOENT : EBUSY);
	}
	if (fchdir(m->parent_fd) == -1)
		fatal("%s: fchdir", __func__);
	/*
	 * The descriptor that named this mount travelled here through the
	 * parent, which closes its copy only after sendmsg() returns: a
	 * few moments of EBUSY are that copy, not a user of the mount.
	 */
	for (delay = 1000; (rv = umount2(m->name, UMOUNT_NOFOLLOW |
	    (lazy ? MNT_DETACH : 0))) == -1 && errno == EBUSY &&
	    delay <= 64000; delay *= 2)
		usleep(delay);
	if (rv == -1) {
		rv = errno;
		snprintf(err, errlen, "%s", rv == EBUSY ?
		    "mount is busy (try unmount -l)" : strerror(rv));
	}
	if (chdir("/") == -1)
		fatal("%s: chdir", __func__);
	if (rv == 0) {
		close(m->parent_fd);
		m->parent_fd = -1;
	}
	return (rv);
}

struct fsm_mount *
mount_find_mnt_id(int mnt_id)
{
	struct fsm_mount	*m;

	TAILQ_FOREACH(m, &env->mounts, entry)
		if (m->state == FSM_MOUNTED && m->mnt_id == mnt_id)
			return (m);
	return (NULL);
}

struct fsm_mount *
mount_find_id(uint32_t id)
{
	struct fsm_mount	*m;

	TAILQ_FOREACH(m, &env->mounts, entry)
		if (m->id == id)
			return (m);
	return (NULL);
}

struct fsm_mount *
mount_find_pid(pid_t pid)
{
	struct fsm_mount	*m;

	TAILQ_FOREACH(m, &env->mounts, entry)
		if (m->worker == pid)
			return (m);
	return (NULL);
}

int
mount_count(uid_t uid)
{
	struct fsm_mount	*m;
	int			 n = 0;

	TAILQ_FOREACH(m, &env->mounts, entry)
		if (m->uid == uid)
			n++;
	return (n);
}

void
mount_free(struct fsm_mount *m)
{
	backing_chan_close(m);
	if (m->fuse_fd != -1)
		close(m->fuse_fd);
	if (m->parent_fd != -1)
		close(m->parent_fd);
	if (m->state_fd != -1)
		close(m->state_fd);
	if (m->src_fd != -1)
		close(m->src_fd);
	free(m->name);
	free(m->source);
	free(m->mountpoint);
	free(m->options);
	free(m);
}
