/*
 * The node table.  A node is an O_PATH descriptor of one (st_dev, st_ino)
 * found by a lookup; its id for the kernel is a table index with the
 * slot's generation in the high 32 bits, never a pointer, so a stale or
 * forged id from the kernel can only ever miss.
 *
 * Three counts keep a node alive: nlookup, the kernel's references
 * (LOOKUP and every creating reply add one, FORGET takes them away);
 * refs, ours (a request working on it, an open handle); and kids, the
 * nodes last found in it, which find their way back through it.  At
 * nlookup 0 the node leaves the hash, so a new lookup builds a fresh
 * node; its slot goes when the other two reach 0 as well.
 *
 * The kernel may hold millions of nodes; the worker has a few thousand
 * descriptors and shares them among all the users of a mount.  So only
 * a node in use (refs > 0) surely has its descriptor.  An unused one
 * keeps it while it is among the fd_cap most recently used, and then
 * loses it (eviction); the next use opens its name again in the
 * directory node it was last found in, opening that first if it too
 * was evicted, and takes the file only if it is still the same one:
 * (st_dev, st_ino), type and, where the file system has it, birth time.
 * Anything else is ESTALE: the kernel then looks the name up again.
 * Nothing a user makes the kernel remember can use up the descriptors
 * another user's request needs.
 *
 * This file is also the only place that reaches a node through its
 * descriptor's magic link.  After pivot_root the worker has no /proc;
 * the sandbox keeps the descriptor directory of a procfs of the worker's
 * own pid namespace, attached nowhere (wconf->proc_fd), and makes it the
 * working directory as well.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsworker.h"

#define ITAB_MIN	1024
#define ITAB_MAX	0xffffffffU
/* Directories above a node that a search for it climbs, at most. */
#define ITAB_DEPTH	4096

struct islot {
	struct inode	*ip;
	uint32_t	 gen;
	uint32_t	 nextfree;	/* free list; 0 ends it */
};

static pthread_mutex_t	 itab_lock = PTHREAD_MUTEX_INITIALIZER;
/* The clock of looked_at, listed_at and forgot_at; itab_lock. */
static uint64_t		 itab_clock;
static struct islot	*slots;
static uint32_t		 nslots;	/* allocated */
static uint32_t		 hiwat;		/* first unused index */
static uint32_t		 freehead;
static struct inode	**hash;
static size_t		 hashsize;	/* power of two */
static size_t		 hashcount;
/* Unused nodes with a descriptor, the most recently used first. */
static TAILQ_HEAD(ilru, inode) lru = TAILQ_HEAD_INITIALIZER(lru);
static unsigned int	 fd_cap = FSWORKER_NODE_FDS;
static unsigned int	 nfds;		/* nodes with a descriptor */
/* Taken before itab_lock: one thread finds evicted nodes again. */
static pthread_mutex_t	 refind_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t	 inode_hashval(dev_t, ino_t);
static int	 inode_hash_resize(size_t);
static void	 inode_hash_grow(void);
static uint32_t	 inode_slot_alloc(void);
static int	 inode_unhash(struct inode *);
static int	 inode_free_locked(struct inode *, int32_t *);
static void	 inode_evict_locked(void);
static void	 inode_release_fd(int, int32_t);

static size_t
inode_hashval(dev_t dev, ino_t ino)
{
	uint64_t	 h;

	h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;
	h ^= h >> 29;
	return h & (hashsize - 1);
}

/* The node of (dev, ino), or NULL; itab_lock held. */
static struct inode *
inode_hashed(dev_t dev, ino_t ino)
{
	struct inode	*ip;

	for (ip = hash[inode_hashval(dev, ino)]; ip != NULL; ip = ip->hnext)
		if (ip->dev == dev && ip->ino == ino)
			break;
	return ip;
}

/* Called with the table locked; -1 when out of memory. */
static int
inode_hash_resize(size_t size)
{
	struct inode	**old = hash, **nhash, *ip, *next;
	size_t		  oldsize = hashsize, i, h;

	if ((nhash = calloc(size, sizeof(*nhash))) == NULL)
		return -1;
	hash = nhash;
	hashsize = size;
	for (i = 0; i < oldsize; i++) {
		for (ip = old[i]; ip != NULL; ip = next) {
			next = ip->hnext;
			h = inode_hashval(ip->dev, ip->ino);
			ip->hnext = hash[h];
			hash[h] = ip;
		}
	}
	free(old);
	return 0;
}

/* Called with the table locked; allocation failure is fatal. */
static void
inode_hash_grow(void)
{
	if (inode_hash_resize(hashsize ? hashsize * 2 : ITAB_MIN) == -1)
		fatal("%s", __func__);
}

/*
 * From the main thread once the worker is idle: a hash grown for a
 * burst of lookups shrinks back to what the nodes left need, with room
 * to grow fourfold before it doubles again.  The slots stay: a free
 * slot keeps its generation.
 */
void
inode_trim(void)
{
	size_t	 size;

	pthread_mutex_lock(&itab_lock);
	for (size = hashsize; size > ITAB_MIN && hashcount <= size / 4;
	    size /= 2)
		;
	if (size != hashsize)
		(void)inode_hash_resize(size);
	pthread_mutex_unlock(&itab_lock);
}

