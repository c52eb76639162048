/*
 * Helpers shared by the libfsproto test programs: socket pairs, forged
 * frames and descriptors sent behind the library's back, and the open
 * descriptor count that every test compares before and after.
 */

#ifndef REGRESS_LIBFSPROTO_UTIL_H
#define REGRESS_LIBFSPROTO_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "fsproto.h"

/* ATF_REQUIRE_EQ does not print the values; these do. */
#define REQUIRE_INT(exp, act) do {					\
	long long _e = (long long)(exp), _a = (long long)(act);		\
	ATF_REQUIRE_MSG(_e == _a, "%s is %lld, expected %lld",		\
	    #act, _a, _e);						\
} while (0)

#define REQUIRE_FAIL(err, expr) do {					\
	long long _r;							\
	int _saved;							\
	errno = 0;							\
	_r = (long long)(expr);						\
	_saved = errno;							\
	ATF_REQUIRE_MSG(_r == -1 && _saved == (err),			\
	    "%s returned %lld errno %d (%s), expected -1 errno %d (%s)",\
	    #expr, _r, _saved, strerror(_saved), (err), strerror(err));	\
} while (0)

int	 count_fds(void);
int	 fd_is_open(int);
void	 mkpair(int [2], int);
void	 set_nonblock(int);
void	 fill_pattern(unsigned char *, size_t, unsigned int);
int	 check_pattern(const unsigned char *, size_t, unsigned int);
size_t	 forge(unsigned char *, uint32_t, uint32_t, uint32_t, uint32_t,
	    const void *, size_t);
void	 raw_write(int, const void *, size_t);
void	 raw_sendfds(int, const void *, size_t, const int *, int);
int	 mkfile(const char *, const char *);
void	 require_same_file(int, const char *, const char *);
void	 require_get(struct fsproto_chan *, struct fsproto_msg *);
void	 read_until_frame(struct fsproto_chan *, struct fsproto_msg *);
void	 pump_frame(struct fsproto_chan *, struct fsproto_chan *,
	    struct fsproto_msg *);
void	 require_exit0(pid_t);

#endif /* REGRESS_LIBFSPROTO_UTIL_H */
