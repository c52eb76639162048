# fsmonitor: privilege-separated FUSE passthrough mounts.

SUBDIR=		libfsproto fsmonitor fsmount fsworker fsctl man regress

.include <bsd.subdir.mk>

# The libfsproto frame fuzzer (clang, libFuzzer): never part of `all`.
FUZZ_SECONDS?=	60

fuzz: .PHONY
.for d in libfsproto fsmonitor
	cd ${.CURDIR}/regress/$d && ${MAKE} fuzz FUZZ_SECONDS=${FUZZ_SECONDS}
.endfor
