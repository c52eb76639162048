/*
 * The configuration file.  A line is a statement; words are separated
 * by blanks and may be quoted with double quotes; # starts a comment.
 *
 *	user_allow_other
 *	mount_max 1000
 *	allow user alice		(or a uid)
 *	allow group fuse		(or a gid)
 *	mount "/srv/data" on "/mnt/data" options "ro,allow_other"
 *
 * Every error is reported as file:line and the whole file is refused.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "conf.h"

#define CONF_LINE_MAX	4096
#define CONF_WORDS_MAX	8

struct conf_ctx {
	const char	*file;
	int		 line;
	int		 errors;
	struct conf	*conf;
};

static void	 conf_error(struct conf_ctx *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));

static void
conf_error(struct conf_ctx *cx, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", cx->file, cx->line, buf);
	cx->errors++;
}

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->mount_max = CONF_MOUNT_MAX_DEFAULT;
	c->allow_all = 1;
}

void
conf_free(struct conf *c)
{
	size_t	i;

	for (i = 0; i < c->nstatics; i++) {
		free(c->statics[i].source);
		free(c->statics[i].mountpoint);
		free(c->statics[i].options);
	}
	free(c->statics);
	free(c->allow_uids);
	free(c->allow_gids);
	conf_init(c);
}

/* Split a line into words; returns the count or -1. */
static int
conf_split(struct conf_ctx *cx, char *p, char **words)
{
	int	n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return (n);
		if (n == CONF_WORDS_MAX) {
			conf_error(cx, "too many words");
			return (-1);
		}
		if (*p == '"') {
			words[n++] = ++p;
			if ((p = strchr(p, '"')) == NULL) {
				conf_error(cx, "unterminated quoted string");
				return (-1);
			}
			*p++ = '\0';
			if (*p != '\0' && *p != ' ' && *p != '\t') {
				conf_error(cx, "junk after quoted string");
				return (-1);
			}
			continue;
		}
		words[n++] = p;
		p += strcspn(p, " \t\"#");
		if (*p == '"') {
			conf_error(cx, "quote inside a word");
			return (-1);
		}
		if (*p == '#')
			*p = '\0';
		else if (*p != '\0')
			*p++ = '\0';
	}
}

static int
conf_number(const char *s, unsigned long max, unsigned long *v)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoul(s, &end, 10);
	return (errno != 0 || *end != '\0' || *v > max ? -1 : 0);
}

static int
conf_append_id(struct conf_ctx *cx, unsigned int **list, size_t *n,
    unsigned int id)
{
	unsigned int	*nl;

	if (cx->conf->nallow_uids + cx->conf->nallow_gids >= 256) {
		conf_error(cx, "too many allow lines");
		return (-1);
	}
	if ((nl = reallocarray(*list, *n + 1, sizeof(**list))) == NULL) {
		conf_error(cx, "%s", strerror(errno));
		return (-1);
	}
	nl[(*n)++] = id;
	*list = nl;
	cx->conf->allow_all = 0;
	return (0);
}

static void
conf_allow(struct conf_ctx *cx, char **w, int n)
{
	struct passwd	*pw;
	struct group	*gr;
	unsigned long	 id;

	if (n != 3 || (strcmp(w[1], "user") != 0 &&
	    strcmp(w[1], "group") != 0)) {
		conf_error(cx, "usage: allow user|group name");
		return;
	}
	if (w[1][0] == 'u') {
		if (conf_number(w[2], UINT_MAX - 1, &id) == -1) {
			if ((pw = getpwnam(w[2])) == NULL) {
				conf_error(cx, "unknown user '%s'", w[2]);
				return;
			}
			id = pw->pw_uid;
		}
		(void)conf_append_id(cx, &cx->conf->allow_uids,
		    &cx->conf->nallow_uids, id);
		return;
	}
	if (conf_number(w[2], UINT_MAX - 1, &id) == -1) {
		if ((gr = getgrnam(w[2])) == NULL) {
			conf_error(cx, "unknown group '%s'", w[2]);
			return;
		}
		id = gr->gr_gid;
	}
	(void)conf_append_id(cx, &cx->conf->allow_gids,
	    &cx->conf->nallow_gids, id);
}

static int
conf_path_ok(struct conf_ctx *cx, const char *what, const char *p)
{
	if (*p != '/') {
		conf_error(cx, "%s '%s' is not an absolute path", what, p);
		return (0);
	}
	if (strlen(p) >= PATH_MAX) {
		conf_error(cx, "%s too long", what);
		return (0);
	}
	return (1);
}

