/* SPDX-License-Identifier: MIT */
/*
 * wait.c — blocking reads.  On a local filesystem a waiting consumer
 * sleeps on inotify (new/ for arrivals, rung by each writer; cur/ for
 * releases and delays) and
 * on a timer for the earliest deadline in cur/: no polling.  On NFS, FUSE
 * and other network filesystems inotify cannot see other hosts' changes,
 * so the consumer polls with a backoff from 10 ms to 1 s, reset by each
 * message it receives.
 *
 * The first call only sets up the watch and returns at once: the caller
 * claims again, and anything that arrives after that wakes the next wait.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "wq_priv.h"
#include "consumer.h"

/*
 * Messages land in buckets below new/, which inotify does not watch; the
 * writer rings the doorbell (touches new/) and that is what wakes us.
 */
static int
watch_dir(int ino_fd, int dirfd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	return inotify_add_watch(ino_fd, path,
	    IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR);
}

static int
start_watch(struct wq_consumer *c)
{
	if ((c->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	if ((c->wd_new = watch_dir(c->ino_fd, c->q->newfd)) == -1 ||
	    (c->wd_cur = watch_dir(c->ino_fd, c->q->curfd)) == -1) {
		close(c->ino_fd);
		c->ino_fd = -1;
		return -1;
	}
	c->watching = 1;
	return 0;
}

/* Read all pending events; note which directories changed. */
static void
drain(struct wq_consumer *c)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(c->ino_fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->wd == c->wd_new || (ev->mask & IN_Q_OVERFLOW))
				c->pos = c->n;	/* read new/ again */
			if (ev->wd == c->wd_cur || (ev->mask & IN_Q_OVERFLOW))
				c->next_scan = 0;
		}
	}
}

static int
timeout_ms(int64_t until, int64_t now)
{
	if (until <= now)
		return 0;
	if (until - now > INT_MAX)
		return INT_MAX;
	return (int)(until - now);
}

/*
 * Sleep until something may be claimable, until_ms passes (INT64_MAX:
 * never), or a signal not blocked by sigmask arrives.  Returns 0; the
 * caller claims again and checks the time.
 */
int
wq_consumer_wait(struct wq_consumer *c, int64_t until_ms,
    const sigset_t *sigmask)
{
	struct pollfd pfd;
	struct timespec ts;
	int64_t now = wq_now_ms(), wake = until_ms;
	int ms;

	if (!c->q->remote && c->ino_fd == -1) {
		if (start_watch(c) == 0) {
			c->pos = c->n;
			c->next_scan = 0;
			return 0;
		}
		c->q->remote = 1;	/* no inotify: poll instead */
	}
	if (c->next_scan < wake)
		wake = c->next_scan;
	if (c->q->remote && now + c->backoff_ms < wake)
		wake = now + c->backoff_ms;
	ms = timeout_ms(wake, now);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	pfd.fd = c->ino_fd;
	pfd.events = POLLIN;
	if (ppoll(&pfd, c->ino_fd == -1 ? 0 : 1, &ts, sigmask) == -1 &&
	    errno != EINTR)
		return -1;
	if (c->ino_fd != -1)
		drain(c);
	else {
		c->pos = c->n;
		c->next_scan = 0;
		if (c->backoff_ms < WQ_POLL_MAX_MS)
			c->backoff_ms *= 2;
	}
	return 0;
}

/*
 * For a caller with an event loop of its own (wq-serve), which watches
 * new/ and cur/ with inotify itself: the consumer need not look at cur/
 * every second for changes it would not see (claim.c).  No effect on a
 * filesystem inotify cannot watch.
 */
void
wq_consumer_watched(struct wq_consumer *c)
{
	if (!c->q->remote)
		c->watching = 1;
}

/* ... and on each event: the next claim reads new/ and cur/ afresh. */
void
wq_consumer_rescan(struct wq_consumer *c)
{
	c->pos = c->n;
	c->next_scan = 0;
}

/*
 * ... and when to claim again though no event came: when a lease or delay
 * in cur/ may end, or, on a filesystem whose changes inotify cannot see
 * (NFS, FUSE), the next poll, backing off as wq_consumer_wait does.
 * INT64_MAX: only when an event comes.
 */
int64_t
wq_consumer_due_ms(struct wq_consumer *c, int64_t now)
{
	int64_t due = c->next_scan > 0 ? c->next_scan : INT64_MAX;

	if (c->q->remote) {
		if (now + c->backoff_ms < due)
			due = now + c->backoff_ms;
		if (c->backoff_ms < WQ_POLL_MAX_MS)
			c->backoff_ms *= 2;
	}
	return due;
}

/* Whether inotify sees every change of the queue (a local filesystem). */
int
wq_queue_watchable(const struct wq_queue *q)
{
	return !q->remote;
}
