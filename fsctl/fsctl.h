/*
 * fsctl: the command-line client of fsmonitor's control socket.
 */

#ifndef FSCTL_H
#define FSCTL_H

#include <stdint.h>

#include "fsproto.h"

#define FSCTL_TIMEOUT	(60 * 1000)	/* ms to wait for each frame */

/* One connection to fsmonitor, and the verb its errors are reported as. */
struct ctl {
	struct fsproto_chan	 ch;
	const char		*verb;
	const char		*sock;
	uint32_t		 version;	/* agreed in the hello */
};

/* ctl.c */
extern int	 ctl_exit_fail;
void	 ctl_open(struct ctl *, const char *, const char *);
void	 ctl_send(struct ctl *, uint32_t, int, const void *, size_t);
void	 ctl_flush(struct ctl *, const char *);
void	 ctl_recv(struct ctl *, struct fsproto_msg *);
void	 ctl_reply(struct ctl *, struct fsproto_msg *, const char *);
void	 ctl_wait_reply(struct ctl *, const char *);
__attribute__((__noreturn__)) void ctl_unexpected(struct ctl *,
	    const struct fsproto_msg *);
__attribute__((__noreturn__)) void ctl_fail(struct ctl *, const char *,
	    ...) __attribute__((__format__(__printf__, 2, 3)));
__attribute__((__noreturn__)) void ctl_fail_on(const char *, const char *,
	    const char *);
char	*ctl_vis(const char *);

/* fsctl.c */
void	 ctl_mount(const char *, const char *, const char *, const char *);

/* mounthelper.c */
__attribute__((__noreturn__)) void mount_helper(const char *, int, char **);

/* status.c */
void	 ctl_status(struct ctl *, int, int);

#endif /* FSCTL_H */
