/* SPDX-License-Identifier: MIT */
/*
 * fifo.c — FIFO queues: strict order within a message group, and at most
 * one message of a group in flight.
 *
 * Each group has a bucket tree of its own, new/GROUP/RR/TTTTTT/..., in
 * which every message sits at its send time, also when it comes back
 * after a release: the first entry of a group's tree is always the
 * group's oldest message.  A consumer takes a group by creating the
 * symbolic link lock/GROUP -> "DEADLINE,NONCE" (symlink creation has one
 * winner, on NFS too), then claims the first entry of the group's tree
 * with that deadline and nonce; acking, releasing or dead-lettering the
 * lease removes the lock, and extending it extends the lock.  A release
 * with a delay puts the message back and leaves the lock as
 * "DUE,hold" until the delay has passed.
 *
 * A lock whose deadline (plus the clock skew) has passed is stale: its
 * holder crashed.  Whoever finds one first returns expired leases to
 * their trees (so the group's oldest message is back in front), then
 * breaks the lock by renaming it away and checking that what it moved is
 * the stale lock it read; a fresh lock moved by mistake is linked back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"
#include "consumer.h"

#define LOCK_MAX	64	/* "DEADLINE,NONCE" */
#define HOLD		"hold"

static const char *
group_of(const struct wq_entry *e)
{
	return e->group[0] != '\0' ? e->group : WQ_GROUP_DEFAULT;
}

/* The fd of lock/, made on first use. */
static int
lock_dir(struct wq_queue *q)
{
	return wq_open_subdir(q, q->fd, "lock", 1, NULL);
}

/* The lock of a group: 1 and its deadline and nonce, 0 none, -1 error. */
static int
lock_read(int lfd, const char *group, int64_t *deadline, char nonce[17])
{
	char buf[LOCK_MAX];
	ssize_t n;
	char *end;

	if ((n = readlinkat(lfd, group, buf, sizeof(buf) - 1)) == -1) {
		if (errno != EINVAL)
			return wq_gone(errno) ? 0 : -1;
		n = 0;		/* not a symbolic link: garbage */
	}
	buf[n] = '\0';
	*deadline = strtoll(buf, &end, 10);
	if (*end != ',' || strlen(end + 1) > 16) {
		*deadline = 0;		/* garbage: treat as stale */
		nonce[0] = '\0';
		return 1;
	}
	strlcpy(nonce, end + 1, 17);
	return 1;
}

/* Replace a group's lock by a new one (rename over). */
static int
lock_write(struct wq_queue *q, int lfd, const char *group, int64_t deadline,
    const char *nonce)
{
	char target[LOCK_MAX];

	snprintf(target, sizeof(target), "%" PRId64 ",%s", deadline, nonce);
	return wq_symlink_replace(q, lfd, group, target);
}

/*
 * Break a stale lock that read as (deadline, nonce): move it away, and
 * put back what was moved if it turns out to be another, fresh lock.
 */
static void
lock_break(struct wq_queue *q, int lfd, const char *group, int64_t deadline,
    const char *nonce)
{
	char tmp[64], n2[17];
	int64_t d2;

	snprintf(tmp, sizeof(tmp), ".broken.%ld.%08x", (long)getpid(),
	    arc4random());
	if (renameat(lfd, group, q->tmpfd, tmp) == -1)
		return;
	if (lock_read(q->tmpfd, tmp, &d2, n2) == 1 &&
	    (d2 != deadline || strcmp(n2, nonce) != 0))
		(void)linkat(q->tmpfd, tmp, lfd, group, 0);
	(void)unlinkat(q->tmpfd, tmp, 0);
}

/* When a lock read as (d, held) goes stale: a lease's deadline plus the
 * clock skew, or a hold's own time. */
static int64_t
lock_ends(const struct wq_queue *q, int64_t d, const char *held)
{
	if (strcmp(held, HOLD) == 0)
		return d;
	return d + (int64_t)q->pol.clock_skew * 1000;
}

/* Break a stale lock: the holder's expired lease is brought back first,
 * so that its message is at the front of its group again. */
static int
break_stale(struct wq_queue *q, int lfd, const char *group, int64_t now)
{
	char held[17];
	int64_t d, next;

	if (wq_promote_expired(q, now, &next) == -1)
		return -1;
	if (lock_read(lfd, group, &d, held) == 1)
		lock_break(q, lfd, group, d, held);
	return 0;
}

/*
 * Take a group's lock for a lease (deadline, nonce).  0 taken; 1 the
 * group is busy, and *busy_until is when its lock goes stale.
 */
