/* SPDX-License-Identifier: MIT */
/*
 * t-hostclock.c — lib/hostclock.c: the clock probes of hosts sharing a
 * queue.  Probes are planted by hand with the mtimes a file server would
 * have stamped, so offsets, the median, the spread and what is left out
 * are known exactly; then wq_clock_note on a queue taken for remote.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

#define T0	1800000000000LL		/* the server's clock, ms */

/* Plant clock/NAME in queue q with the mtime server_ms. */
static void
plant(const char *q, const char *name, long long server_ms)
{
	char path[4096];
	struct timespec ts[2];
	int fd;

	mkdir(t_path(path, "%s/clock", q), 0777);
	need((fd = open(t_path(path, "%s/clock/%s", q, name),
	    O_WRONLY | O_CREAT | O_TRUNC, 0666)) != -1, "open %s", path);
	need(write(fd, "\n", 1) == 1, "write");
	ts[0].tv_sec = ts[1].tv_sec = server_ms / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = server_ms % 1000 * 1000000;
	need(futimens(fd, ts) == 0, "futimens");
	close(fd);
}

static const struct wq_host_clock *
host(const struct wq_host_clock *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(h[i].host, name) == 0)
			return &h[i];
	return NULL;
}

static void
test_offsets(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_host_clock *h;
	const struct wq_host_clock *a, *b, *c;
	int64_t spread;
	size_t n;

	/* alpha 200 ms behind, beta in step, gamma 3 s ahead. */
	plant("q", "alpha,1799999999800", T0);
	plant("q", "beta,1800000001000", T0 + 1000);
	plant("q", "gamma,1800000005000", T0 + 2000);
	/* An older probe of beta that its host has not removed yet. */
	plant("q", "beta,1799999990000", T0 - 10000 - 900);
	/* Foreign names and temporaries count for nothing. */
	plant("q", "no-comma", T0);
	plant("q", "host,12x", T0);
	plant("q", ",1800000000000", T0);
	plant("q", ".delta,1800000000000", T0);
	ok(wq_queue_clocks(q, &h, &n, &spread) == 0, "wq_queue_clocks");
	is_int((long long)n, 3, "three hosts");
	a = host(h, n, "alpha");
	b = host(h, n, "beta");
	c = host(h, n, "gamma");
	ok(a != NULL && b != NULL && c != NULL, "alpha, beta, gamma");
	if (a == NULL || b == NULL || c == NULL)
		return;
	is_int(a->offset_ms, -200, "alpha's offset");
	is_int(b->offset_ms, 0, "beta's newest probe counts");
	is_int(c->offset_ms, 3000, "gamma's offset");
	is_int(b->from_median_ms, 0, "beta is the median");
	is_int(c->from_median_ms, 3000, "gamma from the median");
	is_int(spread, 3200, "spread");
	is_int(h[0].offset_ms, -200, "ordered by offset");
	is_int(c->seen_ms, T0 + 2000, "seen by the server's clock");
	free(h);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_stale_and_even(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_host_clock *h;
	int64_t spread;
	size_t n;

	ok(wq_queue_clocks(q, &h, &n, &spread) == 0 && n == 0 && spread == 0,
	    "no clock/: no hosts");
	free(h);
	/* A host last seen over an hour before the newest probe is gone. */
	plant("q", "old,1790000000000", T0 - 3600001);
	plant("q", "a,1800000000100", T0);
	plant("q", "b,1800000000500", T0);
	ok(wq_queue_clocks(q, &h, &n, &spread) == 0, "wq_queue_clocks");
	is_int((long long)n, 2, "the old host is left out");
	if (n == 2) {
		is_int(h[0].from_median_ms, -200, "median of two: the mean");
		is_int(h[1].from_median_ms, 200, "median of two: the mean");
		is_int(spread, 400, "spread of two");
	}
	free(h);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* The names in q's clock/ of host, counted; the newest's time in *ms. */
static int
own_probes(const char *qname, const char *hostname, long long *ms)
{
	char path[4096], prefix[WQ_HOST_MAX + 2];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(prefix, sizeof(prefix), "%s,", hostname);
	*ms = -1;
	if ((d = opendir(t_path(path, "%s/clock", qname))) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			n++;
			if (atoll(de->d_name + strlen(prefix)) > *ms)
				*ms = atoll(de->d_name + strlen(prefix));
		}
	closedir(d);
	return n;
}

static void
test_note(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	const char *me = wq_host_name();
	char name[WQ_HOST_MAX + 32], path[4096];
	long long ms;
	int64_t now = wq_now_ms();

	q->remote = 0;
	wq_clock_note(q, now);
	is_int(own_probes("q", me, &ms), 0, "a local queue gets no probe");
	q->remote = 1;
	wq_clock_note(q, now);
	is_int(own_probes("q", me, &ms), 1, "a shared one gets one");
	is_int(ms, now, "named with the host's clock");
	/* Within the minute the handle does not look again. */
	wq_clock_note(q, now + 30000);
	is_int(own_probes("q", me, &ms), 1, "none more within a minute");
	is_int(ms, now, "the same one");
	/* Another handle (another process) within the minute: kept. */
	q->clock_noted_ms = 0;
	wq_clock_note(q, now + 30000);
	is_int(own_probes("q", me, &ms), 1, "a fresh probe is kept");
	is_int(ms, now, "still the same one");
	/* A minute on: a new one, and the old one and leftovers go. */
	snprintf(name, sizeof(name), "%s,%lld", me, (long long)now - 5000);
	plant("q", name, T0);
	plant("q", "other,1800000000000", T0);
	/* Half-made ones of a process that died: older ones go. */
	snprintf(name, sizeof(name), ".%s,%lld.0000abcd", me,
	    (long long)now - 5000);
	plant("q", name, T0);
	q->clock_noted_ms = 0;
	wq_clock_note(q, now + 60000);
	is_int(own_probes("q", me, &ms), 1, "replaced after a minute");
	is_int(ms, now + 60000, "by a new one");
	is_int(own_probes("q", "other", &ms), 1, "other hosts' are left alone");
	ok(access(t_path(path, "q/clock/%s", name), F_OK) == -1,
	    "a half-made one is removed");
	wq_queue_close(q);
	wq_spool_close(s);
}

int
main(void)
{
	plan(3);
	TEST(test_offsets, "offsets, median and spread from planted probes");
	TEST(test_stale_and_even, "no probes; an hour-old host; two hosts");
	TEST(test_note, "wq_clock_note: only shared, once a minute, replaced");
	return done();
}
