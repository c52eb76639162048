/*
 * The worker's sandbox, entered once every descriptor it needs is open
 * and before the first request is read.
 *
 * fsmount starts the worker as root in new pid, network, ipc and uts
 * namespaces (clone(2)), so the worker is the first process of its pid
 * namespace and has no network but an unused loopback.  Here, in order:
 *
 *  1. A copy of the source's mount is taken from the host's namespace,
 *     detached, recursive, and made nosuid, nodev and nosymfollow (and
 *     noexec or read-only as the mount asks): the worker never executes,
 *     follows a symlink or opens a device in the tree.  It is made
 *     private too: see sandbox_tree().
 *  2. A procfs of the worker's own pid namespace is made, attached
 *     nowhere, and only its descriptor directory is kept: inode.c
 *     reopens nodes through it.  The host's procfs would show the
 *     host's processes, and getpid() is 1 here, the host's init there.
 *  3. The bounding set is cut to what the worker keeps, while /proc is
 *     still the host's: libcap-ng reads /proc/<tid>/status for it, a
 *     path that from step 4 on would be in the user's tree.
 *  4. A mount namespace of its own, every mount made a slave, the copy
 *     stacked on "/" and made the root with pivot_root(".", "."), the
 *     old root detached from on top of it: nothing of the host's file
 *     tree is left.  The root node is opened again from the new root, so
 *     that every later open happens in the nosuid, nodev view, and the
 *     source descriptor from the host's namespace is closed.
 *  5. Resource limits, then the ids: owner mode takes the owner's groups,
 *     gid and uid; multiuser mode stays root with no groups.
 *  6. The capabilities: none in owner mode, even for root; in multiuser
 *     mode exactly the eight of virtiofsd, which cred.c needs to act for
 *     each caller.  Ids, groups and capabilities are then checked.
 *  7. no_new_privs, the descriptor directory as the working directory
 *     (inode_xattr_path()), and the seccomp allowlist of
 *     libfsproto/sandbox_worker.c.
 *
 * Where the newer mount calls answer ENOSYS, steps 1, 2 and 4 are made
 * with mount(2) in the worker's own namespace instead (below).
 */

#include <sys/types.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"
#include "sandbox.h"

/* Multiuser mode: creating files as the caller, whoever owns them. */
static const int multiuser_caps[] = {
	CAP_CHOWN,		/* SETATTR of the owner; new files' owner */
	CAP_DAC_OVERRIDE,	/* the kernel checked the caller already */
	CAP_FOWNER,		/* SETATTR of mode and times on others' files */
	CAP_FSETID,		/* set-ID bits kept where the caller may */
	CAP_SETGID,		/* setfsgid, setgroups to the caller's */
	CAP_SETUID,		/* setfsuid to the caller */
	CAP_MKNOD,		/* device nodes, for a root caller */
	CAP_SETFCAP,		/* security.capability, for a root caller */
};

static void	 sandbox_fallback(const char *, const char *);
static void	 sandbox_probe_setattr(void);
static int	 sandbox_tree(const struct worker_conf *);
static void	 sandbox_tree_setattr(const struct worker_conf *, int);
static void	 sandbox_tree_remount(const struct worker_conf *);
static int	 sandbox_tree_bind(void);
static int	 sandbox_procfs(void);
static int	 sandbox_procfs_mount(void);
static void	 sandbox_root(struct worker_conf *, int);
static int	 sandbox_rootfd(void);
static void	 sandbox_rlimits(void);
static void	 sandbox_ids(uid_t, gid_t, const gid_t *, int);

/*
 * The newer mount calls, each probed once where it is first needed: a
 * kernel before it, or a container's seccomp profile that refuses what
 * it does not know, answers ENOSYS, and the sandbox falls back to
 * mount(2).  mount_setattr(2) came with Linux 5.12, open_tree(2),
 * move_mount(2), fsopen(2) and fsmount(2) with 5.2.
 */
static int	 has_setattr = 1, has_open_tree = 1, has_fsopen = 1;

static void
sandbox_fallback(const char *call, const char *instead)
{
	log_debug("%s: %s: not available, %s instead", __func__, call,
	    instead);
}

/*
 * mount_setattr(2) of nothing: EBADF where the call exists.  Without
 * it, attributes can be changed on one mount at a time only, so the
 * copy of the source is not recursive: no mount beneath the source
 * escapes nosuid, nodev and nosymfollow, and none is seen.
 */
