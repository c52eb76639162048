/*
 * Directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR,
 * FSYNCDIR.  Offsets given to the kernel are the backing filesystem's
 * own d_off cookies, so a READDIR at any offset the kernel has seen is
 * an lseek() on the handle's descriptor.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

#define DIRBUF_SIZE	(32 * 1024)
#define DIRAHEAD_MAX	256	/* entries looked up ahead, at most */
#define DIRAHEAD_FRESH_MS 50	/* how long what was looked up is used */

/* An entry of the batch looked up before its READDIRPLUS came. */
struct dirahead {
	size_t		 pos;	/* in buf */
	int		 fd;	/* O_PATH, or -1: a node we hold, stat'ed */
	struct stat	 st;
};

struct dirstream {
	pthread_mutex_t	 lock;
	off_t		 off;	/* offset of the next entry */
	size_t		 pos;	/* next entry in buf */
	size_t		 len;	/* bytes in buf */
	char		*buf;	/* a getdents64() batch */
	struct dirahead	*ahead;	/* DIRAHEAD_MAX, once used */
	size_t		 nahead;
	size_t		 ahead_next;	/* the first not used yet */
	struct timespec	 ahead_time;	/* when the oldest was looked up */
};

/*
 * Descriptors looked up ahead and not used yet, in all streams: however
 * many directories are open, at most FSWORKER_AHEAD_FDS.
 */
static atomic_uint	 ahead_fds;

