/* SPDX-License-Identifier: MIT */
/*
 * fsck.c — checking a queue against wq(5) and repairing it, for wq-fsck,
 * as postsuper -s does for Postfix.  It is safe beside live producers
 * and consumers because it only does what they would do themselves, by
 * rename and never following a link: an entry of new/ or cur/ that a
 * claim would quarantine (no regular file, or a bad header) goes to
 * corrupt/, as do names there that no wq program writes; tmp/ leftovers
 * go by the sweep's rule (36 hours); a FIFO group lock goes once it is
 * stale, after the expired leases are promoted, as a claimer breaks it.
 * A fresh tmp/ file, a lease that has not expired and a message in the
 * middle of a rename are never touched: the rename of one that moved
 * meanwhile fails with ENOENT, which is no problem.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

struct fsck {
	struct wq_queue	*q;
	const char	*queue;
	unsigned	 flags;
	wq_fsck_report	*report;
	void		*arg;
	struct wq_fsck	*res;
	int		 corruptfd;
	int64_t		 now;
	char		 path[4096];	/* the directory being checked */
};

static int
repairing(const struct fsck *f)
{
	return (f->flags & WQ_FSCK_REPAIR) != 0;
}

/*
 * Report dir/name: what is wrong, and done, what was done about it (NULL:
 * nothing); repaired says whether that was a repair.
 */
static void
note(struct fsck *f, const char *name, const char *what, const char *done,
    int repaired)
{
	char entry[sizeof(f->path) + 256];

	snprintf(entry, sizeof(entry), "%s%s%s", f->path,
	    f->path[0] && name[0] ? "/" : "", name);
	f->res->found++;
	if (repaired)
		f->res->repaired++;
	f->report(f->arg, f->queue, entry, what, done);
}

static void
problem(struct fsck *f, const char *name, const char *what,
    const char *done)
{
	note(f, name, what, done, done != NULL);
}

/* A repair failed: reported with errno, which is kept for the caller. */
static void
failed(struct fsck *f, const char *name, const char *what)
{
	char why[160];

	f->res->failed++;
	f->res->err = errno;
	snprintf(why, sizeof(why), "not repaired: %s", strerror(errno));
	note(f, name, what, why, 0);
}

/* Move dirfd/name into corrupt/ under its own name, or a new one if
 * that is taken; never over another entry.  ENOENT: it moved away. */
static int
to_corrupt(struct fsck *f, int dirfd, const char *name)
{
	char target[300];
	struct stat st;

	if (f->corruptfd == -1 && (f->corruptfd = wq_open_subdir(f->q,
	    f->q->fd, "corrupt", 1, NULL)) == -1)
		return -1;
	if (strlen(name) > 200 || fstatat(f->corruptfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(target, sizeof(target), "fsck.%lld.%08x",
		    (long long)f->now, arc4random());
	else
		strlcpy(target, name, sizeof(target));
	return renameat(dirfd, name, f->corruptfd, target);
}

/* An entry of new/ or cur/ that is wrong: report it, and set it aside. */
static void
set_aside(struct fsck *f, int dirfd, const char *name, const char *what)
{
	if (!repairing(f)) {
		problem(f, name, what, NULL);
		return;
	}
	if (to_corrupt(f, dirfd, name) == 0)
		problem(f, name, what, "moved to corrupt/");
	else if (!wq_gone(errno))
		failed(f, name, what);
}

/*
 * A message entry: what a claim checks (a regular file, its header and
 * its size).  NULL if it is a good message or gone.
 */
static const char *
bad_message(struct fsck *f, int dirfd, const char *name,
    const struct wq_entry *e)
{
	struct wq_msg *m;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return NULL;
	if (S_ISLNK(st.st_mode))
		return "a symbolic link, not a message";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if ((m = wq_msg_load(f->q, dirfd, name, e)) != NULL) {
		wq_msg_free(m);
		return NULL;
	}
	if (errno == EBADMSG)
		return "torn or corrupt message file";
	if (wq_gone(errno))
		return NULL;
	return "unreadable message file";
}

/* Leaf entries of new/: messages, or set aside. */
static int
check_leaf_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	struct wq_entry e;
	const char *bad;

	if (wq_entry_parse(name, 0, &e) == -1)
		set_aside(f, dirfd, name, "not a message name");
	else if ((bad = bad_message(f, dirfd, name, &e)) != NULL)
		set_aside(f, dirfd, name, bad);
	return 0;
}

static int	check_level(struct fsck *, int dirfd, int level);

struct level_arg {
	struct fsck	*f;
	int		 level;
};

/*
 * Descend into dirfd/name, a directory of the bucket tree (or a FIFO
 * group's) whose children are at level; one that is no directory is set
 * aside as notdir, one gone meanwhile (pruned or emptied) is no problem.
 */
static int
check_subdir(struct fsck *f, int dirfd, const char *name, int level,
    const char *notdir)
{
	size_t len = strlen(f->path);
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		set_aside(f, dirfd, name, notdir);
		return 0;
	}
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return wq_gone(errno) ? 0 : -1;
	snprintf(f->path + len, sizeof(f->path) - len, "/%s", name);
	rc = check_level(f, fd, level);
	f->path[len] = '\0';
	close(fd);
	return rc;
}