static int
lock_take(struct wq_queue *q, int lfd, const char *group, int64_t deadline,
    const char *nonce, int64_t now, int64_t *busy_until)
{
	char target[LOCK_MAX], held[17];
	int64_t d;
	int tries, r;

	snprintf(target, sizeof(target), "%" PRId64 ",%s", deadline, nonce);
	for (tries = 0; tries < 4; tries++) {
		if (symlinkat(target, lfd, group) == 0)
			return 0;
		if (errno != EEXIST || (r = lock_read(lfd, group, &d, held)) == -1)
			return -1;
		if (r == 0)
			continue;	/* just removed: try again */
		if ((d = lock_ends(q, d, held)) > now) {
			*busy_until = d;
			return 1;
		}
		if (break_stale(q, lfd, group, now) == -1)
			return -1;
	}
	*busy_until = now + 1000;
	return 1;
}

/*
 * For wq-fsck: is the lock of a group stale (its time is over, or it is
 * garbage)?  With repair, break it as a claimer does: expired leases are
 * promoted first, so the holder's message is back at the front of its
 * group.  1 stale, 0 not stale or no lock, -1 error.
 */
int
wq_fifo_lock_stale(struct wq_queue *q, int lfd, const char *group,
    int64_t now, int repair)
{
	char held[17];
	int64_t d;
	int r;

	if ((r = lock_read(lfd, group, &d, held)) != 1)
		return r;
	if (lock_ends(q, d, held) > now)
		return 0;
	if (repair && break_stale(q, lfd, group, now) == -1)
		return -1;
	return 1;
}

/*
 * Free the group of lease e, once e has been acked, released, retired or
 * moved.  Best effort, never an error: that state change has happened
 * and cannot be undone, so failing here made wq-ack report an ack that
 * was done as failed.  A lock left behind names a NONCE that no entry
 * has any more, and ends at the lease's deadline, when claimers break it
 * (lock_take): the group waits until then, and nothing is lost.
 */
void
wq_fifo_unlock(struct wq_queue *q, const struct wq_entry *e)
{
	char held[17];
	int64_t d;
	int lfd;

	if (!q->pol.fifo || strcmp(e->nonce, WQ_DELAYED) == 0 ||
	    e->nonce[0] == '\0')
		return;
	if ((lfd = lock_dir(q)) == -1)
		return;
	if (lock_read(lfd, group_of(e), &d, held) == 1 &&
	    strcmp(held, e->nonce) == 0)
		(void)unlinkat(lfd, group_of(e), 0);
	close(lfd);
	/* Consumers waiting for the group sleep on new/: wake them. */
	wq_doorbell(q);
}

/* The lock follows the lease's new deadline; ENOMSG if it is not ours. */
int
wq_fifo_extend(struct wq_queue *q, const struct wq_entry *e)
{
	char held[17];
	int64_t d;
	int lfd, r, rc = -1;

	if ((lfd = lock_dir(q)) == -1)
		return -1;
	/* An error reading the lock is not a stale receipt (exit 1). */
	if ((r = lock_read(lfd, group_of(e), &d, held)) == -1)
		;
	else if (r == 0 || strcmp(held, e->nonce) != 0)
		errno = ENOMSG;
	else
		rc = lock_write(q, lfd, group_of(e), e->deadline, e->nonce);
	close(lfd);
	return rc;
}

/*
 * Release with a delay: the message goes back, the group stays held.
 * The hold is written first: if the move then fails, the lease is still
 * there and its lock is put back.  The other way round, a hold that
 * could not be written left the message released, and its group free at
 * the old deadline, by a command that reported failure.
 */
int
wq_fifo_hold(struct wq_queue *q, const char *name, const struct wq_entry *e,
    uint32_t delay)
{
	struct wq_entry to = *e;
	char held[17];
	int64_t d;
	int lfd, r, rc = 0, hold = 0, saved;

	to.deadline = 0;
	to.nonce[0] = '\0';
	if ((lfd = lock_dir(q)) == -1)
		return -1;
	if ((r = lock_read(lfd, group_of(e), &d, held)) == -1)
		rc = -1;
	else if (r == 1 && strcmp(held, e->nonce) == 0) {
		rc = lock_write(q, lfd, group_of(e),
		    wq_now_ms() + (int64_t)delay * 1000, HOLD);
		hold = rc == 0;
	}
	if (rc == 0 && wq_transfer(q, q->curfd, name, &to, WQ_MOVE) == -1) {
		saved = errno;
		if (hold)
			(void)lock_write(q, lfd, group_of(e), d, held);
		errno = saved;
		rc = -1;
	}
	saved = errno;
	close(lfd);
	errno = saved;
	return rc;
}

