/*
 * Open file and directory handles.  Like node ids, the fh given to the
 * kernel is a table index with a generation; every use names the node
 * too, and a handle answers only for the node it was opened on.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

#define HTAB_MIN	256
#define HTAB_MAX	0xffffffffU

struct hslot {
	struct handle	*hp;
	uint32_t	 gen;
	uint32_t	 nextfree;	/* free list; 0 ends it */
};

static pthread_mutex_t	 htab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hslot	*hslots;
static uint32_t		 nhslots;
static uint32_t		 hhiwat = 1;	/* 0 is never a handle */
static uint32_t		 hfreehead;
static unsigned int	 handle_cap = FSWORKER_HANDLES;

/*
 * On a mount of several users, the handles each uid holds: one may
 * take half of them at most, so that others can still open.
 */
#define HUSER_BUCKETS	64
struct huser {
	uid_t		 uid;
	unsigned int	 n;
	struct huser	*next;
};
static struct huser	*husers[HUSER_BUCKETS];
static unsigned int	 huser_cap;	/* 0: no share */

void
handle_set_cap(unsigned int cap, int shared)
{
	handle_cap = cap < FSWORKER_HANDLES_MIN ? FSWORKER_HANDLES_MIN : cap;
	huser_cap = shared ? handle_cap / 2 : 0;
}

/* uid's count, made if it has none; htab_lock held. */
static struct huser *
huser_get(uid_t uid)
{
	struct huser	**pp = &husers[uid % HUSER_BUCKETS], *u;

	for (u = *pp; u != NULL && u->uid != uid; u = u->next)
		;
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return NULL;
		u->uid = uid;
		u->next = *pp;
		*pp = u;
	}
	return u;
}

/* One more handle for uid: 0, or EMFILE past its share; htab_lock. */
static int
huser_take(uid_t uid)
{
	struct huser	*u;

	if ((u = huser_get(uid)) == NULL)
		return ENOMEM;
	if (u->n >= huser_cap)
		return EMFILE;
	u->n++;
	return 0;
}

/* htab_lock held. */
static void
huser_give(uid_t uid)
{
	struct huser	**pp, *u;

	for (pp = &husers[uid % HUSER_BUCKETS]; (u = *pp) != NULL;
	    pp = &u->next) {
		if (u->uid != uid)
			continue;
		if (--u->n == 0) {
			*pp = u->next;
			free(u);
		}
		return;
	}
}

/* Called with the table locked; returns 0 when the table is full. */
static uint32_t
handle_slot_alloc(void)
{
	struct hslot	*ns;
	uint32_t	 idx, n;

	if (hfreehead != 0) {
		idx = hfreehead;
		hfreehead = hslots[idx].nextfree;
		return idx;
	}
	/* A restartable mount's slots all have a record. */
	if (restart_handle_capacity() != 0 &&
	    hhiwat >= restart_handle_capacity())
		return 0;
	if (hhiwat >= nhslots) {
		if (nhslots == HTAB_MAX)
			return 0;
		if (nhslots == 0)
			n = HTAB_MIN;
		else
			n = nhslots > HTAB_MAX / 2 ? HTAB_MAX : nhslots * 2;
		if ((ns = reallocarray(hslots, n, sizeof(*ns))) == NULL)
			return 0;
		memset(ns + nhslots, 0, (size_t)(n - nhslots) * sizeof(*ns));
		hslots = ns;
		nhslots = n;
	}
	restart_set_handle_hiwat(hhiwat + 1);
	return hhiwat++;
}

/* Called with the table locked: the record follows the handle. */
static void
handle_record(const struct handle *hp)
{
	struct rs_handle	*r;
	uint32_t		 idx = (uint32_t)hp->fh;
	int			 fl;

	if ((r = restart_handle(idx)) == NULL)
		return;
	r->open = 0;
	r->gen = hslots[idx].gen;
	r->nodeid = hp->inode->nodeid;
	r->dir = hp->dir != NULL;
	r->backing_id = hp->backing_id;
	r->uid = hp->uid;
	r->gid = hp->gid;
	if ((fl = fcntl(hp->fd, F_GETFL)) == -1)
		return;
	r->flags = fl;
	r->open = hp->open;
}

/*
 * A new handle for fd (consumed on success) on the referenced node ip,
 * whose reference the handle takes over.  A file's handle (dir NULL)
 * holds what passthrough_open() gave, backing_id, until handle_free().
 */
