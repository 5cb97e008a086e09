/* SPDX-License-Identifier: MIT */
/*
 * dead.c — where messages end that are not acked: after max-receives
 * receives, past the retention time, or on request (wq-ack --dead, exec
 * exit 100) they move to the queue's dead-letter queue, and a redrive
 * moves them back.  The consumer that decides owns the message (it is
 * leased to it in cur/), so no two consumers move one message twice, and
 * the move is one rename: a crash leaves it either here or there.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/* The dead-letter queue, opened once per queue handle. */
static struct wq_queue *
dead_letter_queue(struct wq_queue *q)
{
	if (q->pol.dead_letter[0] == '\0') {
		errno = EDESTADDRREQ;
		return NULL;
	}
	if (q->dlq == NULL)
		q->dlq = wq_queue_open_beside(q, q->pol.dead_letter);
	return q->dlq;
}

/* Is a claimed entry (count already raised) beyond the queue's limits? */
int
wq_retire_reason(const struct wq_queue *q, const struct wq_entry *e,
    int64_t now)
{
	int64_t sent;

	if (q->pol.max_receives > 0 && e->count > q->pol.max_receives)
		return WQ_RETIRE_DEAD;
	if (q->pol.retention > 0 && wq_id_time_ms(e->id, &sent) == 0 &&
	    sent + (int64_t)q->pol.retention * 1000 < now)
		return WQ_RETIRE_EXPIRED;
	return 0;
}

/*
 * Retire the entry cur/name that the caller owns: to the dead-letter
 * queue, or, for an expired message of a queue without one, away.
 * Its receive count starts again at 0 there.
 */
int
wq_retire(struct wq_queue *q, const char *name, const struct wq_entry *e,
    int reason)
{
	struct wq_queue *dlq;
	struct wq_entry to = *e;

	if (reason == WQ_RETIRE_EXPIRED && q->pol.dead_letter[0] == '\0') {
		if (unlinkat(q->curfd, name, 0) == -1)
			return -1;
		wq_fifo_unlock(q, e);
		return 0;
	}
	if ((dlq = dead_letter_queue(q)) == NULL)
		return -1;
	to.count = 0;
	to.deadline = 0;
	to.nonce[0] = '\0';
	if (dlq->pol.fifo && to.group[0] == '\0')
		strlcpy(to.group, WQ_GROUP_DEFAULT, sizeof(to.group));
	if (wq_transfer(dlq, q->curfd, name, &to, WQ_MOVE) == -1)
		return -1;
	wq_fifo_unlock(q, e);
	return 0;
}

#define TARGETS_MAX	32	/* queues a redrive keeps open */

struct target {
	char		 name[256];
	struct wq_queue	*q;
};

struct targets {
	struct target	 t[TARGETS_MAX];
	size_t		 n;
};

static void
targets_close(struct targets *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		wq_queue_close(ts->t[i].q);
	ts->n = 0;
}

/* The queue a redriven message goes to, opened once per name. */
static struct wq_queue *
redrive_target(struct wq_queue *dlq, const char *ref, struct targets *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].name, ref) == 0)
			return ts->t[i].q;
	if (ts->n == TARGETS_MAX)
		targets_close(ts);	/* many origins: start afresh */
	if ((ts->t[ts->n].q = wq_queue_open_beside(dlq, ref)) == NULL)
		return NULL;
	strlcpy(ts->t[ts->n].name, ref, sizeof(ts->t[ts->n].name));
	return ts->t[ts->n++].q;
}

static int
same_dir(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Move one claimed message of dlq to where it came from (or to `to`).
 * 1 if it came from dlq itself: it stays (released, not counted).
 */
static int
redrive_one(struct wq_queue *dlq, struct wq_msg *m, const char *to,
    struct targets *ts)
{
	struct wq_queue *tq;
	struct wq_entry e = m->ent;
	const char *ref = to != NULL ? to : m->origin;
	int rc;

	if (ref == NULL || ref[0] == '\0') {
		errno = EDESTADDRREQ;
		return -1;
	}
	if ((tq = redrive_target(dlq, ref, ts)) == NULL)
		return -1;
	if (same_dir(tq->fd, dlq->fd))
		return wq_msg_retry(m, 0) == -1 ? -1 : 1;
	e.count = 0;
	e.deadline = 0;
	e.nonce[0] = '\0';
	if (tq->pol.fifo && e.group[0] == '\0')
		strlcpy(e.group, WQ_GROUP_DEFAULT, sizeof(e.group));
	if (tq->pol.fanout[0] != '\0')
		rc = wq_fanout_deliver(tq, dlq->curfd, m->receipt, &e, WQ_MOVE);
	else
		rc = wq_transfer(tq, dlq->curfd, m->receipt, &e, WQ_MOVE);
	/* Out of a FIFO dead-letter queue: its group is free again. */
	if (rc == 0)
		wq_fifo_unlock(dlq, &m->ent);
	return rc;
}

/*
 * Move up to max ready messages of a dead-letter queue back to the queue
 * each was sent to (its "queue" header line, a name beside dlq), or to
 * `to` if not NULL, with their attributes and a receive count of 0.
 * Messages that were sent to dlq itself stay.  At most as many messages
 * are looked at as were there at the start, so it ends.
 */
int
wq_redrive(struct wq_queue *dlq, const char *to, uint64_t max,
    uint64_t *moved)
{
	struct targets ts = { .n = 0 };
	struct wq_consumer *c;
	struct wq_msg *m;
	uint64_t budget;
	int rc = 0, r, saved = 0;

	*moved = 0;
	if (wq_queue_depth(dlq, UINT64_MAX, &budget) == -1 ||
	    (c = wq_consumer_open(dlq, 60)) == NULL)
		return -1;
	for (; *moved < max && budget > 0; budget--) {
		if (wq_claim(c, &m) == -1) {
			if (errno != ENOMSG)
				rc = -1, saved = errno;
			break;
		}
		if ((r = redrive_one(dlq, m, to, &ts)) == -1) {
			saved = errno;
			(void)wq_msg_retry(m, 0);
			wq_msg_free(m);
			rc = -1;
			break;
		}
		wq_msg_free(m);
		if (r == 0)
			(*moved)++;
	}
	wq_consumer_close(c);
	targets_close(&ts);
	errno = saved;
	return rc;
}

/* The holder's move of its lease to the dead-letter queue. */
static int
op_dead(struct wq_queue *q, const char *name, const struct wq_entry *e,
    void *arg)
{
	(void)arg;
	return wq_retire(q, name, e, WQ_RETIRE_DEAD);
}

int
wq_dead(struct wq_queue *q, const char *receipt)
{
	if (dead_letter_queue(q) == NULL)
		return -1;
	return wq_with_lease(q, receipt, op_dead, NULL);
}

int
wq_msg_dead(struct wq_msg *m)
{
	return wq_dead(m->q, m->receipt);
}
