/* SPDX-License-Identifier: MIT */
/*
 * hostclock.c — how far each host's clock is from the others, for the
 * clock-skew bound of a shared queue.
 *
 * Lease deadlines and due times are written by one host's clock and
 * judged by another's, so the hosts must agree within the queue's
 * clock-skew.  To let wq-stat check that, every host that sends to or
 * claims from a queue on a shared filesystem leaves a probe in clock/: a
 * file named "HOST,MS", MS being the host's clock just before it renamed
 * the file into place.  The rename sets the file's ctime, which the file
 * server stamps with its own clock, so MS - ctime is the host's offset
 * from the server, and the offsets of two hosts differ by as much as
 * their clocks do, give or take the time a rename takes to reach the
 * server.  (Not the mtime, stamped when the file's byte is written: a
 * client may send that write late, at close, after several other calls.)
 *
 * A probe is never rewritten: a newer one is made and the older ones of
 * the host are removed, so a reader never sees a file change under it.
 * A host refreshes its probe when the newest is older than a minute by its
 * own clock, and looks at most once a minute per open queue.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

#define CLOCK_DIR	"clock"
#define PROBE_EVERY_MS	60000		/* a host's probe is refreshed */
#define PROBE_RECENT_MS	(60 * 60000)	/* probes older are not compared */
#define PROBES_MAX	1024		/* hosts listed at most */

/* Split "HOST,MS" into host and ms; 0 if the name is a probe. */
static int
probe_parse(const char *name, char host[WQ_HOST_MAX + 1], int64_t *ms)
{
	const char *comma = strrchr(name, ',');
	char *end;
	long long v;
	size_t len;

	if (comma == NULL || (len = (size_t)(comma - name)) == 0 ||
	    len > WQ_HOST_MAX || comma[1] < '0' || comma[1] > '9')
		return -1;
	errno = 0;
	v = strtoll(comma + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return -1;
	memcpy(host, name, len);
	host[len] = '\0';
	*ms = v;
	return 0;
}

struct own_probes {
	const char	*host;
	int64_t		 newest;	/* our newest probe's time, or -1 */
	int64_t		 keep;		/* the one not to remove, or -1 */
};

static int
find_own(int dirfd, const char *name, void *arg)
{
	struct own_probes *o = arg;
	char host[WQ_HOST_MAX + 1];
	int64_t ms;

	(void)dirfd;
	if (probe_parse(name, host, &ms) == 0 && strcmp(host, o->host) == 0 &&
	    ms > o->newest)
		o->newest = ms;
	return 0;
}

/* The host's probes but the one to keep, and its half-made ones
 * (".HOST,MS.RANDOM") older than that. */
static int
remove_own(int dirfd, const char *name, void *arg)
{
	const struct own_probes *o = arg;
	char host[WQ_HOST_MAX + 1], buf[WQ_HOST_MAX + 48], *dot;
	int64_t ms;

	if (name[0] == '.') {
		if (strlcpy(buf, name + 1, sizeof(buf)) >= sizeof(buf) ||
		    (dot = strrchr(buf, '.')) == NULL)
			return 0;
		*dot = '\0';
		if (probe_parse(buf, host, &ms) == 0 &&
		    strcmp(host, o->host) == 0 && ms < o->keep)
			(void)unlinkat(dirfd, name, 0);
	} else if (probe_parse(name, host, &ms) == 0 &&
	    strcmp(host, o->host) == 0 && ms != o->keep)
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

/*
 * A new probe: written under a dot name (readers skip those), then, with
 * the host's clock read at the last moment, renamed to "HOST,MS"; then
 * the host's older probes go.  The file's ctime is the server's clock at
 * the rename.
 */
static void
probe_write(const struct wq_queue *q, int dfd, struct own_probes *o)
{
	char name[WQ_HOST_MAX + 32], tmp[WQ_HOST_MAX + 48];
	int64_t ms;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), ".%s,%" PRId64 ".%08x", o->host,
	    wq_now_ms(), arc4random());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
	if (fd == -1)
		return;
	wq_share_file(q, fd);
	ok = wq_write_all(fd, "\n", 1) == 0;
	if (close(fd) == -1 || !ok)
		goto fail;
	ms = wq_now_ms();
	snprintf(name, sizeof(name), "%s,%" PRId64, o->host, ms);
	if (renameat(dfd, tmp, dfd, name) == -1)
		goto fail;
	o->keep = ms;
	(void)wq_walk_dir(dfd, 1, remove_own, o);
	return;
fail:
	(void)unlinkat(dfd, tmp, 0);
}