static void
sandbox_probe_setattr(void)
{
	struct mount_attr	 attr;

	memset(&attr, 0, sizeof(attr));
	if (mount_setattr(-1, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == -1 &&
	    errno == ENOSYS) {
		has_setattr = 0;
		sandbox_fallback("mount_setattr", "mount(2) MS_REMOUNT, and "
		    "not recursive");
	}
}

/*
 * Step 1, still in the host's mount namespace.  Returns -1 where
 * open_tree(2) is missing: sandbox_root() then binds the source itself.
 */
static int
sandbox_tree(const struct worker_conf *conf)
{
	int	 tree;

	sandbox_probe_setattr();
	if ((tree = open_tree(FSWORKER_SRC_FD, "", OPEN_TREE_CLONE |
	    OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
	    (has_setattr ? AT_RECURSIVE : 0))) == -1) {
		if (errno != ENOSYS)
			fatal("%s: open_tree of the source", __func__);
		has_open_tree = 0;
		sandbox_fallback("open_tree", "a bind mount by mount(2)");
		return -1;
	}
	if (has_setattr)
		sandbox_tree_setattr(conf, tree);
	return tree;
}

/* The copy's attributes, on every mount of it at once. */
static void
sandbox_tree_setattr(const struct worker_conf *conf, int tree)
{
	struct mount_attr	 attr;

	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
	    MOUNT_ATTR_NOSYMFOLLOW;
	if (conf->noexec)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (conf->ro)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	/*
	 * A clone of a shared mount joins its peer group: what is mounted
	 * on the copy would appear in the host's tree, and pivot_root(2)
	 * refuses a shared new root.  The copy is private, recursively.
	 */
	attr.propagation = MS_PRIVATE;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
	    sizeof(attr)) == -1)
		fatal("%s: mount_setattr", __func__);
}

/*
 * Without mount_setattr(2): the same attributes on the copy, the mount
 * at ".", by mount(2), and its propagation made private.
 */
static void
sandbox_tree_remount(const struct worker_conf *conf)
{
	unsigned long	 flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV |
			    MS_NOSYMFOLLOW;

	if (conf->noexec)
		flags |= MS_NOEXEC;
	if (conf->ro)
		flags |= MS_RDONLY;
	if (mount(NULL, ".", NULL, flags, NULL) == -1)
		fatal("%s: remount the copy", __func__);
	if (mount(NULL, ".", NULL, MS_PRIVATE, NULL) == -1)
		fatal("%s: make the copy private", __func__);
}

