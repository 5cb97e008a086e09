/* SPDX-License-Identifier: MIT */
/*
 * send.c — the maildir write recipe.  Each message is written whole into
 * tmp/ID (write.c), and renamed in by wq_sender_commit(): into a bucket
 * of new/, fsynced once for the group (and the directories above it, if
 * it made them); into cur/ as "delayed" when it is not due yet; into its
 * group's tree in a FIFO queue; into every subscriber of a topic.
 * Messages with a deduplication key first take their slot (dedup.c), and
 * max-depth may let only part of a group in.  Only after that does the
 * caller learn the ids, so an id that was reported is a message that
 * survives a crash (and, unless sync is none, a power cut).  A group that
 * fails half-way reports the messages that did make it and removes the
 * rest from tmp/.  The sender's settings (priority, delay, group,
 * attributes, deduplication id) apply to the messages added after them.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"
#include "sender.h"

struct wq_sender *
wq_sender_open(struct wq_queue *q)
{
	struct wq_sender *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->q = q;
	s->rank = WQ_RANK_DEFAULT;
	s->delay_ms = -1;
	if (q->pol.fifo)
		strlcpy(s->group, WQ_GROUP_DEFAULT, sizeof(s->group));
	return s;
}

/*
 * Room for one more pending message.  The lists grow as a group does:
 * most senders send one message, and zeroing room for a thousand cost a
 * one-shot send (or an HTTP request) more than its system calls.
 */
int
wq_sender_room(struct wq_sender *s)
{
	struct pending *p;
	char (*d)[WQ_ID_MAX];
	size_t cap;

	if (s->npending < s->cap)
		return 0;
	if (s->cap == WQ_SEND_GROUP_MAX) {
		errno = ENOBUFS;	/* the caller commits every group */
		return -1;
	}
	cap = s->cap ? s->cap * 4 : 4;
	if (cap > WQ_SEND_GROUP_MAX)
		cap = WQ_SEND_GROUP_MAX;
	if ((p = reallocarray(s->pending, cap, sizeof(*p))) == NULL)
		return -1;
	s->pending = p;
	if ((d = reallocarray(s->done, cap, sizeof(*d))) == NULL)
		return -1;
	s->done = d;
	s->cap = cap;
	return 0;
}

struct wq_queue *
wq_sender_queue(const struct wq_sender *s)
{
	return s->q;
}

size_t
wq_sender_pending(const struct wq_sender *s)
{
	return s->npending;
}

/* How many messages the last commit refused because the queue was full. */
size_t
wq_sender_refused(const struct wq_sender *s)
{
	return s->refused;
}

size_t
wq_sender_committed(const struct wq_sender *s)
{
	return s->ndone;
}

const char *
wq_sender_id(const struct wq_sender *s, size_t i)
{
	return i < s->ndone ? s->done[i] : NULL;
}

static void
drop_pending(struct wq_sender *s, size_t from)
{
	size_t i;

	for (i = from; i < s->npending; i++)
		unlinkat(s->q->tmpfd, s->pending[i].id, 0);
	s->npending = 0;
}

/* Messages from the i-th on were not committed: free their slots. */
static void
release_slots(struct wq_sender *s, size_t from)
{
	size_t i;

	for (i = from; i < s->npending; i++)
		if (s->pending[i].keyed && s->pending[i].dup_of[0] == '\0' &&
		    !s->pending[i].placed)
			wq_dedup_release(s->q, s->pending[i].key);
}

/* When the pending messages become ready: now, or later when delayed. */
static int64_t
ready_at(const struct wq_sender *s, int64_t now)
{
	if (s->at_set)
		return s->at_ms;
	if (s->delay_ms >= 0)
		return now + s->delay_ms;
	return now + (int64_t)s->q->pol.delay * 1000;
}

static void
pending_entry(const struct wq_sender *s, size_t i, struct wq_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->rank = s->rank;
	strlcpy(e->id, s->pending[i].id, sizeof(e->id));
	e->size = s->pending[i].size;
	strlcpy(e->group, s->group, sizeof(e->group));
}

