/*
 * Tests only: the older kernels a worker can be made to behave as
 * (fsmonitor -T -K), since another kernel cannot be booted to test on.
 * A cap names a kernel release; the worker then negotiates no FUSE
 * minor above that release's and takes none of the INIT flags it did
 * not offer, so every feature newer than it is left to its fallback.
 *
 * The minors are FUSE_KERNEL_MINOR_VERSION of include/uapi/linux/fuse.h
 * at each release: 7.34 (FUSE_SYNCFS) in 5.14, 7.38 in 6.1 (Debian 12's
 * linux-libc-dev 6.1 header says so), 7.39 (FUSE_STATX) from 6.6 to 6.8,
 * 7.40 (passthrough, FUSE_HAS_RESEND) in 6.9.  The flags are those the
 * kernel's fuse_send_init() of that release could offer.
 */

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "fsproto.h"
#include "fuse_compat.h"

/* Up to FUSE_HANDLE_KILLPRIV_V2 (7.33, 5.11), in the first word. */
#define KCAP_5_14	((1ULL << 29) - 1)
/*
 * FUSE_SETXATTR_EXT is listed under 7.33 but came after 5.14's 7.34:
 * a 5.14 kernel sends the short fuse_setxattr_in.  6.1 also has
 * FUSE_INIT_EXT and the second word up to FUSE_HAS_EXPIRE_ONLY; not
 * FUSE_CREATE_SUPP_GROUP, which 6.2 added under the same 7.38.
 */
#define KCAP_6_1	(KCAP_5_14 | FUSE_SETXATTR_EXT | FUSE_INIT_EXT | \
	FUSE_SECURITY_CTX | FUSE_HAS_INODE_DAX | FUSE_HAS_EXPIRE_ONLY)
/* 6.2's supplementary group, 6.6's mmap of direct-I/O files (7.39). */
#define KCAP_6_8	(KCAP_6_1 | FUSE_CREATE_SUPP_GROUP | \
	FUSE_DIRECT_IO_ALLOW_MMAP)

static const struct fsproto_kernel kernels[] = {
	{ "5.14", 34, KCAP_5_14 },	/* RHEL 9 */
	{ "6.1", 38, KCAP_6_1 },	/* Debian 12 */
	{ "6.8", 39, KCAP_6_8 },	/* Ubuntu 24.04 */
};

/* The kernel named, or NULL. */
const struct fsproto_kernel *
fsproto_kernel(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (strcmp(kernels[i].name, name) == 0)
			return (&kernels[i]);
	return (NULL);
}
