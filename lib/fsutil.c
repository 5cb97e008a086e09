/* SPDX-License-Identifier: MIT */
/*
 * fsutil.c — small filesystem helpers: complete writes, directory fsync,
 * directory listings and the local/remote test that decides between
 * inotify and polling.
 */
#include <sys/statfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

#define NFS_MAGIC	0x6969
#define FUSE_MAGIC	0x65735546
#define SMB_MAGIC	0x517b
#define SMB2_MAGIC	0xfe534d42
#define CIFS_MAGIC	0xff534d42
#define CEPH_MAGIC	0x00c36400
#define AFS_MAGIC	0x5346414f
#define CODA_MAGIC	0x73757245
#define NCP_MAGIC	0x564c
#define V9FS_MAGIC	0x01021997

int
wq_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
wq_fsync_dir(int fd)
{
	/* Some filesystems refuse fsync on a directory; that is no error. */
	if (fsync(fd) == -1 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

/* Filesystems whose changes made by other hosts inotify cannot see. */
int
wq_fs_is_remote(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) == -1)
		return 1;
	switch ((unsigned long)sf.f_type) {
	case NFS_MAGIC: case FUSE_MAGIC: case SMB_MAGIC: case SMB2_MAGIC:
	case CIFS_MAGIC: case CEPH_MAGIC: case AFS_MAGIC: case CODA_MAGIC:
	case NCP_MAGIC: case V9FS_MAGIC:
		return 1;
	default:
		return 0;
	}
}

/* Names starting with a dot are half-made or foreign: never entries. */
int
wq_is_temp_name(const char *name)
{
	return name[0] == '.';
}

/*
 * Call fn for each name in a directory (dot names too if dots), without
 * keeping the listing: for directories of millions.  fn returns -1 to stop.
 */
int
wq_walk_dir(int dirfd, int dots, int (*fn)(int, const char *, void *),
    void *arg)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0, saved;

	if ((fd = dup(dirfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (!dots && wq_is_temp_name(de->d_name)))
			continue;
		if ((rc = fn(dirfd, de->d_name, arg)) == -1)
			break;
		errno = 0;
	}
	saved = rc == -1 ? errno : errno != 0 ? errno : 0;
	closedir(d);
	errno = saved;
	return saved != 0 || rc == -1 ? -1 : 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct name_list {
	char	**names;
	size_t	  n, cap;
};

static int
append_name(int dirfd, const char *name, void *arg)
{
	struct name_list *l = arg;
	char **nn;

	(void)dirfd;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((nn = reallocarray(l->names, l->cap, sizeof(*nn))) == NULL)
			return -1;
		l->names = nn;
	}
	if ((l->names[l->n] = strdup(name)) == NULL)
		return -1;
	l->n++;
	return 0;
}

/* All visible names of a directory, sorted. */
int
wq_list_dir(int dirfd, char ***namesp, size_t *countp)
{
	struct name_list l = { NULL, 0, 0 };
	int saved;

	if (wq_walk_dir(dirfd, 0, append_name, &l) == -1) {
		saved = errno;
		wq_names_free(l.names, l.n);
		errno = saved;
		return -1;
	}
	if (l.n > 1)
		qsort(l.names, l.n, sizeof(*l.names), cmp_names);
	*namesp = l.names;
	*countp = l.n;
	return 0;
}

void
wq_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * Point the symbolic link dirfd/name at target, atomically: a new link
 * made in the queue's tmp/ and renamed over the old one (head hint,
 * group locks, deduplication slots).
 */
int
wq_symlink_replace(const struct wq_queue *q, int dirfd, const char *name,
    const char *target)
{
	char tmp[64];
	int saved;

	snprintf(tmp, sizeof(tmp), ".link.%ld.%08x", (long)getpid(),
	    arc4random());
	if (symlinkat(target, q->tmpfd, tmp) == -1)
		return -1;
	if (renameat(q->tmpfd, tmp, dirfd, name) == -1) {
		saved = errno;
		(void)unlinkat(q->tmpfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return 0;
}