/* A name in a bucket directory above the leaves. */
static int
check_bucket_entry(int dirfd, const char *name, void *arg)
{
	struct level_arg *l = arg;

	if (!wq_bucket_level_valid(name, l->level)) {
		set_aside(l->f, dirfd, name, "not a bucket name");
		return 0;
	}
	return check_subdir(l->f, dirfd, name, l->level + 1,
	    "a bucket that is no directory");
}

/* A directory of the bucket tree at level (WQ_BUCKET_LEVELS: a leaf). */
static int
check_level(struct fsck *f, int dirfd, int level)
{
	struct level_arg l = { f, level };

	if (level == WQ_BUCKET_LEVELS)
		return wq_walk_dir(dirfd, 1, check_leaf_entry, f);
	return wq_walk_dir(dirfd, 1, check_bucket_entry, &l);
}

/* A FIFO queue's new/ holds one tree per group. */
static int
check_group(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;

	if (!wq_group_valid(name)) {
		set_aside(f, dirfd, name, "not a group name");
		return 0;
	}
	return check_subdir(f, dirfd, name, 0, "a group that is no directory");
}

/* cur/: leases and delayed messages. */
static int
check_cur_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	struct wq_entry e;
	struct stat st;
	const char *bad;
	int64_t due;

	if (wq_entry_parse(name, 1, &e) == -1) {
		set_aside(f, dirfd, name, "not a lease name");
		return 0;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	/* No consumer makes a lease of anything but a regular file. */
	if (!S_ISREG(st.st_mode)) {
		set_aside(f, dirfd, name, S_ISLNK(st.st_mode) ?
		    "a symbolic link, not a message" : "not a regular file");
		return 0;
	}
	/* A lease that runs belongs to its holder: not read, not moved. */
	due = e.deadline;
	if (strcmp(e.nonce, WQ_DELAYED) != 0)
		due += (int64_t)f->q->pol.clock_skew * 1000;
	if (due > f->now && strcmp(e.nonce, WQ_DELAYED) != 0)
		return 0;
	if ((bad = bad_message(f, dirfd, name, &e)) != NULL)
		set_aside(f, dirfd, name, bad);
	return 0;
}

/* tmp/: leftovers older than the sweep's limit; foreign types. */
static int
check_tmp_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		problem(f, name, "not a file nor a link (left alone)", NULL);
		return 0;
	}
	if (!wq_tmp_stale(name, &st, (time_t)(f->now / 1000) -
	    WQ_TMP_STALE_SEC))
		return 0;	/* a writer may be at work */
	if (!repairing(f))
		problem(f, name, "stale leftover of a writer", NULL);
	else if (unlinkat(dirfd, name, 0) == 0)
		problem(f, name, "stale leftover of a writer", "removed");
	else if (!wq_gone(errno))
		failed(f, name, "stale leftover of a writer");
	return 0;
}

/* lock/: FIFO group locks past their time. */
static int
check_lock_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	int r;

	if (!wq_group_valid(name)) {
		problem(f, name, "not a group name (left alone)", NULL);
		return 0;
	}
	if ((r = wq_fifo_lock_stale(f->q, dirfd, name, f->now,
	    repairing(f))) == 1)
		problem(f, name, "stale group lock", repairing(f) ?
		    "removed" : NULL);
	else if (r == -1)
		failed(f, name, "stale group lock");
	return 0;
}

/* dedup/: slots are symbolic links named by a 64-digit key. */
static int
check_dedup_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (strlen(name) != 2 * WQ_DEDUP_KEY || !S_ISLNK(st.st_mode))
		problem(f, name, "not a deduplication slot (left alone)",
		    NULL);
	return 0;
}

/* Names a queue directory holds (dot names are others' temporaries). */
static const char *const known[] = {
	"policy", "tmp", "new", "cur", "head", "lock", "dedup", "corrupt",
	"clock"
};

