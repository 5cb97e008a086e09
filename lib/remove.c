/* SPDX-License-Identifier: MIT */
/*
 * remove.c — deleting queues and purging their messages.
 *
 * A queue is deleted in the atomic_rm_rf shape.  One rename(2) takes it
 * from its name to a dot name beside it, ".NAME.rm.RANDOM", which no
 * listing and no opener ever looks at (a queue name never starts with a
 * dot): from that moment the queue is gone.  What remains is removing the
 * renamed tree, entry by entry, with unlinkat(2) and openat(2) relative to
 * directory descriptors and with O_NOFOLLOW, so that a symbolic link in
 * the tree is removed itself and never followed, and no other file system
 * mounted inside it is entered.  The policy file goes last: the remains of
 * a removal that died half-way still carry it (or are empty), which is how
 * wq_spool_sweep and the next wq_queue_remove of that queue recognise them
 * and finish the job.
 *
 * A purge unlinks the messages of new/ (through the bucket tree) and of
 * cur/ one by one, leaving the queue, its policy and tmp/.  It is not
 * atomic: a message sent, released or returned by an expired lease while
 * it runs may survive it.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

#define RM_TAG		".rm."
#define RM_RANDOM	8	/* hex digits after the tag */
#define RM_TRIES	8	/* walks of a directory that keeps filling */
#define DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct rm_arg {
	dev_t	dev;		/* the file system of the tree */
	int	top;		/* walking the queue directory itself */
};

static int	rm_dir(int, const char *, const dev_t *, int);

/* Remove one entry of a tree: unlink it, or empty it and rmdir it. */
static int
rm_entry(int dirfd, const char *name, void *arg)
{
	const struct rm_arg *a = arg;
	int err;

	if (a->top && strcmp(name, "policy") == 0)
		return 0;
	if (unlinkat(dirfd, name, 0) == 0 || wq_gone(errno))
		return 0;
	/* A directory says EISDIR on Linux, EPERM by POSIX. */
	if (errno != EISDIR && errno != EPERM)
		return -1;
	err = errno;
	if (rm_dir(dirfd, name, &a->dev, 0) == 0)
		return 0;
	if (errno == ENOTDIR || errno == ELOOP)
		errno = err;	/* no directory after all: unlink's reason */
	return -1;
}

/*
 * Empty the directory dirfd/name and remove it, never leaving the file
 * system dev (if given).  top: a queue directory, whose policy file is
 * removed after everything else.  Writers that opened the queue before it
 * was renamed may still add files; the walk is repeated a few times.
 */
static int
rm_dir(int dirfd, const char *name, const dev_t *dev, int top)
{
	struct rm_arg a;
	struct stat st;
	int fd, tries, saved;

	a.top = top;
	for (tries = 0;; tries++) {
		if ((fd = openat(dirfd, name, DIR_FLAGS)) == -1)
			return wq_gone(errno) ? 0 : -1;
		if (fstat(fd, &st) == -1)
			goto fail;
		if (dev != NULL && st.st_dev != *dev) {
			errno = EXDEV;
			goto fail;
		}
		a.dev = st.st_dev;
		if (wq_walk_dir(fd, 1, rm_entry, &a) == -1)
			goto fail;
		if (top && unlinkat(fd, "policy", 0) == -1 && !wq_gone(errno))
			goto fail;
		close(fd);
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || wq_gone(errno))
			return 0;
		if ((errno != ENOTEMPTY && errno != EEXIST) ||
		    tries == RM_TRIES)
			return -1;
	}
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * ".NAME.rm.XXXXXXXX", a name wq_queue_remove gives a queue it removes;
 * with base, only a name of the queue base.
 */
static int
is_leftover(const char *name, const char *base)
{
	size_t len = strlen(name), tail = strlen(RM_TAG) + RM_RANDOM, i;
	const char *t;

	if (name[0] != '.' || len < 2 + tail)
		return 0;
	t = name + len - tail;
	if (strncmp(t, RM_TAG, strlen(RM_TAG)) != 0)
		return 0;
	for (i = strlen(RM_TAG); i < tail; i++)
		if (!isxdigit((unsigned char)t[i]) ||
		    isupper((unsigned char)t[i]))
			return 0;
	return base == NULL || (len - 1 - tail == strlen(base) &&
	    strncmp(name + 1, base, len - 1 - tail) == 0);
}

struct sweep_arg {
	const char	*base;
	int		 err;	/* the first failure */
};

/*
 * Finish an interrupted removal: a leftover directory that still has its
 * policy file, or is empty.  Anything else of that name is not ours.
 */
static int
sweep_one(int dirfd, const char *name, void *arg)
{
	struct sweep_arg *a = arg;

	if (!is_leftover(name, a->base))
		return 0;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || wq_gone(errno) ||
	    errno == ENOTDIR)
		return 0;
	if ((errno == ENOTEMPTY || errno == EEXIST) &&
	    (!wq_is_queue_dir(dirfd, name) ||
	    rm_dir(dirfd, name, NULL, 1) == 0))
		return 0;
	if (a->err == 0)
		a->err = errno;
	return 0;
}

/* Remove the leftovers in dirfd (those of the queue base, if given). */
static int
sweep(int dirfd, const char *base)
{
	struct sweep_arg a = { base, 0 };

	if (wq_walk_dir(dirfd, 1, sweep_one, &a) == -1)
		return -1;
	if (a.err != 0) {
		errno = a.err;
		return -1;
	}
	return 0;
}

