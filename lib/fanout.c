/* SPDX-License-Identifier: MIT */
/*
 * fanout.c — topics.  A queue whose policy has "fanout Q1,Q2,..." keeps
 * no messages of its own: each message sent to it is hard-linked into
 * every subscriber's new/ (copied where a link cannot cross filesystems),
 * so each subscriber leases and acks its copy on its own.  Each link is
 * atomic; the topic's tmp/ file is removed once every subscriber has it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/* Open every subscriber of a topic; *n of them into subs. */
int
wq_fanout_open(struct wq_queue *topic, struct wq_queue **subs, size_t *n)
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

/*
 * Deliver fromfd/from to every subscriber of topic as entry e (ready now,
 * receive count 0), then remove it unless how has WQ_LINK.  A subscriber that
 * fails stops the delivery: those before it have their copy.
 */
int
wq_fanout_deliver(struct wq_queue *topic, int fromfd, const char *from,
    const struct wq_entry *e, int how)
{
	struct wq_queue *subs[WQ_FANOUT_MAX];
	struct wq_entry to;
	size_t n, i;
	int rc = 0, saved = 0;

	if (wq_fanout_open(topic, subs, &n) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		to = *e;
		if (subs[i]->pol.fifo && to.group[0] == '\0')
			strlcpy(to.group, WQ_GROUP_DEFAULT, sizeof(to.group));
		if ((rc = wq_transfer(subs[i], fromfd, from, &to,
		    WQ_LINK | (how & WQ_DURABLE))) == -1)
			saved = errno;
	}
	wq_fanout_close(subs, n);
	if (rc == 0 && !(how & WQ_LINK) && unlinkat(fromfd, from, 0) == -1)
		return -1;
	errno = saved;
	return rc;
}