/* The tree of a group (new/GROUP), made if create. */
static int
group_dir(struct wq_queue *q, const char *group, int create, int *made)
{
	return wq_open_subdir(q, q->newfd, group, create, made);
}

/*
 * Put fromfd/from into its group's tree at its send time.  A consumer
 * may remove the group's directory as empty under us: then again.
 */
int
wq_fifo_put(struct wq_queue *q, int fromfd, const char *from,
    const struct wq_entry *e, int link, int sync, char *placed, size_t len)
{
	char bucket[WQ_BUCKET_MAX], name[WQ_RECEIPT_MAX];
	struct wq_queue gq;
	struct wq_entry fe = *e;
	int made, gmade = 0, gfd, tries, rc = -1, saved;

	/* No priorities in a FIFO queue, also for messages that come in
	 * from elsewhere (a topic, a dead-letter move, a redrive). */
	fe.rank = WQ_RANK_DEFAULT;
	if (wq_entry_format(&fe, 0, name, sizeof(name)) == -1 ||
	    wq_bucket_path(fe.rank, wq_id_time_us(fe.id), bucket,
	    sizeof(bucket)) == -1)
		return -1;
	for (tries = 0; tries < 8 && rc == -1; tries++) {
		if ((gfd = group_dir(q, group_of(e), 1, &gmade)) == -1)
			return -1;
		gq = *q;
		gq.newfd = gfd;
		made = WQ_BUCKET_LEVELS;
		rc = link ? wq_bucket_link(&gq, fromfd, from, bucket, name,
		    &made) : wq_bucket_put(&gq, fromfd, from, bucket, name,
		    &made);
		if (rc == 0 && sync && q->pol.sync != WQ_SYNC_NONE &&
		    (wq_bucket_sync(&gq, bucket, made) == -1 ||
		    (gmade && wq_fsync_dir(q->newfd) == -1))) {
			/* Not durable: take it back, as a failed send must
			 * leave nothing visible (lib/bucket.c). */
			saved = errno;
			(void)wq_bucket_unput(&gq, fromfd, from, bucket, name,
			    link);
			errno = saved;
			rc = -2;
		}
		saved = errno;
		close(gfd);
		errno = saved;
		if (rc == -1 && !wq_gone(errno) && errno != EAGAIN)
			return -1;
	}
	if (rc != 0)
		return -1;
	if (placed != NULL)
		snprintf(placed, len, "%s/%s/%s", group_of(e), bucket, name);
	wq_doorbell(q);
	return 0;
}

/*
 * Claim the oldest message of a group whose lock we hold as lease.
 * WQ_CLAIMED (*mp set), WQ_RETIRED (it was dead-lettered, dropped or
 * quarantined instead, and the lock went with it), 0 the group has no
 * message, -1 error.
 */
static int
claim_first(struct wq_consumer *c, const char *group,
    const struct wq_entry *lease, struct wq_msg **mp)
{
	char leaf[WQ_BUCKET_MAX], from[WQ_BUCKET_MAX + WQ_RECEIPT_MAX];
	char target[WQ_RECEIPT_MAX], **names = NULL;
	struct wq_queue gq;
	struct wq_entry e;
	size_t n = 0, i;
	int gfd, unused = 0, r = 0;

	/* Gone, or no directory (a foreign file or link): no messages. */
	if ((gfd = group_dir(c->q, group, 0, &unused)) == -1)
		return wq_gone(errno) || errno == ENOTDIR || errno == ELOOP ?
		    0 : -1;
	gq = *c->q;
	gq.newfd = gfd;
	if (wq_bucket_first(&gq, NULL, 1, leaf, &names, &n) == -1)
		r = errno == ENOMSG ? 0 : -1;
	/* Only the first entry will do; the others are there if it is
	 * gone under us (a purge). */
	for (i = 0; i < n && r == 0; i++) {
		if (wq_entry_parse(names[i], 0, &e) == -1)
			continue;
		e.count++;
		e.deadline = lease->deadline;
		strlcpy(e.nonce, lease->nonce, sizeof(e.nonce));
		snprintf(from, sizeof(from), "%s/%s", leaf, names[i]);
		if (wq_entry_format(&e, 1, target, sizeof(target)) == -1)
			continue;
		if (renameat(gfd, from, c->q->curfd, target) == 0)
			r = wq_claimed(c, target, &e, mp);
		else if (!wq_gone(errno))
			r = -1;
	}
	wq_names_free(names, n);
	if (n == 0 && r == 0)
		(void)unlinkat(c->q->newfd, group, AT_REMOVEDIR);
	close(gfd);
	return r;
}