static long
ms_since(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* What one READDIR(PLUS) call is building. */
struct dirfill {
	struct req	*req;
	struct dirstream *ds;
	struct inode	*dir;
	int		 plus;
	size_t		 used;
	size_t		 size;	/* at most this much reply */
	size_t		 nentries;
	uint64_t	*looked;	/* nodes given a lookup, for undo */
	size_t		 nlooked;
};

struct dirstream *
dirstream_new(void)
{
	struct dirstream	*ds;

	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return NULL;
	if ((ds->buf = malloc(DIRBUF_SIZE)) == NULL) {
		free(ds);
		return NULL;
	}
	pthread_mutex_init(&ds->lock, NULL);
	return ds;
}

/* One descriptor looked up ahead is used, or closed if close_it. */
static void
dirahead_done(int fd, int close_it)
{
	if (fd == -1)
		return;
	if (close_it)
		close(fd);
	atomic_fetch_sub(&ahead_fds, 1);
}

/* Closes what was looked up ahead and not used; the stream locked. */
static void
dirahead_drop(struct dirstream *ds)
{
	size_t	 i;

	for (i = ds->ahead_next; i < ds->nahead; i++)
		dirahead_done(ds->ahead[i].fd, 1);
	ds->nahead = ds->ahead_next = 0;
}

void
dirstream_free(struct dirstream *ds)
{
	dirahead_drop(ds);
	pthread_mutex_destroy(&ds->lock);
	free(ds->ahead);
	free(ds->buf);
	free(ds);
}

/* The next batch of the handle's directory; the stream locked. */
static ssize_t
dirstream_read(struct dirstream *ds, int fd)
{
	ssize_t	 n;

	if ((n = getdents64(fd, ds->buf, DIRBUF_SIZE)) == -1)
		return -1;
	dirahead_drop(ds);
	ds->len = n;
	ds->pos = 0;
	return n;
}

/*
 * With cache=always the kernel keeps each listing in the directory's
 * page cache (FOPEN_CACHE_DIR) across opens (FOPEN_KEEP_CACHE), and
 * lists it again without a READDIR.  It starts afresh when a change
 * made through the mount bumps the directory's i_version, or when its
 * modification time differs from the one the listing was read under;
 * the kernel learns that time only when it fetches the attributes
 * again, so a change made beside the mount shows once the attribute
 * timeout has run out and a lookup or stat of the directory did so.
 * A listing from the cache carries no attributes: entries whose
 * timeout ran out are looked up one by one, and so would be the ones
 * the kernel has forgotten meanwhile (under memory pressure, say).  So
 * once it forgot one it had since the listing was read, the next
 * OPENDIR goes without FOPEN_KEEP_CACHE: the kernel drops the listing
 * and reads it again with READDIRPLUS.
 *
 * Not with cache=auto.  Without FOPEN_KEEP_CACHE every OPENDIR drops
 * the listing, which then serves only rewinddir() on one stream; with
 * it, a listing kept beyond the 1 s entry timeout is served without
 * attributes, and a walk that stats its entries costs a LOOKUP each
 * where READDIRPLUS would have revalidated them in batches.
 */
static uint32_t
opendir_flags(struct inode *dir)
{
	if (wconf->cache != CACHE_ALWAYS)
		return 0;
	if (inode_forgot_child(dir))
		return FOPEN_CACHE_DIR;
	return FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE;
}

int
op_opendir(struct req *req)
{
	struct dirstream	*ds;
	struct inode		*ip;
	uint64_t		 fh;
	int			 fd, error = 0;

	if ((ip = inode_get_dir(req->hdr->nodeid, &error)) == NULL)
		return error;
	if ((fd = inode_reopen(ip, O_RDONLY)) == -1) {
		error = errno;
		inode_put(ip);
		return error;
	}
	if ((ds = dirstream_new()) == NULL) {
		close(fd);
		inode_put(ip);
		return ENOMEM;
	}
	if ((error = handle_new(fd, ip, ds, 0, req, &fh)) != 0) {
		dirstream_free(ds);
		close(fd);
		inode_put(ip);
		return error;
	}
	if (reply_open(req, fh, opendir_flags(ip)) == ENOENT)
		handle_release(fh, req->hdr->nodeid);
	return 0;
}

static int
is_dot_or_dotdot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/*
 * The entry part of a direntplus.  "." and ".." get node id 0: the kernel
 * neither links nor counts them.  An entry gone since getdents also gets
 * 0 and is listed by name only.
 */
static void
dirfill_lookup(struct dirfill *df, const struct dirent64 *d,
    struct fuse_entry_out *e)
{
	struct dirstream	*ds = df->ds;
	struct dirahead		*a;
	struct inode		*ip;
	struct stat		 st;
	int			 error;

	memset(e, 0, sizeof(*e));
	if (is_dot_or_dotdot(d->d_name))
		return;
	/* Looked up too long ago for the kernel to trust it from now. */
	if (ds->ahead_next < ds->nahead &&
	    ms_since(&ds->ahead_time) > DIRAHEAD_FRESH_MS)
		dirahead_drop(ds);
	while (ds->ahead_next < ds->nahead &&
	    ds->ahead[ds->ahead_next].pos < ds->pos) {
		a = &ds->ahead[ds->ahead_next++];
		dirahead_done(a->fd, 1);
	}
	if (ds->ahead_next < ds->nahead &&
	    ds->ahead[ds->ahead_next].pos == ds->pos) {
		a = &ds->ahead[ds->ahead_next++];
		st = a->st;
		error = inode_lookup_finish(df->dir, d->d_name, a->fd, &st,
		    &ip);
		dirahead_done(a->fd, 0);
	} else
		error = inode_lookup(df->dir, d->d_name, d->d_ino, &st, &ip);
	if (error != 0)
		return;
	fill_entry(e, ip, &st);
	df->looked[df->nlooked++] = ip->nodeid;
	inode_put(ip);
}

/* Appends one entry; 0 when it does not fit. */
static size_t
dirfill_add(struct dirfill *df, const struct dirent64 *d)
{
	struct fuse_direntplus	*dp;
	struct fuse_dirent	*de;
	unsigned char		*p = df->req->out + df->used;
	size_t			 namelen, reclen, hdrlen;

	namelen = strlen(d->d_name);
	hdrlen = df->plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	reclen = FUSE_DIRENT_ALIGN(hdrlen + namelen);
	if (reclen > df->size - df->used)
		return 0;
	memset(p, 0, reclen);
	if (df->plus) {
		dp = (struct fuse_direntplus *)p;
		dirfill_lookup(df, d, &dp->entry_out);
		de = &dp->dirent;
	} else
		de = (struct fuse_dirent *)p;
	de->ino = d->d_ino;
	de->off = d->d_off;
	de->namelen = namelen;
	de->type = d->d_type;
	memcpy(p + hdrlen, d->d_name, namelen);
	df->used += reclen;
	df->nentries++;
	return reclen;
}

/* Fills the reply from the stream; called with the stream locked. */
static int
dirfill_run(struct dirfill *df, struct handle *hp, off_t offset)
{
	struct dirstream	*ds = hp->dir;
	struct dirent64		*d;
	ssize_t			 n;

	if (offset != ds->off) {
		if (lseek(hp->fd, offset, SEEK_SET) == -1)
			return errno;
		dirahead_drop(ds);
		ds->pos = ds->len = 0;
		ds->off = offset;
	}
	for (;;) {
		if (ds->pos >= ds->len) {
			if ((n = dirstream_read(ds, hp->fd)) == -1)
				return df->used ? 0 : errno;
			if (n == 0)
				return 0;
		}
		d = (struct dirent64 *)(ds->buf + ds->pos);
		if (dirfill_add(df, d) == 0)
			return 0;
		ds->pos += d->d_reclen;
		ds->off = d->d_off;
	}
}

/*
 * After a READDIRPLUS reply, while the kernel links the entries it got,
 * looks up as many again of those that follow, which the next
 * READDIRPLUS most likely asks for: the two then overlap instead of
 * taking turns.  Within the batch read, and a new one if that is used
 * up.  The stream locked.
 */
static void
dirahead_fill(struct dirstream *ds, struct handle *hp, size_t count)
{
	struct dirent64		*d;
	struct dirahead		*a;
	size_t			 pos, i, n;

	if (ds->ahead == NULL &&
	    (ds->ahead = calloc(DIRAHEAD_MAX, sizeof(*ds->ahead))) == NULL)
		return;
	if (ms_since(&ds->ahead_time) > DIRAHEAD_FRESH_MS)
		dirahead_drop(ds);
	/* What the last reply had no room for stays; a READDIR passed. */
	for (i = ds->ahead_next, n = 0; i < ds->nahead; i++) {
		if (ds->ahead[i].pos >= ds->pos)
			ds->ahead[n++] = ds->ahead[i];
		else
			dirahead_done(ds->ahead[i].fd, 1);
	}
	ds->nahead = n;
	ds->ahead_next = 0;
	if (ds->pos >= ds->len && dirstream_read(ds, hp->fd) <= 0)
		return;
	pos = ds->pos;
	if (ds->nahead > 0) {
		a = &ds->ahead[ds->nahead - 1];
		d = (struct dirent64 *)(ds->buf + a->pos);
		pos = a->pos + d->d_reclen;
	}
	if (count > DIRAHEAD_MAX)
		count = DIRAHEAD_MAX;
	/* The age of the oldest is what counts. */
	if ((i = ds->nahead) == 0)
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ds->ahead_time);
	for (; pos < ds->len && ds->nahead < count; pos += d->d_reclen) {
		d = (struct dirent64 *)(ds->buf + pos);
		a = &ds->ahead[ds->nahead];
		if (atomic_load(&ahead_fds) >= FSWORKER_AHEAD_FDS)
			break;
		if (is_dot_or_dotdot(d->d_name) ||
		    inode_lookup_ahead(hp->inode, d->d_name, d->d_ino, &a->st,
		    &a->fd) != 0)
			continue;
		if (a->fd != -1)
			atomic_fetch_add(&ahead_fds, 1);
		a->pos = pos;
		ds->nahead++;
	}
	log_debug("%s: node %llu: %zu entries ahead", __func__,
	    (unsigned long long)hp->inode->nodeid, ds->nahead - i);
}

