/* SPDX-License-Identifier: MIT */
/*
 * lease.c — what the holder of a receipt may do (ack, release, extend) and
 * how leases end.  Every change is one rename (or unlink) of the cur/
 * entry named by the receipt, so a holder and a consumer reclaiming an
 * expired lease race on the same name and exactly one of them wins.
 *
 * An extension renames the entry to a new DEADLINE with the same NONCE.
 * Receipts issued before it still name the lease: when the exact name is
 * gone, the entry with the same id, count and nonce is looked up in cur/.
 * A reclaimed lease has a new nonce, so an old receipt never matches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wq_priv.h"

#define LEASE_RETRIES 8

struct find_arg {
	const struct wq_entry	*want;
	char			*found;
	size_t			 len;
};

static int
same_lease(int dirfd, const char *name, void *arg)
{
	struct find_arg *f = arg;
	struct wq_entry e;

	(void)dirfd;
	if (wq_entry_parse(name, 1, &e) == 0 && e.rank == f->want->rank &&
	    e.count == f->want->count && strcmp(e.id, f->want->id) == 0 &&
	    strcmp(e.nonce, f->want->nonce) == 0) {
		strlcpy(f->found, name, f->len);
		return -1;
	}
	return 0;
}

/* The current cur/ name of the lease a receipt names, into name. */
static int
find_lease(struct wq_queue *q, const struct wq_entry *want, char *name,
    size_t len)
{
	struct find_arg f = { want, name, len };

	name[0] = '\0';
	if (wq_walk_dir(q->curfd, 0, same_lease, &f) == -1 && name[0] == '\0')
		return -1;
	if (name[0] == '\0') {
		errno = ENOMSG;
		return -1;
	}
	return 0;
}

/*
 * Apply op to the entry a receipt names.  op returns -1 with ENOENT when
 * the name vanished under it (an extension by the holder elsewhere, or a
 * reclaim); then the lease is looked up again by its nonce.
 */
int
wq_with_lease(struct wq_queue *q, const char *receipt, wq_lease_op *op,
    void *arg)
{
	struct wq_entry e;
	char name[WQ_RECEIPT_MAX];
	int i;

	if (wq_receipt_parse(receipt, &e) == -1)
		return -1;
	strlcpy(name, receipt, sizeof(name));
	for (i = 0; i < LEASE_RETRIES; i++) {
		if (op(q, name, &e, arg) == 0)
			return 0;
		if (!wq_gone(errno))
			return -1;
		if (find_lease(q, &e, name, sizeof(name)) == -1)
			return -1;
	}
	errno = ENOMSG;
	return -1;
}

static int
op_ack(struct wq_queue *q, const char *name, const struct wq_entry *e,
    void *arg)
{
	(void)arg;
	if (unlinkat(q->curfd, name, 0) == -1)
		return -1;
	wq_fifo_unlock(q, e);
	return 0;
}

/*
 * Make cur/name ready again (in a FIFO queue, its group free again), as
 * of at_ms: now (0) for a release; when it fell due for a delayed
 * message or an expired lease, so that what fell due together keeps its
 * order in the tree.
 */
static int
ready_at(struct wq_queue *q, const char *name, const struct wq_entry *e,
    int64_t at_ms)
{
	struct wq_entry to = *e;

	to.deadline = 0;
	to.nonce[0] = '\0';
	if (wq_transfer_at(q, q->curfd, name, &to, WQ_MOVE, at_ms * 1000) == -1)
		return -1;
	wq_fifo_unlock(q, e);
	return 0;
}

static int
ready_now(struct wq_queue *q, const char *name, const struct wq_entry *e)
{
	return ready_at(q, name, e, 0);
}

struct release_arg {
	uint32_t	delay;
	int		uncounted;	/* this receive does not count */
};

static int
op_release(struct wq_queue *q, const char *name, const struct wq_entry *e,
    void *arg)
{
	struct release_arg *r = arg;
	struct wq_entry to = *e;
	char target[WQ_RECEIPT_MAX];

	if (r->uncounted && to.count > 0)
		to.count--;
	if (r->delay > 0 && q->pol.fifo)
		return wq_fifo_hold(q, name, &to, r->delay);
	if (r->delay == 0)
		return ready_now(q, name, &to);
	to.deadline = wq_now_ms() + (int64_t)r->delay * 1000;
	strlcpy(to.nonce, WQ_DELAYED, sizeof(to.nonce));
	if (wq_entry_format(&to, 1, target, sizeof(target)) == -1)
		return -1;
	return renameat(q->curfd, name, q->curfd, target);
}

struct extend_arg {
	uint32_t	 secs;
	char		*out;
};