/* Step 2: only the pid directories, ours alone in this namespace. */
static int
sandbox_procfs(void)
{
	int	 fsfd, mnt, fd;

	if ((fsfd = fsopen("proc", FSOPEN_CLOEXEC)) == -1) {
		if (errno != ENOSYS)
			fatal("%s: fsopen", __func__);
		has_fsopen = 0;
		sandbox_fallback("fsopen", "mount(2) in the worker's own "
		    "namespace");
		return -1;
	}
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "subset", "pid", 0) == -1 ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == -1)
		fatal("%s: fsconfig", __func__);
	if ((mnt = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) == -1)
		fatal("%s: fsmount", __func__);
	if ((fd = openat(mnt, "self/fd", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("%s: self/fd", __func__);
	close(mnt);
	close(fsfd);
	return fd;
}

/*
 * Without fsopen(2), in our own mount namespace: the procfs is mounted
 * over /proc for as long as it takes to open its descriptor directory,
 * and taken away again.
 */
static int
sandbox_procfs_mount(void)
{
	int	 fd;

	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "subset=pid") == -1)
		fatal("%s: mount proc", __func__);
	if ((fd = open("/proc/self/fd", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		fatal("%s: self/fd", __func__);
	if (umount2("/proc", MNT_DETACH) == -1)
		fatal("%s: detach proc", __func__);
	return fd;
}

/*
 * Without open_tree(2): the source bound over /proc in our own
 * namespace (recursively where mount_setattr(2) can reach every mount
 * of it), which also leaves nothing of /proc in sight.  mount(2) binds
 * only a mount of the caller's namespace, and FSWORKER_SRC_FD is of the
 * host's.  No path leads back to it safely: a path can be steered, by
 * a symbolic link or a mount over one of its components, to another
 * mount of the same directory that shows what submounts hide.  But
 * unshare(CLONE_NEWNS) moves the working directory onto its mount's
 * copy, and sandbox_root() made it the source before: "." is exactly
 * the source, in our namespace.  Returns the bind mount's root.
 */
static int
sandbox_tree_bind(void)
{
	int	 fd;

	if (mount(".", "/proc", NULL, MS_BIND |
	    (has_setattr ? MS_REC : 0), NULL) == -1)
		fatal("%s: bind the source", __func__);
	if ((fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("%s: open the copy", __func__);
	return fd;
}

/*
 * Step 4.  The copy goes on top of "/", a place no user chose; then
 * pivot_root(".", ".") stacks the old root on the new one, and
 * detaching "." takes the old root away.  Without open_tree(2) the
 * copy is bound over /proc instead, as good a place.
 */
static void
sandbox_root(struct worker_conf *conf, int tree)
{
	/* For sandbox_tree_bind(): carried over into the new namespace. */
	if (tree == -1 && fchdir(FSWORKER_SRC_FD) == -1)
		fatal("%s: fchdir to the source", __func__);
	if (unshare(CLONE_NEWNS) == -1)
		fatal("%s: unshare(CLONE_NEWNS)", __func__);
	/* Nothing done here may propagate back to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) == -1)
		fatal("%s: make / a slave", __func__);
	if (!has_fsopen)
		conf->proc_fd = sandbox_procfs_mount();
	if (tree == -1)
		tree = sandbox_tree_bind();
	else if (move_mount(tree, "", AT_FDCWD, "/",
	    MOVE_MOUNT_F_EMPTY_PATH) == -1)
		fatal("%s: move_mount", __func__);
	if (fchdir(tree) == -1)
		fatal("%s: fchdir", __func__);
	if (!has_setattr)
		sandbox_tree_remount(conf);
	else if (!has_open_tree)
		sandbox_tree_setattr(conf, tree);
	if (syscall(SYS_pivot_root, ".", ".") == -1)
		fatal("%s: pivot_root", __func__);
	if (umount2(".", MNT_DETACH) == -1)
		fatal("%s: detach the old root", __func__);
	if (chdir("/") == -1)
		fatal("%s: chdir", __func__);
	close(tree);
}

/* The root node, as the new root shows it: the same directory. */
static int
sandbox_rootfd(void)
{
	struct stat	 src, st;
	int		 fd;

	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("%s: /", __func__);
	if (fstat(FSWORKER_SRC_FD, &src) == -1 || fstat(fd, &st) == -1)
		fatal("%s: fstat", __func__);
	if (src.st_dev != st.st_dev || src.st_ino != st.st_ino)
		fatalx("%s: the new root is not the source", __func__);
	close(FSWORKER_SRC_FD);
	return fd;
}

/*
 * No core dumps of users' data; files as large as the backing
 * filesystem takes.  RLIMIT_NPROC is left alone: it counts the threads
 * of every process of the owner, lock.c starts a thread for each
 * waiting SETLKW, and root (multiuser mode) is exempt from it anyway.
 */
static void
sandbox_rlimits(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("%s: RLIMIT_CORE", __func__);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("%s: PR_SET_DUMPABLE", __func__);
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1) {
		if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
			fatal("%s: RLIMIT_FSIZE", __func__);
		log_warnx("%s: file size limited to %llu bytes", __func__,
		    (unsigned long long)rl.rlim_max);
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			fatal("%s: RLIMIT_FSIZE", __func__);
	}
}

/* In the manner of OpenSSH's permanently_drop_uid(): trust, but check. */
static void
sandbox_ids(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	uid_t	 ruid, euid, suid;
	gid_t	 rgid, egid, sgid;

	if (setgroups(ngroups, groups) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(gid, gid, gid) == -1)
		fatal("%s: setresgid %u", __func__, gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("%s: setresuid %u", __func__, uid);
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		fatal("%s: getres[ug]id", __func__);
	if (ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    getgroups(0, NULL) != ngroups)
		fatalx("%s: ids not changed", __func__);
	if (uid != 0 && (setresuid(0, 0, 0) != -1 || seteuid(0) != -1))
		fatalx("%s: uid 0 could be regained", __func__);
	if (gid != 0 && uid != 0 &&
	    (setresgid(0, 0, 0) != -1 || setegid(0) != -1))
		fatalx("%s: gid 0 could be regained", __func__);
}

/*
 * Returns the root node's descriptor.  Sets conf->proc_fd, and makes
 * it the working directory.
 */
int
sandbox_enter(struct worker_conf *conf)
{
	const int		*caps = NULL;
	struct sandbox_list	 l;
	size_t			 ncaps = 0;
	int			 tree, rootfd;

	if (geteuid() != 0)
		fatalx("%s: must start as root", __func__);
	if (getpid() != 1)
		fatalx("%s: not started in a pid namespace of its own",
		    __func__);
	if (conf->multiuser) {
		if (conf->uid != 0)
			fatalx("%s: multiuser mode is for root's mounts",
			    __func__);
		caps = multiuser_caps;
		ncaps = SC_COUNT(multiuser_caps);
	}
	tree = sandbox_tree(conf);
	conf->proc_fd = sandbox_procfs();
	sandbox_bounding(caps, ncaps);
	sandbox_root(conf, tree);
	rootfd = sandbox_rootfd();
	sandbox_rlimits();
	if (conf->multiuser)
		sandbox_ids(0, 0, NULL, 0);
	else
		sandbox_ids(conf->uid, conf->gid, conf->groups, conf->ngroups);
	sandbox_caps_only(caps, ncaps);
	sandbox_caps_verify(caps, ncaps);
	sandbox_nonewprivs();
	if (fchdir(conf->proc_fd) == -1)
		fatal("%s: fchdir", __func__);
	log_debug("%s: uid %u, %d groups, %zu capabilities", __func__,
	    conf->multiuser ? 0 : conf->uid,
	    conf->multiuser ? 0 : conf->ngroups, ncaps);
	l.calls = sandbox_worker_syscalls;
	l.n = sandbox_worker_nsyscalls;
	sandbox_seccomp(&l, 1, 0);
	return rootfd;
}
