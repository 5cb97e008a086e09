/* SPDX-License-Identifier: MIT */
/*
 * dead.c — where messages end that are not acked: after max-receives
 * receives, past the retention time, or on request (wq-ack --dead, exec
 * exit 100) they move to the queue's dead-letter queue, and a redrive
 * moves them back.  The consumer that decides owns the message (it is
 * leased to it in cur/), so no two consumers move one message twice, and
 * the move is one rename: a crash leaves it either here or there.
 */
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
		return wq_fifo_unlock(q, e);
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
	return wq_fifo_unlock(q, e);
}

struct target {
	char		 name[256];
	struct wq_queue	*q;
};

/* The queue a redriven message goes to, opened once per name. */
static struct wq_queue *
redrive_target(struct wq_queue *dlq, const char *ref, struct target *cache,
    size_t *n, size_t max)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(cache[i].name, ref) == 0)
			return cache[i].q;
	if (*n == max) {
		errno = ENFILE;
		return NULL;
	}
	if ((cache[*n].q = wq_queue_open_beside(dlq, ref)) == NULL)
		return NULL;
	strlcpy(cache[*n].name, ref, sizeof(cache[*n].name));
	return cache[(*n)++].q;
}

/* Move one claimed message of dlq to where it came from (or to `to`). */
static int
redrive_one(struct wq_queue *dlq, struct wq_msg *m, const char *to,
    struct target *cache, size_t *n, size_t max)
{
	struct wq_queue *tq;
	struct wq_entry e = m->ent;
	const char *ref = to != NULL ? to : m->origin;

	if (ref == NULL || ref[0] == '\0') {
		errno = EDESTADDRREQ;
		return -1;
	}
	if ((tq = redrive_target(dlq, ref, cache, n, max)) == NULL)
		return -1;
	e.count = 0;
	e.deadline = 0;
	e.nonce[0] = '\0';
	if (tq->pol.fifo && e.group[0] == '\0')
		strlcpy(e.group, WQ_GROUP_DEFAULT, sizeof(e.group));
	if (tq->pol.fanout[0] != '\0')
		return wq_fanout_deliver(tq, dlq->curfd, m->receipt, &e,
		    WQ_MOVE);
	return wq_transfer(tq, dlq->curfd, m->receipt, &e, WQ_MOVE);
}

/*
 * Move up to max ready messages of a dead-letter queue back to the queue
 * each was sent to (its "queue" header line, a name beside dlq), or to
 * `to` if not NULL, with their attributes and a receive count of 0.
 */
int
wq_redrive(struct wq_queue *dlq, const char *to, uint64_t max,
    uint64_t *moved)
{
	struct target cache[16];
	struct wq_consumer *c;
	struct wq_msg *m;
	size_t n = 0, i;
	int rc = 0, saved = 0;

	*moved = 0;
	if ((c = wq_consumer_open(dlq, 60)) == NULL)
		return -1;
	while (*moved < max) {
		if (wq_claim(c, &m) == -1) {
			if (errno != ENOMSG)
				rc = -1, saved = errno;
			break;
		}
		if (redrive_one(dlq, m, to, cache, &n, 16) == -1) {
			saved = errno;
			(void)wq_msg_release(m, 0);
			wq_msg_free(m);
			rc = -1;
			break;
		}
		wq_msg_free(m);
		(*moved)++;
	}
	wq_consumer_close(c);
	for (i = 0; i < n; i++)
		wq_queue_close(cache[i].q);
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