/* Called with the table locked; returns 0 when the table is full. */
static uint32_t
inode_slot_alloc(void)
{
	struct islot	*ns;
	uint32_t	 idx, n;

	if (freehead != 0) {
		idx = freehead;
		freehead = slots[idx].nextfree;
		return idx;
	}
	/* A restartable mount's slots all have a record. */
	if (restart_node_capacity() != 0 && hiwat >= restart_node_capacity())
		return 0;
	if (hiwat == nslots) {
		if (nslots == ITAB_MAX)
			return 0;
		n = nslots > ITAB_MAX / 2 ? ITAB_MAX : nslots * 2;
		if ((ns = reallocarray(slots, n, sizeof(*ns))) == NULL)
			return 0;
		memset(ns + nslots, 0, (size_t)(n - nslots) * sizeof(*ns));
		slots = ns;
		nslots = n;
	}
	restart_set_node_hiwat(hiwat + 1);
	return hiwat++;
}

/* Called with the table locked: the record follows the node. */
static void
inode_record(const struct inode *ip)
{
	struct rs_node	*r;
	uint32_t	 idx = (uint32_t)ip->nodeid;

	if ((r = restart_node(idx)) == NULL)
		return;
	if (r->gen != slots[idx].gen || r->dev != ip->dev ||
	    r->ino != ip->ino) {
		r->parent = 0;
		r->name[0] = '\0';
		r->gen = slots[idx].gen;
		r->type = ip->type;
		r->dev = ip->dev;
		r->ino = ip->ino;
	}
	r->nlookup = ip->nlookup;
}

void
inode_set_fd_cap(unsigned int cap)
{
	pthread_mutex_lock(&itab_lock);
	fd_cap = cap < FSWORKER_NODE_FDS_MIN ? FSWORKER_NODE_FDS_MIN : cap;
	inode_evict_locked();
	pthread_mutex_unlock(&itab_lock);
}

/* One more reference: a node in use keeps its descriptor; itab_lock. */
static void
inode_ref_locked(struct inode *ip)
{
	if (ip->on_lru) {
		TAILQ_REMOVE(&lru, ip, lru);
		ip->on_lru = 0;
	}
	ip->refs++;
}

/*
 * Called with itab_lock held as a node still known falls unused: it may
 * lose its descriptor once others were used since.  One with no place
 * to be found again keeps it: the root, and a file never named, made
 * with O_TMPFILE, which the kernel forgets once its last handle is
 * closed, so there are never more of those than handles.  A backing id
 * passthrough.c keeps unused stays: the registration holds a file of
 * its own.
 */
static void
inode_idle_locked(struct inode *ip)
{
	if (ip->fd == -1 || ip->up == NULL || ip->on_lru || ip->no_id)
		return;
	TAILQ_INSERT_HEAD(&lru, ip, lru);
	ip->on_lru = 1;
	inode_evict_locked();
}

/*
 * The identity of fd's file, to find it again (inode_same()): its birth
 * time and file handle, where the file system has them.  0, or -1 if
 * it has neither, for then an inode number reused for another file at
 * the node's name would pass for it.
 */
static int
inode_id_get(int fd, struct inode_id *id)
{
	union {
		struct file_handle	fh;
		unsigned char		buf[sizeof(struct file_handle) +
					    INODE_FH_MAX];
	} h;
	struct statx	 stx;
	int		 mntid;

	memset(id, 0, sizeof(*id));
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BTIME,
	    &stx) == 0 && (stx.stx_mask & STATX_BTIME)) {
		id->has_btime = 1;
		id->btime_sec = stx.stx_btime.tv_sec;
		id->btime_nsec = stx.stx_btime.tv_nsec;
	}
	h.fh.handle_bytes = INODE_FH_MAX;
	if (name_to_handle_at(fd, "", &h.fh, &mntid, AT_EMPTY_PATH) == 0 &&
	    h.fh.handle_bytes <= INODE_FH_MAX) {
		id->fh_type = h.fh.handle_type;
		id->fh_len = h.fh.handle_bytes;
		memcpy(id->fh, h.fh.f_handle, id->fh_len);
	}
	return id->has_btime || id->fh_len > 0 ? 0 : -1;
}

/*
 * Called with itab_lock held: the least recently used descriptors go
 * until fd_cap are left, or only nodes in use have one.  A node whose
 * file cannot be told from another keeps its descriptor for good.
 */
static void
inode_evict_locked(void)
{
	struct inode	*ip;

	while (nfds > fd_cap && (ip = TAILQ_LAST(&lru, ilru)) != NULL) {
		TAILQ_REMOVE(&lru, ip, lru);
		ip->on_lru = 0;
		if (inode_id_get(ip->fd, &ip->id) == -1) {
			ip->no_id = 1;
			continue;
		}
		close(ip->fd);
		ip->fd = -1;
		nfds--;
	}
}

/* The file-handle half of inode_same(). */
static int
inode_same_handle(const struct inode_id *id, int fd)
{
	union {
		struct file_handle	fh;
		unsigned char		buf[sizeof(struct file_handle) +
					    INODE_FH_MAX];
	} h;
	int		 mntid;

	h.fh.handle_bytes = INODE_FH_MAX;
	if (name_to_handle_at(fd, "", &h.fh, &mntid, AT_EMPTY_PATH) == -1)
		return errno == EOVERFLOW || errno == EOPNOTSUPP ? 0 : -1;
	return h.fh.handle_type == id->fh_type &&
	    h.fh.handle_bytes == id->fh_len &&
	    memcmp(h.fh.f_handle, id->fh, id->fh_len) == 0;
}

