/* SPDX-License-Identifier: MIT */
/*
 * claim.c — taking messages.  A claim is one rename of
 * new/BUCKET/PP.ID,COUNT to cur/PP.ID,COUNT+1,DEADLINE,NONCE; of
 * consumers racing for one entry, exactly one rename succeeds and the
 * others see ENOENT and try the next.
 *
 * A consumer works through one leaf of new/ (see bucket.c) at a time: it
 * lists the leaf once, claims in name order, and when the listing is used
 * up walks down from the top again, removing the empty directories it
 * meets.  Before each claim it looks at the ranks in new/ (see top_rank),
 * so a message of a more urgent rank is served before the rest of a leaf.
 * A consumer's first leaf comes from the head hint when the hint still
 * has messages of the most urgent rank: one-shot consumers skip the walk
 * down.
 * Expired leases are returned to new/ by the next consumer to look at
 * cur/; cur/ is looked at when its earliest deadline may have passed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"
#include "consumer.h"

struct wq_consumer *
wq_consumer_open(struct wq_queue *q, uint32_t visibility)
{
	struct wq_consumer *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->q = q;
	c->vis = visibility ? visibility : q->pol.visibility;
	c->ino_fd = -1;
	c->backoff_ms = WQ_POLL_MIN_MS;
	return c;
}

void
wq_consumer_close(struct wq_consumer *c)
{
	if (c == NULL)
		return;
	wq_names_free(c->batch, c->n);
	if (c->ino_fd != -1)
		close(c->ino_fd);
	if (c->top_dir != NULL)
		closedir(c->top_dir);
	free(c);
}

struct wq_queue *
wq_consumer_queue(const struct wq_consumer *c)
{
	return c->q;
}

void
wq_consumer_invalidate(struct wq_consumer *c)
{
	wq_names_free(c->batch, c->n);
	c->batch = NULL;
	c->n = c->pos = 0;
	c->leaf[0] = '\0';
}

/* Promote what expired in cur/ if its earliest deadline may have passed. */
static int
check_cur(struct wq_consumer *c, int64_t now)
{
	int64_t next;
	int n;

	if (now < c->next_scan)
		return 0;
	if ((n = wq_promote_expired(c->q, now, &next)) == -1)
		return -1;
	/*
	 * Without a watch on cur/, other consumers' claims and delays are
	 * unseen: none of them can fall due within a second (the shortest
	 * lease or delay), so look again after at most that.
	 */
	if (!c->watching && next > now + 1000)
		next = now + 1000;
	c->next_scan = next;
	if (n > 0)
		wq_consumer_invalidate(c);
	return 0;
}

/*
 * List the ranks of new/ through a directory stream kept open for it:
 * rewinding costs one lseek, where opening one costs five syscalls.  On
 * a remote filesystem a kept stream may serve a cached listing, so the
 * stream is opened afresh each time (fresh).  A new/ that another host
 * removed (the queue was deleted: ESTALE) has no ranks, as a removed
 * directory lists empty on a local filesystem.
 */
