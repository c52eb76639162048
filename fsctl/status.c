/*
 * fsctl status: collect the daemon's mount table, then print it as an
 * aligned table for people or as JSON for programs.  Nothing is printed
 * until the whole table has arrived and decoded, so a broken exchange
 * never leaves half an answer on standard output.
 */

#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsctl.h"

enum { S_MOUNTPOINT, S_SOURCE, S_OPTIONS, S_OWNER, S_REASON, S_COUNT };

struct entry {
	struct fsmsg_mount_info	 info;
	char			*str[S_COUNT];
};

struct table {
	struct entry	*e;
	size_t		 n;
	size_t		 size;
};

enum { C_ID, C_MOUNTPOINT, C_SOURCE, C_OWNER, C_PID, C_STATE, C_UPTIME,
	C_REQUESTS, C_OPTIONS, C_FEATURES, C_COUNT };

static const struct {
	const char	*title;
	int		 right;		/* numbers align on the right */
} columns[C_COUNT] = {
	{ "ID",		1 },
	{ "MOUNTPOINT",	0 },
	{ "SOURCE",	0 },
	{ "OWNER",	0 },
	{ "PID",	1 },
	{ "STATE",	0 },
	{ "UPTIME",	0 },
	{ "REQUESTS",	1 },
	{ "OPTIONS",	0 },
	{ "FEATURES",	0 },		/* -v only */
};

/* What INIT gave the mount, in the order fsctl(8) lists them. */
static const struct {
	uint32_t	 flag;
	const char	*name;
} features[] = {
	{ FSMSG_FEAT_PASSTHROUGH,	"passthrough" },
	{ FSMSG_FEAT_URING,		"io_uring" },
	{ FSMSG_FEAT_RESEND,		"resend" },
	{ FSMSG_FEAT_WRITEBACK,		"writeback" },
	{ FSMSG_FEAT_READDIRPLUS,	"readdirplus" },
	{ FSMSG_FEAT_SUPP_GROUPS,	"supp_groups" },
	{ FSMSG_FEAT_SETXATTR_EXT,	"setxattr_ext" },
};

static const char *const state_names[] = {
	[MOUNT_STARTING] = "starting",
	[MOUNT_RUNNING] = "running",
	[MOUNT_UNMOUNTING] = "unmounting",
	[MOUNT_FAILED] = "failed",
};

static int	 entry_decode(const struct fsproto_msg *, struct entry *);
static void	 table_add(struct ctl *, struct table *,
		    const struct fsproto_msg *);
static void	 table_free(struct table *);
static int64_t	 uptime(const struct fsmsg_mount_info *);
static char	*xasprintf(const char *, ...)
		    __attribute__((__format__(__printf__, 1, 2)));
static char	*uptime_str(int64_t);
static char	*features_str(const struct fsmsg_features *);
static void	 row_cells(const struct entry *, char *[C_COUNT]);
static void	 row_print(char *const [C_COUNT], const size_t [C_COUNT],
		    int);
static void	 print_table(const struct table *, int);
static size_t	 utf8_len(const unsigned char *);
static void	 json_str(const char *);
static void	 json_entry(const struct entry *);
static void	 json_features(const struct fsmsg_features *);
static void	 print_json(const struct table *);

/* Exact: the struct, five terminated strings, and nothing after. */
static int
entry_decode(const struct fsproto_msg *msg, struct entry *e)
{
	struct fsproto_dec	 d;
	const char		*s[S_COUNT];
	int			 i;

	if (msg->fd != -1)
		return (-1);
	fsproto_dec_init(&d, msg);
	(void)fsproto_dec_bytes(&d, &e->info, sizeof(e->info));
	for (i = 0; i < S_COUNT; i++)
		(void)fsproto_dec_str(&d, &s[i], FSMSG_PATH_MAX - 1);
	if (fsproto_dec_end(&d) == -1)
		return (-1);
	if (e->info.state < MOUNT_STARTING || e->info.state > MOUNT_FAILED ||
	    (e->info.features.flags & ~FSMSG_FEAT_ALL) != 0)
		return (-1);
	for (i = 0; i < S_COUNT; i++)
		if ((e->str[i] = strdup(s[i])) == NULL)
			err(1, NULL);
	return (0);
}

static void
table_add(struct ctl *c, struct table *t, const struct fsproto_msg *msg)
{
	struct entry	*ne;
	size_t		 nsize;

	if (t->n == t->size) {
		nsize = t->size ? t->size * 2 : 16;
		if ((ne = reallocarray(t->e, nsize, sizeof(*ne))) == NULL)
			err(1, NULL);
		t->e = ne;
		t->size = nsize;
	}
	if (entry_decode(msg, &t->e[t->n]) == -1)
		ctl_fail(c, "malformed status entry from fsmonitor");
	t->n++;
}

