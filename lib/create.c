/* SPDX-License-Identifier: MIT */
/*
 * create.c — making queues.  A queue is built under a dot name beside its
 * final place ("ROOT/.NAME.new.RANDOM": tmp/, new/, cur/ and the policy
 * file) and renamed into place whole, so nobody ever sees a queue without
 * its policy, and two creators racing for one name get exactly one winner.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

static const char *const subdirs[] = { "tmp", "new", "cur" };

static void
remove_partial(int parent, const char *name)
{
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", name, subdirs[i]);
		unlinkat(parent, path, AT_REMOVEDIR);
	}
	snprintf(path, sizeof(path), "%s/policy", name);
	unlinkat(parent, path, 0);
	unlinkat(parent, name, AT_REMOVEDIR);
}

static int
build_queue(int parent, const char *name, const struct wq_policy *p)
{
	int fd, saved;
	size_t i;

	if (mkdirat(parent, name, 0777) == -1)
		return -1;
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    == -1)
		goto fail;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
		if (mkdirat(fd, subdirs[i], 0777) == -1)
			goto fail;
	if ((p->mode != 0 || p->group[0] != '\0') && wq_share_tree(fd, p) == -1)
		goto fail;
	if (wq_policy_write(fd, p, p->sync != WQ_SYNC_NONE) == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	remove_partial(parent, name);
	errno = saved;
	return -1;
}


/* Copy the fields of src that setmask names into dst. */
static void
apply_policy(struct wq_policy *dst, const struct wq_policy *src,
    unsigned setmask)
{
	if (setmask & WQ_POL_VISIBILITY)
		dst->visibility = src->visibility;
	if (setmask & WQ_POL_CLOCK_SKEW)
		dst->clock_skew = src->clock_skew;
	if (setmask & WQ_POL_MAX_SIZE)
		dst->max_size = src->max_size;
	if (setmask & WQ_POL_SYNC)
		dst->sync = src->sync;
	if (setmask & WQ_POL_DELAY)
		dst->delay = src->delay;
	if (setmask & WQ_POL_RETENTION)
		dst->retention = src->retention;
	if (setmask & WQ_POL_MAX_RECEIVES)
		dst->max_receives = src->max_receives;
	if (setmask & WQ_POL_DEAD_LETTER)
		strlcpy(dst->dead_letter, src->dead_letter,
		    sizeof(dst->dead_letter));
	if (setmask & WQ_POL_MAX_DEPTH)
		dst->max_depth = src->max_depth;
	if (setmask & WQ_POL_FIFO)
		dst->fifo = src->fifo;
	if (setmask & WQ_POL_DEDUP_WINDOW)
		dst->dedup_window = src->dedup_window;
	if (setmask & WQ_POL_DEDUP)
		dst->dedup = src->dedup;
	if (setmask & WQ_POL_COMPRESS)
		dst->compress = src->compress;
	if (setmask & WQ_POL_FANOUT)
		strlcpy(dst->fanout, src->fanout, sizeof(dst->fanout));
	if (setmask & WQ_POL_MODE)
		dst->mode = src->mode;
	if (setmask & WQ_POL_GROUP)
		strlcpy(dst->group, src->group, sizeof(dst->group));
}

static int
update_policy(int parent, const char *name, const struct wq_policy *p,
    unsigned setmask)
{
	struct wq_policy cur;
	int fd, rc, saved, was_fifo;

	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (wq_policy_read(fd, &cur) == -1) {
		saved = errno;
		close(fd);
		errno = saved == ENOENT ? ENOTDIR : saved;
		return -1;
	}
	was_fifo = cur.fifo;
	apply_policy(&cur, p, setmask);
	/* FIFO queues file messages by send time: no switching later. */
	if (!wq_policy_valid(&cur) || cur.fifo != was_fifo) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((setmask & (WQ_POL_MODE | WQ_POL_GROUP)) &&
	    wq_share_tree(fd, &cur) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	rc = wq_policy_write(fd, &cur, cur.sync != WQ_SYNC_NONE);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
wq_queue_create(struct wq_spool *s, const char *queue,
    const struct wq_policy *given, unsigned setmask, unsigned flags)
{
	struct wq_policy p;
	char base[256], tmp[300];
	int parent, rc = -1, saved;

	wq_policy_default(&p);
	if (given != NULL)
		apply_policy(&p, given, setmask);
	if (!wq_policy_valid(&p))
		return -1;
	if ((parent = wq_open_parent(s, queue, base, sizeof(base))) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), ".%s.new.%08x", base, arc4random());
	if (build_queue(parent, tmp, &p) == -1)
		goto out;
	/* renameat2(RENAME_NOREPLACE) is unsupported on NFS: use rename onto
	 * a name that must not exist, which fails on a non-empty directory. */
	if (renameat(parent, tmp, parent, base) == 0) {
		rc = p.sync != WQ_SYNC_NONE ? wq_fsync_dir(parent) : 0;
		goto out;
	}
	saved = errno;
	remove_partial(parent, tmp);
	errno = saved;
	if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR ||
	    errno == EISDIR) {
		/* Something is there: a queue, or something else. */
		if (!wq_is_queue_dir(parent, base))
			errno = EEXIST;
		else if (flags & WQ_CREATE_UPDATE)
			rc = update_policy(parent, base, &p, setmask);
		else if (flags & WQ_CREATE_EXIST_OK)
			rc = 0;
		else
			errno = EEXIST;
	}
out:
	saved = errno;
	close(parent);
	errno = saved;
	return rc;
}
