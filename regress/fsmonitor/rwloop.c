/*
 * rwloop: a process that keeps working in a mount while its worker is
 * killed and restarted.  For the given number of seconds it writes a
 * record to a file it keeps open, fsyncs it and reads it back, creates
 * and writes a small file by name, and lists the directory.  Every
 * failed call is one failed operation.
 *
 * usage: rwloop dir seconds
 * Prints "iterations N", "failures F", then "lost I" for each record
 * whose write or fsync failed (the rest must be in the backing file).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECLEN	16
#define MAXREC	1000000

static unsigned long	 failures;

static void
failed(const char *what, unsigned long i)
{
	failures++;
	fprintf(stderr, "rwloop: iteration %lu: %s: %s\n", i, what,
	    strerror(errno));
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Returns 0 if record i is written and synced. */
static int
record(int fd, unsigned long i)
{
	char	 rec[RECLEN + 1], back[RECLEN];
	ssize_t	 n;

	snprintf(rec, sizeof(rec), "rec %011lu\n", i);
	if (pwrite(fd, rec, RECLEN, (off_t)i * RECLEN) != RECLEN) {
		failed("pwrite", i);
		return -1;
	}
	if (fsync(fd) == -1) {
		failed("fsync", i);
		return -1;
	}
	if ((n = pread(fd, back, RECLEN, (off_t)i * RECLEN)) != RECLEN)
		failed("pread", i);
	else if (memcmp(rec, back, RECLEN) != 0) {
		errno = EILSEQ;
		failed("read back", i);
	}
	return 0;
}

static void
small_file(const char *dir, unsigned long i)
{
	char	 path[4096], buf[32];
	int	 fd, len;

	snprintf(path, sizeof(path), "%s/small.%lu", dir, i % 8);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1) {
		failed("open small", i);
		return;
	}
	len = snprintf(buf, sizeof(buf), "%lu\n", i);
	if (write(fd, buf, len) != len)
		failed("write small", i);
	if (close(fd) == -1)
		failed("close small", i);
}

static void
list(const char *dir, unsigned long i)
{
	struct dirent	*d;
	DIR		*dp;
	int		 seen = 0;

	if ((dp = opendir(dir)) == NULL) {
		failed("opendir", i);
		return;
	}
	errno = 0;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, "log") == 0)
			seen = 1;
	if (errno != 0)
		failed("readdir", i);
	else if (!seen) {
		errno = ENOENT;
		failed("readdir: no log", i);
	}
	closedir(dp);
}

int
main(int argc, char *argv[])
{
	char		 path[4096];
	unsigned char	*lost;
	unsigned long	 i;
	struct stat	 st;
	double		 end;
	int		 fd;

	if (argc != 3)
		errx(2, "usage: rwloop dir seconds");
	end = now() + atof(argv[2]);
	snprintf(path, sizeof(path), "%s/log", argv[1]);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", path);
	if ((lost = calloc(MAXREC, 1)) == NULL)
		err(1, NULL);
	for (i = 0; i < MAXREC && now() < end; i++) {
		lost[i] = record(fd, i) != 0;
		small_file(argv[1], i);
		if (stat(path, &st) == -1)
			failed("stat", i);
		if (i % 16 == 0)
			list(argv[1], i);
	}
	if (close(fd) == -1)
		failed("close", i);
	printf("iterations %lu\nfailures %lu\n", i, failures);
	for (i = 0; i < MAXREC; i++)
		if (lost[i])
			printf("lost %lu\n", i);
	return 0;
}
