/*
 * The parts of the kernel's FUSE protocol newer than the installed
 * <linux/fuse.h>.  Debian ships the 7.38 header while the kernels we run
 * on speak up to 7.45; everything below is written from the protocol's
 * published facts, and every block stands down when the installed
 * header already has it.  Flags are guarded one by one; opcodes and
 * structures, which the header declares as enumerators and struct
 * tags, are guarded by the header's minor version.
 */

#ifndef FUSE_COMPAT_H
#define FUSE_COMPAT_H

#include <stdint.h>

#include <linux/fuse.h>

/* The newest minor version this worker understands. */
#define FSWORKER_FUSE_MINOR	45

/* INIT flags of the second word (bit 32 and up, sent in flags2). */
#ifndef FUSE_CREATE_SUPP_GROUP
#define FUSE_CREATE_SUPP_GROUP	(1ULL << 34)	/* 7.38 */

/*
 * Came with the flag, in the second half of 7.38 that Debian's header
 * predates: the request extension, after the last argument, holding the
 * caller's supplementary group that owns the parent directory.
 */
#define FUSE_EXT_GROUPS		32

struct fuse_supp_groups {
	uint32_t	nr_groups;
	uint32_t	groups[];
};
#endif
#ifndef FUSE_HAS_EXPIRE_ONLY
#define FUSE_HAS_EXPIRE_ONLY	(1ULL << 35)	/* 7.38 */
#endif
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP (1ULL << 36)	/* 7.39 */
#endif
#ifndef FUSE_PASSTHROUGH
#define FUSE_PASSTHROUGH	(1ULL << 37)	/* 7.40 */
#endif
#ifndef FUSE_NO_EXPORT_SUPPORT
#define FUSE_NO_EXPORT_SUPPORT	(1ULL << 38)	/* 7.40 */
#endif
#ifndef FUSE_HAS_RESEND
#define FUSE_HAS_RESEND		(1ULL << 39)	/* 7.40 */
#endif
#ifndef FUSE_ALLOW_IDMAP
#define FUSE_ALLOW_IDMAP	(1ULL << 40)	/* 7.41 */
#endif
#ifndef FUSE_OVER_IO_URING
#define FUSE_OVER_IO_URING	(1ULL << 41)	/* 7.42 */
#endif
#ifndef FUSE_REQUEST_TIMEOUT
#define FUSE_REQUEST_TIMEOUT	(1ULL << 42)	/* 7.43 */
#endif

/* OPEN reply flag: reads and writes go straight to the backing file. */
#ifndef FOPEN_PASSTHROUGH
#define FOPEN_PASSTHROUGH	(1 << 7)	/* 7.40 */
#endif

/* A request the kernel sends again after a server restart (7.40). */
#ifndef FUSE_UNIQUE_RESEND
#define FUSE_UNIQUE_RESEND	(1ULL << 63)
#endif

/* uid/gid in a request header the kernel could not map (7.41). */
#ifndef FUSE_INVALID_UIDGID
#define FUSE_INVALID_UIDGID	((uint32_t)-1)
#endif

#if FUSE_KERNEL_MINOR_VERSION < 39
#define FUSE_STATX		52

/* Laid out as the statx(2) structure, less the fields FUSE omits. */
struct fuse_sx_time {
	int64_t		tv_sec;
	uint32_t	tv_nsec;
	int32_t		__reserved;
};

struct fuse_statx {
	uint32_t	mask;
	uint32_t	blksize;
	uint64_t	attributes;
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint16_t	mode;
	uint16_t	__spare0[1];
	uint64_t	ino;
	uint64_t	size;
	uint64_t	blocks;
	uint64_t	attributes_mask;
	struct fuse_sx_time atime;
	struct fuse_sx_time btime;
	struct fuse_sx_time ctime;
	struct fuse_sx_time mtime;
	uint32_t	rdev_major;
	uint32_t	rdev_minor;
	uint32_t	dev_major;
	uint32_t	dev_minor;
	uint64_t	__spare2[14];
};