/* Note the pending message i as committed (a repeat: as its first). */
static void
done(struct wq_sender *s, size_t i)
{
	const struct pending *p = &s->pending[i];

	strlcpy(s->done[s->ndone++], p->dup_of[0] ? p->dup_of : p->id,
	    WQ_ID_MAX);
}

/*
 * The rename of a message with a deduplication key found its file gone:
 * a sender of a repeat committed it for us (lib/dedup.c).
 */
static int
committed_by_other(const struct wq_sender *s, size_t i)
{
	return wq_gone(errno) && s->pending[i].keyed;
}

/*
 * Take the deduplication slots of the keyed messages; a repeat is marked
 * with its first message's id, and its file removed: it is not sent.
 */
static int
dedup_pass(struct wq_sender *s, size_t n, int64_t due)
{
	char name[WQ_RECEIPT_MAX];
	struct wq_entry e;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (!s->pending[i].keyed)
			continue;
		pending_entry(s, i, &e);
		if (wq_entry_format(&e, 0, name, sizeof(name)) == -1)
			return -1;
		r = wq_dedup_claim(s->q, s->pending[i].key, name, due,
		    s->pending[i].dup_of);
		if (r == -1)
			return -1;
		if (r == 1)
			(void)unlinkat(s->q->tmpfd, s->pending[i].id, 0);
	}
	return 0;
}

/*
 * A group that failed under sync always or batch, part-way or at its
 * fsync, is taken back: each message this commit renamed into dirfd
 * (cur/, or the bucket of new/) goes back to tmp/ID, where the caller
 * unlinks it, so that a failed send leaves no message visible and none
 * reported that is not known to be durable.  A message a consumer
 * claimed meanwhile cannot be taken back; it stays, and stays reported.
 * *i is set back to the first message, so that the caller drops them
 * all from tmp/ (and frees their deduplication slots).
 */
static void
take_back(struct wq_sender *s, size_t *i, int dirfd, const char *bucket,
    int64_t due)
{
	char name[WQ_RECEIPT_MAX], path[WQ_PLACED_MAX];
	struct wq_entry e;
	size_t k, kept = 0;

	for (k = 0; k < *i; k++) {
		pending_entry(s, k, &e);
		if (due > 0) {
			e.deadline = due;
			strlcpy(e.nonce, WQ_DELAYED, sizeof(e.nonce));
		}
		if (s->pending[k].placed == 1 &&
		    wq_entry_format(&e, due > 0, name, sizeof(name)) == 0) {
			snprintf(path, sizeof(path), "%s%s%s", bucket,
			    bucket[0] != '\0' ? "/" : "", name);
			if (renameat(dirfd, path, s->q->tmpfd, e.id) == 0)
				s->pending[k].placed = 0;
		}
		if (s->pending[k].placed || s->pending[k].dup_of[0] != '\0')
			memmove(s->done[kept++], s->done[k], WQ_ID_MAX);
	}
	s->ndone = kept;
	*i = 0;
}

/*
 * Delayed messages wait in cur/ under the NONCE "delayed" until they are
 * due, like a release with a delay; one fsync of cur/ makes them durable.
 */
