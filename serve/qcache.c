/* SPDX-License-Identifier: MIT */
/*
 * qcache.c — open queues kept per worker thread.  Opening a queue costs
 * a dozen system calls (its directories, its policy), more than a send
 * itself; a request takes a kept one instead, after one stat(2) shows the
 * queue directory is still the one that was opened: a queue deleted (or
 * deleted and made again) is never written through an old handle.  A
 * kept queue is opened again after a second, so a policy changed with
 * wq-create -u applies within a second.
 *
 * A kept queue also keeps a consumer with the queue's own lease length:
 * receives take from the leaf it listed before, as wq-recv -f does,
 * instead of listing new/ and cur/ anew for each request.
 *
 * A libmicrohttpd worker thread serves its connections from start to end,
 * so a thread's cache needs no lock.  A queue in use when it is evicted
 * is closed by its last user.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#define QCACHE_SIZE	16
#define QCACHE_TTL_MS	1000

struct wqs_qref {
	struct wq_queue	*q;
	struct wq_consumer *c;		/* made on first use */
	char		 name[WQ_NAME_MAX + 1];
	dev_t		 dev;
	ino_t		 ino;
	int64_t		 opened;	/* ms */
	int		 refs;
	int		 kept;		/* in a thread's cache */
};

static _Thread_local struct wqs_qref *cache[QCACHE_SIZE];
static _Thread_local unsigned victim;
static pthread_key_t flush_key;		/* its destructor empties a cache */
static pthread_once_t flush_once = PTHREAD_ONCE_INIT;

static int
dir_stat(const char *name, struct stat *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", wq_spool_path(wqs.spool), name);
	return stat(path, st);
}

static void
release(struct wqs_qref *e)
{
	wq_consumer_close(e->c);
	wq_queue_close(e->q);
	free(e);
}

static void
drop(struct wqs_qref *e)
{
	e->kept = 0;
	if (e->refs == 0)
		release(e);
}

/* A fresh handle; kept if the directory did not change while opening. */
static struct wqs_qref *
open_new(const char *name, int64_t now)
{
	struct wqs_qref *e;
	struct stat before, after;
	int err;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	if (dir_stat(name, &before) == -1 ||
	    (e->q = wq_queue_open(wqs.spool, name)) == NULL) {
		err = errno;
		free(e);
		errno = err;
		return NULL;
	}
	strlcpy(e->name, name, sizeof(e->name));
	e->dev = before.st_dev;
	e->ino = before.st_ino;
	e->opened = now;
	e->refs = 1;
	e->kept = dir_stat(name, &after) == 0 && after.st_ino == e->ino &&
	    after.st_dev == e->dev;
	return e;
}

/* A worker thread ends (the server stops): close what it kept. */
static void
flush(void *arg)
{
	struct wqs_qref **c = arg;
	unsigned i;

	for (i = 0; i < QCACHE_SIZE; i++)
		if (c[i] != NULL) {
			drop(c[i]);
			c[i] = NULL;
		}
}

static void
flush_init(void)
{
	(void)pthread_key_create(&flush_key, flush);
}

static void
keep(struct wqs_qref *e)
{
	unsigned i;

	if (!e->kept)
		return;
	pthread_once(&flush_once, flush_init);
	(void)pthread_setspecific(flush_key, cache);
	for (i = 0; i < QCACHE_SIZE; i++)
		if (cache[i] == NULL) {
			cache[i] = e;
			return;
		}
	i = victim++ % QCACHE_SIZE;
	drop(cache[i]);
	cache[i] = e;
}

/* The queue called name, open; NULL and errno (ENOENT: no such queue). */
struct wqs_qref *
wqs_qref_get(const char *name)
{
	struct wqs_qref *e;
	struct stat st;
	int64_t now = wq_now_ms();
	unsigned i;

	for (i = 0; i < QCACHE_SIZE; i++) {
		if ((e = cache[i]) == NULL || strcmp(e->name, name) != 0)
			continue;
		if (now - e->opened < QCACHE_TTL_MS &&
		    dir_stat(name, &st) == 0 && st.st_ino == e->ino &&
		    st.st_dev == e->dev) {
			e->refs++;
			return e;
		}
		cache[i] = NULL;	/* stale: open it again */
		drop(e);
		break;
	}
	if ((e = open_new(name, now)) == NULL)
		return NULL;
	keep(e);
	return e;
}

struct wq_queue *
wqs_qref_queue(const struct wqs_qref *e)
{
	return e->q;
}

/* The queue's consumer, with the queue's lease length; NULL and errno. */
struct wq_consumer *
wqs_qref_consumer(struct wqs_qref *e)
{
	if (e->c == NULL && (e->c = wq_consumer_open(e->q, 0)) != NULL)
		wq_consumer_watched(e->c);
	return e->c;
}

void
wqs_qref_put(struct wqs_qref *e)
{
	if (e == NULL)
		return;
	if (--e->refs == 0 && !e->kept)
		release(e);
}
