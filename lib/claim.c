/* SPDX-License-Identifier: MIT */
/*
 * claim.c — taking messages.  A claim is one rename of new/PP.ID,COUNT to
 * cur/PP.ID,COUNT+1,DEADLINE,NONCE; of consumers racing for one entry,
 * exactly one rename succeeds and the others see ENOENT and try the next.
 *
 * A consumer keeps the sorted listing of new/ it read last and works
 * through it, so a stream of claims reads the directory once per batch
 * rather than once per message.  It reads new/ again when the batch runs
 * out or when it learns (inotify, a promotion) that something arrived.
 * Expired leases are returned to new/ by the next consumer to look at cur/;
 * cur/ is looked at when its earliest deadline may have passed.
 */
#include <errno.h>
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

static int
refill(struct wq_consumer *c)
{
	wq_consumer_invalidate(c);
	return wq_list_dir(c->q->newfd, &c->batch, &c->n);
}

/* Try to claim the entry name of new/. 1 claimed, 0 lost the race. */
static int
claim_entry(struct wq_consumer *c, const char *name, int64_t now,
    struct wq_msg **mp)
{
	struct wq_entry e;
	char target[WQ_RECEIPT_MAX];

	if (wq_entry_parse(name, 0, &e) == -1)
		return 0;	/* not ours: leave foreign names alone */
	e.count++;
	e.deadline = now + (int64_t)c->vis * 1000;
	wq_nonce_new(e.nonce);
	if (wq_entry_format(&e, 1, target, sizeof(target)) == -1)
		return 0;
	if (renameat(c->q->newfd, name, c->q->curfd, target) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((*mp = wq_msg_load(c->q, c->q->curfd, target, &e)) != NULL)
		return 1;
	if (errno != EBADMSG)
		return -1;
	(void)wq_quarantine(c->q, c->q->curfd, target);
	return 0;
}

int
wq_claim(struct wq_consumer *c, struct wq_msg **mp)
{
	int64_t now = wq_now_ms();
	int fresh = 0, r;

	*mp = NULL;
	if (check_cur(c, now) == -1)
		return -1;
	for (;;) {
		if (c->pos >= c->n) {
			if (fresh)
				break;
			if (refill(c) == -1)
				return -1;
			fresh = 1;
		}
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
	errno = ENOMSG;
	return -1;
}

/* The next ready message in order, without claiming it. */
int
wq_peek(struct wq_consumer *c, struct wq_msg **mp)
{
	struct wq_entry e;
	const char *name;

	*mp = NULL;
	if (!c->peeking) {
		if (check_cur(c, wq_now_ms()) == -1 || refill(c) == -1)
			return -1;
		c->peeking = 1;
	}
	while (c->pos < c->n) {
		name = c->batch[c->pos++];
		if (wq_entry_parse(name, 0, &e) == -1)
			continue;
		if ((*mp = wq_msg_load(c->q, c->q->newfd, name, &e)) != NULL) {
			(*mp)->peeked = 1;
			(*mp)->receipt[0] = '\0';
			return 0;
		}
		if (errno != ENOENT && errno != EBADMSG)
			return -1;
	}
	errno = ENOMSG;
	return -1;
}
