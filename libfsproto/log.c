/*
 * Logging in the OpenBSD daemon manner: to stderr while in the
 * foreground, to syslog once detached; fatal() and fatalx() name the
 * process that died.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fsproto.h"

static int		 log_debug_mode;	/* log to stderr */
static int		 log_verbose;
static const char	*log_procname;

void
log_init(int debug, int facility)
{
	extern char	*__progname;

	log_debug_mode = debug;
	log_verbose = debug;
	log_procinit(__progname);
	if (!debug)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	buf[1024];
	int	saved = errno;

	if (log_debug_mode) {
		(void)vsnprintf(buf, sizeof(buf), fmt, ap);
		(void)dprintf(STDERR_FILENO, "%s: %s\n",
		    log_procname ? log_procname : "?", buf);
	} else
		vsyslog(pri, fmt, ap);
	errno = saved;
}

static void
logit(int pri, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int, int, const char *, va_list)
    __attribute__((__format__(__printf__, 3, 0)));

static void
vlog_errno(int pri, int code, const char *emsg, va_list ap)
{
	char	buf[1024];

	if (emsg == NULL) {
		logit(pri, "%s", strerror(code));
		return;
	}
	(void)vsnprintf(buf, sizeof(buf), emsg, ap);
	logit(pri, "%s: %s", buf, strerror(code));
}

void
log_warn(const char *emsg, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, emsg);
	vlog_errno(LOG_ERR, saved, emsg, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, emsg);
	vlog(LOG_DEBUG, emsg, ap);
	va_end(ap);
}

static __attribute__((__noreturn__)) void
vfatalc(int, const char *, va_list)
    __attribute__((__format__(__printf__, 2, 0)));

static __attribute__((__noreturn__)) void
vfatalc(int code, const char *emsg, va_list ap)
{
	char		 buf[1024];
	const char	*proc = log_procname ? log_procname : "?";

	if (emsg != NULL)
		(void)vsnprintf(buf, sizeof(buf), emsg, ap);
	/* On stderr every line already starts with the process name. */
	if (log_debug_mode)
		proc = "fatal";
	if (emsg == NULL)
		logit(LOG_CRIT, "%s%s: %s", log_debug_mode ? "" : "fatal in ",
		    proc, strerror(code));
	else if (code != 0)
		logit(LOG_CRIT, "%s%s: %s: %s", log_debug_mode ? "" :
		    "fatal in ", proc, buf, strerror(code));
	else
		logit(LOG_CRIT, "%s%s: %s", log_debug_mode ? "" : "fatal in ",
		    proc, buf);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, emsg);
	vfatalc(saved, emsg, ap);
	va_end(ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
}
