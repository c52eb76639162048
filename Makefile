# fsmonitor: privilege-separated FUSE passthrough mounts.

SUBDIR=		libfsproto fsmonitor fsmount fsworker fsctl man etc regress

.include <bsd.subdir.mk>

# Everything install put in place, in the reverse order; the user and a
# configuration that differs from the sample stay (see README.md).
uninstall: .PHONY
.for d in etc man fsctl fsworker fsmount fsmonitor
	cd ${.CURDIR}/$d && ${MAKE} uninstall
.endfor
	-rmdir ${DESTDIR}${LIBEXECDIR} 2>/dev/null

# The fuzz targets (clang, libFuzzer), each for FUZZ_SECONDS: never
# part of `all`; their kept corpora are replayed by `make test`.
FUZZ_SECONDS?=	60

fuzz: .PHONY
.for d in libfsproto fsmonitor fsmount fsworker
	cd ${.CURDIR}/regress/$d && ${MAKE} fuzz FUZZ_SECONDS=${FUZZ_SECONDS}
.endfor
