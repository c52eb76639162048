/*
 * libfsproto: framed messages with descriptor passing over stream
 * sockets, shared by fsmonitor, fsmount, fsworker and fsctl.
 *
 * A frame is a 16-byte header followed by at most the channel's maximum
 * payload.  The header's length counts the header itself; its top bit
 * marks a frame that carries one descriptor.
 */

#ifndef FSPROTO_H
#define FSPROTO_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FSPROTO_HDR_SIZE	16
#define FSPROTO_MAXPAYLOAD	(16 * 1024)	/* default per channel */
#define FSPROTO_MAXPAYLOAD_MAX	(1024 * 1024)	/* largest any channel takes */
#define FSPROTO_LEN_FD		0x80000000U	/* header length: fd attached */
#define FSPROTO_MAXFDS		8		/* queued, not yet claimed */

/* Channel flags. */
#define FSPROTO_F_FDPASS	0x01		/* descriptors may be passed */

struct fsproto_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header + payload, | FSPROTO_LEN_FD */
	uint32_t	 peerid;
	uint32_t	 pid;
};

struct fsproto_msg {
	struct fsproto_hdr	 hdr;	/* len has the fd mark cleared */
	int			 fd;	/* -1 if none; owned by the msg */
	unsigned char		*data;	/* payload, NULL if len is 0 */
	size_t			 len;	/* payload length */
};

struct fsproto_obuf {
	TAILQ_ENTRY(fsproto_obuf) entry;
	unsigned char		*buf;
	size_t			 len;	/* bytes in buf */
	size_t			 size;	/* allocated */
	size_t			 wpos;	/* bytes already sent */
	int			 fd;	/* sent with the first byte, then closed */
};

struct fsproto_rfd {
	int		 fd;
	uint64_t	 end;		/* stream offset just past its read */
};

struct fsproto_chan {
	int			 fd;
	int			 flags;
	size_t			 maxpayload;
	pid_t			 pid;	/* stamped on composed frames */

	unsigned char		*rbuf;
	size_t			 rsize;
	size_t			 rpos;	/* first unconsumed byte */
	size_t			 rlen;	/* end of valid data */
	uint64_t		 roff;	/* stream offset of rbuf[0] */

	struct fsproto_rfd	 rfds[FSPROTO_MAXFDS];
	int			 nrfds;

	TAILQ_HEAD(, fsproto_obuf) outq;
	size_t			 queued;	/* frames waiting */
};

/* Channel. */
int	 fsproto_chan_init(struct fsproto_chan *, int, size_t, int);
void	 fsproto_chan_clear(struct fsproto_chan *);
ssize_t	 fsproto_read(struct fsproto_chan *);
int	 fsproto_get(struct fsproto_chan *, struct fsproto_msg *);
void	 fsproto_msg_free(struct fsproto_msg *);
int	 fsproto_msg_takefd(struct fsproto_msg *);

/* Sending. */
int	 fsproto_compose(struct fsproto_chan *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 fsproto_composev(struct fsproto_chan *, uint32_t, uint32_t, int,
	    const struct iovec *, int);
int	 fsproto_write(struct fsproto_chan *);
int	 fsproto_flush(struct fsproto_chan *);
int	 fsproto_pending(const struct fsproto_chan *);
int	 fsproto_chan_fds(const struct fsproto_chan *);

/* Building a payload piece by piece. */
struct fsproto_buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 size;
	size_t		 max;
	int		 err;
};

void	 fsproto_buf_init(struct fsproto_buf *, size_t);
void	 fsproto_buf_free(struct fsproto_buf *);
int	 fsproto_buf_add(struct fsproto_buf *, const void *, size_t);
int	 fsproto_buf_u32(struct fsproto_buf *, uint32_t);
int	 fsproto_buf_u64(struct fsproto_buf *, uint64_t);
int	 fsproto_buf_str(struct fsproto_buf *, const char *);
int	 fsproto_buf_send(struct fsproto_chan *, uint32_t, uint32_t, int,
	    struct fsproto_buf *);

/* Strict decoding: any short, long or unterminated payload is EBADMSG. */
struct fsproto_dec {
	const unsigned char	*p;
	size_t			 left;
	int			 err;
};

int	 fsproto_get_exact(const struct fsproto_msg *, void *, size_t);
int	 fsproto_get_str(const struct fsproto_msg *, const char **, size_t);
void	 fsproto_dec_init(struct fsproto_dec *, const struct fsproto_msg *);
int	 fsproto_dec_bytes(struct fsproto_dec *, void *, size_t);
int	 fsproto_dec_u32(struct fsproto_dec *, uint32_t *);
int	 fsproto_dec_u64(struct fsproto_dec *, uint64_t *);
int	 fsproto_dec_str(struct fsproto_dec *, const char **, size_t);
int	 fsproto_dec_end(struct fsproto_dec *);

/* The versioned hello that opens a control channel, and replies. */
#define FSPROTO_MAGIC		0x66736d6fU	/* "fsmo" */
#define FSPROTO_VERSION_MIN	1
#define FSPROTO_VERSION_MAX	1
#define FSPROTO_REPLY_MAXMSG	512

enum fsproto_basetype {
	FSPROTO_HELLO = 1,	/* u32 magic, u32 min, u32 max */
	FSPROTO_REPLY,		/* u32 errno, NUL-terminated message */
	FSPROTO_TYPE_FIRST	/* first type a protocol may define */
};

int	 fsproto_hello_send(struct fsproto_chan *, uint32_t, uint32_t);
int	 fsproto_hello_recv(const struct fsproto_msg *, uint32_t *,
	    uint32_t *);
int	 fsproto_version_pick(uint32_t, uint32_t, uint32_t, uint32_t,
	    uint32_t *);
int	 fsproto_reply(struct fsproto_chan *, uint32_t, int, const char *,
	    ...) __attribute__((__format__(__printf__, 4, 5)));
int	 fsproto_reply_recv(const struct fsproto_msg *, int *,
	    const char **);

/* libexec.c */
void	 fsproto_libexec_path(const char *, int, char *, size_t);
#define FSPROTO_WRAP_ENV	"FSMONITOR_WORKER_WRAP"
void	 fsproto_libexec_wrap(char *, size_t);

/* kernel.c: tests only (-T -K), an older kernel's FUSE protocol. */
struct fsproto_kernel {
	const char	*name;		/* the release, "6.1" */
	uint32_t	 minor;		/* its FUSE minor version */
	uint64_t	 flags;		/* the INIT flags it offers */
};
const struct fsproto_kernel *fsproto_kernel(const char *);

/* log.c */
void	 log_init(int, int);
void	 log_procinit(const char *);
void	 log_setverbose(int);
int	 log_getverbose(void);
void	 log_warn(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_warnx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_info(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_debug(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 vlog(int, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));
__attribute__((__noreturn__)) void fatal(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
__attribute__((__noreturn__)) void fatalx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));

#endif /* FSPROTO_H */