static int
commit_delayed(struct wq_sender *s, size_t n, int64_t due, size_t *i)
{
	char name[WQ_RECEIPT_MAX];
	struct wq_entry e;
	int saved;

	for (; *i < n; (*i)++) {
		pending_entry(s, *i, &e);
		e.deadline = due;
		strlcpy(e.nonce, WQ_DELAYED, sizeof(e.nonce));
		if (s->pending[*i].dup_of[0] != '\0')
			;
		else if (wq_entry_format(&e, 1, name, sizeof(name)) == 0 &&
		    renameat(s->q->tmpfd, e.id, s->q->curfd, name) == 0)
			s->pending[*i].placed = 1;
		else if (committed_by_other(s, *i))
			s->pending[*i].placed = 2;
		else
			goto fail;
		done(s, *i);
	}
	if (s->q->pol.sync != WQ_SYNC_NONE && s->ndone > 0 &&
	    wq_fsync_dir(s->q->curfd) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (s->q->pol.sync != WQ_SYNC_NONE)
		take_back(s, i, s->q->curfd, "", due);
	errno = saved;
	return -1;
}

/*
 * A topic's messages go to each subscriber, and a FIFO queue's into
 * their group's tree at their send time (lib/fifo.c): one at a time,
 * each made durable before the next.
 */
static int
commit_each(struct wq_sender *s, size_t n, size_t *i)
{
	struct wq_entry e;
	int rc;

	for (; *i < n; (*i)++) {
		pending_entry(s, *i, &e);
		if (s->pending[*i].dup_of[0] != '\0')
			rc = 0;
		else if (s->q->pol.fanout[0] != '\0')
			rc = wq_fanout_deliver(s->q, s->q->tmpfd, e.id, &e,
			    WQ_MOVE | WQ_DURABLE);
		else
			rc = wq_fifo_put(s->q, s->q->tmpfd, e.id, &e, 0, 1,
			    NULL, 0);
		if (rc == -1 && !committed_by_other(s, *i))
			return -1;
		done(s, *i);
	}
	return 0;
}

/*
 * Ready messages go into the bucket of now, all of a group into one,
 * fsynced once.  A group that fails is taken back (take_back); under
 * sync none the messages already in place stay, and are reported.
 */
static int
commit_ready(struct wq_sender *s, size_t n, size_t *i)
{
	char name[WQ_RECEIPT_MAX], bucket[WQ_BUCKET_MAX];
	struct wq_entry e;
	int made = WQ_BUCKET_LEVELS, saved;

	if (s->q->pol.fifo || s->q->pol.fanout[0] != '\0')
		return commit_each(s, n, i);
	if (wq_bucket_path(s->rank, wq_now_us(), bucket, sizeof(bucket)) == -1)
		return -1;
	for (; *i < n; (*i)++) {
		pending_entry(s, *i, &e);
		if (s->pending[*i].dup_of[0] != '\0')
			;
		else if (wq_entry_format(&e, 0, name, sizeof(name)) == 0 &&
		    wq_bucket_put(s->q, s->q->tmpfd, e.id, bucket, name,
		    &made) == 0)
			s->pending[*i].placed = 1;
		else if (committed_by_other(s, *i))
			s->pending[*i].placed = 2;
		else
			goto fail;
		done(s, *i);
	}
	if (s->q->pol.sync != WQ_SYNC_NONE && s->ndone > 0 &&
	    wq_bucket_sync(s->q, bucket, made) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (s->q->pol.sync != WQ_SYNC_NONE)
		take_back(s, i, s->q->newfd, bucket, 0);
	errno = saved;
	return -1;
}

/* How many of n more messages max-depth lets in; EAGAIN when none. */
static int
depth_allows(struct wq_sender *s, size_t n, size_t *allowed)
{
	uint64_t max = s->q->pol.max_depth, depth;

	*allowed = n;
	if (max == 0)
		return 0;
	if (wq_queue_depth(s->q, max, &depth) == -1)
		return -1;
	if (depth + n > max)
		*allowed = depth >= max ? 0 : (size_t)(max - depth);
	return 0;
}

/*
 * Make the pending messages visible and durable.  Afterwards
 * wq_sender_id(s, 0 .. wq_sender_committed(s) - 1) are the ids of this
 * commit, in order of wq_sender_add, also when it fails part-way.
 */
int
wq_sender_commit(struct wq_sender *s)
{
	int64_t now = wq_now_ms(), due;
	size_t i = 0, n = 0;
	int rc = 0, saved = 0;

	s->ndone = s->refused = 0;
	if (s->npending == 0)
		return 0;
	if (s->q->pol.sync == WQ_SYNC_BATCH && syncfs(s->q->tmpfd) == -1)
		saved = errno;
	if (saved == 0 && depth_allows(s, s->npending, &n) == -1)
		saved = errno;
	due = ready_at(s, now);
	if (saved == 0 && dedup_pass(s, n, due) == -1)
		saved = errno;
	if (saved == 0) {
		if (due > now && s->q->pol.fanout[0] != '\0') {
			rc = -1;	/* topics deliver at once */
			errno = EINVAL;
		} else
			rc = due > now ? commit_delayed(s, n, due, &i) :
			    commit_ready(s, n, &i);
		if (rc == -1)
			saved = errno;
		else if (n < s->npending) {
			saved = EAGAIN;		/* the queue is full */
			s->refused = s->npending - n;
		}
	}
	if (s->ndone > 0)
		wq_doorbell(s->q);
	if (saved != 0) {
		release_slots(s, i);
		drop_pending(s, i);
		errno = saved;
		return -1;
	}
	s->npending = 0;
	wq_clock_note(s->q, now);
	return 0;
}

/* The settings below apply to the messages added after them. */
static int
settable(struct wq_sender *s)
{
	if (s->npending > 0) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

int
wq_sender_priority(struct wq_sender *s, int priority)
{
	if (settable(s) == -1)
		return -1;
	if (priority < WQ_PRIORITY_MIN || priority > WQ_PRIORITY_MAX ||
	    (s->q->pol.fifo && priority != 0)) {
		errno = EINVAL;
		return -1;
	}
	s->rank = (unsigned)(WQ_RANK_DEFAULT - priority);
	return 0;
}

/* Per-message delays would let a later message of a FIFO group overtake
 * an earlier one: FIFO queues have only the queue's delay. */
int
wq_sender_delay(struct wq_sender *s, uint32_t secs)
{
	if (settable(s) == -1)
		return -1;
	if (s->q->pol.fifo || s->q->pol.fanout[0] != '\0') {
		errno = EINVAL;
		return -1;
	}
	s->delay_ms = (int64_t)secs * 1000;
	s->at_set = 0;
	return 0;
}

int
wq_sender_at(struct wq_sender *s, int64_t ms)
{
	if (settable(s) == -1)
		return -1;
	if (ms < 0 || s->q->pol.fifo || s->q->pol.fanout[0] != '\0') {
		errno = EINVAL;
		return -1;
	}
	s->at_ms = ms;
	s->at_set = 1;
	return 0;
}

int
wq_sender_group(struct wq_sender *s, const char *group)
{
	if (settable(s) == -1)
		return -1;
	if (!wq_group_valid(group) || !s->q->pol.fifo) {
		errno = EINVAL;
		return -1;
	}
	strlcpy(s->group, group, sizeof(s->group));
	return 0;
}

/* The next message added has this deduplication id. */
int
wq_sender_dedup(struct wq_sender *s, const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > WQ_DEDUP_ID_MAX || memchr(id, '\n', len)) {
		errno = EINVAL;
		return -1;
	}
	if (wq_dedup_key(id, len, 0, s->dedup_key) == -1)
		return -1;
	s->dedup_next = 1;
	return 0;
}

int
wq_sender_attr(struct wq_sender *s, const char *key, const char *value)
{
	size_t add;
	char *na;

	if (settable(s) == -1)
		return -1;
	if (!wq_attr_key_valid(key) || !wq_attr_value_valid(value)) {
		errno = EILSEQ;
		return -1;
	}
	add = 5 + strlen(key) + 1 + strlen(value) + 1;
	if (s->nattrs == WQ_ATTR_MAX || s->attrs_len + add > WQ_HEADER_MAX - 512) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((na = realloc(s->attrs, s->attrs_len + add + 1)) == NULL)
		return -1;
	s->attrs = na;
	snprintf(s->attrs + s->attrs_len, add + 1, "attr %s %s\n", key, value);
	s->attrs_len += add;
	s->nattrs++;
	return 0;
}

void
wq_sender_close(struct wq_sender *s)
{
	if (s == NULL)
		return;
	drop_pending(s, 0);
	wq_compress_free(s->cctx);
	free(s->attrs);
	free(s->pending);
	free(s->done);
	free(s);
}

int
wq_send(struct wq_queue *q, const void *body, size_t len, char id[WQ_ID_MAX])
{
	struct wq_sender *s;
	int rc = -1, saved;

	if ((s = wq_sender_open(q)) == NULL)
		return -1;
	if (wq_sender_add(s, body, len) == 0 && wq_sender_commit(s) == 0) {
		strlcpy(id, wq_sender_id(s, 0), WQ_ID_MAX);
		rc = 0;
	}
	saved = errno;
	wq_sender_close(s);
	errno = saved;
	return rc;
}
