/*
 * The system calls of fsworker, in two lists with the reason for each:
 * what it makes while it serves, the filter it loads itself once its
 * sandbox is built (fsworker/sandbox.c), and what it makes before,
 * between its execve(2) and that filter.  The lists are here rather
 * than beside the worker because fsmount, whose filter the worker
 * inherits, must allow both: it builds its filter from its own list,
 * then the set-up list, then the serving list, and the first entry for
 * a call is the one taken (sandbox_seccomp()).  The worker's own filter,
 * stacked on the inherited one, then refuses socket(2) and clone3(2)
 * and restricts clone(2) and unshare(2) by itself.
 *
 * Found by reading the worker and with strace -f over the fsworker and
 * conform suites, in owner and multiuser mode, on x86_64 with glibc
 * 2.36.  Another libc or architecture may make other calls for the
 * same functions: build with SECCOMP_LOG=1 and read the kernel's audit
 * records (type 1326) to find them.
 */

#include <sys/types.h>

#include <errno.h>
#include <sched.h>

#include "sandbox.h"

const struct sandbox_syscall sandbox_worker_syscalls[] = {
	/* The FUSE device and the channel to the parent. */
	SC_ALLOW(read,		"FUSE requests; the ready eventfd"),
	SC_ALLOW(writev,	"FUSE replies"),
	SC_ALLOW(splice,	"READ replies from a file through a pipe"),
	SC_ALLOW(pipe2,		"each thread's two pipes for spliced replies"),
	SC_ALLOW(write,		"FUSE notifications; the eventfd; -d logging"),
	SC_ALLOW(ppoll,		"the main thread's wait on the parent channel"),
	SC_ALLOW(io_uring_enter, "FUSE over io_uring: commits and waits on "
				"the rings made before the sandbox"),
	SC_ALLOW(recvmsg,	"frames from the parent"),
	SC_ALLOW(sendmsg,	"frames to the parent"),
	SC_ALLOW(sendto,	"syslog, on the socket opened before"),
	SC_FAIL(socket, EACCES,	"syslog reconnecting: refused, not fatal; "
				"no network"),

	/* Nodes: every file reached from its parent's descriptor. */
	SC_ALLOW(openat,	"LOOKUP, OPEN, CREATE, OPENDIR; reopening a "
				"node through the descriptor directory"),
	SC_ALLOW(close,		"FORGET, RELEASE, FLUSH, failed lookups"),
	SC_ALLOW(newfstatat,	"LOOKUP, GETATTR and every reply's "
				"attributes"),
	SC_ALLOW(statx,		"STATX; a node's birth time when it is "
				"evicted and found again"),
	SC_ALLOW(name_to_handle_at, "an evicted node's file handle, whose "
				"generation tells its file from a later one "
				"with its inode number"),
	SC_ALLOW(readlinkat,	"READLINK"),
	SC_ALLOW(mknodat,	"MKNOD"),
	SC_ALLOW(mkdirat,	"MKDIR"),
	SC_ALLOW(symlinkat,	"SYMLINK"),
	SC_ALLOW(unlinkat,	"UNLINK, RMDIR"),
	SC_ALLOW(renameat,	"RENAME"),
	SC_ALLOW(renameat2,	"RENAME2"),
	SC_ALLOW(linkat,	"LINK, TMPFILE linked in"),
	SC_ALLOW(fchmodat,	"SETATTR of the mode, through the magic link"),
	SC_ALLOW(fchmod,	"SETATTR of an open file's mode"),
	SC_ALLOW(fchownat,	"SETATTR of the owner"),
	SC_ALLOW(utimensat,	"SETATTR of the times"),
	SC_ALLOW(ftruncate,	"SETATTR of the size; OPEN with O_TRUNC"),
	SC_ALLOW(faccessat2,	"ACCESS"),
	SC_ALLOW(fstatfs,	"STATFS"),
	SC_ALLOW(getdents64,	"READDIR, READDIRPLUS"),
	SC_ALLOW(lseek,		"READDIR offsets; LSEEK"),

	/* Open files. */
	SC_ALLOW(pread64,	"READ"),
	SC_ALLOW(pwrite64,	"WRITE"),
	SC_ALLOW(fsync,		"FSYNC, FSYNCDIR"),
	SC_ALLOW(fdatasync,	"FSYNC with the datasync flag"),
	SC_ALLOW(fallocate,	"FALLOCATE"),
	SC_ALLOW(copy_file_range, "COPY_FILE_RANGE"),
	SC_ALLOW(fcntl,		"GETLK, SETLK, SETLKW (open file description "
				"locks); descriptor flags"),
	SC_ALLOW(flock,		"SETLK, SETLKW for flock(2)"),
	SC_ALLOW(dup,		"FLUSH closes a duplicate"),
	SC_ALLOW(setxattr,	"SETXATTR"),
	SC_ALLOW(getxattr,	"GETXATTR"),
	SC_ALLOW(listxattr,	"LISTXATTR"),
	SC_ALLOW(removexattr,	"REMOVEXATTR"),

	/* Multiuser mode: per-request credentials (cred.c). */
	SC_ALLOW(setfsuid,	"multiuser: per-request credentials"),
	SC_ALLOW(setfsgid,	"multiuser: per-request credentials"),
	SC_ALLOW(setgroups,	"multiuser: per-request credentials"),
	SC_ALLOW(setresuid,	"multiuser: per-request credentials"),
	SC_ALLOW(setresgid,	"multiuser: per-request credentials"),
	SC_ALLOW(capget,	"multiuser: per-request credentials"),
	SC_ALLOW(capset,	"multiuser: per-request credentials"),
	SC_ALLOW(getgroups,	"the thread's own groups, to come back to"),
	SC_ALLOW_A0(unshare, ~(uint64_t)0, CLONE_FS,
				"an fs_struct per thread, for the caller's "
				"umask; nothing else unshared"),
	SC_ALLOW(umask,		"the caller's umask around a creating call"),

	/* Threads: the FUSE threads, and one per waiting SETLKW. */
	SC_FAIL(clone3, ENOSYS,	"pthread_create falls back to clone, whose "
				"flags the filter can see"),
	SC_ALLOW_A0(clone, CLONE_THREAD, CLONE_THREAD,
				"pthread_create; threads only, no process"),
	SC_ALLOW(set_robust_list, "a new thread's start"),
	SC_ALLOW(rseq,		"a new thread's start"),
	SC_ALLOW_A0(sched_setaffinity, ~0UL, 0,
				"an io_uring queue's thread keeps to its "
				"CPU; its own affinity only"),
	SC_ALLOW(mprotect,	"a new thread's stack guard"),
	SC_ALLOW(futex,		"mutexes, condition variables, joins"),
	SC_ALLOW(tgkill,	"INTERRUPT wakes a SETLKW waiter "
				"(pthread_kill); the idle main thread wakes "
				"a FUSE thread to give pages back; abort()"),
	SC_ALLOW(rt_sigprocmask, "thread start; a SETLKW waiter lets its "
				"signal in, and a FUSE thread around its "
				"read while it holds pages to give back; "
				"abort()"),
	SC_ALLOW(rt_sigaction,	"the first pthread_create installs libc's "
				"handlers"),
	SC_ALLOW(rt_sigreturn,	"back from the wake and stop handlers"),
	SC_ALLOW(getpid,	"syslog's LOG_PID; raise()"),
	SC_ALLOW(pause,		"a second thread in worker_exit() waits for "
				"the first to end the process"),

	/* Memory and time. */
	SC_ALLOW(brk,		"malloc; malloc_trim when idle"),
	SC_ALLOW(mmap,		"malloc; thread stacks"),
	SC_ALLOW(munmap,	"free; thread stacks"),
	SC_ALLOW(mremap,	"realloc of large blocks: the node table"),
	SC_ALLOW(madvise,	"free; a thread's end; when idle, the "
				"pages of the FUSE buffers and malloc_trim"),
	SC_ALLOW(clock_gettime,	"STATS pacing, syslog time stamps, where "
				"the vDSO is not used"),
	SC_ALLOW(restart_syscall, "a wait resumed after a stop"),
	SC_ALLOW(exit,		"a thread's end"),
	SC_ALLOW(exit_group,	"exit"),
};
const size_t sandbox_worker_nsyscalls = SC_COUNT(sandbox_worker_syscalls);

