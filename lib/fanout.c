/* SPDX-License-Identifier: MIT */
/*
 * fanout.c — topics.  A queue whose policy has "fanout Q1,Q2,..." keeps
 * no messages of its own: each message sent to it is hard-linked into
 * every subscriber (copied where a link cannot cross filesystems), so
 * each subscriber leases and acks its copy on its own.  The copies are
 * staged in the subscribers' tmp/ first and renamed in only when all are
 * there; the topic's tmp/ file is removed once every subscriber has it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/*
 * Open every subscriber of a topic; *n of them into subs.  When one
 * cannot be opened, its name goes into bad (if not NULL).
 */
int
wq_fanout_open(struct wq_queue *topic, struct wq_queue **subs, size_t *n,
    char *bad, size_t badlen)
{
	char buf[sizeof(topic->pol.fanout)], *ref, *save;
	int saved;

	*n = 0;
	strlcpy(buf, topic->pol.fanout, sizeof(buf));
	for (ref = strtok_r(buf, ",", &save); ref != NULL;
	    ref = strtok_r(NULL, ",", &save)) {
		if (*n == WQ_FANOUT_MAX ||
		    (subs[*n] = wq_queue_open_beside(topic, ref)) == NULL) {
			saved = *n == WQ_FANOUT_MAX ? EINVAL : errno;
			if (bad != NULL)
				strlcpy(bad, ref, badlen);
			wq_fanout_close(subs, *n);
			*n = 0;
			errno = saved;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

void
wq_fanout_close(struct wq_queue **subs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		wq_queue_close(subs[i]);
}

/* Are all the subscribers of a topic there?  The first missing into bad. */
int
wq_topic_check(struct wq_queue *topic, char *bad, size_t badlen)
{
	struct wq_queue *subs[WQ_FANOUT_MAX];
	size_t n;

	if (topic->pol.fanout[0] == '\0')
		return 0;
	if (wq_fanout_open(topic, subs, &n, bad, badlen) == -1)
		return -1;
	wq_fanout_close(subs, n);
	return 0;
}

/* Remove the staged copies that were not delivered. */
static void
unstage(struct wq_queue **subs, char (*staged)[WQ_ID_MAX + 32], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (staged[i][0] != '\0')
			(void)unlinkat(subs[i]->tmpfd, staged[i], 0);
}

/*
 * Deliver fromfd/from to every subscriber of topic as entry e (ready now,
 * receive count 0), then remove it unless how has WQ_LINK.  Two steps:
 * first a link (or copy) into each subscriber's tmp/, where nobody sees
 * it, so a subscriber that is missing, full or read-only stops the send
 * before any copy is visible; then each is renamed in.  A failure of
 * that second step takes back the copies already renamed in.
 */
int
wq_fanout_deliver(struct wq_queue *topic, int fromfd, const char *from,
    const struct wq_entry *e, int how)
{
	struct wq_queue *subs[WQ_FANOUT_MAX];
	char staged[WQ_FANOUT_MAX][WQ_ID_MAX + 32];
	char placed[WQ_FANOUT_MAX][WQ_PLACED_MAX];
	struct wq_entry to;
	size_t n, i, delivered = 0;
	int saved = 0;

	if (wq_fanout_open(topic, subs, &n, NULL, 0) == -1)
		return -1;
	memset(staged, 0, sizeof(staged));
	for (i = 0; i < n && saved == 0; i++)
		if (wq_stage(subs[i], fromfd, from, e->id, staged[i],
		    sizeof(staged[i])) == -1) {
			saved = errno;
			staged[i][0] = '\0';
		}
	for (i = 0; i < n && saved == 0; i++) {
		to = *e;
		if (subs[i]->pol.fifo && to.group[0] == '\0')
			strlcpy(to.group, WQ_GROUP_DEFAULT, sizeof(to.group));
		if (wq_transfer_placed(subs[i], subs[i]->tmpfd, staged[i], &to,
		    WQ_MOVE | (how & WQ_DURABLE), placed[i],
		    sizeof(placed[i])) == -1)
			saved = errno;
		else
			delivered = i + 1;
	}
	if (saved == 0 && !(how & WQ_LINK) && unlinkat(fromfd, from, 0) == -1)
		saved = errno;
	/*
	 * A subscriber failed after earlier ones got their copy, or the
	 * source could not be removed: take the copies back into their tmp/
	 * (unstage removes them), so that a failed send or move leaves no
	 * copy visible (and a move no message in two places).  One that a
	 * consumer claimed meanwhile stays.
	 */
	for (i = 0; i < delivered; i++)
		if (saved == 0 || renameat(subs[i]->newfd, placed[i],
		    subs[i]->tmpfd, staged[i]) == -1)
			staged[i][0] = '\0';
	unstage(subs, staged, n);
	wq_fanout_close(subs, n);
	if (saved != 0) {
		errno = saved;
		return -1;
	}
	return 0;
}
