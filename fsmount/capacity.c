/*
 * How many mounts fsmount can hold: each costs descriptors, and a
 * mount refused for want of one is better than a mount that fails
 * half-way, or a worker, a backing file or the parent's next request
 * that finds none.  A mount is refused, before anything is done for
 * it, unless its descriptors fit under the limit with the reserve
 * still free.
 *
 * What fsmount holds, and for how long:
 *
 *	always		standard input, output and error; the parent's
 *			channel; the signalfd; the syslog socket unless -d
 *			(counted at start, not assumed)
 *	per mount	FSMOUNT_FDS_MOUNT: the FUSE device, the mountpoint's
 *			parent (O_PATH), the worker's channel for backing
 *			files, and a backing file in transit on it (a
 *			worker that leaves more unclaimed is killed)
 *	with restart	FSMOUNT_FDS_RESTART more: the state memfd and the
 *			source, for the next worker
 *	in the channel	the parent's descriptors not yet claimed and the
 *			workers' channels not yet sent to it
 *	for a moment	FSMOUNT_FDS_RESERVE: one request's client socket,
 *			source and mountpoint; the filesystem context, the
 *			detached mount and its check through /proc; two
 *			socketpairs for a new worker; the user and group
 *			files; a backing file's O_PATH copy; the
 *			configuration on reload
 *
 * A mount unmounted while its worker finishes still holds what it has
 * not closed, and is counted as such.  Workers are started with the
 * limits fsmount was given, not the raised ones.
 */

#include <sys/types.h>
#include <sys/resource.h>

#include <stdio.h>

#include "fsmount.h"
#include "fdlimit.h"

/* The descriptors m holds now, and may still receive on its channel. */
static int
capacity_mount_fds(const struct fsm_mount *m)
{
	int	n = 0, inflight;

	n += m->fuse_fd != -1;
	n += m->parent_fd != -1;
	n += m->state_fd != -1;
	n += m->src_fd != -1;
	if (m->wchan_open) {
		inflight = fsproto_chan_fds(&m->wchan);
		n += 1 + (inflight > 1 ? inflight : 1);
	}
	return (n);
}

/* What fsmount holds now, but for the reserve. */
static long
capacity_held(unsigned int *nmounts)
{
	struct fsm_mount	*m;
	long			 n;

	n = env->fd_base + fsproto_chan_fds(&env->chan);
	*nmounts = 0;
	TAILQ_FOREACH(m, &env->mounts, entry) {
		n += capacity_mount_fds(m);
		(*nmounts)++;
	}
	return (n);
}

/* Mounts that fit in a limit, all of one kind. */
static unsigned long
capacity_mounts(rlim_t limit, int per_mount)
{
	long	room = (long)limit - env->fd_base - FSMOUNT_FDS_RESERVE;

	return (room > 0 ? (unsigned long)room / per_mount : 0);
}

/*
 * At start, before the sandbox takes CAP_SYS_RESOURCE: room for
 * mount_max mounts and every static one, all restartable, if the
 * limit can be raised so far; the soft limit up to the hard one.
 */
void
capacity_init(void)
{
	const struct conf	*c = &env->conf;
	rlim_t			 need;

	if ((env->fd_base = fdlimit_count()) == -1)
		fatal("%s: /proc/self/fd", __func__);
	need = (rlim_t)env->fd_base + FSMOUNT_FDS_RESERVE +
	    ((rlim_t)c->mount_max + c->nstatics) *
	    (FSMOUNT_FDS_MOUNT + FSMOUNT_FDS_RESTART);
	env->fd_limit = fdlimit_raise(need, &env->worker_nofile);
	log_info("descriptor limit %llu (was %llu, hard %llu): room for %lu "
	    "mounts, %lu with restart", (unsigned long long)env->fd_limit,
	    (unsigned long long)env->worker_nofile.rlim_cur,
	    (unsigned long long)env->worker_nofile.rlim_max,
	    capacity_mounts(env->fd_limit, FSMOUNT_FDS_MOUNT),
	    capacity_mounts(env->fd_limit,
	    FSMOUNT_FDS_MOUNT + FSMOUNT_FDS_RESTART));
	capacity_check_conf(c);
}

/* A configuration whose users could not all have their mounts. */
void
capacity_check_conf(const struct conf *c)
{
	unsigned long	fit;

	fit = capacity_mounts(env->fd_limit, FSMOUNT_FDS_MOUNT);
	if ((unsigned long)c->mount_max + c->nstatics > fit)
		log_warnx("mount_max %u and %zu static mounts: the descriptor "
		    "limit %llu holds %lu mounts", c->mount_max, c->nstatics,
		    (unsigned long long)env->fd_limit, fit);
}

/*
 * Whether another mount fits; EMFILE and why not if it does not.  The
 * parent checks its own descriptors first, for the same message.
 */
int
capacity_check(int restart, char *err, size_t errlen)
{
	unsigned int	nmounts;
	long		held;

	held = capacity_held(&nmounts);
	if (held + FSMOUNT_FDS_MOUNT + (restart ? FSMOUNT_FDS_RESTART : 0) +
	    FSMOUNT_FDS_RESERVE <= (long)env->fd_limit)
		return (0);
	return (fdlimit_refuse(err, errlen, nmounts, env->fd_limit));
}