static void
conf_mount(struct conf_ctx *cx, char **w, int n)
{
	struct conf		*c = cx->conf;
	struct conf_static	*st, *ns;
	char			 err[128], opts[MO_STRING_MAX];
	struct mntopts		 mo;
	size_t			 i;

	if ((n != 4 && n != 6) || strcmp(w[2], "on") != 0 ||
	    (n == 6 && strcmp(w[4], "options") != 0)) {
		conf_error(cx, "usage: mount source on mountpoint "
		    "[options list]");
		return;
	}
	if (!conf_path_ok(cx, "source", w[1]) ||
	    !conf_path_ok(cx, "mountpoint", w[3]))
		return;
	if (mntopt_parse(n == 6 ? w[5] : "", &mo, err, sizeof(err)) == -1 ||
	    mntopt_format(&mo, opts, sizeof(opts)) == -1) {
		conf_error(cx, "%s", err);
		return;
	}
	for (i = 0; i < c->nstatics; i++)
		if (strcmp(c->statics[i].mountpoint, w[3]) == 0) {
			conf_error(cx, "%s already mounted at line %d", w[3],
			    c->statics[i].line);
			return;
		}
	if (c->nstatics == CONF_STATIC_MAX) {
		conf_error(cx, "too many mounts");
		return;
	}
	if ((ns = reallocarray(c->statics, c->nstatics + 1,
	    sizeof(*ns))) == NULL) {
		conf_error(cx, "%s", strerror(errno));
		return;
	}
	c->statics = ns;
	st = &c->statics[c->nstatics];
	memset(st, 0, sizeof(*st));
	st->opts = mo;
	st->line = cx->line;
	st->source = strdup(w[1]);
	st->mountpoint = strdup(w[3]);
	st->options = strdup(opts);
	c->nstatics++;
	if (st->source == NULL || st->mountpoint == NULL ||
	    st->options == NULL)
		conf_error(cx, "%s", strerror(ENOMEM));
}

static void
conf_statement(struct conf_ctx *cx, char **w, int n)
{
	unsigned long	v;

	if (strcmp(w[0], "user_allow_other") == 0) {
		if (n != 1)
			conf_error(cx, "user_allow_other takes no argument");
		else
			cx->conf->user_allow_other = 1;
	} else if (strcmp(w[0], "mount_max") == 0) {
		if (n != 2 || conf_number(w[1], CONF_MOUNT_MAX_LIMIT,
		    &v) == -1)
			conf_error(cx, "mount_max needs a number from 0 to %d",
			    CONF_MOUNT_MAX_LIMIT);
		else
			cx->conf->mount_max = v;
	} else if (strcmp(w[0], "allow") == 0)
		conf_allow(cx, w, n);
	else if (strcmp(w[0], "mount") == 0)
		conf_mount(cx, w, n);
	else
		conf_error(cx, "unknown keyword '%s'", w[0]);
}

/*
 * The file is trusted by the root process that reads it, so it must
 * belong to root and be writable by no one else.
 */
static FILE *
conf_open(struct conf_ctx *cx, const char *path)
{
	struct stat	 sb;
	FILE		*fp;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return (NULL);
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return (NULL);
	}
	if (sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		log_warnx("%s: must be owned by root and writable only by "
		    "root", cx->file);
		close(fd);
		errno = EPERM;
		return (NULL);
	}
	if ((fp = fdopen(fd, "r")) == NULL)
		close(fd);
	return (fp);
}

/* Returns 0, or -1 after logging every error; an absent file is empty. */
int
conf_parse(const char *path, struct conf *c)
{
	struct conf_ctx	 cx;
	char		*line = NULL, *w[CONF_WORDS_MAX];
	FILE		*fp;
	size_t		 len, linesize = 0;
	ssize_t		 n;

	conf_init(c);
	memset(&cx, 0, sizeof(cx));
	cx.file = path;
	cx.conf = c;
	if ((fp = conf_open(&cx, path)) == NULL) {
		if (errno == ENOENT)
			return (0);
		if (errno != EPERM)
			log_warn("%s", path);
		return (-1);
	}
	while ((n = getline(&line, &linesize, fp)) != -1) {
		cx.line++;
		len = n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strlen(line) != len) {
			conf_error(&cx, "NUL byte in line");
			continue;
		}
		if (len > CONF_LINE_MAX) {
			conf_error(&cx, "line too long");
			continue;
		}
		if ((n = conf_split(&cx, line, w)) > 0)
			conf_statement(&cx, w, (int)n);
	}
	free(line);
	if (ferror(fp)) {
		log_warn("%s", path);
		cx.errors++;
	}
	fclose(fp);
	if (cx.errors > 0) {
		conf_free(c);
		return (-1);
	}
	return (0);
}

void
conf_print(FILE *fp, const struct conf *c)
{
	size_t	i;

	if (c->user_allow_other)
		fprintf(fp, "user_allow_other\n");
	fprintf(fp, "mount_max %u\n", c->mount_max);
	for (i = 0; i < c->nallow_uids; i++)
		fprintf(fp, "allow user %u\n", (unsigned int)c->allow_uids[i]);
	for (i = 0; i < c->nallow_gids; i++)
		fprintf(fp, "allow group %u\n", (unsigned int)c->allow_gids[i]);
	for (i = 0; i < c->nstatics; i++) {
		fprintf(fp, "mount \"%s\" on \"%s\"", c->statics[i].source,
		    c->statics[i].mountpoint);
		if (c->statics[i].options[0] != '\0')
			fprintf(fp, " options \"%s\"", c->statics[i].options);
		fprintf(fp, "\n");
	}
}

/* May this user use the service?  Root always may. */
int
conf_allows(const struct conf *c, uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups)
{
	size_t	i, j;

	if (uid == 0 || c->allow_all)
		return (1);
	for (i = 0; i < c->nallow_uids; i++)
		if (c->allow_uids[i] == uid)
			return (1);
	for (i = 0; i < c->nallow_gids; i++) {
		if (c->allow_gids[i] == gid)
			return (1);
		for (j = 0; j < ngroups; j++)
			if (c->allow_gids[i] == groups[j])
				return (1);
	}
	return (0);
}
