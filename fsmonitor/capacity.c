/*
 * The parent's descriptors.  A descriptor fsmount passes the parent
 * that does not fit is lost (the kernel truncates the message, and a
 * broken channel to fsmount is fatal), so the parent never lets mounts
 * or clients take the last of them.  Its budget, once the descriptors
 * it always holds and a reserve are set aside, is split: half for
 * clients (at most what CLIENTS_MAX of them can hold), the rest for
 * mounts.
 *
 * What the parent holds, and for how long:
 *
 *	always		standard input, output and error; the control
 *			socket; the signalfd; the channel to fsmount; the
 *			syslog and service manager's sockets (counted at
 *			start, not assumed)
 *	per mount	PARENT_FDS_MOUNT: its worker's channel; any
 *			request on its way to fsmount counts as one, in
 *			case it is a mount
 *	per client	PARENT_FDS_CLIENT at most: its connection, the
 *			source it sent, and while its request is on its way
 *			to fsmount, a copy of its connection, the source and
 *			the mountpoint; one more received with a frame not
 *			yet whole (a client that leaves two is cut off)
 *	for a moment	PARENT_FDS_RESERVE: a restarted worker's channel
 *			before the old one is closed; fsmount's descriptors
 *			not yet claimed
 *
 * fsmount's own limit, with four or more descriptors per mount, is
 * normally reached first; this check keeps the parent whole if it is
 * not.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <stdio.h>
#include <time.h>

#include "fsmonitor.h"
#include "fdlimit.h"

/* Seconds accepting waits after accept(2) found no descriptor. */
#define PARENT_ACCEPT_PAUSE	1

/* Milliseconds left of a pause of accepting. */
static long
capacity_pause_left(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((env->accept_paused.tv_sec - now.tv_sec) * 1000 +
	    (env->accept_paused.tv_nsec - now.tv_nsec) / 1000000);
}

static long
capacity_room(void)
{
	long	room;

	room = (long)env->fd_limit - env->fd_base - PARENT_FDS_RESERVE;
	return (room > 0 ? room : 0);
}

static long
capacity_client_room(void)
{
	long	room = capacity_room() / 2;

	if (room > (long)CLIENTS_MAX * PARENT_FDS_CLIENT)
		room = (long)CLIENTS_MAX * PARENT_FDS_CLIENT;
	return (room);
}

/* Mounts held, and mount requests that will be held if fsmount agrees. */
static long
capacity_mount_fds(unsigned int *held)
{
	struct client	*c;
	struct mnt	*m;
	long		 n = 0;

	*held = 0;
	TAILQ_FOREACH(m, &env->mnts, entry)
		if (m->has_chan) {
			n += PARENT_FDS_MOUNT;
			(*held)++;
		}
	TAILQ_FOREACH(c, &env->clients, entry)
		if (c->state == CL_BUSY)
			n += PARENT_FDS_MOUNT;
	return (n + fsproto_chan_fds(&env->fsmount));
}

/*
 * At start, as root, before fsmount is told anything: room for
 * mount_max mounts, every static one and every client, if the limit
 * can be raised so far.
 */
void
capacity_init(const struct conf *c)
{
	struct rlimit	orig;
	rlim_t		clients, mounts;

	if ((env->fd_base = fdlimit_count()) == -1)
		fatal("%s: /proc/self/fd", __func__);
	/* Half for clients, capped: twice the larger share fits both. */
	clients = (rlim_t)CLIENTS_MAX * PARENT_FDS_CLIENT;
	mounts = ((rlim_t)c->mount_max + c->nstatics) * PARENT_FDS_MOUNT;
	env->fd_limit = fdlimit_raise((rlim_t)env->fd_base +
	    PARENT_FDS_RESERVE + 2 * (clients > mounts ? clients : mounts),
	    &orig);
	log_debug("descriptor limit %llu (was %llu, hard %llu): room for "
	    "%ld mounts, %ld clients", (unsigned long long)env->fd_limit,
	    (unsigned long long)orig.rlim_cur,
	    (unsigned long long)orig.rlim_max,
	    (capacity_room() - capacity_client_room()) / PARENT_FDS_MOUNT,
	    capacity_client_room() / PARENT_FDS_CLIENT);
}

/* Whether one more mount fits; EMFILE and why not if it does not. */
int
capacity_mount_check(char *err, size_t errlen)
{
	unsigned int	held;

	if (capacity_mount_fds(&held) + PARENT_FDS_MOUNT <=
	    capacity_room() - capacity_client_room())
		return (0);
	return (fdlimit_refuse(err, errlen, held, env->fd_limit));
}

/*
 * Whether to listen for another client: not while those connected could
 * take the last of the clients' descriptors, nor for a while after
 * accept(2) found none (it would only fail again at once).  At
 * CLIENTS_MAX a client is accepted to be closed at once, with a
 * descriptor of the reserve.
 */
int
capacity_may_accept(void)
{
	if (env->nclients < CLIENTS_MAX &&
	    (long)(env->nclients + 1) * PARENT_FDS_CLIENT >
	    capacity_client_room())
		return (0);
	if (env->accept_paused.tv_sec == 0)
		return (1);
	if (capacity_pause_left() > 0)
		return (0);
	env->accept_paused.tv_sec = 0;
	return (1);
}

void
capacity_accept_pause(void)
{
	clock_gettime(CLOCK_MONOTONIC, &env->accept_paused);
	env->accept_paused.tv_sec += PARENT_ACCEPT_PAUSE;
}

/* The poll(2) timeout that ends a pause of accepting, or -1. */
int
capacity_poll_timeout(void)
{
	long	ms;

	if (env->accept_paused.tv_sec == 0)
		return (-1);
	ms = capacity_pause_left();
	return (ms > 0 ? (int)ms + 1 : 0);
}
