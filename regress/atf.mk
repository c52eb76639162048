# Included by the regress Makefiles: every name in SCRIPTS_ATF becomes an
# atf-sh test program made from NAME.sh, as FreeBSD does.  ATF_SRC.NAME
# names another source, ATF_PRELUDE.NAME holds words (assignments) put
# first, ATF_DEPS are further files that rebuild every script.

CLEANFILES+=	${SCRIPTS_ATF}

all: ${SCRIPTS_ATF}

.for t in ${SCRIPTS_ATF}
$t: ${.CURDIR}/${ATF_SRC.$t:U$t.sh} ${ATF_DEPS}
	{ echo '#! /usr/bin/env atf-sh'; \
	    ${ATF_PRELUDE.$t:@w@echo '$w';@} \
	    cat ${.CURDIR}/${ATF_SRC.$t:U$t.sh}; } > ${.TARGET}.tmp
	chmod 755 ${.TARGET}.tmp
	mv ${.TARGET}.tmp ${.TARGET}
.endfor