static int
op_extend(struct wq_queue *q, const char *name, const struct wq_entry *e,
    void *arg)
{
	struct extend_arg *x = arg;
	struct wq_entry to = *e;
	char target[WQ_RECEIPT_MAX];

	to.deadline = wq_now_ms() + (int64_t)x->secs * 1000;
	if (wq_entry_format(&to, 1, target, sizeof(target)) == -1)
		return -1;
	/* The group lock first: it must never end before the lease. */
	if (q->pol.fifo && wq_fifo_extend(q, &to) == -1)
		return -1;
	if (strcmp(name, target) != 0 &&
	    renameat(q->curfd, name, q->curfd, target) == -1)
		return -1;
	strlcpy(x->out, target, WQ_RECEIPT_MAX);
	return 0;
}

int
wq_ack(struct wq_queue *q, const char *receipt)
{
	return wq_with_lease(q, receipt, op_ack, NULL);
}

int
wq_release(struct wq_queue *q, const char *receipt, uint32_t delay)
{
	struct release_arg r = { delay, 0 };

	return wq_with_lease(q, receipt, op_release, &r);
}

/* A release that does not count this receive towards max-receives. */
int
wq_retry(struct wq_queue *q, const char *receipt, uint32_t delay)
{
	struct release_arg r = { delay, 1 };

	return wq_with_lease(q, receipt, op_release, &r);
}

int
wq_extend(struct wq_queue *q, const char *receipt, uint32_t secs,
    char newreceipt[WQ_RECEIPT_MAX])
{
	struct extend_arg x = { secs, newreceipt };

	return wq_with_lease(q, receipt, op_extend, &x);
}

/* The holder's own message: keep its receipt current across extensions. */
int
wq_msg_ack(struct wq_msg *m)
{
	return wq_ack(m->q, m->receipt);
}

int
wq_msg_release(struct wq_msg *m, uint32_t delay)
{
	return wq_release(m->q, m->receipt, delay);
}

int
wq_msg_retry(struct wq_msg *m, uint32_t delay)
{
	return wq_retry(m->q, m->receipt, delay);
}

int
wq_msg_extend(struct wq_msg *m, uint32_t secs)
{
	char next[WQ_RECEIPT_MAX];

	if (wq_extend(m->q, m->receipt, secs, next) == -1)
		return -1;
	strlcpy(m->receipt, next, sizeof(m->receipt));
	(void)wq_entry_parse(next, 1, &m->ent);
	return 0;
}

/* Move an entry that is not a readable message out of the way. */
int
wq_quarantine(struct wq_queue *q, int dirfd, const char *name)
{
	char target[WQ_RECEIPT_MAX + 16];

	if (wq_mkdir(q, q->fd, "corrupt") == -1 && errno != EEXIST)
		return -1;
	snprintf(target, sizeof(target), "corrupt/%s", name);
	return renameat(dirfd, name, q->fd, target);
}

struct promote_arg {
	struct wq_queue	*q;
	int64_t		 now, next;
	size_t		 promoted;
	int		 err;
};

static int
promote_one(int dirfd, const char *name, void *arg)
{
	struct promote_arg *p = arg;
	struct wq_entry e;
	int64_t due;

	if (wq_entry_parse(name, 1, &e) == -1)
		return 0;
	due = e.deadline;
	if (strcmp(e.nonce, WQ_DELAYED) != 0)
		due += (int64_t)p->q->pol.clock_skew * 1000;
	if (due > p->now) {
		if (due < p->next)
			p->next = due;
		return 0;
	}
	(void)dirfd;
	if (ready_at(p->q, name, &e, due) == 0)
		p->promoted++;
	else if (!wq_gone(errno))
		p->err = errno;
	return 0;
}

/*
 * Return expired leases and due delayed messages to new/.  *next is the
 * earliest time a remaining entry falls due (INT64_MAX if none).  Returns
 * how many were promoted.
 */
int
wq_promote_expired(struct wq_queue *q, int64_t now, int64_t *next)
{
	struct promote_arg p = { q, now, INT64_MAX, 0, 0 };

	if (wq_walk_dir(q->curfd, 0, promote_one, &p) == -1) {
		/* cur/ removed by another host (ESTALE): nothing in it */
		if (!wq_gone(errno) || p.err != 0)
			return -1;
		*next = INT64_MAX;
		return (int)(p.promoted > INT32_MAX ? INT32_MAX : p.promoted);
	}
	*next = p.next;
	if (p.err != 0) {
		errno = p.err;
		return -1;
	}
	return (int)(p.promoted > INT32_MAX ? INT32_MAX : p.promoted);
}