/*
 * Whether fd is the file the evicted node ip was, id its identity as
 * copied under itab_lock: 1 if so, 0 if not, -1 if that cannot be told
 * now (errno), which makes nothing stale.
 */
static int
inode_same(const struct inode *ip, const struct inode_id *id, int fd)
{
	struct statx	 stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	    STATX_TYPE | STATX_INO | STATX_BTIME, &stx) == -1)
		return -1;
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != ip->dev ||
	    stx.stx_ino != ip->ino || (stx.stx_mode & S_IFMT) != ip->type)
		return 0;
	if (id->has_btime && (!(stx.stx_mask & STATX_BTIME) ||
	    stx.stx_btime.tv_sec != id->btime_sec ||
	    stx.stx_btime.tv_nsec != id->btime_nsec))
		return 0;
	return id->fh_len == 0 ? 1 : inode_same_handle(id, fd);
}

/*
 * Called with itab_lock held: dir lost a node found in it, and goes too
 * if nothing else keeps it, and so on up.  Those are directories, with
 * no backing id: their descriptors are closed here.
 */
static void
inode_drop_up_locked(struct inode *dir)
{
	struct inode	*up;
	int32_t		 backing;
	int		 fd;

	for (; dir != NULL; dir = up) {
		if (--dir->kids > 0 || dir->refs > 0 || dir->nlookup > 0)
			return;
		up = dir->up;
		dir->up = NULL;
		if ((fd = inode_free_locked(dir, &backing)) != -1)
			close(fd);
	}
}

/*
 * Called with itab_lock held: ip was found as name in dir, where it is
 * looked for once evicted.  A directory is never put below itself, nor
 * more than ITAB_DEPTH directories deep, which is what a search climbs:
 * one with no place then is ELOOP, for a node that could never be
 * evicted would keep its descriptor as long as the kernel likes.  Any
 * other node has a place in any directory.
 */
static int
inode_place_locked(struct inode *ip, struct inode *dir, const char *name)
{
	struct inode	*p, *old;
	char		*n;
	int		 depth;

	if (ip->nodeid == FUSE_ROOT_ID || !name_is_valid(name) ||
	    strlen(name) > NAME_MAX)
		return 0;
	if (ip->up == dir && ip->name != NULL && strcmp(ip->name, name) == 0)
		return 0;
	if (ip->type == S_IFDIR) {
		for (p = dir, depth = 0; p != NULL; p = p->up, depth++)
			if (p == ip || depth == ITAB_DEPTH - 1)
				return ip->up == NULL ? ELOOP : 0;
	}
	if ((n = strdup(name)) == NULL)
		return ip->up == NULL ? ENOMEM : 0;
	free(ip->name);
	ip->name = n;
	dir->kids++;
	old = ip->up;
	ip->up = dir;
	if (old != NULL)
		inode_drop_up_locked(old);
	return 0;
}

/*
 * One step down for inode_refind(): np, evicted or not, found again as
 * its name in dir, which has a descriptor.  Both are referenced.  The
 * open and the check of what it opened are done without itab_lock.
 */
static int
inode_refind_step(struct inode *dir, struct inode *np)
{
	struct inode_id	 id;
	char		 name[NAME_MAX + 1];
	int		 fd, same, found;

	pthread_mutex_lock(&itab_lock);
	if (np->fd != -1) {
		pthread_mutex_unlock(&itab_lock);
		return 0;
	}
	if (np->up != dir || np->name == NULL) {
		pthread_mutex_unlock(&itab_lock);
		return ESTALE;
	}
	(void)strlcpy(name, np->name, sizeof(name));
	id = np->id;
	pthread_mutex_unlock(&itab_lock);
	fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	same = fd != -1 && inode_same(np, &id, fd) == 1;
	pthread_mutex_lock(&itab_lock);
	if (same && np->fd == -1) {
		np->fd = fd;
		nfds++;
		fd = -1;
	}
	found = np->fd != -1;
	inode_evict_locked();
	pthread_mutex_unlock(&itab_lock);
	if (fd != -1)
		close(fd);
	return found ? 0 : ESTALE;
}

/*
 * Gives the evicted node ip, which the caller references, a descriptor
 * again.  One climb under itab_lock takes the evicted nodes above it,
 * up to the nearest with a descriptor; then each name on the way down
 * is opened where it was last found, and must still be the same file.
 * A node keeps its reference until the next below it is found, so at
 * most two descriptors are held beyond the cap.  Returns 0 or ESTALE.
 */
