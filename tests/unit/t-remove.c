/* SPDX-License-Identifier: MIT */
/*
 * t-remove.c — lib/remove.c: deleting queues (and refusing what is not
 * one), purging their messages, and sweeping the remains of removals that
 * were interrupted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

/* Does a path under tap_dir exist (without following a last link)? */
static int
t_exists(const char *rel)
{
	char path[4096];
	struct stat st;

	return lstat(t_path(path, "%s", rel), &st) == 0;
}

static void
t_mkdir(const char *rel)
{
	char path[4096];

	need(mkdir(t_path(path, "%s", rel), 0777) == 0, "mkdir %s", path);
}

static void
t_symlink(const char *target, const char *rel)
{
	char path[4096];

	need(symlink(target, t_path(path, "%s", rel)) == 0, "symlink %s",
	    path);
}

/* A queue holding a ready message, a lease and a delayed message. */
static void
fill(struct wq_queue *q)
{
	struct wq_consumer *c;
	struct wq_msg *m;
	char id[WQ_ID_MAX];

	need(wq_send(q, "a", 1, id) == 0 && wq_send(q, "b", 1, id) == 0 &&
	    wq_send(q, "c", 1, id) == 0, "wq_send");
	need((c = wq_consumer_open(q, 60)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	wq_msg_free(m);
	need(wq_claim(c, &m) == 0 && wq_msg_release(m, 60) == 0,
	    "claim and release with a delay");
	wq_msg_free(m);
	wq_consumer_close(c);
}

static void
test_remove(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_stat st;
	char id[WQ_ID_MAX];

	fill(q);
	need(wq_queue_stat(q, &st) == 0 && st.total == 3, "three messages");
	t_write("q/tmp/half", "x", 1);
	t_symlink(tap_dir, "q/new/up");
	t_symlink("..", "q/cur/up");
	is_int(wq_queue_remove(s, "q"), 0, "wq_queue_remove");
	ok(!t_exists("q"), "the queue is gone");
	is_int(t_count(""), 0, "nothing is left in the spool");
	ok(wq_queue_open(s, "q") == NULL && errno == ENOENT,
	    "opening it again: ENOENT");
	/* A handle opened before points into the deleted tree: it sees no
	 * message and can send none, and the spool stays empty. */
	ok(wq_queue_stat(q, &st) == 0 && st.total == 0, "old handle: empty");
	ok(wq_send(q, "x", 1, id) == -1, "old handle: a send fails");
	wq_queue_close(q);
	is_int(t_count(""), 0, "the spool is still empty");
	wq_spool_close(s);
}

static void
test_remove_refused(void)
{
	struct wq_spool *s = t_spool(), *none;
	char path[4096];

	wq_queue_close(t_queue(s, "q", NULL, 0));
	is_err(wq_queue_remove(s, "nope"), ENOENT, "missing: ENOENT");
	is_err(wq_queue_remove(s, ".q"), EINVAL, "dot name: EINVAL");
	is_err(wq_queue_remove(s, "a b"), EINVAL, "bad name: EINVAL");
	is_err(wq_queue_remove(s, "/"), EINVAL, "the root: EINVAL");
	is_err(wq_queue_remove(s, t_path(path, "q/..")), EINVAL,
	    "a path ending in ..: EINVAL");
	t_mkdir("plain");
	t_write("plain/file", "x", 1);
	is_err(wq_queue_remove(s, "plain"), ENOTDIR, "no policy: ENOTDIR");
	ok(t_exists("plain/file"), "the directory is untouched");
	t_write("file", "x", 1);
	is_err(wq_queue_remove(s, "file"), ENOTDIR, "a file: ENOTDIR");
	t_symlink("q", "link");
	is_err(wq_queue_remove(s, "link"), ENOTDIR, "a link: ENOTDIR");
	is_err(wq_queue_remove(s, t_path(path, "link")), ENOTDIR,
	    "a link as a path: ENOTDIR");
	ok(t_exists("q/policy") && t_exists("link"), "link and queue kept");
	need((none = wq_spool_open(t_path(path, "no/spool"), 0)) != NULL,
	    "wq_spool_open of a missing spool");
	is_err(wq_queue_remove(none, "q"), ENOENT, "no spool: ENOENT");
	is_int(wq_spool_sweep(none), 0, "no spool: nothing to sweep");
	wq_spool_close(none);
	wq_spool_close(s);
}

static void
test_remove_deep(void)
{
	struct wq_spool *s = t_spool();
	char rel[4096];
	size_t len;
	int i;

	wq_queue_close(t_queue(s, "q", NULL, 0));
	strlcpy(rel, "q/tmp", sizeof(rel));
	for (i = 0; i < 60; i++) {
		len = strlen(rel);
		snprintf(rel + len, sizeof(rel) - len, "/d");
		t_mkdir(rel);
	}
	strlcat(rel, "/f", sizeof(rel));
	t_write(rel, "x", 1);
	is_int(wq_queue_remove(s, "q"), 0, "a deep foreign tree is removed");
	is_int(t_count(""), 0, "nothing is left");
	wq_spool_close(s);
}

static void
test_purge(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_stat st;
	char before[1024], after[1024], id[WQ_ID_MAX];
	uint64_t n = 99;

	fill(q);
	t_write("q/tmp/half", "x", 1);
	t_write("q/cur/foreign", "x", 1);
	need(t_read("q/policy", before, sizeof(before)) > 0, "read policy");
	is_int(wq_queue_purge(q, &n), 0, "wq_queue_purge");
	is_int(n, 3, "three messages purged");
	need(wq_queue_stat(q, &st) == 0, "stat");
	is_int(st.total, 0, "nothing left");
	is_int(t_new_count("q/new"), 0, "no file under new/");
	is_int(t_count("q/new"), 0, "empty buckets removed");
	ok(t_exists("q/tmp/half") && t_exists("q/cur/foreign"),
	    "tmp/ and foreign names kept");
	need(t_read("q/policy", after, sizeof(after)) > 0, "read policy");
	is_str(after, before, "policy kept");
	is_int(wq_queue_purge(q, NULL), 0, "a purge of nothing, no counter");
	is_int(wq_send(q, "x", 1, id), 0, "the queue takes messages");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_sweep(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "x", NULL, 0);
	char from[4096], to[4096];

	fill(q);
	wq_queue_close(q);
	need(rename(t_path(from, "x"), t_path(to, ".x.rm.0123abcd")) == 0,
	    "rename");
	t_mkdir(".e.rm.00000000");
	t_mkdir(".f.rm.00000000");
	t_write(".f.rm.00000000/file", "x", 1);
	t_mkdir(".g.rm.0000000");
	t_mkdir(".h.rm.0000000G");
	t_symlink(tap_dir, ".l.rm.00000000");
	t_write(".w.rm.00000000", "x", 1);
	is_int(wq_spool_sweep(s), 0, "wq_spool_sweep");
	ok(!t_exists(".x.rm.0123abcd"), "remains with a policy: removed");
	ok(!t_exists(".e.rm.00000000"), "empty remains: removed");
	ok(t_exists(".f.rm.00000000/file"), "no policy, not empty: kept");
	ok(t_exists(".g.rm.0000000") && t_exists(".h.rm.0000000G"),
	    "other names kept");
	ok(t_exists(".l.rm.00000000") && t_exists(".w.rm.00000000"),
	    "a link and a file kept");
	wq_spool_close(s);
}

static void
test_remove_sweeps_own(void)
{
	struct wq_spool *s = t_spool();
	char path[4096];

	t_mkdir("out");
	need(wq_queue_create(s, t_path(path, "out/q"), NULL, 0, 0) == 0,
	    "create out/q");
	need(wq_queue_create(s, t_path(path, "out/.q.rm.00000001"), NULL, 0,
	    0) == 0, "create remains of q");
	need(wq_queue_create(s, t_path(path, "out/.r.rm.00000001"), NULL, 0,
	    0) == 0, "create remains of r");
	is_int(wq_queue_remove(s, t_path(path, "out/q/")), 0,
	    "remove out/q/");
	ok(!t_exists("out/q") && !t_exists("out/.q.rm.00000001"),
	    "the queue and its remains are gone");
	ok(t_exists("out/.r.rm.00000001/policy"),
	    "the remains of another queue are left");
	wq_spool_close(s);
}

int
main(void)
{
	plan(6);
	TEST(test_remove, "remove a queue with messages, links and tmp/");
	TEST(test_remove_refused, "what is not a queue is refused, untouched");
	TEST(test_remove_deep, "remove a deep foreign tree");
	TEST(test_purge, "purge: messages gone, queue and the rest kept");
	TEST(test_sweep, "sweep: remains removed, foreign names kept");
	TEST(test_remove_sweeps_own, "remove sweeps its own remains");
	return done();
}
