/*
 * Restart in place (-o restart).  fsmount keeps the mount's FUSE
 * descriptor when a worker dies and starts another on it; the kernel
 * still holds the node ids and file handles the dead one gave out, and
 * the requests it had read but not answered.  So every worker of such a
 * mount keeps, in a memfd that fsmount made and keeps
 * (FSWORKER_STATE_FD), what the next one needs to take over:
 *
 *   - what INIT settled on, since the kernel sends INIT only once;
 *   - for every node slot, its generation and, while the kernel holds
 *     it, its lookup count, (st_dev, st_ino), type, and the directory
 *     node and name it was last found under;
 *   - for every handle slot, its generation and, while it is open, its
 *     node, open flags, kind and backing id.
 *
 * The records are written under the node and handle table locks, as
 * the tables change (inode.c, handle.c).  A new worker reads them before
 * its threads start: it finds each node again from the root, name by
 * name, and keeps it only if it is still the same (st_dev, st_ino);
 * reopens each handle on its node; then asks the kernel to send the
 * unanswered requests again (FUSE_NOTIFY_RESEND).  A node or handle not
 * found again keeps its slot's generation moving on, so the kernel's
 * id for it only ever misses (ESTALE, EBADF).
 *
 * The state comes from the previous worker of the same mount and owner,
 * which may have died anywhere, and is read as untrusted: every index
 * and name is checked before use.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "fsproto.h"
#include "fsmsg.h"
#include "fsworker.h"

#define RS_MAGIC	0x73726d66U	/* "fmrs" */
#define RS_VERSION	2	/* 2: a handle records its uid */
#define RS_HEADER_SIZE	4096
#define RS_HANDLES	65536U

struct rs_header {
	uint32_t	 magic;
	uint32_t	 version;
	uint32_t	 nnodes;	/* capacity of each table */
	uint32_t	 nhandles;
	uint32_t	 node_hiwat;	/* slots ever used */
	uint32_t	 handle_hiwat;
	uint32_t	 restarts;	/* workers that took over */
	uint32_t	 initialized;	/* the INIT outcome below is set */
	uint64_t	 flags;
	uint32_t	 minor;
	uint32_t	 max_write;
	uint32_t	 max_read;
	uint32_t	 resend;	/* the kernel has FUSE_NOTIFY_RESEND */
};

static unsigned char	*rs_base;
static struct rs_header	*rs_hdr;
static struct rs_node	*rs_nodes;
static struct rs_handle	*rs_handles;
static int		 rs_recovering;

/*
 * Before the sandbox: map the state, and lay it out if this is the
 * mount's first worker.
 */
void
restart_init(struct worker_conf *c)
{
	struct stat	 st;
	void		*p;
	size_t		 nodes;

	if (!c->restart) {
		(void)close(FSWORKER_STATE_FD);
		return;
	}
	if (fstat(FSWORKER_STATE_FD, &st) == -1)
		fatal("restart state descriptor %d", FSWORKER_STATE_FD);
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)FSMSG_STATE_SIZE)
		fatalx("descriptor %d is not the restart state",
		    FSWORKER_STATE_FD);
	p = mmap(NULL, FSMSG_STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    FSWORKER_STATE_FD, 0);
	if (p == MAP_FAILED)
		fatal("%s: mmap", __func__);
	close(FSWORKER_STATE_FD);
	rs_base = p;
	rs_hdr = p;
	nodes = (FSMSG_STATE_SIZE - RS_HEADER_SIZE -
	    RS_HANDLES * sizeof(struct rs_handle)) / sizeof(struct rs_node);
	rs_handles = (struct rs_handle *)(rs_base + RS_HEADER_SIZE);
	rs_nodes = (struct rs_node *)(rs_base + RS_HEADER_SIZE +
	    RS_HANDLES * sizeof(struct rs_handle));
	if (rs_hdr->magic == 0) {
		rs_hdr->version = RS_VERSION;
		rs_hdr->nnodes = nodes;
		rs_hdr->nhandles = RS_HANDLES;
		rs_hdr->node_hiwat = FUSE_ROOT_ID + 1;
		rs_hdr->handle_hiwat = 1;
		__atomic_store_n(&rs_hdr->magic, RS_MAGIC, __ATOMIC_RELEASE);
		return;
	}
	if (rs_hdr->magic != RS_MAGIC || rs_hdr->version != RS_VERSION ||
	    rs_hdr->nnodes != nodes || rs_hdr->nhandles != RS_HANDLES ||
	    rs_hdr->node_hiwat < FUSE_ROOT_ID + 1 ||
	    rs_hdr->node_hiwat > nodes || rs_hdr->handle_hiwat < 1 ||
	    rs_hdr->handle_hiwat > RS_HANDLES)
		fatalx("%s: restart state unusable", c->mountpoint);
	rs_recovering = 1;
	rs_hdr->restarts++;
	log_info("%s: taking over (restart %u)", c->mountpoint,
	    rs_hdr->restarts);
}

