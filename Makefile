# fsmonitor: privilege-separated FUSE passthrough mounts.

SUBDIR=		libfsproto fsworker man regress

.include <bsd.subdir.mk>