/* Try one group: WQ_CLAIMED, 0 busy or empty, -1 error. */
static int
claim_group(struct wq_consumer *c, int lfd, const char *group, int64_t now,
    struct wq_msg **mp)
{
	struct wq_entry lease;
	int64_t busy_until;
	int r, tries, saved;

	for (tries = 0; tries < 64; tries++) {
		memset(&lease, 0, sizeof(lease));
		strlcpy(lease.group, group, sizeof(lease.group));
		lease.deadline = now + (int64_t)c->vis * 1000;
		wq_nonce_new(lease.nonce);
		if ((r = lock_take(c->q, lfd, group, lease.deadline,
		    lease.nonce, now, &busy_until)) == -1)
			return -1;
		if (r == 1) {
			if (busy_until < c->next_scan)
				c->next_scan = busy_until;
			return 0;
		}
		r = claim_first(c, group, &lease, mp);
		if (r == WQ_CLAIMED)
			return WQ_CLAIMED;
		if (r != WQ_RETIRED) {
			saved = errno;
			wq_fifo_unlock(c->q, &lease);
			errno = saved;
			return r;
		}
	}
	return 0;
}

/*
 * Claim from a FIFO queue: the groups with messages are new/'s
 * directories; they are tried in turn, starting after the one served
 * last, so that one busy group does not starve the others.
 */
int
wq_fifo_claim(struct wq_consumer *c, int64_t now, struct wq_msg **mp)
{
	char **groups;
	size_t n, i, k;
	int lfd, r = 0;

	*mp = NULL;
	if (wq_list_dir(c->q->newfd, &groups, &n) == -1)
		return -1;
	if ((lfd = lock_dir(c->q)) == -1) {
		wq_names_free(groups, n);
		return -1;
	}
	for (k = 0; k < n && r == 0; k++) {
		i = (c->fifo_next + k) % n;
		if (!wq_group_valid(groups[i]))
			continue;
		if ((r = claim_group(c, lfd, groups[i], now, mp)) ==
		    WQ_CLAIMED)
			c->fifo_next = i + 1;
	}
	close(lfd);
	wq_names_free(groups, n);
	if (r == WQ_CLAIMED)
		return 0;
	if (r == 0)
		errno = ENOMSG;
	return -1;
}

/*
 * For peeking: the first leaf with entries after `after` ("GROUP/leaf",
 * or NULL for the very first), walking the groups in name order and each
 * group's tree in order.  c->leaf gets "GROUP/leaf", c->batch its entries.
 */
int
wq_fifo_peek_leaf(struct wq_consumer *c, const char *after)
{
	char leaf[WQ_BUCKET_MAX], **groups;
	const char *slash = after ? strchr(after, '/') : NULL;
	size_t n, i, glen = slash ? (size_t)(slash - after) : 0;
	struct wq_queue gq;
	int gfd, unused = 0, r = -1, cmp;

	if (wq_list_dir(c->q->newfd, &groups, &n) == -1)
		return -1;
	errno = ENOMSG;
	for (i = 0; i < n && r == -1; i++) {
		cmp = after ? strncmp(groups[i], after, glen) : 1;
		if (!wq_group_valid(groups[i]) || cmp < 0 ||
		    (cmp == 0 && groups[i][glen] != '\0' && strcmp(groups[i],
		    after) < 0))
			continue;
		if ((gfd = group_dir(c->q, groups[i], 0, &unused)) == -1)
			continue;
		gq = *c->q;
		gq.newfd = gfd;
		if (wq_bucket_first(&gq, cmp == 0 && groups[i][glen] == '\0' ?
		    slash + 1 : NULL, 0, leaf, &c->batch, &c->n) == 0) {
			strlcpy(c->leaf, groups[i], sizeof(c->leaf));
			strlcat(c->leaf, "/", sizeof(c->leaf));
			strlcat(c->leaf, leaf, sizeof(c->leaf));
			r = 0;
		} else if (errno != ENOMSG)
			r = -2;
		close(gfd);
	}
	wq_names_free(groups, n);
	if (r == -1)
		errno = ENOMSG;
	return r == 0 ? 0 : -1;
}
