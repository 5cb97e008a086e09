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
	struct stat sb;

	if (wq_entry_parse(name, a->incur, &e) == -1)
		return 0;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;	/* claimed or acked meanwhile */
	a->st->total++;
	a->st->bytes += (uint64_t)sb.st_size;
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
		return 0;	/* removed as empty meanwhile, or foreign */
	rc = count_tree(fd, t->level + 1, t->a);
	close(fd);
	return rc == -1 && errno != ENOENT ? -1 : 0;
}

int
wq_queue_stat(struct wq_queue *q, struct wq_stat *st)
{
	struct count_arg a;

	memset(st, 0, sizeof(*st));
	st->oldest_ready_ms = -1;
	a.st = st;
	a.now = wq_now_ms();
	a.skew_ms = (int64_t)q->pol.clock_skew * 1000;
	a.incur = 0;
	if (count_tree(q->newfd, 0, &a) == -1)
		return -1;
	a.incur = 1;
	return wq_walk_dir(q->curfd, 0, count_one, &a);
}

static int
sweep_one(int dirfd, const char *name, void *arg)
{
	const time_t *cutoff = arg;
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)) &&
	    sb.st_mtime < *cutoff)
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

/* Remove files of tmp/ untouched for 36 hours: their writers are gone. */
int
wq_queue_sweep(struct wq_queue *q)
{
	time_t cutoff = (time_t)(wq_now_ms() / 1000) - WQ_TMP_STALE_SEC;

	return wq_walk_dir(q->tmpfd, 1, sweep_one, &cutoff);
}
