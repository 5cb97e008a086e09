/* SPDX-License-Identifier: MIT */
/*
 * park.c — long-polls and streams waiting for their queues, without a
 * thread each.  A waiting request is suspended in libmicrohttpd and
 * parked here on its queue's watch; one thread sleeps on one inotify
 * descriptor that watches new/ and cur/ of every queue anybody waits on
 * (rung by every sender, CLI or HTTP alike) and on the earliest time a
 * parked request must look again (its wait ends, a lease or delay ends,
 * or a network filesystem is due a poll).  An event wakes a few waiters,
 * not all: each that finds a message wakes one more (wqs_park_pass), so
 * a thousand waiters on one queue do not all race for each message.
 *
 * Each watch counts its events (gen).  A request reads the count before
 * it claims and parks only if no event came since; otherwise it is woken
 * at once.  Watches live as long as the server: one per queue waited on.
 */
#include <sys/eventfd.h>
#include <sys/inotify.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"
#include "park.h"

#define WATCH_MASK	(IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_ONLYDIR)

static LIST_HEAD(, wqs_watch) watches = LIST_HEAD_INITIALIZER(watches);
pthread_mutex_t wqs_park_mtx = PTHREAD_MUTEX_INITIALIZER;
static int ino_fd = -1, poke_fd = -1;
static pthread_t thread;
static int running;
static unsigned long nparked;
static int64_t next_heartbeat;
struct hub_turn {		/* a hub to serve, and whether it changed */
	struct wqs_hub	*hub;
	int		 pump;
};
static struct hub_turn *turns;	/* serve_hubs' list, kept between rounds */
static size_t nturns_max;

static int
add_one(const char *queue, const char *sub)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/%s", wq_spool_path(wqs.spool),
	    queue, sub);
	return inotify_add_watch(ino_fd, path, WATCH_MASK);
}

/* Watch new/ and cur/; called with the lock held. */
static int
watch_dirs(struct wqs_watch *w)
{
	if ((w->wd_new = add_one(w->name, "new")) == -1)
		return -1;
	if ((w->wd_cur = add_one(w->name, "cur")) == -1) {
		inotify_rm_watch(ino_fd, w->wd_new);
		w->wd_new = -1;
		return -1;
	}
	return 0;
}

static struct wqs_watch *
find(const char *queue)
{
	struct wqs_watch *w;

	LIST_FOREACH(w, &watches, link)
		if (strcmp(w->name, queue) == 0)
			return w;
	return NULL;
}

/*
 * The watch of a queue, made and set up if need be, and its event count
 * so far; NULL and errno if its directories cannot be watched.
 */
struct wqs_watch *
wqs_watch_get(const char *queue, uint64_t *gen)
{
	struct wqs_watch *w;
	int err = 0;

	pthread_mutex_lock(&wqs_park_mtx);
	if ((w = find(queue)) == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			err = errno;
			goto out;
		}
		strlcpy(w->name, queue, sizeof(w->name));
		w->wd_new = w->wd_cur = -1;
		TAILQ_INIT(&w->waiters);
		LIST_INSERT_HEAD(&watches, w, link);
	}
	if (w->wd_new == -1 && watch_dirs(w) == -1)
		err = errno;
	*gen = w->gen;
out:
	pthread_mutex_unlock(&wqs_park_mtx);
	if (err != 0) {
		errno = err;
		return NULL;
	}
	return w;
}

void
wqs_park_poke(void)
{
	uint64_t one = 1;

	(void)!write(poke_fd, &one, sizeof(one));
}

/*
 * Park a suspended request.  If its watch saw an event since gen was
 * read, or the server is stopping, it is woken at once.
 */
int
wqs_park(struct wqs_waiter *wt, struct wqs_watch *w, uint64_t gen,
    int64_t due)
{
	pthread_mutex_lock(&wqs_park_mtx);
	if (w->gen != gen || wqs.stopping)
		due = 0;
	wt->watch = w;
	wt->due = due;
	wt->parked = 1;
	TAILQ_INSERT_TAIL(&w->waiters, wt, link);
	nparked++;
	pthread_mutex_unlock(&wqs_park_mtx);
	wqs_park_poke();
	return 0;
}