/*
 * Leave this host's clock probe in a queue on a shared filesystem, if the
 * last is a minute old.  Best effort: a queue works without probes, only
 * wq-stat cannot compare clocks then.
 */
void
wq_clock_note(struct wq_queue *q, int64_t now)
{
	struct own_probes o = { wq_host_name(), -1, -1 };
	int dfd;

	if (!q->remote || (q->clock_noted_ms != 0 &&
	    now - q->clock_noted_ms < PROBE_EVERY_MS &&
	    now >= q->clock_noted_ms))
		return;
	q->clock_noted_ms = now;
	if ((dfd = wq_open_subdir(q, q->fd, CLOCK_DIR, 1, NULL)) == -1)
		return;
	/* Refresh when ours is a minute old, or from the future: the clock
	 * was set back. */
	if (wq_walk_dir(dfd, 0, find_own, &o) == 0 &&
	    (o.newest < 0 || now - o.newest >= PROBE_EVERY_MS ||
	    o.newest > now))
		probe_write(q, dfd, &o);
	close(dfd);
}

struct probe_list {
	struct wq_host_clock	*h;
	size_t			 n, cap;
};

/* Keep the newest probe of each host. */
static int
collect(int dirfd, const char *name, void *arg)
{
	struct probe_list *l = arg;
	struct wq_host_clock c, *grown;
	struct stat st;
	size_t i;

	memset(&c, 0, sizeof(c));
	if (probe_parse(name, c.host, &c.clock_ms) == -1 ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode))
		return 0;	/* foreign, or removed by its host meanwhile */
	c.seen_ms = (int64_t)st.st_ctim.tv_sec * 1000 +
	    st.st_ctim.tv_nsec / 1000000;
	c.offset_ms = c.clock_ms - c.seen_ms;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->h[i].host, c.host) == 0) {
			if (c.clock_ms > l->h[i].clock_ms)
				l->h[i] = c;
			return 0;
		}
	if (l->n == PROBES_MAX)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		if ((grown = reallocarray(l->h, l->cap, sizeof(*grown))) ==
		    NULL)
			return -1;
		l->h = grown;
	}
	l->h[l->n++] = c;
	return 0;
}

static int
by_offset(const void *a, const void *b)
{
	const struct wq_host_clock *x = a, *y = b;

	return (x->offset_ms > y->offset_ms) - (x->offset_ms < y->offset_ms);
}

/*
 * The hosts that left a probe in the hour before the newest probe, by
 * offset: each one's offset from the file server's clock and from the
 * median of all.  *spread_ms is the largest difference between two.
 */
int
wq_queue_clocks(struct wq_queue *q, struct wq_host_clock **hosts, size_t *n,
    int64_t *spread_ms)
{
	struct probe_list l = { NULL, 0, 0 };
	int64_t newest = 0, median;
	size_t i, kept;
	int dfd;

	*hosts = NULL;
	*n = 0;
	*spread_ms = 0;
	if ((dfd = openat(q->fd, CLOCK_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return wq_gone(errno) ? 0 : -1;
	if (wq_walk_dir(dfd, 0, collect, &l) == -1) {
		close(dfd);
		free(l.h);
		return -1;
	}
	close(dfd);
	for (i = 0; i < l.n; i++)
		if (l.h[i].seen_ms > newest)
			newest = l.h[i].seen_ms;
	for (i = kept = 0; i < l.n; i++)
		if (newest - l.h[i].seen_ms <= PROBE_RECENT_MS)
			l.h[kept++] = l.h[i];
	if (kept == 0) {
		free(l.h);
		return 0;
	}
	qsort(l.h, kept, sizeof(*l.h), by_offset);
	median = kept % 2 ? l.h[kept / 2].offset_ms :
	    (l.h[kept / 2 - 1].offset_ms + l.h[kept / 2].offset_ms) / 2;
	for (i = 0; i < kept; i++)
		l.h[i].from_median_ms = l.h[i].offset_ms - median;
	*spread_ms = l.h[kept - 1].offset_ms - l.h[0].offset_ms;
	*hosts = l.h;
	*n = kept;
	return 0;
}
