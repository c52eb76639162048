/*
 * The sandbox of fsmount: root, but only with the capabilities that
 * mounting, credential checks and starting workers need.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <linux/capability.h>

#include <sched.h>
#include <signal.h>

#include "fsmount.h"
#include "sandbox.h"

/* What fsmount itself uses. */
static const int fsmount_caps[] = {
	CAP_SYS_ADMIN,		/* fsopen, fsmount, move_mount, umount2 */
	CAP_KILL,		/* stopping workers that run as their owner */
	CAP_DAC_OVERRIDE,	/* static mounts' paths, whoever owns them */
	CAP_DAC_READ_SEARCH,	/* the same, for directories */
	CAP_SETUID,		/* setfsuid: backing files' opener */
	CAP_SETGID,		/* setfsgid, setgroups: the same */
};

/*
 * What a worker may start with, on top: it builds its own sandbox
 * (namespaces and pivot_root need CAP_SYS_ADMIN, taking its owner's
 * ids CAP_SETUID and CAP_SETGID, shrinking its sets CAP_SETPCAP) and,
 * in multiuser mode, keeps the set that lets it act for each caller.
 * Root programs we execute start with the bounding set.
 */
static const int worker_caps[] = {
	CAP_SETUID,
	CAP_SETGID,
	CAP_SETPCAP,
	CAP_CHOWN,
	CAP_FOWNER,
	CAP_FSETID,
	CAP_MKNOD,
	CAP_SETFCAP,
};

/*
 * What fsmount calls while it serves the parent, and between cloning a
 * worker and executing it.  Its filter is this list, then the worker's
 * lists (libfsproto/sandbox_worker.c), which every worker inherits.
 */