int
handle_new(int fd, struct inode *ip, struct dirstream *dir,
    int32_t backing_id, const struct req *req, uint64_t *fhp)
{
	uid_t		 uid = req->hdr->uid;
	struct handle	*hp;
	uint32_t	 idx;
	int		 error;

	/* Each holds two descriptors; the budget is the worker's. */
	if (atomic_fetch_add(&wstats.handles, 1) >= handle_cap) {
		atomic_fetch_sub(&wstats.handles, 1);
		log_debug("%s: %u handles open", __func__, handle_cap);
		return EMFILE;
	}
	if ((hp = calloc(1, sizeof(*hp))) == NULL) {
		atomic_fetch_sub(&wstats.handles, 1);
		return ENOMEM;
	}
	pthread_mutex_lock(&htab_lock);
	if (huser_cap != 0 && (error = huser_take(uid)) != 0) {
		pthread_mutex_unlock(&htab_lock);
		atomic_fetch_sub(&wstats.handles, 1);
		free(hp);
		log_debug("%s: uid %u: %u handles open", __func__,
		    (unsigned int)uid, huser_cap);
		return error;
	}
	if ((idx = handle_slot_alloc()) == 0) {
		if (huser_cap != 0)
			huser_give(uid);
		pthread_mutex_unlock(&htab_lock);
		atomic_fetch_sub(&wstats.handles, 1);
		free(hp);
		return ENFILE;
	}
	hp->uid = uid;
	hp->gid = req->hdr->gid;
	hp->group = cred_group(req);
	hp->user_counted = huser_cap != 0;
	hp->fd = fd;
	hp->inode = ip;
	hp->dir = dir;
	hp->counted = dir == NULL;
	hp->backing_id = backing_id;
	hp->fh = (uint64_t)hslots[idx].gen << 32 | idx;
	hp->refs = 1;		/* the table's, until RELEASE */
	hp->open = 1;
	hslots[idx].hp = hp;
	handle_record(hp);
	pthread_mutex_unlock(&htab_lock);
	*fhp = hp->fh;
	return 0;
}

/* A referenced handle, or NULL and EBADF. */
struct handle *
handle_get(uint64_t fh, uint64_t nodeid, int *error)
{
	struct handle	*hp = NULL;
	uint32_t	 idx = (uint32_t)fh, gen = fh >> 32;

	pthread_mutex_lock(&htab_lock);
	if (idx != 0 && idx < hhiwat && hslots[idx].gen == gen &&
	    (hp = hslots[idx].hp) != NULL && hp->open &&
	    hp->inode->nodeid == nodeid)
		hp->refs++;
	else
		hp = NULL;
	pthread_mutex_unlock(&htab_lock);
	if (hp == NULL) {
		log_debug("%s: bad handle %#llx for node %#llx", __func__,
		    (unsigned long long)fh, (unsigned long long)nodeid);
		*error = EBADF;
	}
	return hp;
}

/*
 * A referenced handle of a regular file, or NULL and the errno; a
 * directory's handle gives isdir_error, which differs by operation.
 */
struct handle *
handle_get_file(uint64_t fh, uint64_t nodeid, int isdir_error, int *error)
{
	struct handle	*hp;

	if ((hp = handle_get(fh, nodeid, error)) == NULL)
		return NULL;
	if (hp->dir != NULL) {
		handle_put(hp);
		*error = isdir_error;
		return NULL;
	}
	return hp;
}

static void
handle_free(struct handle *hp)
{
	close(hp->fd);
	if (hp->dir != NULL)
		dirstream_free(hp->dir);
	if (hp->counted)
		passthrough_close(hp->inode, hp->backing_id);
	inode_put(hp->inode);
	atomic_fetch_sub(&wstats.handles, 1);
	free(hp);
}

void
handle_put(struct handle *hp)
{
	struct rs_handle	*r;
	uint32_t		 idx = (uint32_t)hp->fh;
	int			 last;

	pthread_mutex_lock(&htab_lock);
	if (hp->refs == 0)
		fatalx("%s: handle %#llx not referenced", __func__,
		    (unsigned long long)hp->fh);
	if ((last = --hp->refs == 0)) {
		hslots[idx].hp = NULL;
		hslots[idx].gen++;
		if ((r = restart_handle(idx)) != NULL) {
			r->open = 0;
			r->gen = hslots[idx].gen;
		}
		hslots[idx].nextfree = hfreehead;
		hfreehead = idx;
		if (hp->user_counted)
			huser_give(hp->uid);
	}
	pthread_mutex_unlock(&htab_lock);
	if (last)
		handle_free(hp);
}