/* Take a waiter off its list; its connection is resumed by the caller. */
static struct MHD_Connection *
unpark(struct wqs_waiter *wt)
{
	TAILQ_REMOVE(&wt->watch->waiters, wt, link);
	wt->parked = 0;
	nparked--;
	return wt->conn;
}

/* Collect up to n waiters of w to resume, the longest waiting first. */
static size_t
take_some(struct wqs_watch *w, size_t n, struct conns *out)
{
	struct wqs_waiter *wt;
	size_t i;

	for (i = 0; i < n && (wt = TAILQ_FIRST(&w->waiters)) != NULL; i++)
		wqs_conns_add(out, unpark(wt));
	return i;
}

/* A woken request found messages: there may be more for the next. */
void
wqs_park_pass(struct wqs_watch *w)
{
	struct conns cs = { 0 };

	pthread_mutex_lock(&wqs_park_mtx);
	take_some(w, 1, &cs);
	pthread_mutex_unlock(&wqs_park_mtx);
	wqs_conns_resume(&cs);
}

unsigned long
wqs_park_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&wqs_park_mtx);
	n = nparked;
	pthread_mutex_unlock(&wqs_park_mtx);
	return n;
}

/* Wake the waiters whose time came; the earliest time of the rest. */
static int64_t
wake_due(int64_t now, struct conns *cs)
{
	struct wqs_watch *w;
	struct wqs_waiter *wt, *next;
	int64_t soonest = INT64_MAX;

	LIST_FOREACH(w, &watches, link)
		TAILQ_FOREACH_SAFE(wt, &w->waiters, link, next) {
			if (wt->due <= now)
				wqs_conns_add(cs, unpark(wt));
			else if (wt->due < soonest)
				soonest = wt->due;
		}
	return soonest;
}

static struct wqs_watch *
by_wd(int wd)
{
	struct wqs_watch *w;

	LIST_FOREACH(w, &watches, link)
		if (w->wd_new == wd || w->wd_cur == wd)
			return w;
	return NULL;
}

/* An event on one of w's directories; called with the lock held. */
static void
on_event(struct wqs_watch *w, uint32_t mask, struct conns *cs)
{
	w->gen++;
	w->pump = 1;
	if (mask & IN_IGNORED) {
		/* The queue is gone (or replaced): all look, and see. */
		if (w->wd_new != -1)
			inotify_rm_watch(ino_fd, w->wd_new);
		if (w->wd_cur != -1)
			inotify_rm_watch(ino_fd, w->wd_cur);
		w->wd_new = w->wd_cur = -1;
		take_some(w, SIZE_MAX, cs);
		return;
	}
	take_some(w, WQS_WAKE_BURST, cs);
}

static void
read_events(struct conns *cs)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct wqs_watch *w;
	ssize_t n;
	char *p;

	while ((n = read(ino_fd, buf, sizeof(buf))) > 0) {
		pthread_mutex_lock(&wqs_park_mtx);
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				LIST_FOREACH(w, &watches, link)
					on_event(w, 0, cs);
			} else if ((w = by_wd(ev->wd)) != NULL)
				on_event(w, ev->mask, cs);
		}
		pthread_mutex_unlock(&wqs_park_mtx);
	}
}

/* The hubs, and whether each one's queue changed; locked. */
static size_t
hub_list(void)
{
	struct wqs_watch *w;
	struct hub_turn *v;
	size_t n = 0;

	LIST_FOREACH(w, &watches, link) {
		if (w->hub == NULL)
			continue;
		if (n == nturns_max) {
			v = reallocarray(turns, n ? n * 2 : 8, sizeof(*v));
			if (v == NULL)
				break;	/* the rest next time round */
			turns = v;
			nturns_max = n ? n * 2 : 8;
		}
		turns[n].hub = w->hub;
		turns[n++].pump = w->pump;
		w->pump = 0;
	}
	return n;
}

/*
 * Streams: pump the hubs whose queue changed or is due a look, and send
 * heartbeats.  Pumping claims and acks on disk, so it runs unlocked; the
 * hubs and watches are never freed while this thread runs.
 */