static const struct sandbox_syscall fsmount_syscalls[] = {
	/* The parent's channel and the event loop. */
	SC_ALLOW(poll,		"the event loop"),
	SC_ALLOW(ppoll,		"the event loop, where libc maps poll() to it"),
	SC_ALLOW(recvmsg,	"frames and descriptors from the parent"),
	SC_ALLOW(sendmsg,	"frames and descriptors to the parent"),
	SC_ALLOW(read,		"the signalfd; the configuration on reload; "
				"the user and group files"),
	SC_ALLOW(write,		"logging with -d"),
	SC_ALLOW(writev,	"logging with -d"),
	SC_ALLOW(sendto,	"syslog"),
	SC_ALLOW_A0(socket, ~(uint64_t)0, AF_UNIX,
				"syslog reconnecting; nscd; the worker's "
				"syslog socket: local sockets only"),
	SC_ALLOW(connect,	"the same local sockets"),
	SC_ALLOW(close,		"every descriptor it is done with"),
	SC_ALLOW(getpid,	"the pid stamped on frames"),

	/* Checking a request. */
	SC_ALLOW(openat2,	"static sources and mountpoints, without "
				"following symbolic links; a mountpoint's "
				"path again, to find what covers it"),
	SC_ALLOW(openat,	"/dev/fuse; the configuration; the user "
				"and group files; /dev/null for a worker"),
	SC_ALLOW(fstat,		"what a descriptor is; stdio"),
	SC_ALLOW(newfstatat,	"what a descriptor is; stdio"),
	SC_ALLOW(statx,		"what a descriptor is, where libc uses it"),
	SC_ALLOW(fstatfs,	"the filesystem type of a source and of a "
				"mountpoint"),
	SC_ALLOW(readlink,	"a descriptor's path through /proc"),
	SC_ALLOW(readlinkat,	"a descriptor's path through /proc"),
	SC_ALLOW(lseek,		"stdio"),
	SC_ALLOW(getsockname,	"a client's socket is one of the control "
				"socket's"),
	SC_ALLOW(getsockopt,	"SO_PEERCRED, SO_PEERGROUPS of a client"),
	SC_ALLOW(fcntl,		"descriptor flags; moving the worker's "
				"descriptors out of the way; sealing the "
				"restart state"),

	/* Mounting and unmounting. */
	SC_ALLOW(setfsuid,	"a backing file's registration as its opener"),
	SC_ALLOW(setfsgid,	"the same"),
	SC_ALLOW(setgroups,	"the same"),
	SC_ALLOW(capset,	"the same: CAP_SYS_ADMIN alone, and back"),
	SC_ALLOW(capget,	"proving our own capabilities came back"),
	SC_ALLOW(getgroups,	"proving our own groups came back"),
	SC_ALLOW(fsopen,	"a FUSE superblock"),
	SC_ALLOW(fsconfig,	"its parameters"),
	SC_ALLOW(fsmount,	"its mount"),
	SC_ALLOW(move_mount,	"onto the pinned mountpoint"),
	SC_ALLOW(mount,		"the same by mount(2), where fsopen is "
				"refused"),
	SC_ALLOW(umount2,	"unmounting, by name in the pinned parent"),
	SC_ALLOW(fchdir,	"into a mountpoint's pinned parent"),
	SC_ALLOW(chdir,		"back to / after unmounting"),
	SC_ALLOW(clock_nanosleep, "the unmount retries; waiting for workers "
				"at shutdown"),
	SC_ALLOW(nanosleep,	"the same, where libc uses it"),
	SC_ALLOW(clock_gettime,	"workers' stop deadlines, without the vDSO"),

	/* Workers. */
	SC_ALLOW(socketpair,	"a worker's channel"),
	SC_ALLOW(memfd_create,	"the state restartable workers share"),
	SC_ALLOW(ftruncate,	"its fixed size"),
	SC_ALLOW_A0(clone, ~(uint64_t)0, WORKER_CLONE_FLAGS | SIGCHLD,
				"a worker in namespaces of its own, sharing "
				"our memory until it executes"),
	SC_ALLOW(dup2,		"the worker's descriptors on 0 to 7"),
	SC_ALLOW(dup3,		"the same, where libc maps dup2() to it"),
	SC_ALLOW_A0(unshare, ~(uint64_t)(CLONE_NEWNS | CLONE_FS), 0,
				"none itself; a worker's mount namespace "
				"and its threads' fs_struct, nothing else"),
	SC_ALLOW(wait4,		"reaping workers"),
	SC_ALLOW(kill,		"stopping workers"),

	/* Memory and libc. */
	SC_ALLOW(brk,		"malloc"),
	SC_ALLOW(mmap,		"malloc; stdio"),
	SC_ALLOW(munmap,	"free; stdio"),
	SC_ALLOW(mremap,	"realloc of the mount table"),
	SC_ALLOW(madvise,	"free"),
	SC_ALLOW(mprotect,	"NSS modules loaded by getpwuid()"),
	SC_ALLOW(getrandom,	"malloc"),
	SC_ALLOW(futex,		"libc locks"),
	SC_ALLOW(rt_sigprocmask, "a worker's signal mask"),
	SC_ALLOW(prlimit64,	"a worker's descriptor limit, as fsmount's was "
				"before it raised it"),
	SC_ALLOW(rt_sigreturn,	"signal handlers"),
	SC_ALLOW(restart_syscall, "a wait resumed after a stop"),
	SC_ALLOW(exit_group,	"exit"),
	SC_ALLOW(exit,		"exit"),
};

/* fsmount's filter: its own list first, then what workers inherit. */
void
fsmount_filter(struct sandbox_list *lists)
{
	lists[0].calls = fsmount_syscalls;
	lists[0].n = SC_COUNT(fsmount_syscalls);
	lists[1].calls = sandbox_worker_setup_syscalls;
	lists[1].n = sandbox_worker_nsetup_syscalls;
	lists[2].calls = sandbox_worker_syscalls;
	lists[2].n = sandbox_worker_nsyscalls;
}

void
fsmount_sandbox(void)
{
	struct sandbox_list	lists[FSMOUNT_FILTER_LISTS];

	sandbox_caps(fsmount_caps, SC_COUNT(fsmount_caps), worker_caps,
	    SC_COUNT(worker_caps));
	fsmount_filter(lists);
	/* Workers gain their capabilities when they are executed. */
	sandbox_seccomp(lists, FSMOUNT_FILTER_LISTS, SANDBOX_KEEPPRIVS);
}
