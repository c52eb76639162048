/*
 * conform: what the checks share.  The checks are in check_*.c, one file
 * per kind.  Each runs in its own directory, DIR/name, made by root with
 * mode 0755, and prints one line; usr is the user and oth the other one.
 */

#ifndef CONFORM_H
#define CONFORM_H

#include <sys/types.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stddef.h>
#include <time.h>

#define NOGID		((gid_t)-1)
#define NOUID		((uid_t)-1)

/* The times fixtures start with, and the one checks set explicitly. */
#define T0_SEC		1000000000
#define T1_SEC		1234567890
#define T1_NSEC		500000000

/* How far from the clock a timestamp may be and still be "now". */
#define NOW_SLACK	10

/* What attr() prints of a node. */
#define A_TYPE		0x001
#define A_MODE		0x002
#define A_OWN		0x004
#define A_NLINK		0x008
#define A_SIZE		0x010
#define A_RDEV		0x020
#define A_ATIME		0x040
#define A_MTIME		0x080
#define A_CTIME		0x100
#define A_NODE		(A_MODE | A_OWN | A_NLINK)

struct who {
	const char	*name;
	uid_t		 uid;
	gid_t		 gid;
};

/* One operation a child performs; what each field means is per op_*. */
struct op {
	const char		*path;
	const char		*path2;
	int			 flags;
	mode_t			 mode;
	dev_t			 dev;
	off_t			 len;
	uid_t			 uid;
	gid_t			 gid;
	const struct timespec	*ts;
	const char		*data;
	int			 how;
};

#define HOW_SEEK0	1	/* lseek to 0 before writing */
#define HOW_PWRITE0	2	/* pwrite at offset 0 */
#define HOW_FTRUNC	3	/* ftruncate to len instead of writing */

struct res {
	int		 rv;
	int		 err;
	int		 done;		/* the child reported */
};

typedef int	 opfn(const struct op *);

struct check {
	const char	*name;
	void		(*fn)(void);
};

extern struct who		 root;
extern struct who		 usr;	/* the user, fsmtest */
extern struct who		 oth;	/* the other user, fsmtest2 */

/* Per check, reset before each one. */
extern mode_t			 cur_umask;
extern gid_t			 cur_extra;
extern struct stat		 before;
extern jmp_buf			 fxjmp;
extern int			 in_line;

extern const struct timespec	 t_now[2];
extern const struct timespec	 t_set[2];

/* The checks, kind by kind. */
extern const struct check	 perm_checks[];
extern const size_t		 perm_nchecks;
extern const struct check	 name_checks[];
extern const size_t		 name_nchecks;
extern const struct check	 attr_checks[];
extern const size_t		 attr_nchecks;

/* conform.c */
void	 fx_done(void);
void	 fx_check_early(const char *);

/* report.c */
const char	*ename(int);
void	 begin(const char *);
void	 end(void);
void	 out(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void	 p_rv(struct res);
void	 p_res(const char *, struct res);
void	 attr(const char *, const char *, int);
void	 p_exists(const char *, const char *);
void	 p_data(const char *, const char *);
void	 p_readlink(const char *, const char *);
void	 p_xattr(const char *, const char *, const char *);
void	 p_xattrs(const char *, const char *);
void	 p_names(const char *, const char *);

/* fixture.c */
void	 fx_fail(const char *, const char *) __attribute__((__noreturn__));
void	 fx_own(const char *, uid_t, gid_t, mode_t);
void	 fx_dir(const char *, mode_t, uid_t, gid_t);
void	 fx_file(const char *, mode_t, uid_t, gid_t, const char *);
void	 fx_symlink(const char *, const char *);
void	 fx_node(const char *, mode_t, dev_t);
void	 fx_link(const char *, const char *);
void	 fx_old(const char *);
void	 fx_xattr(const char *, const char *, const void *, size_t);
void	 snap(const char *);

/* run.c */
struct res	 run(const struct who *, opfn *, const struct op *);
int	 op_open(const struct op *);
int	 op_tmpfile(const struct op *);
int	 op_mkdir(const struct op *);
int	 op_mknod(const struct op *);
int	 op_symlink(const struct op *);
int	 op_link(const struct op *);
int	 op_unlink(const struct op *);
int	 op_rmdir(const struct op *);
int	 op_rename(const struct op *);
int	 op_chmod(const struct op *);
int	 op_chown(const struct op *);
int	 op_utimens(const struct op *);
int	 op_truncate(const struct op *);
int	 op_setxattr(const struct op *);
int	 op_getxattr(const struct op *);
int	 op_removexattr(const struct op *);
int	 op_access(const struct op *);
int	 op_stat(const struct op *);
int	 op_opendir(const struct op *);
struct res	 as_open(const struct who *, const char *, int, mode_t,
	    const char *);
struct res	 as_path(const struct who *, opfn *, const char *, mode_t);
struct res	 as_paths(const struct who *, opfn *, const char *,
	    const char *, int);
struct res	 as_mknod(const struct who *, const char *, mode_t, dev_t);
struct res	 as_chown(const struct who *, const char *, uid_t, gid_t,
	    int);
struct res	 as_utimens(const struct who *, const char *,
	    const struct timespec *, int);
struct res	 as_truncate(const struct who *, const char *, off_t);
struct res	 as_ftruncate(const struct who *, const char *, int, off_t);
struct res	 as_setxattr(const struct who *, const char *, const char *,
	    const char *);
struct res	 as_access(const struct who *, const char *, int);

#endif /* CONFORM_H */