static int
inode_refind(struct inode *ip)
{
	/* The evicted nodes from ip up; refind_lock. */
	static struct inode *chain[ITAB_DEPTH + 1];
	struct inode	*np, *dir = NULL;
	int		 i, n = 0, error = 0;

	pthread_mutex_lock(&refind_lock);
	pthread_mutex_lock(&itab_lock);
	for (np = ip; np->fd == -1; np = np->up) {
		if (n == ITAB_DEPTH + 1 || np->up == NULL || np->name == NULL) {
			error = ESTALE;
			break;
		}
		inode_ref_locked(np);
		chain[n++] = np;
	}
	if (error == 0)
		inode_ref_locked(dir = np);
	pthread_mutex_unlock(&itab_lock);
	for (i = n - 1; error == 0 && i >= 0; i--) {
		np = chain[i];
		error = inode_refind_step(dir, np);
		inode_put(dir);
		dir = np;
	}
	if (dir != NULL)
		inode_put(dir);
	for (; i >= 0; i--)
		inode_put(chain[i]);
	pthread_mutex_unlock(&refind_lock);
	log_debug("%s: node %#llx %s", __func__, (unsigned long long)ip->nodeid,
	    error == 0 ? "found again" : "not found again");
	return error;
}

/*
 * Where the next worker will look for the node: the name it was last
 * found under, in the directory node parent.  Returns 0, or an error
 * when the node, which has no other place, cannot be placed there: the
 * caller then undoes the lookup it took.
 */
int
inode_note_name(struct inode *ip, uint64_t parent, const char *name)
{
	struct inode	*dir;
	struct rs_node	*r;
	uint32_t	 idx = (uint32_t)parent;
	int		 error = 0;

	__atomic_store_n(&ip->parent, parent, __ATOMIC_RELAXED);
	pthread_mutex_lock(&itab_lock);
	if (idx != 0 && idx < hiwat && slots[idx].gen == parent >> 32 &&
	    (dir = slots[idx].ip) != NULL)
		error = inode_place_locked(ip, dir, name);
	if (error == 0 && (r = restart_node((uint32_t)ip->nodeid)) != NULL &&
	    slots[(uint32_t)ip->nodeid].ip == ip)
		restart_name(r, parent, name);
	pthread_mutex_unlock(&itab_lock);
	return error;
}

/* A lookup of name in dir that took *ipp, kept only if it has a place. */
static int
inode_lookup_place(struct inode *dir, const char *name, struct inode **ipp)
{
	int	 error;

	if ((error = inode_note_name(*ipp, dir->nodeid, name)) != 0) {
		log_debug("%s: node %#llx has no place in %#llx", __func__,
		    (unsigned long long)(*ipp)->nodeid,
		    (unsigned long long)dir->nodeid);
		inode_forget((*ipp)->nodeid, 1);
		inode_put(*ipp);
		*ipp = NULL;
	}
	return error;
}

/* After a rename through the mount: the node now at name in dir. */
void
inode_renamed(struct inode *dir, const char *name)
{
	struct inode	*ip;
	struct stat	 st;
	struct rs_node	*r;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	pthread_mutex_lock(&itab_lock);
	if ((ip = inode_hashed(st.st_dev, st.st_ino)) != NULL) {
		(void)inode_place_locked(ip, dir, name);
		if ((r = restart_node((uint32_t)ip->nodeid)) != NULL)
			restart_name(r, dir->nodeid, name);
	}
	pthread_mutex_unlock(&itab_lock);
}

void
inode_init(int rootfd)
{
	struct inode	*ip;
	struct stat	 st;

	if (fstat(rootfd, &st) == -1)
		fatal("%s: fstat", __func__);
	if ((ip = calloc(1, sizeof(*ip))) == NULL ||
	    (slots = calloc(ITAB_MIN, sizeof(*slots))) == NULL)
		fatal("%s", __func__);
	nslots = ITAB_MIN;
	inode_hash_grow();
	ip->fd = rootfd;
	ip->dev = st.st_dev;
	ip->ino = st.st_ino;
	ip->type = st.st_mode & S_IFMT;
	ip->nodeid = FUSE_ROOT_ID;
	ip->nlookup = 1;	/* never forgotten, see inode_forget() */
	ip->hnext = hash[inode_hashval(ip->dev, ip->ino)];
	hash[inode_hashval(ip->dev, ip->ino)] = ip;
	hashcount = 1;
	nfds = 1;
	slots[FUSE_ROOT_ID].ip = ip;
	hiwat = FUSE_ROOT_ID + 1;	/* index 0 is never a node */
	atomic_store(&wstats.nodes, 1);
}

/*
 * The recovery of the nodes of a restartable mount from their records;
 * state[] marks what is decided (RV_*).  Called before the threads
 * start.
 */
#define RV_TODO		0
#define RV_BUSY		1	/* being recovered: a loop if met again */
#define RV_OK		2
#define RV_LOST		3

/* The undecided nodes from one up; only before the threads start. */
static uint32_t		 rv_chain[ITAB_DEPTH + 1];

/* The parent index of record idx, or 0 if the record is unusable. */
static uint32_t
inode_recover_parent(uint32_t idx, uint32_t hi)
{
	struct rs_node	*r = restart_node(idx), *pr;
	uint32_t	 pidx = (uint32_t)r->parent;

	if (r->nlookup == 0 || memchr(r->name, '\0', sizeof(r->name)) == NULL)
		return 0;
	if (!name_is_valid(r->name) || pidx == 0 || pidx >= hi)
		return 0;
	if ((pr = restart_node(pidx)) == NULL || pr->gen != r->parent >> 32)
		return 0;
	return pidx;
}