/*
 * From execve(2) to the worker's own filter, what the list above does
 * not allow as it is.  Two calls are in both lists, allowed here and
 * restricted there: socket(2), for syslog's socket, and unshare(2), for
 * the mount namespace.
 */
const struct sandbox_syscall sandbox_worker_setup_syscalls[] = {
	SC_ALLOW(execve,	"fsmount starts the worker"),
	SC_ALLOW(arch_prctl,	"libc start-up"),
	SC_ALLOW(set_tid_address, "libc start-up"),
	SC_ALLOW(access,	"the dynamic linker of the sanitizer and "
				"valgrind builds"),
	SC_ALLOW(getrandom,	"malloc's start-up"),
	SC_ALLOW(prlimit64,	"libc start-up; RLIMIT_NOFILE, RLIMIT_CORE, "
				"RLIMIT_FSIZE"),
	SC_ALLOW(close_range,	"nothing inherited beyond 3, 4 and 5"),
	SC_ALLOW(getsockopt,	"the channel must be a stream socket"),
	SC_ALLOW(socket,	"syslog, connected before the sandbox"),
	SC_ALLOW(connect,	"syslog, connected before the sandbox"),
	SC_ALLOW(eventfd2,	"the ready eventfd"),
	SC_ALLOW(ioctl,		"FUSE_DEV_IOC_CLONE for each thread's "
				"descriptor"),
	SC_ALLOW(io_uring_setup, "FUSE over io_uring: the rings, made "
				"before the filter"),
	SC_ALLOW(io_uring_register, "FUSE over io_uring: the rings' files "
				"and restrictions, then enabling them"),
	SC_ALLOW(open_tree,	"the copy of the source's mount"),
	SC_ALLOW(mount_setattr,	"nosuid, nodev, nosymfollow on the copy"),
	SC_ALLOW(fsopen,	"the worker's own procfs"),
	SC_ALLOW(fsconfig,	"the worker's own procfs"),
	SC_ALLOW(fsmount,	"the worker's own procfs"),
	SC_ALLOW(mount,		"every mount made a slave"),
	SC_ALLOW(move_mount,	"the copy stacked on /"),
	SC_ALLOW(fchdir,	"into the copy; into the descriptor directory"),
	SC_ALLOW(pivot_root,	"the copy becomes the root"),
	SC_ALLOW(umount2,	"the old root detached"),
	SC_ALLOW(chdir,		"to the new root"),
	SC_ALLOW(unshare,	"the mount namespace (CLONE_NEWNS)"),
	SC_ALLOW(prctl,		"bounding set, ambient set, dumpable, "
				"no_new_privs"),
	SC_ALLOW(gettid,	"libcap-ng"),
	SC_ALLOW(geteuid,	"must start as root"),
	SC_ALLOW(getresuid,	"the ids took"),
	SC_ALLOW(getresgid,	"the ids took"),
	SC_ALLOW(seccomp,	"the worker's own filter"),
};
const size_t sandbox_worker_nsetup_syscalls =
    SC_COUNT(sandbox_worker_setup_syscalls);