static int
list_top(struct wq_consumer *c, int fresh, int *top)
{
	int fd;

	if (fresh && c->top_dir != NULL) {
		closedir(c->top_dir);
		c->top_dir = NULL;
	}
	if (c->top_dir == NULL) {
		if ((fd = openat(c->q->newfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			goto gone;
		if ((c->top_dir = fdopendir(fd)) == NULL) {
			close(fd);
			goto gone;
		}
	}
	if (wq_bucket_top_rank(c->top_dir, top) == 0)
		return 0;
gone:
	if (!wq_gone(errno))
		return -1;
	*top = -1;
	return 0;
}

/*
 * The most urgent rank in new/ into *top (-1: none), listed again only
 * when new/ may have changed.  A rank directory that appears or goes
 * changes new/'s mtime; a message filed into a rank directory already
 * listed does not need to.  (Senders' doorbells move the mtime too, so
 * while they send, new/ is listed at every claim.)  Timestamps come from
 * a coarse clock, so a change made within the same tick as the mtime we
 * saw would go unseen: a listing is trusted only when that mtime was over
 * a second old.  On a remote filesystem attributes are cached, so new/
 * is always listed afresh there.
 */
static int
top_rank(struct wq_consumer *c, int64_t now, int *top)
{
	struct stat st;
	int64_t mtime_ms;

	if (c->q->remote)
		return list_top(c, 1, top);
	if (fstat(c->q->newfd, &st) == -1)
		return -1;
	if (c->top_trusted && st.st_mtim.tv_sec == c->top_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->top_mtime.tv_nsec) {
		*top = c->top;
		return 0;
	}
	if (list_top(c, 0, top) == -1)
		return -1;
	mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
	    st.st_mtim.tv_nsec / 1000000;
	c->top = *top;
	c->top_mtime = st.st_mtim;
	c->top_trusted = now - mtime_ms > 1000;
	return 0;
}

/*
 * Load the leaf to claim from next: the head hint the first time, if it
 * still has messages of the most urgent rank; else the first leaf with
 * entries, which then becomes the hint.  ENOMSG when new/ is empty.
 */
static int
next_leaf(struct wq_consumer *c, int top)
{
	wq_consumer_invalidate(c);
	if (!c->hint_read) {
		c->hint_read = 1;
		wq_head_read(c->q, c->hint);
		if (c->hint[0] != '\0' &&
		    (int)wq_bucket_rank(c->hint) == top &&
		    wq_bucket_list(c->q, c->hint, &c->batch, &c->n) == 0 &&
		    c->n > 0) {
			strlcpy(c->leaf, c->hint, sizeof(c->leaf));
			return 0;
		}
		wq_consumer_invalidate(c);
	}
	if (wq_bucket_first(c->q, NULL, 1, c->leaf, &c->batch, &c->n) == -1) {
		c->leaf[0] = '\0';
		return -1;
	}
	if (strcmp(c->leaf, c->hint) != 0) {
		wq_head_write(c->q, c->leaf);
		strlcpy(c->hint, c->leaf, sizeof(c->hint));
	}
	return 0;
}

/* Try to claim the entry name of the leaf. 1 claimed, 0 lost the race. */
static int
claim_entry(struct wq_consumer *c, const char *name, int64_t now,
    struct wq_msg **mp)
{
	struct wq_entry e;
	char target[WQ_RECEIPT_MAX], from[WQ_BUCKET_MAX + WQ_RECEIPT_MAX];

	if (wq_entry_parse(name, 0, &e) == -1)
		return 0;	/* not ours: leave foreign names alone */
	e.count++;
	e.deadline = now + (int64_t)c->vis * 1000;
	wq_nonce_new(e.nonce);
	if (wq_entry_format(&e, 1, target, sizeof(target)) == -1)
		return 0;
	snprintf(from, sizeof(from), "%s/%s", c->leaf, name);
	if (renameat(c->q->newfd, from, c->q->curfd, target) == -1)
		return wq_gone(errno) ? 0 : -1;
	switch (wq_claimed(c, target, &e, mp)) {
	case WQ_CLAIMED:
		return 1;
	case WQ_RETIRED:
		return 0;
	default:
		return -1;
	}
}

/*
 * A message was just renamed to cur/target, leased to us: hand it out,
 * unless it has been received too often or is past its retention (then
 * it is dead-lettered or dropped) or is no message at all (quarantined).
 */
int
wq_claimed(struct wq_consumer *c, const char *target,
    const struct wq_entry *e, struct wq_msg **mp)
{
	int why, saved;

	if ((why = wq_retire_reason(c->q, e, wq_now_ms())) != 0) {
		if (wq_retire(c->q, target, e, why) == 0)
			return WQ_RETIRED;
		/* The dead-letter queue is missing or full: put the message
		 * back as it was, rather than hide it for a lease. */
		saved = errno;
		(void)wq_retry(c->q, target, 0);
		errno = saved;
		return -1;
	}
	if ((*mp = wq_msg_load(c->q, c->q->curfd, target, e)) != NULL)
		return WQ_CLAIMED;
	if (errno != EBADMSG)
		return -1;
	(void)wq_quarantine(c->q, c->q->curfd, target);
	wq_fifo_unlock(c->q, e);
	return WQ_RETIRED;
}

int
wq_claim(struct wq_consumer *c, struct wq_msg **mp)
{
	int64_t now = wq_now_ms();
	int top, r;

	*mp = NULL;
	wq_clock_note(c->q, now);
	if (check_cur(c, now) == -1)
		return -1;
	if (c->q->pol.fifo)
		return wq_fifo_claim(c, now, mp);
	if (top_rank(c, now, &top) == -1)
		return -1;
	if (top < 0) {
		wq_consumer_invalidate(c);
		errno = ENOMSG;
		return -1;
	}
	if (c->leaf[0] != '\0' && top < (int)wq_bucket_rank(c->leaf))
		wq_consumer_invalidate(c);	/* something more urgent */
	/*
	 * Until a claim succeeds or no leaf has entries: a leaf used up by
	 * other consumers is no proof that the queue is empty.
	 */
	for (;;) {
		if (c->pos >= c->n && next_leaf(c, top) == -1)
			return -1;
		while (c->pos < c->n) {
			r = claim_entry(c, c->batch[c->pos++], now, mp);
			if (r == -1)
				return -1;
			if (r == 1) {
				c->backoff_ms = WQ_POLL_MIN_MS;
				return 0;
			}
		}
	}
}

/* The next ready message in serving order, without claiming it. */
int
wq_peek(struct wq_consumer *c, struct wq_msg **mp)
{
	char after[WQ_BUCKET_MAX], from[WQ_BUCKET_MAX + WQ_RECEIPT_MAX];
	struct wq_entry e;
	const char *name;

	*mp = NULL;
	if (!c->peeking) {
		if (check_cur(c, wq_now_ms()) == -1)
			return -1;
		wq_consumer_invalidate(c);
		c->peeking = 1;
	}
	for (;;) {
		while (c->pos < c->n) {
			name = c->batch[c->pos++];
			if (wq_entry_parse(name, 0, &e) == -1)
				continue;
			snprintf(from, sizeof(from), "%s/%s", c->leaf, name);
			if ((*mp = wq_msg_load(c->q, c->q->newfd, from, &e)) !=
			    NULL) {
				(*mp)->peeked = 1;
				(*mp)->receipt[0] = '\0';
				return 0;
			}
			if (!wq_gone(errno) && errno != EBADMSG)
				return -1;
		}
		strlcpy(after, c->leaf, sizeof(after));
		wq_names_free(c->batch, c->n);
		c->batch = NULL;
		c->n = c->pos = 0;
		if ((c->q->pol.fifo ? wq_fifo_peek_leaf(c, after[0] ? after :
		    NULL) : wq_bucket_first(c->q, after[0] ? after : NULL, 0,
		    c->leaf, &c->batch, &c->n)) == -1)
			return -1;
	}
}