static void
table_free(struct table *t)
{
	size_t	i;
	int	j;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < S_COUNT; j++)
			free(t->e[i].str[j]);
	free(t->e);
}

/* The daemon's own clock, so a skewed client clock does not matter. */
static int64_t
uptime(const struct fsmsg_mount_info *info)
{
	if (info->now < info->started)
		return (0);
	return (info->now - info->started);
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		err(1, NULL);
	va_end(ap);
	return (s);
}

static char *
uptime_str(int64_t s)
{
	if (s < 60)
		return (xasprintf("%" PRId64 "s", s));
	if (s < 60 * 60)
		return (xasprintf("%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60));
	if (s < 24 * 60 * 60)
		return (xasprintf("%" PRId64 "h%02" PRId64 "m", s / 3600,
		    s / 60 % 60));
	return (xasprintf("%" PRId64 "d%02" PRId64 "h", s / 86400,
	    s / 3600 % 24));
}

/* "7.45 passthrough,resend"; "-" until the worker has served. */
static char *
features_str(const struct fsmsg_features *f)
{
	char	*s, *t;
	size_t	 i;

	if (f->minor == 0)
		return (xasprintf("-"));
	s = xasprintf("7.%" PRIu32, f->minor);
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		if (!(f->flags & features[i].flag))
			continue;
		t = xasprintf("%s%s%s", s, strchr(s, ' ') ? "," : " ",
		    features[i].name);
		free(s);
		s = t;
	}
	return (s);
}

static void
row_cells(const struct entry *e, char *cell[C_COUNT])
{
	const struct fsmsg_mount_info	*in = &e->info;
	char				*reason;

	cell[C_ID] = xasprintf("%" PRIu32, in->id);
	cell[C_MOUNTPOINT] = ctl_vis(e->str[S_MOUNTPOINT]);
	cell[C_SOURCE] = ctl_vis(e->str[S_SOURCE]);
	if (e->str[S_OWNER][0] != '\0')
		cell[C_OWNER] = ctl_vis(e->str[S_OWNER]);
	else
		cell[C_OWNER] = xasprintf("%" PRIu32, in->uid);
	cell[C_PID] = in->pid > 0 ? xasprintf("%" PRId32, in->pid) :
	    xasprintf("-");
	if (in->state == MOUNT_FAILED && e->str[S_REASON][0] != '\0') {
		reason = ctl_vis(e->str[S_REASON]);
		cell[C_STATE] = xasprintf("failed (%s)", reason);
		free(reason);
	} else if (in->restarts > 0)
		cell[C_STATE] = xasprintf("%s (restarted %" PRIu32 ")",
		    state_names[in->state], in->restarts);
	else
		cell[C_STATE] = xasprintf("%s", state_names[in->state]);
	cell[C_UPTIME] = uptime_str(uptime(in));
	cell[C_REQUESTS] = xasprintf("%" PRIu64, in->stats.requests);
	if (e->str[S_OPTIONS][0] != '\0')
		cell[C_OPTIONS] = ctl_vis(e->str[S_OPTIONS]);
	else
		cell[C_OPTIONS] = xasprintf("-");
	cell[C_FEATURES] = features_str(&in->features);
}

/* Two spaces between columns, none trailing after the last. */
static void
row_print(char *const cell[C_COUNT], const size_t width[C_COUNT], int ncols)
{
	int	i, w;

	for (i = 0; i < ncols; i++) {
		w = (int)width[i];
		if (i == ncols - 1)
			printf("%s\n", cell[i]);
		else if (columns[i].right)
			printf("%*s  ", w, cell[i]);
		else
			printf("%-*s  ", w, cell[i]);
	}
}

/* The FEATURES column, last, with -v alone. */
static void
print_table(const struct table *t, int verbose)
{
	char	*(*cells)[C_COUNT], *title[C_COUNT];
	size_t	 width[C_COUNT], i, len;
	int	 j, ncols = verbose ? C_COUNT : C_FEATURES;

	if ((cells = calloc(t->n ? t->n : 1, sizeof(*cells))) == NULL)
		err(1, NULL);
	for (j = 0; j < C_COUNT; j++) {
		title[j] = xasprintf("%s", columns[j].title);
		width[j] = strlen(title[j]);
	}
	for (i = 0; i < t->n; i++) {
		row_cells(&t->e[i], cells[i]);
		for (j = 0; j < C_COUNT; j++)
			if ((len = strlen(cells[i][j])) > width[j])
				width[j] = len;
	}
	row_print(title, width, ncols);
	for (j = 0; j < C_COUNT; j++)
		free(title[j]);
	for (i = 0; i < t->n; i++) {
		row_print(cells[i], width, ncols);
		for (j = 0; j < C_COUNT; j++)
			free(cells[i][j]);
	}
	free(cells);
}

/*
 * JSON text must be UTF-8: a byte that does not begin a well-formed
 * sequence (overlong, surrogate, beyond U+10FFFF, cut short) is not
 * copied through.  Returns the sequence length, 0 if malformed.
 */
static size_t
utf8_len(const unsigned char *p)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t		 cp;
	size_t			 n, i;

	if (p[0] < 0x80)
		return (1);
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	/* The terminating NUL fails this test, so no read runs past it. */
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

static void
json_str(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	putchar('"');
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
			n = 1;
		} else if (*p < 0x20) {
			printf("\\u%04x", *p);
			n = 1;
		} else if ((n = utf8_len(p)) == 0) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else
			fwrite(p, 1, n, stdout);
		p += n;
	}
	putchar('"');
}