struct fuse_statx_in {
	uint32_t	getattr_flags;	/* FUSE_GETATTR_FH */
	uint32_t	reserved;
	uint64_t	fh;
	uint32_t	sx_flags;	/* AT_STATX_* of the caller */
	uint32_t	sx_mask;	/* STATX_* the caller asked for */
};

struct fuse_statx_out {
	uint64_t	attr_valid;
	uint32_t	attr_valid_nsec;
	uint32_t	flags;
	uint64_t	spare[2];
	struct fuse_statx stat;
};
#endif /* < 39 */

#if FUSE_KERNEL_MINOR_VERSION < 40
#define FUSE_NOTIFY_RESEND	7

/*
 * 7.40 renamed the padding after open_flags in fuse_open_out to
 * backing_id (a signed id from FUSE_DEV_IOC_BACKING_OPEN); the layout
 * is unchanged, so the old header's field is the one to fill.
 */
#define FUSE_OPEN_OUT_BACKING_ID(o)	((o)->padding)
/* And the first word after flags2 in fuse_init_out, max_stack_depth. */
#define FUSE_INIT_OUT_MAX_STACK_DEPTH(o) ((o)->unused[0])

struct fuse_backing_map {
	int32_t		fd;
	uint32_t	flags;
	uint64_t	padding;
};

#define FUSE_DEV_IOC_BACKING_OPEN \
	_IOW(FUSE_DEV_IOC_MAGIC, 1, struct fuse_backing_map)
#define FUSE_DEV_IOC_BACKING_CLOSE \
	_IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)
#else
#define FUSE_OPEN_OUT_BACKING_ID(o)	((o)->backing_id)
#define FUSE_INIT_OUT_MAX_STACK_DEPTH(o) ((o)->max_stack_depth)
#endif /* < 40 */

#if FUSE_KERNEL_MINOR_VERSION < 42
/*
 * FUSE over io_uring: the server registers buffers with
 * IORING_OP_URING_CMD on the FUSE descriptor, a header area and a
 * payload each, and the kernel fills them with requests and takes the
 * replies from them.  The header area holds the request's (then the
 * reply's) header, the op's fixed struct, and the entry's own words.
 */
#define FUSE_URING_IN_OUT_HEADER_SZ	128
#define FUSE_URING_OP_IN_OUT_SZ		128

struct fuse_uring_ent_in_out {
	uint64_t	flags;
	uint64_t	commit_id;	/* the request's unique, for the commit */
	uint32_t	payload_sz;	/* bytes in the payload, either way */
	uint32_t	padding;
	uint64_t	reserved;
};

struct fuse_uring_req_header {
	char		in_out[FUSE_URING_IN_OUT_HEADER_SZ];
	char		op_in[FUSE_URING_OP_IN_OUT_SZ];
	struct fuse_uring_ent_in_out ring_ent_in_out;
};

/* The uring_cmd's cmd_op. */
#define FUSE_IO_URING_CMD_REGISTER		1
#define FUSE_IO_URING_CMD_COMMIT_AND_FETCH	2

/* In the SQE's command area (SQE128). */
struct fuse_uring_cmd_req {
	uint64_t	flags;
	uint64_t	commit_id;
	uint16_t	qid;
	uint8_t		padding[6];
};
#endif /* < 42 */

#if FUSE_KERNEL_MINOR_VERSION < 44
#define FUSE_NOTIFY_INC_EPOCH	8
#endif

#if FUSE_KERNEL_MINOR_VERSION < 45
/* Same request as COPY_FILE_RANGE; the reply carries 64 bits. */
#define FUSE_COPY_FILE_RANGE_64	53

struct fuse_copy_file_range_out {
	uint64_t	bytes_copied;
};
#endif /* < 45 */

#endif /* FUSE_COMPAT_H */
