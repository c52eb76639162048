# fsmonitor: privilege-separated FUSE passthrough mounts.

SUBDIR=		libfsproto fsmonitor fsmount fsworker fsctl man regress

.include <bsd.subdir.mk>

# The fuzz targets (clang, libFuzzer), each for FUZZ_SECONDS: never
# part of `all`; their kept corpora are replayed by `make test`.
FUZZ_SECONDS?=	60

fuzz: .PHONY
.for d in libfsproto fsmonitor fsmount fsworker
	cd ${.CURDIR}/regress/$d && ${MAKE} fuzz FUZZ_SECONDS=${FUZZ_SECONDS}
.endfor