static int
readdir_common(struct req *req, int plus)
{
	const struct fuse_read_in	*in = (const void *)req->arg;
	struct dirfill			 df;
	struct handle			*hp;
	size_t				 i;
	int				 error = 0;

	if ((hp = handle_get(in->fh, req->hdr->nodeid, &error)) == NULL)
		return error;
	if (hp->dir == NULL) {
		handle_put(hp);
		return ENOTDIR;
	}
	memset(&df, 0, sizeof(df));
	df.req = req;
	df.ds = hp->dir;
	df.dir = hp->inode;
	df.plus = plus;
	df.size = in->size < req->outsize ? in->size : req->outsize;
	if (plus && (df.looked = calloc(df.size / FUSE_NAME_OFFSET_DIRENTPLUS +
	    1, sizeof(*df.looked))) == NULL) {
		handle_put(hp);
		return ENOMEM;
	}
	/* Before its entries are looked up: see inode_forgot_locked(). */
	if (in->offset == 0 && wconf->cache == CACHE_ALWAYS)
		inode_listing_starts(hp->inode);
	pthread_mutex_lock(&hp->dir->lock);
	error = dirfill_run(&df, hp, (off_t)in->offset);
	pthread_mutex_unlock(&hp->dir->lock);
	if (error == 0 && reply_data(req, req->out, df.used) == ENOENT) {
		/* The kernel never saw these entries: undo their lookups. */
		for (i = 0; i < df.nlooked; i++)
			inode_forget(df.looked[i], 1);
	}
	if (error)
		for (i = 0; i < df.nlooked; i++)
			inode_forget(df.looked[i], 1);
	free(df.looked);
	/*
	 * Not through io_uring, where the reply goes only when this
	 * thread commits it with its next fetch.
	 */
	if (plus && error == 0 && df.nentries > 0 && req->ent == NULL) {
		pthread_mutex_lock(&hp->dir->lock);
		dirahead_fill(hp->dir, hp, df.nentries);
		pthread_mutex_unlock(&hp->dir->lock);
	}
	handle_put(hp);
	return error;
}

int
op_readdir(struct req *req)
{
	return readdir_common(req, 0);
}

int
op_readdirplus(struct req *req)
{
	return readdir_common(req, 1);
}

int
op_releasedir(struct req *req)
{
	const struct fuse_release_in	*in = (const void *)req->arg;
	int				 error = 0;

	if ((error = handle_release(in->fh, req->hdr->nodeid)) != 0)
		return error;
	reply_err(req, 0);
	return 0;
}