/*
 * Node idx as its record has it, under its parent's node, which is
 * recovered.  It has no descriptor: it is found again when first used,
 * and checked then to be of the recorded (st_dev, st_ino) and type.
 * Opening every node here would take more descriptors than the worker
 * has.
 */
static int
inode_recover_node(uint32_t idx)
{
	struct rs_node	*r = restart_node(idx);
	struct inode	*dir, *ip;
	char		 name[sizeof(r->name)];
	uint32_t	 pidx = (uint32_t)r->parent;

	memcpy(name, r->name, sizeof(name));
	if ((dir = slots[pidx].ip) == NULL || dir->type != S_IFDIR)
		return 0;
	if (inode_hashed(r->dev, r->ino) != NULL ||
	    (ip = calloc(1, sizeof(*ip))) == NULL)
		return 0;
	ip->fd = -1;
	ip->dev = r->dev;
	ip->ino = r->ino;
	ip->type = r->type;
	ip->nodeid = (uint64_t)r->gen << 32 | idx;
	ip->nlookup = r->nlookup;
	if (inode_place_locked(ip, dir, name) != 0 || ip->up == NULL) {
		free(ip->name);
		free(ip);
		return 0;
	}
	/* Listed we know not when: as if after any listing. */
	ip->looked_at = ++itab_clock;
	slots[idx].ip = ip;
	slots[idx].gen = r->gen;
	if (++hashcount > hashsize)
		inode_hash_grow();
	ip->hnext = hash[inode_hashval(ip->dev, ip->ino)];
	hash[inode_hashval(ip->dev, ip->ino)] = ip;
	atomic_fetch_add(&wstats.nodes, 1);
	return 1;
}

/*
 * Node idx and the undecided ones above it: one climb, at most
 * ITAB_DEPTH, then recovered from the top down.  A chain deeper, or
 * with a loop or an unusable record, is lost.
 */
static void
inode_recover_one(uint32_t idx, uint32_t hi, unsigned char *state)
{
	uint32_t	 cur, n = 0;
	int		 ok;

	for (cur = idx; cur != FUSE_ROOT_ID && state[cur] == RV_TODO;
	    cur = inode_recover_parent(cur, hi)) {
		if (n == ITAB_DEPTH + 1 || inode_recover_parent(cur, hi) == 0) {
			state[cur] = RV_LOST;
			break;
		}
		state[cur] = RV_BUSY;
		rv_chain[n++] = cur;
	}
	ok = cur == FUSE_ROOT_ID || state[cur] == RV_OK;
	while (n-- > 0) {
		cur = rv_chain[n];
		ok = ok && inode_recover_node(cur);
		state[cur] = ok ? RV_OK : RV_LOST;
	}
}

/*
 * A new worker of a restartable mount: every node the kernel still
 * holds, put back where the last worker saw it, to be found again when
 * first used.  A node whose record or parent is unusable is lost now:
 * its slot's generation moves on and the kernel's id for it gets
 * ESTALE.  One not found then, or found to be another file, is ESTALE
 * as an evicted node is.  Returns the number lost now.
 */
uint32_t
inode_recover(void)
{
	struct rs_node	*r;
	unsigned char	*state;
	uint32_t	 hi = restart_node_hiwat(), idx, n;
	uint32_t	 lost = 0;

	if ((state = calloc(hi, 1)) == NULL)
		fatal("%s", __func__);
	if (hi > nslots) {
		for (n = nslots; n < hi; n *= 2)
			;
		if ((slots = reallocarray(slots, n, sizeof(*slots))) == NULL)
			fatal("%s", __func__);
		memset(slots + nslots, 0, (size_t)(n - nslots) *
		    sizeof(*slots));
		nslots = n;
	}
	pthread_mutex_lock(&itab_lock);
	for (idx = FUSE_ROOT_ID + 1; idx < hi; idx++)
		inode_recover_one(idx, hi, state);
	/* Backwards, so that the lowest free slots are used first. */
	for (idx = hi - 1; idx > FUSE_ROOT_ID; idx--) {
		if (state[idx] == RV_OK)
			continue;
		r = restart_node(idx);
		if (r->nlookup != 0) {
			lost++;
			r->gen++;
			r->nlookup = 0;
		}
		slots[idx].gen = r->gen;
		slots[idx].nextfree = freehead;
		freehead = idx;
	}
	hiwat = hi;
	pthread_mutex_unlock(&itab_lock);
	free(state);
	return lost;
}

/* A referenced node for a nodeid from the kernel, or NULL and ESTALE. */
struct inode *
inode_get(uint64_t nodeid, int *error)
{
	struct inode	*ip = NULL;
	uint32_t	 idx = (uint32_t)nodeid, gen = nodeid >> 32;
	int		 evicted = 0;

	pthread_mutex_lock(&itab_lock);
	if (idx != 0 && idx < hiwat && slots[idx].gen == gen &&
	    (ip = slots[idx].ip) != NULL && ip->nlookup > 0 && !ip->stale) {
		inode_ref_locked(ip);
		evicted = ip->fd == -1;
	} else
		ip = NULL;
	pthread_mutex_unlock(&itab_lock);
	if (ip == NULL) {
		log_debug("%s: stale node %#llx", __func__,
		    (unsigned long long)nodeid);
		*error = ESTALE;
	} else if (evicted && (*error = inode_refind(ip)) != 0) {
		inode_put(ip);
		ip = NULL;
	}
	return ip;
}

