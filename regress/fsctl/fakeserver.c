/*
 * A stand-in for fsmonitor's control socket, for testing fsctl alone.
 *
 * usage: fakeserver mode socket [path ...]
 *
 * It listens on socket, serves exactly one client according to mode,
 * prints what it received on standard output, and exits 0 only if the
 * client sent what fsctl must send.  The socket appears under its final
 * name only once it is listening, so a test may wait for it to exist.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"

#define FAKE_TIMEOUT	30	/* seconds before giving up on the client */

struct fake_entry {
	struct fsmsg_mount_info	 info;
	const char		*str[5];	/* mnt, src, opts, owner, why */
};

struct fake_mode {
	const char	*name;
	int		 nargs;
	int		 hello;		/* answer the hello before run */
	int		(*run)(struct fsproto_chan *, char **);
};

static int	 listen_on(const char *);
static void	 recv_frame(struct fsproto_chan *, struct fsproto_msg *);
static void	 expect(struct fsproto_chan *, struct fsproto_msg *,
		    uint32_t, int);
static void	 send_now(struct fsproto_chan *);
static int	 same_file(int, const char *);
static int	 check_source(struct fsproto_msg *, const char *);
static int	 check_mountpoint(struct fsproto_msg *, const char *);
static void	 hello(struct fsproto_chan *);
static void	 send_entry(struct fsproto_chan *, const struct fake_entry *,
		    const char *, size_t);
static int	 serve_status(struct fsproto_chan *, const struct fake_entry *,
		    size_t);
static int	 m_mount(struct fsproto_chan *, char **);
static int	 m_mounterr(struct fsproto_chan *, char **);
static int	 m_mountearly(struct fsproto_chan *, char **);
static int	 m_unmount(struct fsproto_chan *, char **);
static int	 m_unmounterr(struct fsproto_chan *, char **);
static int	 m_status0(struct fsproto_chan *, char **);
static int	 m_status2(struct fsproto_chan *, char **);
static int	 m_states(struct fsproto_chan *, char **);
static int	 m_oddnames(struct fsproto_chan *, char **);
static int	 m_badframe(struct fsproto_chan *, char **);
static int	 m_badtrail(struct fsproto_chan *, char **);
static int	 m_badstate(struct fsproto_chan *, char **);
static int	 m_badtype(struct fsproto_chan *, char **);
static int	 m_badfd(struct fsproto_chan *, char **);
static int	 m_eof(struct fsproto_chan *, char **);
static int	 m_reload(struct fsproto_chan *, char **);
static int	 m_reloaderr(struct fsproto_chan *, char **);

/* These three answer the hello themselves. */
static int	 m_badversion(struct fsproto_chan *, char **);
static int	 m_oldversion(struct fsproto_chan *, char **);
static int	 m_nohello(struct fsproto_chan *, char **);

static const struct fake_mode modes[] = {
	{ "mount",	2, 1, m_mount },
	{ "mounterr",	2, 1, m_mounterr },
	{ "mountearly",	0, 1, m_mountearly },
	{ "unmount",	1, 1, m_unmount },
	{ "unmounterr",	0, 1, m_unmounterr },
	{ "status0",	0, 1, m_status0 },
	{ "status2",	0, 1, m_status2 },
	{ "states",	0, 1, m_states },
	{ "oddnames",	0, 1, m_oddnames },
	{ "badframe",	0, 1, m_badframe },
	{ "badtrail",	0, 1, m_badtrail },
	{ "badstate",	0, 1, m_badstate },
	{ "badtype",	0, 1, m_badtype },
	{ "badfd",	0, 1, m_badfd },
	{ "eof",	0, 1, m_eof },
	{ "reload",	0, 1, m_reload },
	{ "reloaderr",	0, 1, m_reloaderr },
	{ "badversion",	0, 0, m_badversion },
	{ "oldversion",	0, 0, m_oldversion },
	{ "nohello",	0, 0, m_nohello },
};

/* Two mounts whose every field a test can check. */
static const struct fake_entry two[] = {
	{ { .id = 1, .uid = 1000, .pid = 4242, .state = MOUNT_RUNNING,
	    .started = 1700000000, .now = 1700000192, .flags = 0,
	    .stats = { 12345, 1048576, 2048, 3, 17, 2 },
	    .features = { 45, FSMSG_FEAT_PASSTHROUGH | FSMSG_FEAT_RESEND |
	    FSMSG_FEAT_READDIRPLUS } },
	  { "/home/alice/mnt", "/srv/data", "ro,noexec", "alice", "" } },
	{ { .id = 12, .uid = 0, .pid = 0, .state = MOUNT_FAILED,
	    .started = 1699992500, .now = 1700000000,
	    .flags = FSMSG_MOUNT_STATIC,
	    .stats = { 7, 0, 0, 1, 0, 0 } },
	  { "/mnt/static", "/export/tab\there \"q\" back\\slash", "", "root",
	    "killed by signal 9" } },
};

