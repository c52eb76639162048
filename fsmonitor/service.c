/*
 * What a service manager expects of the parent: the control socket
 * handed over by socket activation, readiness and state changes sent
 * over NOTIFY_SOCKET, and a pid file for rc scripts.
 *
 * The notification protocol is a datagram of NEWLINE-separated
 * assignments on a unix socket; it is spoken here by hand rather than
 * through libsystemd, so the daemon does not link a library it needs
 * for a dozen lines, and works the same under any manager that speaks
 * it.  The socket is connected before the parent enters its chroot and
 * its sandbox, where only send(2) on it is left.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsmonitor.h"

#define LISTEN_FDS_START	3	/* the first descriptor passed */

static int	notify_fd = -1;

static long
service_number(const char *name, const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	if (*s < '0' || *s > '9' ||
	    (v = strtol(s, &end, 10)) < 0 || *end != '\0' || errno != 0)
		fatalx("%s=%s: not a number", name, s);
	return (v);
}

/*
 * The control socket passed by a service manager, moved off descriptor
 * 3, which is where fsmount's channel goes; -1 when none was passed.
 * The socket's name is what fsmount will check clients against.
 */
int
service_listen_fd(char *path, size_t len)
{
	struct sockaddr_un	 sun;
	const char		*pid_s, *fds_s;
	socklen_t		 slen;
	int			 v, fd;

	pid_s = getenv("LISTEN_PID");
	fds_s = getenv("LISTEN_FDS");
	if (pid_s == NULL && fds_s == NULL)
		return (-1);
	if (pid_s == NULL || fds_s == NULL)
		fatalx("socket activation: LISTEN_PID and LISTEN_FDS must be "
		    "set together");
	if (service_number("LISTEN_PID", pid_s) != (long)getpid())
		fatalx("socket activation: LISTEN_PID=%s is not this process "
		    "(%d)", pid_s, (int)getpid());
	if (service_number("LISTEN_FDS", fds_s) != 1)
		fatalx("socket activation: LISTEN_FDS=%s, but exactly one "
		    "socket, the control socket, must be passed", fds_s);
	fd = LISTEN_FDS_START;
	slen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &slen) == -1 ||
	    v != AF_UNIX)
		fatalx("socket activation: descriptor %d is not a unix "
		    "socket", fd);
	slen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &slen) == -1 ||
	    v != SOCK_STREAM)
		fatalx("socket activation: descriptor %d is not a stream "
		    "socket", fd);
	slen = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &slen) == -1 ||
	    v != 1)
		fatalx("socket activation: descriptor %d is not listening",
		    fd);
	memset(&sun, 0, sizeof(sun));
	slen = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &slen) == -1 ||
	    slen <= offsetof(struct sockaddr_un, sun_path) ||
	    sun.sun_path[0] != '/' ||
	    strnlen(sun.sun_path, sizeof(sun.sun_path)) ==
	    sizeof(sun.sun_path))
		fatalx("socket activation: descriptor %d must be bound to an "
		    "absolute path", fd);
	if (strlcpy(path, sun.sun_path, len) >= len)
		fatalx("socket activation: socket path too long");
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	if ((v = fcntl(fd, F_DUPFD_CLOEXEC, LISTEN_FDS_START + 1)) == -1)
		fatal("socket activation: dup");
	close(fd);
	if (fcntl(v, F_SETFL, O_NONBLOCK) == -1)
		fatal("socket activation: O_NONBLOCK");
	return (v);
}

/* Connect to the manager's notification socket, if there is one. */
void
service_notify_open(void)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 slen;
	size_t			 len;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len > sizeof(sun.sun_path))
		fatalx("NOTIFY_SOCKET=%s: not a socket path", path);
	if (len == sizeof(sun.sun_path) && path[0] == '/')
		fatalx("NOTIFY_SOCKET=%s: path too long", path);
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';		/* the abstract namespace */
	slen = offsetof(struct sockaddr_un, sun_path) + len;
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) ==
	    -1)
		fatal("NOTIFY_SOCKET: socket");
	if (connect(notify_fd, (struct sockaddr *)&sun, slen) == -1)
		fatal("NOTIFY_SOCKET=%s: connect", path);
	(void)unsetenv("NOTIFY_SOCKET");
}

void
service_notify(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fatalx("%s: message too long", __func__);
	if (send(notify_fd, buf, n, MSG_NOSIGNAL) == -1)
		log_warn("%s: %.*s", __func__, (int)strcspn(buf, "\n"), buf);
}

/* RELOADING=1 carries the time, as systemd 253 and later want it. */
void
service_notify_reloading(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("%s: clock_gettime", __func__);
	service_notify("RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

/*
 * Written by root before the chroot; the parent cannot remove it
 * afterwards, so whoever stops the daemon does (the rc script).
 */
void
service_pidfile(const char *path)
{
	char	buf[32];
	int	fd, n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		fatal("pid file %s", path);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n || close(fd) == -1)
		fatal("pid file %s", path);
}
