/*
 * Replays a fuzz target's corpus without libFuzzer, so every kept input
 * (seeds, finds, former crashers) runs in `make test` under the normal
 * and the sanitizer builds.  A plain Kyua test program: exit 0 when
 * every input ran; a broken contract aborts inside the target.
 *
 *	replay_X [file|dir ...]   default: the corpus beside the program
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CORPUS
#error CORPUS names the corpus directory beside the program
#endif

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	replay_path(const char *);

static int
replay_file(const char *path)
{
	struct stat	 sb;
	uint8_t		*buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		err(1, "%s", path);
	if ((buf = malloc(sb.st_size + 1)) == NULL)
		err(1, NULL);
	if ((n = read(fd, buf, sb.st_size)) != sb.st_size)
		errx(1, "%s: short read", path);
	close(fd);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return (1);
}

static int
replay_dir(const char *path)
{
	struct dirent	**ents;
	char		  p[PATH_MAX];
	int		  i, n, count = 0;

	if ((n = scandir(path, &ents, NULL, alphasort)) == -1)
		err(1, "%s", path);
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
			count += replay_path(p);
		}
		free(ents[i]);
	}
	free(ents);
	return (count);
}

static int
replay_path(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		err(1, "%s", path);
	return (S_ISDIR(sb.st_mode) ? replay_dir(path) : replay_file(path));
}

int
main(int argc, char *argv[])
{
	char	self[PATH_MAX], corpus[PATH_MAX];
	ssize_t	n;
	int	i, count = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			count += replay_path(argv[i]);
	} else {
		if ((n = readlink("/proc/self/exe", self,
		    sizeof(self) - 1)) == -1)
			err(1, "/proc/self/exe");
		self[n] = '\0';
		snprintf(corpus, sizeof(corpus), "%s/%s", dirname(self),
		    CORPUS);
		count = replay_path(corpus);
	}
	printf("%d inputs replayed\n", count);
	return (count > 0 ? 0 : 1);
}
