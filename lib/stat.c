/* SPDX-License-Identifier: MIT */
/*
 * stat.c — counting a queue from entry names alone (no message body is
 * opened; new/ is walked through its buckets) and sweeping stale leftovers
 * of crashed writers out of tmp/.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

struct count_arg {
	struct wq_stat	*st;
	int64_t		 now, skew_ms;
	int		 incur;
	uint64_t	 limit;		/* stop counting at this total */
};

struct tree_arg {
	int			 level;
	struct count_arg	*a;
};

static int	count_sub(int, const char *, void *);

static void
count_ready(struct wq_stat *st, const struct wq_entry *e)
{
	int64_t sent;

	st->ready++;
	if (wq_id_time_ms(e->id, &sent) == 0 &&
	    (st->oldest_ready_ms < 0 || sent < st->oldest_ready_ms))
		st->oldest_ready_ms = sent;
}

static int
count_one(int dirfd, const char *name, void *arg)
{
	struct count_arg *a = arg;
	struct wq_entry e;

	(void)dirfd;
	if (wq_entry_parse(name, a->incur, &e) == -1)
		return 0;
	if (a->st->total >= a->limit) {
		errno = 0;
		return -1;	/* enough: see wq_queue_depth */
	}
	a->st->total++;
	a->st->bytes += e.size;
	if (!a->incur)
		count_ready(a->st, &e);
	else if (strcmp(e.nonce, WQ_DELAYED) == 0 && e.deadline > a->now)
		a->st->delayed++;
	else if (strcmp(e.nonce, WQ_DELAYED) != 0 &&
	    e.deadline + a->skew_ms > a->now)
		a->st->inflight++;
	else
		count_ready(a->st, &e);
	return 0;
}

/* Count the entries of every leaf below dirfd (a bucket level of new/). */
/*
 * A directory of the tree that cannot be opened because it was removed
 * as empty meanwhile, or is not a directory (foreign), holds nothing to
 * count.  Any other error is one: counting on as if it were empty made
 * wq-redrive, which counts first, move nothing and exit 0 on an EIO.
 */
static int
gone(int err)
{
	return wq_gone(err) || err == ENOTDIR || err == ELOOP;
}

static int
count_tree(int dirfd, int level, struct count_arg *a)
{
	struct tree_arg t = { level, a };

	if (level == WQ_BUCKET_LEVELS)
		return wq_walk_dir(dirfd, 0, count_one, a);
	return wq_walk_dir(dirfd, 0, count_sub, &t);
}

static int
count_sub(int dirfd, const char *name, void *arg)
{
	struct tree_arg *t = arg;
	int fd, rc;

	if (!wq_bucket_level_valid(name, t->level))
		return 0;	/* foreign: no consumer looks in there */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return gone(errno) ? 0 : -1;
	rc = count_tree(fd, t->level + 1, t->a);
	close(fd);
	return rc == -1 && (!wq_gone(errno) || t->a->st->total >= t->a->limit) ?
	    -1 : 0;
}

/* A FIFO queue's new/ holds one tree per group. */
static int
count_group(int dirfd, const char *name, void *arg)
{
	struct count_arg *a = arg;
	int fd, rc;

	if (!wq_group_valid(name))
		return 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return gone(errno) ? 0 : -1;
	rc = count_tree(fd, 0, a);
	close(fd);
	return rc == -1 && (!wq_gone(errno) || a->st->total >= a->limit) ?
	    -1 : 0;
}

/* Count up to limit messages: sizes come from the entry names. */
static int
count_queue(struct wq_queue *q, struct wq_stat *st, uint64_t limit)
{
	struct count_arg a;

	memset(st, 0, sizeof(*st));
	st->oldest_ready_ms = -1;
	a.st = st;
	a.now = wq_now_ms();
	a.skew_ms = (int64_t)q->pol.clock_skew * 1000;
	a.incur = 0;
	a.limit = limit;
	if ((q->pol.fifo ? wq_walk_dir(q->newfd, 0, count_group, &a) :
	    count_tree(q->newfd, 0, &a)) == -1)
		return st->total >= limit ? 0 : -1;
	a.incur = 1;
	if (wq_walk_dir(q->curfd, 0, count_one, &a) == -1)
		return st->total >= limit ? 0 : -1;
	return 0;
}

int
wq_queue_stat(struct wq_queue *q, struct wq_stat *st)
{
	return count_queue(q, st, UINT64_MAX);
}

/*
 * The number of messages (ready, delayed and in flight), counting no
 * further than limit: the cost of a max-depth check grows with the limit,
 * not with the depth.
 */
int
wq_queue_depth(struct wq_queue *q, uint64_t limit, uint64_t *depth)
{
	struct wq_stat st;

	if (count_queue(q, &st, limit) == -1)
		return -1;
	*depth = st.total;
	return 0;
}

/*
 * Whether tmp/name, untouched since cutoff, is a leftover of a writer that
 * is gone.  A message being written (an id, or an id's copy) is also
 * judged by the time in its name: an NFSv4 exclusive create (O_EXCL)
 * keeps the client's verifier in the new file's atime and mtime until the
 * client sets them in a second call, so for a moment a file being written
 * can look decades old by its mtime.
 */
int
wq_tmp_stale(const char *name, const struct stat *st, time_t cutoff)
{
	int64_t sent;

	if (st->st_mtime >= cutoff)
		return 0;
	return wq_id_time_ms(name, &sent) == -1 || sent / 1000 < cutoff;
}

static int
sweep_one(int dirfd, const char *name, void *arg)
{
	const time_t *cutoff = arg;
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) &&
	    wq_tmp_stale(name, &sb, *cutoff))
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

/* Remove files of tmp/ untouched for 36 hours: their writers are gone. */
int
wq_queue_sweep(struct wq_queue *q)
{
	time_t cutoff = (time_t)(wq_now_ms() / 1000) - WQ_TMP_STALE_SEC;

	if (wq_walk_dir(q->tmpfd, 1, sweep_one, &cutoff) == -1)
		return -1;
	return wq_dedup_sweep(q);
}