/* As inode_get(), for a node that must be a directory. */
struct inode *
inode_get_dir(uint64_t nodeid, int *error)
{
	struct inode	*dir;

	if ((dir = inode_get(nodeid, error)) == NULL)
		return NULL;
	if (dir->type != S_IFDIR) {
		inode_put(dir);
		*error = ENOTDIR;
		return NULL;
	}
	return dir;
}

/* A freed node's descriptor and backing id, with the table unlocked. */
static void
inode_release_fd(int fd, int32_t backing)
{
	if (backing > 0)
		passthrough_forget(backing, fd);
	if (fd != -1)
		close(fd);
}

/*
 * Called with the table locked: the slot is free; the caller passes
 * the descriptor returned and *backing to inode_release_fd().
 */
static int
inode_free_locked(struct inode *ip, int32_t *backing)
{
	struct rs_node	*r;
	uint32_t	 idx = (uint32_t)ip->nodeid;
	int		 fd = ip->fd;

	/* No open is left: a backing id here is one kept unused. */
	*backing = ip->backing_id;
	if (ip->on_lru)
		TAILQ_REMOVE(&lru, ip, lru);
	if (fd != -1)
		nfds--;
	if (ip->up != NULL)
		inode_drop_up_locked(ip->up);
	free(ip->name);
	slots[idx].ip = NULL;
	slots[idx].gen++;
	if ((r = restart_node(idx)) != NULL) {
		r->nlookup = 0;
		r->gen = slots[idx].gen;
	}
	slots[idx].nextfree = freehead;
	freehead = idx;
	atomic_fetch_sub(&wstats.nodes, 1);
	free(ip);
	return fd;
}

void
inode_put(struct inode *ip)
{
	int32_t	 backing = 0;
	int	 fd = -1;

	pthread_mutex_lock(&itab_lock);
	if (ip->refs == 0)
		fatalx("%s: node %#llx not referenced", __func__,
		    (unsigned long long)ip->nodeid);
	if (--ip->refs == 0) {
		if (ip->nlookup == 0 && ip->kids == 0)
			fd = inode_free_locked(ip, &backing);
		else
			inode_idle_locked(ip);
	}
	pthread_mutex_unlock(&itab_lock);
	inode_release_fd(fd, backing);
}

/* Called with the table locked. */
static int
inode_unhash(struct inode *ip)
{
	struct inode	**pp;

	for (pp = &hash[inode_hashval(ip->dev, ip->ino)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == ip) {
			*pp = ip->hnext;
			hashcount--;
			return 0;
		}
	}
	return -1;
}

/* The kernel takes one more lookup of ip, which we reference; itab_lock. */
static void
inode_take_lookup(struct inode *ip)
{
	ip->nlookup++;
	ip->looked_at = ++itab_clock;
	inode_ref_locked(ip);
	inode_record(ip);
}

/*
 * Adds one kernel reference to the node of fd's file, creating the node
 * if it has none.  fd is consumed.  On success *ipp is referenced.
 */
int
inode_add_fd(int fd, struct stat *st, struct inode **ipp)
{
	struct inode	*ip, *nip;
	size_t		 h;
	uint32_t	 idx;
	int		 same, error;

	if ((nip = calloc(1, sizeof(*nip))) == NULL) {
		close(fd);
		return ENOMEM;
	}
	pthread_mutex_lock(&itab_lock);
	if ((ip = inode_hashed(st->st_dev, st->st_ino)) != NULL &&
	    ip->fd == -1 && (same = inode_same(ip, &ip->id, fd)) != 1) {
		if (same == -1) {
			error = errno;
			pthread_mutex_unlock(&itab_lock);
			free(nip);
			close(fd);
			return error;
		}
		/* Another file has the number of one we lost sight of. */
		(void)inode_unhash(ip);
		ip->stale = 1;
		ip = NULL;
	}
	if (ip != NULL) {
		if (ip->fd == -1) {
			ip->fd = fd;
			nfds++;
			fd = -1;
		}
		inode_take_lookup(ip);
		inode_evict_locked();
		pthread_mutex_unlock(&itab_lock);
		free(nip);
		if (fd != -1)
			close(fd);
		*ipp = ip;
		return 0;
	}
	if ((idx = inode_slot_alloc()) == 0) {
		pthread_mutex_unlock(&itab_lock);
		free(nip);
		close(fd);
		return ENFILE;
	}
	nip->fd = fd;
	nip->dev = st->st_dev;
	nip->ino = st->st_ino;
	nip->type = st->st_mode & S_IFMT;
	nip->nodeid = (uint64_t)slots[idx].gen << 32 | idx;
	nip->nlookup = 1;
	nip->looked_at = ++itab_clock;
	nip->refs = 1;
	slots[idx].ip = nip;
	if (++hashcount > hashsize)
		inode_hash_grow();
	h = inode_hashval(nip->dev, nip->ino);
	nip->hnext = hash[h];
	hash[h] = nip;
	inode_record(nip);
	nfds++;
	inode_evict_locked();
	pthread_mutex_unlock(&itab_lock);
	atomic_fetch_add(&wstats.nodes, 1);
	*ipp = nip;
	return 0;
}