int
restart_active(void)
{
	return rs_hdr != NULL;
}

/* Whether this worker takes over from another. */
int
restart_recovering(void)
{
	return rs_recovering;
}

/* The capacity of the node table, or 0 for no limit. */
uint32_t
restart_node_capacity(void)
{
	return rs_hdr != NULL ? rs_hdr->nnodes : 0;
}

uint32_t
restart_handle_capacity(void)
{
	return rs_hdr != NULL ? rs_hdr->nhandles : 0;
}

/* Called as INIT is answered. */
void
restart_save_session(const struct fuse_sess *s)
{
	if (rs_hdr == NULL)
		return;
	rs_hdr->minor = s->minor;
	rs_hdr->flags = s->flags;
	rs_hdr->max_write = s->max_write;
	rs_hdr->max_read = s->max_read;
	rs_hdr->resend = (s->offered & FUSE_HAS_RESEND) != 0;
	__atomic_store_n(&rs_hdr->initialized, 1, __ATOMIC_RELEASE);
}

/* What the first worker's INIT settled on; -1 if it never answered. */
int
restart_load_session(struct fuse_sess *s)
{
	if (rs_hdr == NULL || !rs_hdr->initialized)
		return -1;
	if (rs_hdr->max_write == 0 || rs_hdr->max_write > FSWORKER_MAX_WRITE ||
	    rs_hdr->max_read == 0 || rs_hdr->max_read > FSWORKER_MAX_WRITE ||
	    rs_hdr->minor > FSWORKER_FUSE_MINOR)
		fatalx("%s: restart state: bad session", __func__);
	s->minor = rs_hdr->minor;
	s->flags = rs_hdr->flags;
	s->max_write = rs_hdr->max_write;
	s->max_read = rs_hdr->max_read;
	s->offered = rs_hdr->resend ? FUSE_HAS_RESEND : 0;
	return 0;
}

/* The record of node slot idx, or NULL past the capacity. */
struct rs_node *
restart_node(uint32_t idx)
{
	if (rs_hdr == NULL || idx >= rs_hdr->nnodes)
		return NULL;
	return &rs_nodes[idx];
}

struct rs_handle *
restart_handle(uint32_t idx)
{
	if (rs_hdr == NULL || idx >= rs_hdr->nhandles)
		return NULL;
	return &rs_handles[idx];
}

uint32_t
restart_node_hiwat(void)
{
	return rs_hdr != NULL ? rs_hdr->node_hiwat : 0;
}

uint32_t
restart_handle_hiwat(void)
{
	return rs_hdr != NULL ? rs_hdr->handle_hiwat : 0;
}

/* Called with the table locked, as it grows. */
void
restart_set_node_hiwat(uint32_t hiwat)
{
	if (rs_hdr != NULL)
		rs_hdr->node_hiwat = hiwat;
}

void
restart_set_handle_hiwat(uint32_t hiwat)
{
	if (rs_hdr != NULL)
		rs_hdr->handle_hiwat = hiwat;
}

/*
 * The directory node and name a node was found under, for the next
 * worker to find it again.  "." and ".." name no new place.
 */
void
restart_name(struct rs_node *r, uint64_t parent, const char *name)
{
	size_t	 len = strlen(name);

	if (len >= sizeof(r->name) || !name_is_valid(name))
		return;
	r->parent = 0;
	memcpy(r->name, name, len + 1);
	r->parent = parent;
}

/*
 * After the state is recovered: the kernel sends again what the dead
 * worker had read and not answered.  Those it had answered in part
 * (a WRITE done, its reply lost) run a second time.
 */
void
restart_resend(int fd)
{
	struct fuse_out_header	 oh;

	memset(&oh, 0, sizeof(oh));
	oh.len = sizeof(oh);
	oh.error = FUSE_NOTIFY_RESEND;
	if (write(fd, &oh, sizeof(oh)) != (ssize_t)sizeof(oh))
		log_warn("%s: FUSE_NOTIFY_RESEND", __func__);
}