static int64_t
serve_hubs(int64_t now)
{
	int64_t soonest = INT64_MAX, due;
	size_t i, n;
	int beat = 0;

	if (wqs.cfg.heartbeat && now >= next_heartbeat) {
		beat = 1;
		next_heartbeat = now + (int64_t)wqs.cfg.heartbeat * 1000;
	}
	pthread_mutex_lock(&wqs_park_mtx);
	n = hub_list();
	pthread_mutex_unlock(&wqs_park_mtx);
	for (i = 0; i < n; i++) {
		struct wqs_hub *h = turns[i].hub;

		if (beat)
			wqs_hub_heartbeat(h);
		if (turns[i].pump || wqs_hub_due(h) <= now) {
			if (wqs_hub_pump(h) > 0) {
				soonest = now;	/* more may be waiting */
				continue;
			}
		}
		if ((due = wqs_hub_due(h)) < soonest)
			soonest = due;
	}
	if (wqs.cfg.heartbeat && next_heartbeat < soonest)
		soonest = next_heartbeat;
	return soonest;
}

static int
ms_until(int64_t t, int64_t now)
{
	if (t <= now)
		return 0;
	if (t - now > INT_MAX)
		return -1;
	return (int)(t - now);
}

static void *
run(void *arg)
{
	struct pollfd pfd[2];
	struct conns cs = { 0 };
	int64_t now, soonest, streams;
	uint64_t pokes;

	(void)arg;
	pfd[0].fd = ino_fd;
	pfd[1].fd = poke_fd;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		now = wq_now_ms();
		pthread_mutex_lock(&wqs_park_mtx);
		if (!running) {
			pthread_mutex_unlock(&wqs_park_mtx);
			break;
		}
		soonest = wake_due(now, &cs);
		pthread_mutex_unlock(&wqs_park_mtx);
		wqs_conns_resume(&cs);
		streams = serve_hubs(now);
		if (streams < soonest)
			soonest = streams;
		if (poll(pfd, 2, ms_until(soonest, wq_now_ms())) == -1 &&
		    errno != EINTR) {
			warn("cannot wait for the spool");
			abort();	/* parked requests would hang */
		}
		if (pfd[1].revents & POLLIN)
			(void)!read(poke_fd, &pokes, sizeof(pokes));
		if (pfd[0].revents & POLLIN)
			read_events(&cs);
		wqs_conns_resume(&cs);
	}
	free(cs.v);
	return NULL;
}

int
wqs_park_start(void)
{
	int err;

	if ((ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    (poke_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	running = 1;
	if ((err = pthread_create(&thread, NULL, run, NULL)) != 0) {
		running = 0;
		errno = err;
		return -1;
	}
	return 0;
}

/* Shutting down: every waiter answers now; every stream ends. */
void
wqs_park_wake_all(void)
{
	struct conns cs = { 0 };
	struct wqs_watch *w;

	pthread_mutex_lock(&wqs_park_mtx);
	LIST_FOREACH(w, &watches, link) {
		take_some(w, SIZE_MAX, &cs);
		if (w->hub != NULL)
			wqs_hub_end(w->hub, &cs);
	}
	pthread_mutex_unlock(&wqs_park_mtx);
	wqs_conns_resume(&cs);
	free(cs.v);
}

/* After the HTTP daemon stopped: nothing refers to a watch any more. */
void
wqs_park_stop(void)
{
	struct wqs_watch *w;

	pthread_mutex_lock(&wqs_park_mtx);
	running = 0;
	pthread_mutex_unlock(&wqs_park_mtx);
	wqs_park_poke();
	pthread_join(thread, NULL);
	while ((w = LIST_FIRST(&watches)) != NULL) {
		LIST_REMOVE(w, link);
		wqs_hub_free(w->hub);
		free(w);
	}
	free(turns);
	close(ino_fd);
	close(poke_fd);
}

/* A growing list of connections to resume once the lock is let go. */
void
wqs_conns_add(struct conns *cs, struct MHD_Connection *c)
{
	struct MHD_Connection **v;

	if (cs->n == cs->cap) {
		v = reallocarray(cs->v, cs->cap ? cs->cap * 2 : 16,
		    sizeof(*v));
		if (v == NULL)
			abort();	/* a suspended connection must not be lost */
		cs->v = v;
		cs->cap = cs->cap ? cs->cap * 2 : 16;
	}
	cs->v[cs->n++] = c;
}

/*
 * Resume outside the lock: libmicrohttpd takes a mutex of its own, and a
 * suspended connection cannot be closed, so it is still there.
 */
void
wqs_conns_resume(struct conns *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		MHD_resume_connection(cs->v[i]);
	cs->n = 0;
}