/*
 * The node we hold for what st describes, with one more lookup and a
 * reference, or NULL.  While we hold a node's descriptor its inode
 * lives, so no other file has its number on that device.
 */
static struct inode *
inode_held(const struct stat *st)
{
	struct inode	*ip;

	pthread_mutex_lock(&itab_lock);
	if ((ip = inode_hashed(st->st_dev, st->st_ino)) != NULL &&
	    ip->fd != -1 && ip->type == (st->st_mode & S_IFMT))
		inode_take_lookup(ip);
	else
		ip = NULL;
	pthread_mutex_unlock(&itab_lock);
	return ip;
}

/* name in dir opened O_PATH, not followed, and its stat; -1 and errno. */
static int
name_open(const struct inode *dir, const char *name, struct stat *st)
{
	int	 fd, error;

	if ((fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1) {
		error = errno;
		close(fd);
		errno = error;
		return -1;
	}
	return fd;
}

/* Whether we hold the node of (dev, ino), with its descriptor. */
static int
inode_open(dev_t dev, ino_t ino)
{
	struct inode	*ip;
	int		 held;

	pthread_mutex_lock(&itab_lock);
	held = (ip = inode_hashed(dev, ino)) != NULL && ip->fd != -1;
	pthread_mutex_unlock(&itab_lock);
	return held;
}

/*
 * One name in a directory node, never following a symlink.  The kernel
 * asks again about names it knows, each time their entry times out: a
 * name whose inode we hold is answered from its stat alone, and only a
 * name new to us is opened.  Which comes first is a guess: ino, if not
 * 0, is the name's inode number as the directory listed it; else what
 * the last lookup in the directory found, so that a first walk through
 * a tree costs no stat more than opening each name does.
 */
int
inode_lookup(struct inode *dir, const char *name, ino_t ino,
    struct stat *st, struct inode **ipp)
{
	int	 fd, error, held;

	if (ino != 0) {
		held = inode_open(dir->dev, ino);
	} else
		held = __atomic_load_n(&dir->lookup_held, __ATOMIC_RELAXED);
	if (held) {
		if (fstatat(dir->fd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
			return errno;
		if ((*ipp = inode_held(st)) != NULL) {
			log_debug("%s: node %llu found by its stat", __func__,
			    (unsigned long long)(*ipp)->nodeid);
			goto found;
		}
	}
	if ((fd = name_open(dir, name, st)) == -1)
		return errno;
	held = (*ipp = inode_held(st)) != NULL;
	if (held)
		close(fd);
	else if ((error = inode_add_fd(fd, st, ipp)) != 0)
		return error;
	if (ino == 0)
		__atomic_store_n(&dir->lookup_held, held, __ATOMIC_RELAXED);
found:
	return inode_lookup_place(dir, name, ipp);
}

/*
 * The first half of inode_lookup(), for a name a READDIRPLUS will most
 * likely list next: a name whose inode number ino we hold is only
 * stat'ed (*fdp is -1), any other opened (*fdp its descriptor).
 */
int
inode_lookup_ahead(struct inode *dir, const char *name, ino_t ino,
    struct stat *st, int *fdp)
{
	int	 held;

	held = inode_open(dir->dev, ino);
	*fdp = -1;
	if (held)
		return fstatat(dir->fd, name, st, AT_SYMLINK_NOFOLLOW) == -1 ?
		    errno : 0;
	return (*fdp = name_open(dir, name, st)) == -1 ? errno : 0;
}

/*
 * The second half, when the READDIRPLUS comes: the node of what was
 * found, which takes fd.  A node no longer held is looked up afresh.
 */
int
inode_lookup_finish(struct inode *dir, const char *name, int fd,
    struct stat *st, struct inode **ipp)
{
	int	 error;

	if (fd == -1) {
		if ((*ipp = inode_held(st)) == NULL)
			return inode_lookup(dir, name, 0, st, ipp);
	} else if ((error = inode_add_fd(fd, st, ipp)) != 0)
		return error;
	return inode_lookup_place(dir, name, ipp);
}

/*
 * The kernel forgot ip, with itab_lock held: a listing of its directory
 * that the kernel keeps (cache=always) may now hold a name without a
 * dentry, which a walk would look up alone.  Then the next OPENDIR has
 * the kernel drop that listing and read it again with READDIRPLUS,
 * which brings the entries back in batches.
 *
 * Only if the kernel took its last lookup of ip after the listing began
 * to be read.  A lookup it forgot before is no loss: when the listing
 * reached the name it looked it up again (as a new node, or as ip, which
 * then was not forgotten), and so it does when a walk just after a drop
 * of the caches reads the listing while we are still freeing the nodes
 * the kernel dropped.
 */
static void
inode_forgot_locked(const struct inode *ip)
{
	uint64_t	 parent = __atomic_load_n(&ip->parent, __ATOMIC_RELAXED);
	uint32_t	 idx = (uint32_t)parent, gen = parent >> 32;
	struct inode	*dir;

	if (idx != 0 && idx < hiwat && slots[idx].gen == gen &&
	    (dir = slots[idx].ip) != NULL && ip->looked_at > dir->listed_at)
		dir->forgot_at = ++itab_clock;
}

/* Whether the kernel forgot a child of dir it had since its listing. */
int
inode_forgot_child(struct inode *dir)
{
	int	 forgot;

	pthread_mutex_lock(&itab_lock);
	forgot = dir->forgot_at > dir->listed_at;
	pthread_mutex_unlock(&itab_lock);
	return forgot;
}

/* The kernel reads dir's listing from the start. */
void
inode_listing_starts(struct inode *dir)
{
	pthread_mutex_lock(&itab_lock);
	dir->listed_at = ++itab_clock;
	pthread_mutex_unlock(&itab_lock);
}

void
inode_forget(uint64_t nodeid, uint64_t nlookup)
{
	struct inode	*ip;
	uint32_t	 idx = (uint32_t)nodeid, gen = nodeid >> 32;
	int32_t		 backing = 0;
	int		 fd = -1;

	pthread_mutex_lock(&itab_lock);
	if (idx == 0 || idx >= hiwat || slots[idx].gen != gen ||
	    (ip = slots[idx].ip) == NULL || ip->nlookup == 0) {
		pthread_mutex_unlock(&itab_lock);
		log_warnx("%s: stale node %#llx", __func__,
		    (unsigned long long)nodeid);
		return;
	}
	/* The root was never looked up: it stays for the mount's life. */
	if (nodeid != FUSE_ROOT_ID) {
		if (nlookup > ip->nlookup) {
			log_warnx("%s: node %#llx: forget %llu of %llu",
			    __func__, (unsigned long long)nodeid,
			    (unsigned long long)nlookup,
			    (unsigned long long)ip->nlookup);
			nlookup = ip->nlookup;
		}
		ip->nlookup -= nlookup;
		inode_record(ip);
		if (ip->nlookup == 0) {
			inode_forgot_locked(ip);
			if (!ip->stale && inode_unhash(ip) == -1)
				fatalx("%s: node %#llx not hashed", __func__,
				    (unsigned long long)nodeid);
			if (ip->refs == 0 && ip->kids == 0)
				fd = inode_free_locked(ip, &backing);
		}
	}
	pthread_mutex_unlock(&itab_lock);
	inode_release_fd(fd, backing);
}

int
inode_stat(const struct inode *ip, struct stat *st)
{
	if (fstatat(ip->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		return errno;
	return 0;
}

/* Another descriptor for fd's file through its magic link. */
static int
proc_reopen(int fd, int flags)
{
	char	 name[16];

	(void)snprintf(name, sizeof(name), "%d", fd);
	return openat(wconf->proc_fd, name, flags | O_CLOEXEC);
}

/*
 * An open descriptor for a node.  Only regular files and directories
 * are ever opened: a device node, FIFO or socket in the tree is never
 * opened by the worker (the kernel does not send OPEN for them; if it
 * did, the answer is what a nodev mount would give).  A directory too
 * is reopened through its magic link: "." from it would need search
 * permission, which listing it does not.  Returns -1 with errno set on
 * failure.
 */
int
inode_reopen(const struct inode *ip, int flags)
{
	switch (ip->type) {
	case S_IFDIR:
		return proc_reopen(ip->fd, flags | O_DIRECTORY);
	case S_IFREG:
		return proc_reopen(ip->fd, flags & ~(O_CREAT | O_EXCL));
	case S_IFLNK:
		errno = ELOOP;
		return -1;
	case S_IFSOCK:
		errno = ENXIO;
		return -1;
	default:
		errno = EACCES;
		return -1;
	}
}

/* An O_PATH descriptor for an open file, e.g. one just created. */
int
fd_reopen_path(int fd)
{
	return proc_reopen(fd, O_PATH);
}

int
inode_chmod(const struct inode *ip, mode_t mode)
{
	char	 name[16];

	/* Linux keeps no mode on symlinks; lchmod(3) says the same. */
	if (ip->type == S_IFLNK)
		return EOPNOTSUPP;
	(void)snprintf(name, sizeof(name), "%d", ip->fd);
	if (fchmodat(wconf->proc_fd, name, mode, 0) == -1)
		return errno;
	return 0;
}

/*
 * A new name for a node.  linkat(AT_EMPTY_PATH) needs privilege on older
 * kernels; the magic link works for anyone who may link the file.
 */
int
inode_link(const struct inode *ip, int dirfd, const char *name)
{
	char	 path[16];

	if (linkat(ip->fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return errno;
	(void)snprintf(path, sizeof(path), "%d", ip->fd);
	if (linkat(wconf->proc_fd, path, dirfd, name, AT_SYMLINK_FOLLOW) == -1)
		return errno;
	return 0;
}

/*
 * The path the xattr calls use for a node: they have no *at() form in
 * our libc, and following the magic link reaches the node itself
 * (symlinks included) without opening it.  The name is relative: the
 * working directory is the descriptor directory (sandbox.c), and there
 * is no /proc in the worker's root.
 */
int
inode_xattr_path(const struct inode *ip, char *buf, size_t size)
{
	int	 n;

	n = snprintf(buf, size, "%d", ip->fd);
	if (n < 0 || (size_t)n >= size)
		return ENAMETOOLONG;
	return 0;
}