/*
 * RELEASE: no new use of the handle from now on; the descriptor closes
 * once requests still working on it are done.
 */
int
handle_release(uint64_t fh, uint64_t nodeid)
{
	struct rs_handle	*r;
	struct handle		*hp;
	int			 error;

	if ((hp = handle_get(fh, nodeid, &error)) == NULL)
		return error;
	pthread_mutex_lock(&htab_lock);
	if (!hp->open) {
		pthread_mutex_unlock(&htab_lock);
		handle_put(hp);
		return EBADF;
	}
	hp->open = 0;
	if ((r = restart_handle((uint32_t)fh)) != NULL)
		r->open = 0;
	hp->refs--;		/* the table's */
	pthread_mutex_unlock(&htab_lock);
	handle_put(hp);
	return 0;
}

/*
 * A recovered handle counts in its owner's share again, so that a
 * restart does not hand out a second share.  It is open in the kernel
 * already: kept even past a share this worker makes smaller, the user
 * then opening nothing more until back under it.
 */
static void
handle_recount_user(struct handle *hp)
{
	struct huser	*u;

	if (huser_cap == 0)
		return;
	pthread_mutex_lock(&htab_lock);
	if ((u = huser_get(hp->uid)) != NULL) {
		u->n++;
		hp->user_counted = 1;
	}
	pthread_mutex_unlock(&htab_lock);
}

/* The open flags a handle is opened again with: never creating. */
#define HANDLE_REOPEN_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | \
	O_SYNC | O_DSYNC | O_NOATIME | O_DIRECT)

static struct handle *
handle_recover_one(const struct rs_handle *r, uint32_t idx)
{
	struct inode	*ip;
	struct handle	*hp;
	int		 fd, error;

	if ((ip = inode_get(r->nodeid, &error)) == NULL)
		return NULL;
	if (r->dir ? ip->type != S_IFDIR : ip->type != S_IFREG)
		goto fail;
	fd = inode_reopen(ip, r->dir ? O_RDONLY :
	    r->flags & HANDLE_REOPEN_FLAGS);
	if (fd == -1)
		goto fail;
	if ((hp = calloc(1, sizeof(*hp))) == NULL ||
	    (r->dir && (hp->dir = dirstream_new()) == NULL)) {
		free(hp);
		close(fd);
		goto fail;
	}
	hp->fd = fd;
	hp->inode = ip;
	hp->fh = (uint64_t)r->gen << 32 | idx;
	hp->refs = 1;
	hp->open = 1;
	hp->uid = r->uid;
	hp->gid = r->gid;
	hp->group = CRED_NOGROUP;
	handle_recount_user(hp);
	if (!r->dir) {
		hp->counted = passthrough_recover(ip, r->backing_id);
		hp->backing_id = r->backing_id;
	}
	return hp;
 fail:
	inode_put(ip);
	return NULL;
}

/*
 * A new worker of a restartable mount: every handle the kernel may
 * still use, opened again on its recovered node.  One that cannot be
 * is lost (EBADF from then on, and its backing file, if any, stays
 * registered until the mount goes).  Returns the number lost.
 */
uint32_t
handle_recover(void)
{
	struct rs_handle	*r;
	struct handle		*hp;
	uint32_t		 hi = restart_handle_hiwat(), idx, n;
	uint32_t		 lost = 0;

	for (n = HTAB_MIN; n < hi; n *= 2)
		;
	if ((hslots = calloc(n, sizeof(*hslots))) == NULL)
		fatal("%s", __func__);
	nhslots = n;
	for (idx = hi - 1; idx > 0; idx--) {
		r = restart_handle(idx);
		hp = r->open ? handle_recover_one(r, idx) : NULL;
		if (hp != NULL) {
			hslots[idx].hp = hp;
			hslots[idx].gen = r->gen;
			atomic_fetch_add(&wstats.handles, 1);
			continue;
		}
		if (r->open) {
			lost++;
			r->open = 0;
			r->gen++;
		}
		hslots[idx].gen = r->gen;
		hslots[idx].nextfree = hfreehead;
		hfreehead = idx;
	}
	hhiwat = hi;
	return lost;
}