/* One mount in each state, and each unit of uptime. */
static const struct fake_entry four[] = {
	{ { .id = 3, .uid = 1001, .pid = 77, .state = MOUNT_STARTING,
	    .started = 1000, .now = 1042 },
	  { "/m/a", "/s/a", "", "bob", "" } },
	{ { .id = 4, .uid = 1001, .pid = 78, .state = MOUNT_RUNNING,
	    .started = 1000, .now = 1000 + 3 * 86400 + 4 * 3600 + 59 * 60,
	    .stats = { .requests = 18446744073709551615ULL } },
	  { "/m/bb", "/s/bb", "cache=never,threads=4", "bob", "" } },
	{ { .id = 5, .uid = 4321, .pid = 79, .state = MOUNT_UNMOUNTING,
	    .started = 1000, .now = 1000 + 2 * 3600 + 5 * 60 + 30 },
	  { "/m/ccc", "/s/ccc", "rw", "", "" } },
	{ { .id = 100, .uid = 1001, .pid = -1, .state = MOUNT_FAILED,
	    .started = 1000, .now = 900 },
	  { "/m/d", "/s/d", "", "bob", "" } },
};

/* Names no one should pick, but anyone may: terminal escapes, bad UTF-8. */
static const struct fake_entry odd = {
	{ .id = 7, .uid = 1002, .pid = 90, .state = MOUNT_RUNNING,
	    .started = 50, .now = 59 },
	{ "/m/caf\xc3\xa9", "/s/\xff\xc0\xaf" "bad", "ro", "\x1b[31mevil", "" },
};

static int
listen_on(const char *path)
{
	struct sockaddr_un	sun;
	char			tmp[sizeof(sun.sun_path)];
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		errx(1, "%s: path too long", path);
	memcpy(sun.sun_path, tmp, strlen(tmp));
	(void)unlink(tmp);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "bind %s", tmp);
	if (listen(fd, 1) == -1)
		err(1, "listen");
	if (rename(tmp, path) == -1)
		err(1, "rename %s", path);
	return (fd);
}

static void
recv_frame(struct fsproto_chan *ch, struct fsproto_msg *msg)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		rv;

	while ((rv = fsproto_get(ch, msg)) == 0) {
		pfd.fd = ch->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, FAKE_TIMEOUT * 1000) <= 0)
			errx(1, "client silent");
		if ((n = fsproto_read(ch)) == -1)
			err(1, "read");
		if (n == 0)
			errx(1, "client closed the connection");
	}
	if (rv == -1)
		err(1, "get");
}

/* The next frame must be of this type, with a descriptor or without. */
static void
expect(struct fsproto_chan *ch, struct fsproto_msg *msg, uint32_t type,
    int withfd)
{
	recv_frame(ch, msg);
	if (msg->hdr.type != type)
		errx(1, "got type %u, expected %u", msg->hdr.type, type);
	if ((msg->fd != -1) != withfd)
		errx(1, "type %u: descriptor %s", type,
		    withfd ? "missing" : "unexpected");
}

static void
send_now(struct fsproto_chan *ch)
{
	if (fsproto_flush(ch) == -1)
		err(1, "send");
}

