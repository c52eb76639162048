/*
 * fsmonitor.conf(5): read by the root processes only; the parent gets
 * the policy from fsmount and names static mounts by index.
 */

#ifndef CONF_H
#define CONF_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>

#include "mntopt.h"

#define CONF_MOUNT_MAX_DEFAULT	1000
#define CONF_MOUNT_MAX_LIMIT	100000
#define CONF_STATIC_MAX		256

struct conf_static {
	char		*source;
	char		*mountpoint;
	char		*options;	/* canonical */
	struct mntopts	 opts;
	int		 line;
};

struct conf {
	int			 user_allow_other;
	unsigned int		 mount_max;
	int			 allow_all;	/* no allow line */
	uid_t			*allow_uids;
	size_t			 nallow_uids;
	gid_t			*allow_gids;
	size_t			 nallow_gids;
	struct conf_static	*statics;
	size_t			 nstatics;
};

void	 conf_init(struct conf *);
int	 conf_parse(const char *, struct conf *);
void	 conf_free(struct conf *);
void	 conf_print(FILE *, const struct conf *);
int	 conf_allows(const struct conf *, uid_t, gid_t, const gid_t *,
	    size_t);

#endif /* CONF_H */