static void
json_entry(const struct entry *e)
{
	const struct fsmsg_mount_info	*in = &e->info;
	const struct fsmsg_stats	*st = &in->stats;

	printf("{\"id\": %" PRIu32 ", \"mountpoint\": ", in->id);
	json_str(e->str[S_MOUNTPOINT]);
	fputs(", \"source\": ", stdout);
	json_str(e->str[S_SOURCE]);
	fputs(", \"owner\": ", stdout);
	json_str(e->str[S_OWNER]);
	printf(", \"uid\": %" PRIu32 ", \"pid\": %" PRId32 ", \"state\": ",
	    in->uid, in->pid);
	json_str(state_names[in->state]);
	fputs(", \"reason\": ", stdout);
	json_str(e->str[S_REASON]);
	printf(", \"started\": %" PRId64 ", \"uptime\": %" PRId64
	    ", \"options\": ", in->started, uptime(in));
	json_str(e->str[S_OPTIONS]);
	printf(", \"static\": %s", (in->flags & FSMSG_MOUNT_STATIC) ?
	    "true" : "false");
	printf(", \"requests\": %" PRIu64 ", \"bytes_read\": %" PRIu64
	    ", \"bytes_written\": %" PRIu64 ", \"errors\": %" PRIu64
	    ", \"nodes\": %" PRIu64 ", \"handles\": %" PRIu64
	    ", \"restarts\": %" PRIu32,
	    st->requests, st->bytes_read, st->bytes_written, st->errors,
	    st->nodes, st->handles, in->restarts);
	json_features(&in->features);
	putchar('}');
}

/* "protocol": "7.45" or null until the worker serves, "features": [...] */
static void
json_features(const struct fsmsg_features *f)
{
	size_t	 i;
	int	 n = 0;

	if (f->minor == 0)
		fputs(", \"protocol\": null", stdout);
	else
		printf(", \"protocol\": \"7.%" PRIu32 "\"", f->minor);
	fputs(", \"features\": [", stdout);
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (f->flags & features[i].flag)
			printf("%s\"%s\"", n++ ? ", " : "", features[i].name);
	putchar(']');
}

static void
print_json(const struct table *t)
{
	size_t	i;

	if (t->n == 0) {
		puts("[]");
		return;
	}
	puts("[");
	for (i = 0; i < t->n; i++) {
		fputs("  ", stdout);
		json_entry(&t->e[i]);
		puts(i + 1 < t->n ? "," : "");
	}
	puts("]");
}

void
ctl_status(struct ctl *c, int json, int verbose)
{
	struct fsproto_msg	msg;
	struct table		t;

	memset(&t, 0, sizeof(t));
	ctl_send(c, MSG_CTL_STATUS, -1, NULL, 0);
	ctl_flush(c, NULL);
	for (;;) {
		ctl_recv(c, &msg);
		if (msg.hdr.type == FSPROTO_REPLY)
			break;
		if (msg.hdr.type != MSG_CTL_STATUS_ENTRY)
			ctl_unexpected(c, &msg);
		table_add(c, &t, &msg);
		fsproto_msg_free(&msg);
	}
	ctl_reply(c, &msg, NULL);
	fsproto_msg_free(&msg);

	if (json)
		print_json(&t);
	else
		print_table(&t, verbose);
	if (fflush(stdout) == EOF || ferror(stdout))
		ctl_fail(c, "standard output: %s", strerror(errno));
	table_free(&t);
}
