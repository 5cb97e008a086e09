/* SPDX-License-Identifier: MIT */
/*
 * t-hostclock.c — lib/hostclock.c: the clock probes of hosts sharing a
 * queue.  Probes are planted by hand as a host makes them, renamed into
 * place under a name whose time is off this machine's clock by a chosen
 * amount, so offsets, the median and the spread are known (to the time
 * between two calls); then wq_clock_note on a queue taken for remote.
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

/* Tolerance of an offset: the time between two calls here. */
#define SLACK_MS	200

/*
 * Plant a probe of host in queue q whose clock runs offset_ms ahead: made
 * under a dot name and renamed into place as "host,MS", as a host does,
 * so that its ctime is now by this machine's clock.  Returns MS.
 */
static long long
plant(const char *q, const char *hostname, long long offset_ms)
{
	char path[4096], to[4096];
	long long ms;
	int fd;

	mkdir(t_path(path, "%s/clock", q), 0777);
	need((fd = open(t_path(path, "%s/clock/.planting", q),
	    O_WRONLY | O_CREAT | O_TRUNC, 0666)) != -1, "open %s", path);
	need(write(fd, "\n", 1) == 1, "write");
	close(fd);
	ms = wq_now_ms() + offset_ms;
	need(rename(path, t_path(to, "%s/clock/%s,%lld", q, hostname, ms)) ==
	    0, "rename %s", to);
	return ms;
}

/* Plant a file of any name in q's clock/. */
static void
plant_name(const char *q, const char *name)
{
	char path[4096];
	int fd;

	mkdir(t_path(path, "%s/clock", q), 0777);
	need((fd = open(t_path(path, "%s/clock/%s", q, name),
	    O_WRONLY | O_CREAT | O_TRUNC, 0666)) != -1, "open %s", path);
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

static int
near(int64_t got, int64_t want)
{
	return got >= want - SLACK_MS && got <= want + SLACK_MS;
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

	/* An older probe of beta that its host has not removed yet. */
	plant("q", "beta", -60000);
	/* alpha 1 s behind, beta in step, gamma 3 s ahead. */
	plant("q", "alpha", -1000);
	plant("q", "beta", 0);
	plant("q", "gamma", 3000);
	/* Foreign names and temporaries count for nothing. */
	plant_name("q", "no-comma");
	plant_name("q", "host,12x");
	plant_name("q", ",1800000000000");
	plant_name("q", ".delta,1800000000000");
	ok(wq_queue_clocks(q, &h, &n, &spread) == 0, "wq_queue_clocks");
	is_int((long long)n, 3, "three hosts");
	a = host(h, n, "alpha");
	b = host(h, n, "beta");
	c = host(h, n, "gamma");
	ok(a != NULL && b != NULL && c != NULL, "alpha, beta, gamma");
	if (a == NULL || b == NULL || c == NULL)
		return;
	ok(near(a->offset_ms, -1000), "alpha's offset %lld",
	    (long long)a->offset_ms);
	ok(near(b->offset_ms, 0), "beta's newest probe counts: %lld",
	    (long long)b->offset_ms);
	ok(near(c->offset_ms, 3000), "gamma's offset %lld",
	    (long long)c->offset_ms);
	is_int(b->from_median_ms, 0, "beta is the median");
	is_int(c->from_median_ms, c->offset_ms - b->offset_ms,
	    "gamma from the median");
	is_int(spread, c->offset_ms - a->offset_ms, "spread");
	ok(near(spread, 4000), "spread %lld", (long long)spread);
	ok(h[0].offset_ms == a->offset_ms && h[2].offset_ms == c->offset_ms,
	    "ordered by offset");
	ok(near(c->seen_ms, wq_now_ms()), "seen by the server's clock");
	free(h);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_none_and_even(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_host_clock *h;
	int64_t spread;
	size_t n;

	ok(wq_queue_clocks(q, &h, &n, &spread) == 0 && n == 0 && spread == 0,
	    "no clock/: no hosts");
	free(h);
	plant("q", "a", 1000);
	plant("q", "b", 1400);
	ok(wq_queue_clocks(q, &h, &n, &spread) == 0, "wq_queue_clocks");
	is_int((long long)n, 2, "two hosts");
	if (n == 2) {
		is_int(h[0].from_median_ms, -(spread / 2),
		    "median of two: the mean");
		ok(near(spread, 400), "spread of two %lld", (long long)spread);
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

/* The inode of q's probe "host,ms". */
static ino_t
probe_ino(const char *hostname, long long ms)
{
	char path[4096];
	struct stat st;

	if (stat(t_path(path, "q/clock/%s,%lld", hostname, ms), &st) == -1)
		return 0;
	return st.st_ino;
}

static void
test_note(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	const char *me = wq_host_name();
	char name[WQ_HOST_MAX + 32], path[4096];
	long long ms, first;
	int64_t now = wq_now_ms();
	ino_t ino;

	q->remote = 0;
	wq_clock_note(q, now);
	is_int(own_probes("q", me, &ms), 0, "a local queue gets no probe");
	q->remote = 1;
	wq_clock_note(q, now);
	is_int(own_probes("q", me, &first), 1, "a shared one gets one");
	ok(first >= now && first < now + SLACK_MS,
	    "named with the host's clock: %lld, %lld", first, (long long)now);
	ino = probe_ino(me, first);
	/* Within the minute the handle does not look again. */
	wq_clock_note(q, now + 30000);
	is_int(own_probes("q", me, &ms), 1, "none more within a minute");
	is_int(ms, first, "the same one");
	/* Another handle (another process) within the minute: kept. */
	q->clock_noted_ms = 0;
	wq_clock_note(q, now + 30000);
	is_int(own_probes("q", me, &ms), 1, "a fresh probe is kept");
	ok(ms == first && probe_ino(me, ms) == ino, "still the same one");
	/* A minute on: a new one, and the old one and leftovers go. */
	snprintf(name, sizeof(name), "%s,%lld", me, first - 5000);
	plant_name("q", name);
	plant_name("q", "other,1800000000000");
	/* Half-made ones of a process that died: older ones go. */
	snprintf(name, sizeof(name), ".%s,%lld.0000abcd", me, first - 5000);
	plant_name("q", name);
	q->clock_noted_ms = 0;
	wq_clock_note(q, first + 60000);	/* a minute after the probe */
	is_int(own_probes("q", me, &ms), 1, "replaced after a minute");
	ok(ms >= first && probe_ino(me, ms) != ino, "by a new file");
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
	TEST(test_none_and_even, "no probes; two hosts");
	TEST(test_note, "wq_clock_note: only shared, once a minute, replaced");
	return done();
}