/* Finish every interrupted removal in the spool root. */
int
wq_spool_sweep(struct wq_spool *s)
{
	if (s->fd == -1)
		return 0;
	return sweep(s->fd, NULL);
}


/* A queue directory itself, not a symbolic link to one. */
static int
is_queue(int parent, const char *name)
{
	struct stat st;

	return fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && wq_is_queue_dir(parent, name);
}

/*
 * Delete a queue and every message in it.  ENOENT: nothing there; ENOTDIR:
 * something that is not a queue directory (a symbolic link to one is not
 * one either), left as it was; EINVAL: an invalid name.  A failure after
 * the rename leaves the queue gone and its remains to the next sweep.
 */
int
wq_queue_remove(struct wq_spool *s, const char *queue)
{
	char base[256], hidden[512];
	struct stat st;
	int parent, rc = -1, saved;

	if ((parent = wq_open_parent(s, queue, base, sizeof(base))) == -1)
		return -1;
	(void)sweep(parent, base);	/* an earlier removal's remains */
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		goto out;
	if (!is_queue(parent, base)) {
		errno = ENOTDIR;
		goto out;
	}
	snprintf(hidden, sizeof(hidden), ".%s" RM_TAG "%08x", base,
	    arc4random());
	if (renameat(parent, base, parent, hidden) == -1)
		goto out;
	/* The queue is gone.  Was what we renamed still a queue? */
	if (!is_queue(parent, hidden)) {
		(void)renameat(parent, hidden, parent, base);
		errno = ENOTDIR;
		goto out;
	}
	if (rm_dir(parent, hidden, NULL, 1) == 0)
		rc = wq_fsync_dir(parent);
out:
	saved = errno;
	close(parent);
	errno = saved;
	return rc;
}

struct purge_arg {
	uint64_t	n;
	int		level;	/* of the bucket tree below new/ */
	int		incur;
};

static int
purge_entry(int dirfd, const char *name, void *arg)
{
	struct purge_arg *a = arg;
	struct wq_entry e;

	if (wq_entry_parse(name, a->incur, &e) == -1)
		return 0;	/* not a message: leave it */
	if (unlinkat(dirfd, name, 0) == 0) {
		a->n++;
		return 0;
	}
	return wq_gone(errno) ? 0 : -1;	/* claimed, acked meanwhile */
}

/* A directory of new/ was purged (rc): close it, and remove it if empty. */
static int
purged_dir(int dirfd, const char *name, int fd, int rc)
{
	close(fd);
	if (rc == -1)
		return wq_gone(errno) ? 0 : -1;
	(void)unlinkat(dirfd, name, AT_REMOVEDIR);
	return 0;
}

/* Purge a bucket of new/, and remove it once empty, as consumers do. */
static int
purge_bucket(int dirfd, const char *name, void *arg)
{
	struct purge_arg *a = arg;
	int fd, rc;

	if (!wq_bucket_level_valid(name, a->level))
		return 0;
	if ((fd = openat(dirfd, name, DIR_FLAGS)) == -1)
		return wq_gone(errno) || errno == ENOTDIR ||
		    errno == ELOOP ? 0 : -1;
	a->level++;
	rc = wq_walk_dir(fd, 0, a->level == WQ_BUCKET_LEVELS ? purge_entry :
	    purge_bucket, a);
	a->level--;
	return purged_dir(dirfd, name, fd, rc);
}

/* A FIFO queue's new/ holds one bucket tree per group. */
static int
purge_group(int dirfd, const char *name, void *arg)
{
	int fd;

	if (!wq_group_valid(name))
		return 0;
	if ((fd = openat(dirfd, name, DIR_FLAGS)) == -1)
		return wq_gone(errno) || errno == ENOTDIR ||
		    errno == ELOOP ? 0 : -1;
	return purged_dir(dirfd, name, fd, wq_walk_dir(fd, 0, purge_bucket,
	    arg));
}

/* The group locks of a FIFO queue go with the leases that held them. */
static int
purge_lock(int dirfd, const char *name, void *arg)
{
	(void)arg;
	if (wq_group_valid(name))
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

/*
 * Delete every message of a queue: ready (new/), delayed and in flight
 * (cur/), and a FIFO queue's group locks; leases held become stale.
 * tmp/, corrupt/ and the deduplication slots are left alone.  *removed
 * (if not NULL) counts the messages this call unlinked, also when it
 * fails part-way.
 */
int
wq_queue_purge(struct wq_queue *q, uint64_t *removed)
{
	struct purge_arg a = { 0, 0, 0 };
	int rc, lfd;

	rc = wq_walk_dir(q->newfd, 0, q->pol.fifo ? purge_group :
	    purge_bucket, &a);
	if (rc == 0) {
		a.incur = 1;
		rc = wq_walk_dir(q->curfd, 0, purge_entry, &a);
	}
	if (rc == 0 && q->pol.fifo &&
	    (lfd = openat(q->fd, "lock", DIR_FLAGS)) != -1) {
		rc = wq_walk_dir(lfd, 0, purge_lock, NULL);
		close(lfd);
	}
	if (removed != NULL)
		*removed = a.n;
	return rc;
}
