/* SPDX-License-Identifier: MIT */
/*
 * bucket.c — where ready messages live.  new/ is a tree with a bounded
 * fan-out at every level, so that finding the next message costs about
 * the same in a queue of ten messages as in one of millions:
 *
 *	new/RR/TTTTTT/TT/TT/TT/T/NAME
 *
 * RR is the serving rank (lowest first).  The five levels below it split
 * the time the message became ready (microseconds since the epoch, 16 hex
 * digits) into digits 0-5, 6-7, 8-9, 10-11 and 12: a leaf holds what
 * became ready within 4 ms, and no level holds more than 256 entries
 * (the top one, one per 12.7 days).  Walking the tree in name order is
 * serving order.
 *
 * Empty directories are removed by whoever finds them empty; a writer
 * whose rename fails because its bucket vanished makes it again and
 * retries.  QUEUE/head is a symbolic link to the leaf a consumer last
 * started from ("new/RR/..."): a hint that spares one-shot consumers the
 * walk down, and never more than a hint.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/* Width of each level's name: the rank, then the groups of time digits. */
static const int level_width[WQ_BUCKET_LEVELS] = { 2, 6, 2, 2, 2, 1 };

int
wq_bucket_path(unsigned rank, int64_t us, char *buf, size_t len)
{
	char t[17];
	int n;

	snprintf(t, sizeof(t), "%016" PRIx64, (uint64_t)us);
	n = snprintf(buf, len, "%02x/%.6s/%.2s/%.2s/%.2s/%.1s", rank, t,
	    t + 6, t + 8, t + 10, t + 12);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
wq_bucket_level_valid(const char *name, int level)
{
	int i;

	for (i = 0; i < level_width[level]; i++)
		if (!isxdigit((unsigned char)name[i]) ||
		    isupper((unsigned char)name[i]))
			return 0;
	return name[i] == '\0';
}

/*
 * A bucket path as written by wq_bucket_path, and nothing else: no
 * leading, doubled or trailing slash can slip through.
 */
int
wq_bucket_valid(const char *path)
{
	const char *p = path;
	int level, i;

	for (level = 0; level < WQ_BUCKET_LEVELS; level++) {
		for (i = 0; i < level_width[level]; i++, p++)
			if (!isxdigit((unsigned char)*p) ||
			    isupper((unsigned char)*p))
				return 0;
		if (*p != (level == WQ_BUCKET_LEVELS - 1 ? '\0' : '/'))
			return 0;
		p++;
	}
	return 1;
}

/*
 * mkdir every missing directory of a bucket path.  *made is lowered to
 * the level of the highest directory this made (it starts at
 * WQ_BUCKET_LEVELS: none made).
 */
static int
make_bucket(const struct wq_queue *q, const char *bucket, int *made)
{
	char buf[WQ_BUCKET_MAX], *slash;
	int level;

	strlcpy(buf, bucket, sizeof(buf));
	for (slash = buf, level = 0;; slash++, level++) {
		slash = strchr(slash, '/');
		if (slash != NULL)
			*slash = '\0';
		if (wq_mkdir(q, q->newfd, buf) == 0) {
			if (level < *made)
				*made = level;
		} else if (errno != EEXIST)
			return -1;
		if (slash == NULL)
			return 0;
		*slash = '/';
	}
}

/*
 * Rename (or hard-link, with link) fromfd/from to new/BUCKET/name, making
 * the bucket if it is missing (or was removed under us as empty).  *made
 * is lowered when directories were created, which the caller must then
 * make durable.
 */
static int
put(struct wq_queue *q, int fromfd, const char *from, const char *bucket,
    const char *name, int *made, int link)
{
	char target[WQ_BUCKET_MAX + WQ_RECEIPT_MAX];
	struct stat st;
	int tries;

	snprintf(target, sizeof(target), "%s/%s", bucket, name);
	for (tries = 0; tries < 64; tries++) {
		if ((link ? linkat(fromfd, from, q->newfd, target, 0) :
		    renameat(fromfd, from, q->newfd, target)) == 0)
			return 0;
		if (!wq_gone(errno))
			return -1;
		/* Is it our source that is gone, or the bucket? */
		if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return -1;
		if (make_bucket(q, bucket, made) == -1 &&
		    !wq_gone(errno))
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

int
wq_bucket_put(struct wq_queue *q, int fromfd, const char *from,
    const char *bucket, const char *name, int *made)
{
	return put(q, fromfd, from, bucket, name, made, 0);
}

int
wq_bucket_link(struct wq_queue *q, int fromfd, const char *from,
    const char *bucket, const char *name, int *made)
{
	return put(q, fromfd, from, bucket, name, made, 1);
}

/*
 * Undo a put (or, with link, a link) of fromfd/from as new/BUCKET/name
 * whose bucket could not be made durable: a send that fails must leave
 * nothing a consumer could see.  The entry goes back to its source name;
 * a link is removed.  ENOENT: a consumer claimed it meanwhile, so it has
 * been delivered and cannot be taken back.
 */
int
wq_bucket_unput(struct wq_queue *q, int fromfd, const char *from,
    const char *bucket, const char *name, int link)
{
	char target[WQ_BUCKET_MAX + WQ_RECEIPT_MAX];

	snprintf(target, sizeof(target), "%s/%s", bucket, name);
	return link ? unlinkat(q->newfd, target, 0) :
	    renameat(q->newfd, target, fromfd, from);
}

/*
 * fsync a leaf bucket, and when directories were made from level `made`
 * down (WQ_BUCKET_LEVELS: none), each directory that gained one: the
 * ones at depths made .. WQ_BUCKET_LEVELS - 1, depth 0 being new/.
 */
int
wq_bucket_sync(struct wq_queue *q, const char *bucket, int made)
{
	char buf[WQ_BUCKET_MAX], *slash;
	int depth, fd, rc;

	strlcpy(buf, bucket, sizeof(buf));
	for (depth = WQ_BUCKET_LEVELS; depth == WQ_BUCKET_LEVELS ||
	    depth >= made; depth--) {
		if (depth == 0)
			return wq_fsync_dir(q->newfd);
		if ((fd = openat(q->newfd, buf, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			return wq_gone(errno) ? 0 : -1;	/* emptied */
		rc = wq_fsync_dir(fd);
		close(fd);
		if (rc == -1)
			return -1;
		if ((slash = strrchr(buf, '/')) != NULL)
			*slash = '\0';
	}
	return 0;
}

/*
 * Tell consumers waiting on inotify that something became ready: they
 * watch new/ itself, not its buckets.  Not needed where they poll.
 */
void
wq_doorbell(struct wq_queue *q)
{
	if (!q->remote)
		(void)futimens(q->newfd, NULL);
}

/* The sorted names of a directory relative to dirfd that fit a level. */
static int
list_level(int dirfd, const char *path, int level, char ***names,
    size_t *n)
{
	struct wq_entry e;
	size_t i, kept = 0;
	int fd, rc, saved;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	rc = wq_list_dir(fd, names, n);
	saved = errno;
	close(fd);
	if (rc == -1) {
		errno = saved;
		return -1;
	}
	for (i = 0; i < *n; i++) {
		if (level >= WQ_BUCKET_LEVELS ?
		    wq_entry_parse((*names)[i], 0, &e) == 0 :
		    wq_bucket_level_valid((*names)[i], level))
			(*names)[kept++] = (*names)[i];
		else
			free((*names)[i]);
	}
	*n = kept;
	return 0;
}

struct descent {
	int		 prune;		/* remove empty directories */
	int64_t		 keep_from_us;	/* but not those of times from this on */
	const char	*after;		/* find a leaf after this one */
	char		*leaf;		/* out: the leaf's bucket path */
	char		**names;	/* out: its sorted entries */
	size_t		 n;
};

/* Load the entries of a leaf into d: 1 if it has any, 0 empty or gone. */
static int
take_leaf(int newfd, const char *path, struct descent *d)
{
	if (list_level(newfd, path, WQ_BUCKET_LEVELS, &d->names, &d->n) == -1)
		return wq_gone(errno) || errno == ENOTDIR ? 0 : -1;
	if (d->n > 0) {
		strlcpy(d->leaf, path, WQ_BUCKET_MAX);
		return 1;
	}
	wq_names_free(d->names, d->n);
	d->names = NULL;
	d->n = 0;
	return 0;
}

/*
 * Whether the bucket directory path (of a level, "RR/TTTTTT/...") holds
 * times from `from_us` on: the directory producers are filing into now.
 * Pruning those would race with their mkdir and rename, over and over
 * under load; they are left for a later claim to remove once old.
 */
static int
bucket_recent(const char *path, int64_t from_us)
{
	char t[17];
	size_t n = 0;
	const char *p = strchr(path, '/');

	/* A rank: it is empty only when no recent directory is in it. */
	if (p == NULL)
		return 0;
	for (p++; *p != '\0' && n < 16; p++)
		if (*p != '/')
			t[n++] = *p;
	while (n < 16)		/* the last time the directory can hold */
		t[n++] = 'f';
	t[16] = '\0';
	return (int64_t)strtoull(t, NULL, 16) >= from_us;
}

/*
 * Find the first leaf below path (at level) that holds entries, in name
 * order, skipping leaves up to d->after.  Returns 1 found, 0 none, -1.
 */
static int
descend(int newfd, char *path, size_t len, int level, int same,
    struct descent *d)
{
	char **names;
	size_t n, i, plen = strlen(path);
	const char *want = NULL;
	int r = 0, cmp;

	/* Gone (pruned by another consumer) or not a directory: skip it. */
	if (list_level(newfd, plen ? path : ".", level, &names, &n) == -1)
		return wq_gone(errno) || errno == ENOTDIR ? 0 : -1;
	if (same && d->after != NULL)
		want = d->after + plen + (plen ? 1 : 0);
	for (i = 0; i < n && r == 0; i++) {
		cmp = want ? strncmp(names[i], want, level_width[level]) : 1;
		if (cmp < 0)
			continue;
		snprintf(path + plen, len - plen, "%s%s", plen ? "/" : "",
		    names[i]);
		if (level == WQ_BUCKET_LEVELS - 1)
			/* Strictly after d->after: not that leaf itself. */
			r = cmp == 0 ? 0 : take_leaf(newfd, path, d);
		else
			r = descend(newfd, path, len, level + 1, cmp == 0, d);
		/* Empty (or only foreign names): remove it, unless it is the
		 * leaf we were told to start after, which was not looked at. */
		if (r == 0 && d->prune &&
		    !(cmp == 0 && level == WQ_BUCKET_LEVELS - 1) &&
		    !bucket_recent(path, d->keep_from_us))
			(void)unlinkat(newfd, path, AT_REMOVEDIR);
		path[plen] = '\0';
	}
	wq_names_free(names, n);
	return r;
}

/*
 * The first leaf of new/ with entries, after the leaf `after` if it is
 * not NULL; its path into leaf, its sorted entries into *names.  With
 * prune, empty directories met on the way are removed.  ENOMSG if none.
 */
int
wq_bucket_first(struct wq_queue *q, const char *after, int prune,
    char leaf[WQ_BUCKET_MAX], char ***names, size_t *n)
{
	/* A producer on another host may be behind by the clock skew. */
	struct descent d = { prune, wq_now_us() -
	    ((int64_t)q->pol.clock_skew + 1) * 1000000, after, leaf, NULL, 0 };
	char path[WQ_BUCKET_MAX];
	int r;

	path[0] = '\0';
	if ((r = descend(q->newfd, path, sizeof(path), 0, after != NULL, &d))
	    == -1)
		return -1;
	if (r == 0) {
		errno = ENOMSG;
		return -1;
	}
	*names = d.names;
	*n = d.n;
	return 0;
}

/* The entries of one leaf, sorted; an empty list if it is gone. */
int
wq_bucket_list(struct wq_queue *q, const char *leaf, char ***names,
    size_t *n)
{
	if (list_level(q->newfd, leaf, WQ_BUCKET_LEVELS, names, n) == 0)
		return 0;
	if (!wq_gone(errno) && errno != ENOTDIR)
		return -1;
	*names = NULL;
	*n = 0;
	return 0;
}

/*
 * The lowest rank with a directory in the stream of new/ into *rank, -1
 * if none.  The stream is read from its start.
 */
int
wq_bucket_top_rank(DIR *newdir, int *rank)
{
	struct dirent *d;
	long r;

	rewinddir(newdir);
	*rank = -1;
	errno = 0;
	while ((d = readdir(newdir)) != NULL) {
		if (!wq_bucket_level_valid(d->d_name, 0))
			continue;
		r = strtol(d->d_name, NULL, 16);
		if (*rank < 0 || r < *rank)
			*rank = (int)r;
	}
	return errno != 0 ? -1 : 0;
}

/* Read the head hint; an empty string when there is none. */
void
wq_head_read(struct wq_queue *q, char leaf[WQ_BUCKET_MAX])
{
	ssize_t n;

	char buf[WQ_BUCKET_MAX + 8];

	n = readlinkat(q->fd, "head", buf, sizeof(buf) - 1);
	leaf[0] = '\0';
	if (n <= 4 || (size_t)n >= sizeof(buf) - 1)
		return;
	buf[n] = '\0';
	if (strncmp(buf, "new/", 4) == 0 && wq_bucket_valid(buf + 4))
		strlcpy(leaf, buf + 4, WQ_BUCKET_MAX);
}

/* Point the head hint at leaf: a new symlink renamed over the old. */
void
wq_head_write(struct wq_queue *q, const char *leaf)
{
	char target[WQ_BUCKET_MAX + 8];

	snprintf(target, sizeof(target), "new/%s", leaf);
	(void)wq_symlink_replace(q, q->fd, "head", target);
}

/* Rank of a leaf path ("RR/..."). */
unsigned
wq_bucket_rank(const char *leaf)
{
	return (unsigned)strtoul(leaf, NULL, 16);
}