static int
check_top_entry(int dirfd, const char *name, void *arg)
{
	struct fsck *f = arg;
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			break;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (i == sizeof(known) / sizeof(known[0]))
		problem(f, name, "unknown entry (left alone)", NULL);
	else if (strcmp(name, "head") == 0 ? !S_ISLNK(st.st_mode) :
	    i >= 5 && !S_ISDIR(st.st_mode))
		problem(f, name, "not what wq(5) says (left alone)", NULL);
	return 0;
}

/* Walk one directory of the queue with fn, f->path naming it. */
static int
walk_sub(struct fsck *f, const char *sub, int (*fn)(int, const char *,
    void *))
{
	int fd, rc;

	if ((fd = openat(f->q->fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return wq_gone(errno) ? 0 : -1;
	strlcpy(f->path, sub, sizeof(f->path));
	rc = wq_walk_dir(fd, 1, fn, f);
	close(fd);
	return rc;
}

/*
 * tmp/, new/ and cur/ must be directories: one that is missing is made,
 * anything else in its place is reported (wq_queue_open refuses it).
 */
static int
check_subdirs(int qfd, struct fsck *f)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct wq_queue q0;
	struct stat st;
	size_t i;
	int ok = 1;

	memset(&q0, 0, sizeof(q0));
	if (wq_policy_read(qfd, &q0.pol) == -1) {
		if (wq_gone(errno))
			return -1;	/* no queue */
		problem(f, "policy", errno == EPROTO ?
		    "unknown format version (left alone)" :
		    "unreadable or corrupt policy (left alone)", NULL);
		return 1;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (fstatat(qfd, subs[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				problem(f, subs[i], "not a directory (left "
				    "alone)", NULL);
				ok = 0;
			}
		} else if (!wq_gone(errno))
			return -1;
		else if (!repairing(f)) {
			problem(f, subs[i], "missing directory", NULL);
			ok = 0;
		} else if (wq_mkdir(&q0, qfd, subs[i]) == 0 || errno == EEXIST)
			problem(f, subs[i], "missing directory", "made");
		else {
			failed(f, subs[i], "missing directory");
			ok = 0;
		}
	}
	return ok ? 0 : 1;
}

static int
open_queue_dir(struct wq_spool *s, const char *queue)
{
	if (strchr(queue, '/') != NULL)
		return open(queue, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!wq_name_valid(queue)) {
		errno = EINVAL;
		return -1;
	}
	if (s->fd == -1) {
		errno = ENOENT;
		return -1;
	}
	return openat(s->fd, queue, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

static int
check_queue(struct fsck *f)
{
	int rc = 0;

	f->path[0] = '\0';
	if (wq_walk_dir(f->q->fd, 0, check_top_entry, f) == -1)
		return -1;
	if (walk_sub(f, "tmp", check_tmp_entry) == -1)
		return -1;
	strlcpy(f->path, "new", sizeof(f->path));
	if ((f->q->pol.fifo ? wq_walk_dir(f->q->newfd, 1, check_group, f) :
	    check_level(f, f->q->newfd, 0)) == -1)
		return -1;
	if (walk_sub(f, "cur", check_cur_entry) == -1 ||
	    walk_sub(f, "lock", check_lock_entry) == -1 ||
	    walk_sub(f, "dedup", check_dedup_entry) == -1)
		rc = -1;
	return rc;
}

/*
 * Check one queue, and repair it with WQ_FSCK_REPAIR.  Each problem is
 * passed to report and counted in *res.  -1 with errno when the queue
 * cannot be checked (ENOENT: no such queue).
 */
int
wq_fsck(struct wq_spool *s, const char *queue, unsigned flags,
    wq_fsck_report *report, void *arg, struct wq_fsck *res)
{
	struct fsck f;
	int qfd, r, saved;

	memset(&f, 0, sizeof(f));
	f.queue = queue;
	f.flags = flags;
	f.report = report;
	f.arg = arg;
	f.res = res;
	f.corruptfd = -1;
	f.now = wq_now_ms();
	if ((qfd = open_queue_dir(s, queue)) == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			errno = ENOENT;
		return -1;
	}
	r = check_subdirs(qfd, &f);
	close(qfd);
	if (r != 0)
		return r == -1 ? -1 : 0;	/* reported: not checked on */
	if ((f.q = wq_queue_open(s, queue)) == NULL)
		return -1;
	r = check_queue(&f);
	saved = errno;
	if (f.corruptfd != -1)
		close(f.corruptfd);
	wq_queue_close(f.q);
	errno = saved;
	return r;
}
