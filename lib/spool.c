/* SPDX-License-Identifier: MIT */
/*
 * spool.c — the spool root: where it is, opening it, listing its queues.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/* $WQ_DIR, else ${XDG_DATA_HOME:-$HOME/.local/share}/wq. */
const char *
wq_default_dir(void)
{
	static char buf[4096];
	const char *s;

	if ((s = getenv("WQ_DIR")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("XDG_DATA_HOME")) != NULL && *s == '/')
		snprintf(buf, sizeof(buf), "%s/wq", s);
	else if ((s = getenv("HOME")) != NULL && *s != '\0')
		snprintf(buf, sizeof(buf), "%s/.local/share/wq", s);
	else
		return NULL;
	return buf;
}

/* mkdir -p, for the spool root only. */
static int
mkdirs(const char *path)
{
	char buf[4096], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

struct wq_spool *
wq_spool_open(const char *dir, int create)
{
	struct wq_spool *s;
	int fd;

	if (dir == NULL && (dir = wq_default_dir()) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (create && mkdirs(dir) == -1)
		return NULL;
	/* A spool that does not exist yet holds no queues: not an error. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 &&
	    (create || !wq_gone(errno)))
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(dir)) == NULL) {
		free(s);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	s->fd = fd;
	return s;
}

void
wq_spool_close(struct wq_spool *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	free(s->path);
	free(s);
}

const char *
wq_spool_path(const struct wq_spool *s)
{
	return s->path;
}

/* A directory with a policy file, as wq_queue_open wants it. */
int
wq_is_queue_dir(int parent, const char *name)
{
	char path[300];
	struct stat st;

	/* The directory itself, not a symbolic link to one elsewhere. */
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "%s/policy", name);
	return fstatat(parent, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

/* Names of the queues in the spool: valid names with a policy file. */
int
wq_spool_list(struct wq_spool *s, char ***namesp, size_t *countp)
{
	char **names;
	size_t n, i, kept = 0;

	if (s->fd == -1) {
		*namesp = NULL;
		*countp = 0;
		return 0;
	}
	if (wq_list_dir(s->fd, &names, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (wq_name_valid(names[i]) && wq_is_queue_dir(s->fd, names[i]))
			names[kept++] = names[i];
		else
			free(names[i]);
	}
	*namesp = names;
	*countp = kept;
	return 0;
}

/*
 * Split QUEUE into the directory that holds it (an fd, returned) and its
 * last component (into base): a name lives in the spool root, a path is
 * used as is ("q/" and "./q" are both q in the working directory).
 */
int
wq_open_parent(struct wq_spool *s, const char *queue, char *base, size_t len)
{
	char buf[4096], *slash;
	const char *dir, *last;

	if (strchr(queue, '/') == NULL) {
		if (!wq_name_valid(queue)) {
			errno = EINVAL;
			return -1;
		}
		if (s->fd == -1) {
			errno = ENOENT;
			return -1;
		}
		strlcpy(base, queue, len);
		return fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	}
	if (strlcpy(buf, queue, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	while ((slash = strrchr(buf, '/')) != NULL && slash[1] == '\0' &&
	    slash != buf)
		*slash = '\0';
	if ((slash = strrchr(buf, '/')) == NULL) {
		dir = ".";
		last = buf;
	} else {
		last = slash + 1;
		dir = slash == buf ? "/" : buf;
		if (slash != buf)
			*slash = '\0';
	}
	if (last[0] == '\0' || strcmp(last, ".") == 0 ||
	    strcmp(last, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (strlcpy(base, last, len) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}