static int
same_file(int fd, const char *path)
{
	struct stat	a, b;

	if (fstat(fd, &a) == -1 || stat(path, &b) == -1)
		return (0);
	return (a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static int
check_source(struct fsproto_msg *msg, const char *path)
{
	struct stat	sb;
	int		fl, ok;

	fl = fcntl(msg->fd, F_GETFL);
	ok = fl != -1 && (fl & O_PATH) == 0 && (fl & O_ACCMODE) == O_RDONLY &&
	    fstat(msg->fd, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    same_file(msg->fd, path) && msg->len == 0;
	printf("source: %s\n", ok ? "read-only directory, same file" : "BAD");
	return (ok);
}

static int
check_mountpoint(struct fsproto_msg *msg, const char *path)
{
	int	fl, ok;

	fl = fcntl(msg->fd, F_GETFL);
	ok = fl != -1 && (fl & O_PATH) != 0 && same_file(msg->fd, path);
	printf("mountpoint: %s\n", ok ? "O_PATH, same file" : "BAD");
	return (ok);
}

static void
hello(struct fsproto_chan *ch)
{
	struct fsproto_msg	msg;
	uint32_t		min, max, v;

	expect(ch, &msg, FSPROTO_HELLO, 0);
	if (fsproto_hello_recv(&msg, &min, &max) == -1)
		err(1, "hello");
	fsproto_msg_free(&msg);
	printf("hello: versions %u to %u\n", min, max);
	if (fsproto_version_pick(FSPROTO_VERSION_MIN, FSPROTO_VERSION_MAX,
	    min, max, &v) == -1)
		err(1, "hello");
	if (fsproto_hello_send(ch, v, v) == -1)
		err(1, "hello");
	send_now(ch);
}

static int
m_mount(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	 src, mnt;
	const char		*opts;
	int			 ok;

	expect(ch, &src, MSG_CTL_MOUNT_SOURCE, 1);
	expect(ch, &mnt, MSG_CTL_MOUNT, 1);
	ok = check_source(&src, argv[0]) & check_mountpoint(&mnt, argv[1]);
	if (fsproto_get_str(&mnt, &opts, FSMSG_OPTS_MAX - 1) == -1) {
		printf("options: BAD\n");
		ok = 0;
	} else
		printf("options: [%s] %zu bytes\n", opts, mnt.len);
	if (fsproto_reply(ch, 0, ok ? 0 : EINVAL, ok ? "mounted" :
	    "fake: wrong descriptors") == -1)
		err(1, "reply");
	send_now(ch);
	fsproto_msg_free(&src);
	fsproto_msg_free(&mnt);
	return (ok ? 0 : 1);
}

static int
m_mounterr(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	src, mnt;
	int			ok;

	expect(ch, &src, MSG_CTL_MOUNT_SOURCE, 1);
	expect(ch, &mnt, MSG_CTL_MOUNT, 1);
	ok = check_source(&src, argv[0]) & check_mountpoint(&mnt, argv[1]);
	if (fsproto_reply(ch, 0, EPERM, "mountpoint not owned by you") == -1)
		err(1, "reply");
	send_now(ch);
	return (ok ? 0 : 1);
}

/* Refuse at the first frame and hang up without reading the second. */
static int
m_mountearly(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	src;

	(void)argv;
	expect(ch, &src, MSG_CTL_MOUNT_SOURCE, 1);
	if (fsproto_reply(ch, 0, EUSERS, "too many mounts") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_unmount(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;
	uint32_t		flags;
	int			ok;

	expect(ch, &msg, MSG_CTL_UNMOUNT, 1);
	ok = check_mountpoint(&msg, argv[0]);
	if (fsproto_get_exact(&msg, &flags, sizeof(flags)) == -1) {
		printf("flags: BAD\n");
		ok = 0;
	} else
		printf("flags: %u\n", flags);
	if (fsproto_reply(ch, 0, ok ? 0 : EINVAL, "%s", ok ? "unmounted" :
	    "fake: wrong request") == -1)
		err(1, "reply");
	send_now(ch);
	fsproto_msg_free(&msg);
	return (ok ? 0 : 1);
}

static int
m_unmounterr(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_UNMOUNT, 1);
	if (fsproto_reply(ch, 0, EPERM, "not your mount") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

/* An entry as the daemon would build it, with extra bytes if asked. */
static void
send_entry(struct fsproto_chan *ch, const struct fake_entry *e,
    const char *extra, size_t extralen)
{
	struct fsproto_buf	b;
	int			i;

	fsproto_buf_init(&b, FSPROTO_MAXPAYLOAD);
	(void)fsproto_buf_add(&b, &e->info, sizeof(e->info));
	for (i = 0; i < 5; i++)
		(void)fsproto_buf_str(&b, e->str[i]);
	(void)fsproto_buf_add(&b, extra, extralen);
	if (fsproto_buf_send(ch, MSG_CTL_STATUS_ENTRY, 0, -1, &b) == -1)
		err(1, "entry");
}

static int
serve_status(struct fsproto_chan *ch, const struct fake_entry *e, size_t n)
{
	struct fsproto_msg	msg;
	size_t			i;

	expect(ch, &msg, MSG_CTL_STATUS, 0);
	if (msg.len != 0)
		errx(1, "status request with a payload");
	for (i = 0; i < n; i++)
		send_entry(ch, &e[i], NULL, 0);
	if (fsproto_reply(ch, 0, 0, "%zu mounts", n) == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_status0(struct fsproto_chan *ch, char **argv)
{
	(void)argv;
	return (serve_status(ch, NULL, 0));
}

static int
m_status2(struct fsproto_chan *ch, char **argv)
{
	(void)argv;
	return (serve_status(ch, two, 2));
}

static int
m_states(struct fsproto_chan *ch, char **argv)
{
	(void)argv;
	return (serve_status(ch, four, 4));
}

static int
m_oddnames(struct fsproto_chan *ch, char **argv)
{
	(void)argv;
	return (serve_status(ch, &odd, 1));
}

/* A good entry, then one whose last string has lost its NUL. */
static int
m_badframe(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;
	struct fsproto_buf	b;

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	send_entry(ch, &two[0], NULL, 0);
	fsproto_buf_init(&b, FSPROTO_MAXPAYLOAD);
	(void)fsproto_buf_add(&b, &two[1].info, sizeof(two[1].info));
	(void)fsproto_buf_str(&b, "/m");
	(void)fsproto_buf_str(&b, "/s");
	(void)fsproto_buf_str(&b, "");
	(void)fsproto_buf_str(&b, "root");
	(void)fsproto_buf_add(&b, "no end", 6);
	if (fsproto_buf_send(ch, MSG_CTL_STATUS_ENTRY, 0, -1, &b) == -1)
		err(1, "entry");
	if (fsproto_reply(ch, 0, 0, "done") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_badtrail(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	send_entry(ch, &two[0], "x", 1);
	if (fsproto_reply(ch, 0, 0, "done") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_badstate(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;
	struct fake_entry	e = two[0];

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	e.info.state = MOUNT_FAILED + 1;
	send_entry(ch, &e, NULL, 0);
	if (fsproto_reply(ch, 0, 0, "done") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_badtype(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	if (fsproto_compose(ch, MSG_WORKER_READY, 0, -1, NULL, 0) == -1)
		err(1, "compose");
	send_now(ch);
	return (0);
}

/* A well-formed entry that carries a descriptor fsctl never asked for. */
static int
m_badfd(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;
	struct fsproto_buf	b;
	int			i, fd;

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "open /");
	fsproto_buf_init(&b, FSPROTO_MAXPAYLOAD);
	(void)fsproto_buf_add(&b, &two[0].info, sizeof(two[0].info));
	for (i = 0; i < 5; i++)
		(void)fsproto_buf_str(&b, two[0].str[i]);
	if (fsproto_buf_send(ch, MSG_CTL_STATUS_ENTRY, 0, fd, &b) == -1)
		err(1, "entry");
	if (fsproto_reply(ch, 0, 0, "done") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_eof(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_STATUS, 0);
	send_entry(ch, &two[0], NULL, 0);
	send_now(ch);
	return (0);
}

static int
m_reload(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_RELOAD, 0);
	printf("reload: %zu bytes\n", msg.len);
	if (fsproto_reply(ch, 0, 0, "reloaded") == -1)
		err(1, "reply");
	send_now(ch);
	return (msg.len == 0 ? 0 : 1);
}

static int
m_reloaderr(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, MSG_CTL_RELOAD, 0);
	if (fsproto_reply(ch, 0, EPERM, "%s", "") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_badversion(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, FSPROTO_HELLO, 0);
	if (fsproto_reply(ch, 0, EPROTONOSUPPORT,
	    "protocol version not supported") == -1)
		err(1, "reply");
	send_now(ch);
	return (0);
}

static int
m_oldversion(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, FSPROTO_HELLO, 0);
	if (fsproto_hello_send(ch, 7, 9) == -1)
		err(1, "hello");
	send_now(ch);
	return (0);
}

static int
m_nohello(struct fsproto_chan *ch, char **argv)
{
	struct fsproto_msg	msg;

	(void)argv;
	expect(ch, &msg, FSPROTO_HELLO, 0);
	return (0);
}

int
main(int argc, char *argv[])
{
	const struct fake_mode	*m = NULL;
	struct fsproto_chan	 ch;
	size_t			 i;
	int			 lfd, fd, rv;

	if (argc < 3)
		errx(1, "usage: fakeserver mode socket [path ...]");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			m = &modes[i];
	if (m == NULL || argc != 3 + m->nargs)
		errx(1, "%s: unknown mode or wrong arguments", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(FAKE_TIMEOUT);

	lfd = listen_on(argv[2]);
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		err(1, "accept");
	if (fsproto_chan_init(&ch, fd, 0, FSPROTO_F_FDPASS) == -1)
		err(1, "chan");
	if (m->hello)
		hello(&ch);
	rv = m->run(&ch, argv + 3);
	fsproto_chan_clear(&ch);
	close(fd);
	close(lfd);
	(void)unlink(argv[2]);
	return (rv);
}
