/* SPDX-License-Identifier: MIT */
/*
 * t-bucket.c — lib/bucket.c, the tree of new/ that ready messages live in
 * (new/RR/TTTTTT/TT/TT/TT/T/NAME), and how claim.c, stat.c and lease.c
 * use it: bucket paths and their validation, the walk in name order, the
 * pruning of empty directories, foreign names, writers whose bucket was
 * removed under them, claim order across ranks and buckets, the head
 * hint, one-shot consumers, counting, and releases.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

/* A time in microseconds: 0x0006123456789abc, about November 2021. */
#define T0	INT64_C(0x0006123456789abc)

static int
is_dir(const char *rel)
{
	char path[4096];
	struct stat st;

	return stat(t_path(path, "%s", rel), &st) == 0 && S_ISDIR(st.st_mode);
}

static int
exists(const char *rel)
{
	char path[4096];
	struct stat st;

	return lstat(t_path(path, "%s", rel), &st) == 0;
}

/* The bucket path of rank and time us. */
static const char *
bucket(char buf[WQ_BUCKET_MAX], unsigned rank, int64_t us)
{
	need(wq_bucket_path(rank, us, buf, WQ_BUCKET_MAX) == 0,
	    "wq_bucket_path");
	return buf;
}

/*
 * Write a valid message "body" of rank into tmp/ and put it into the
 * bucket of time us with wq_bucket_put, named RR.ID,0,SIZE, (SIZE the
 * size of the file, no group); its id into id (if not NULL).  Returns
 * the size of the file.
 */
static uint64_t
put_msg(struct wq_queue *q, unsigned rank, int64_t us, const char *body,
    char *idout)
{
	char rel[512], name[WQ_RECEIPT_MAX], hdr[512], b[WQ_BUCKET_MAX];
	struct wq_entry e;
	int64_t sent;
	int made = 0, n;

	memset(&e, 0, sizeof(e));
	e.rank = rank;
	need(wq_id_new(e.id) == 0, "wq_id_new");
	need(wq_id_time_ms(e.id, &sent) == 0, "wq_id_time_ms");
	n = snprintf(hdr, sizeof(hdr), "wq 1\nid %s\nsent %" PRId64
	    "\nqueue q\nsize %020zu\n\n%s", e.id, sent, strlen(body), body);
	need(n > 0 && (size_t)n < sizeof(hdr), "message fits");
	snprintf(rel, sizeof(rel), "q/tmp/%s", e.id);
	t_write(rel, hdr, (size_t)n);
	e.size = (uint64_t)n;
	need(wq_entry_format(&e, 0, name, sizeof(name)) == 0,
	    "wq_entry_format");
	need(wq_bucket_put(q, q->tmpfd, e.id, bucket(b, rank, us), name,
	    &made) == 0, "wq_bucket_put %s/%s", b, name);
	if (idout != NULL)
		memcpy(idout, e.id, WQ_ID_MAX);
	return e.size;
}

/* Check that wq_bucket_first from after finds leaf want with n entries. */
static int
first_is(struct wq_queue *q, const char *after, int prune, const char *want,
    size_t wantn)
{
	char leaf[WQ_BUCKET_MAX], **names = NULL;
	size_t n = 0;
	int rc;

	rc = wq_bucket_first(q, after, prune, leaf, &names, &n);
	if (want == NULL) {
		if (rc == -1 && errno == ENOMSG)
			return 1;
		diag("after %s: expected ENOMSG, got %d (%s)",
		    after ? after : "NULL", rc, rc == 0 ? leaf : "error");
		if (rc == 0)
			wq_names_free(names, n);
		return 0;
	}
	if (rc == -1) {
		diag("after %s: expected %s, got -1 (%s)",
		    after ? after : "NULL", want, strerror(errno));
		return 0;
	}
	wq_names_free(names, n);
	if (strcmp(leaf, want) == 0 && n == wantn)
		return 1;
	diag("after %s: expected %s with %zu, got %s with %zu",
	    after ? after : "NULL", want, wantn, leaf, n);
	return 0;
}

static void
test_path(void)
{
	char buf[WQ_BUCKET_MAX], small[20];

	ok(wq_bucket_path(0x80, T0, buf, sizeof(buf)) == 0, "wq_bucket_path");
	is_str(buf, "80/000612/34/56/78/9", "rank, then digits 0-5, 6-7, "
	    "8-9, 10-11 and 12 of the time");
	ok(wq_bucket_path(0, 0, buf, sizeof(buf)) == 0, "rank 0, time 0");
	is_str(buf, "00/000000/00/00/00/0", "zero-padded");
	ok(wq_bucket_path(0xff, INT64_MAX, buf, sizeof(buf)) == 0,
	    "rank ff, the largest time");
	is_str(buf, "ff/7fffff/ff/ff/ff/f", "lower-case hex");
	ok(wq_bucket_path(0x40, T0 & ~INT64_C(0xfff), buf, sizeof(buf)) ==
	    0 && strcmp(buf, "40/000612/34/56/78/9") == 0 &&
	    wq_bucket_path(0x40, T0 | 0xfff, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "40/000612/34/56/78/9") == 0,
	    "one leaf holds 4096 us (digits 13-15 are not in the path)");
	ok(wq_bucket_path(0x40, (T0 | 0xfff) + 1, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "40/000612/34/56/78/a") == 0,
	    "the next 4096 us, the next leaf");
	ok(wq_bucket_valid(bucket(buf, 0x80, T0)), "what it writes is valid");
	ok(wq_bucket_valid(bucket(buf, 0x80, wq_now_us())), "now is valid");
	is_err(wq_bucket_path(0x80, T0, small, sizeof(small)), ENAMETOOLONG,
	    "a buffer one byte short: ENAMETOOLONG");
	ok(strlen("80/000612/34/56/78/9") < WQ_BUCKET_MAX,
	    "WQ_BUCKET_MAX holds a bucket path");
	is_int(wq_bucket_rank("40/000612/34/56/78/9"), 0x40, "wq_bucket_rank");
}

static void
test_valid(void)
{
	static const char *const good[] = {
		"80/000612/34/56/78/9", "00/000000/00/00/00/0",
		"ff/ffffff/ff/ff/ff/f", "0a/abcdef/01/23/45/6",
	};
	static const char *const bad[] = {
		"", "80", "80/000612", "80/000612/34/56/78",	/* too short */
		"80/000612/34/56/78/9/a",			/* too deep */
		"80/000612/34/56/78/9/80.x,0,1,",
		"8/000612/34/56/78/9", "800/000612/34/56/78/9",	/* widths */
		"80/00061/34/56/78/9", "80/0006123/34/56/78/9",
		"80/000612/3/56/78/9", "80/000612/345/56/78/9",
		"80/000612/34/5/78/9", "80/000612/34/56/7/9",
		"80/000612/34/56/78/", "80/000612/34/56/78/99",
		"8A/000612/34/56/78/9", "80/00061A/34/56/78/9",	/* upper case */
		"80/000612/34/56/78/g", "zz/000612/34/56/78/9",	/* not hex */
		"80/000612/34/56/78/ ", " 0/000612/34/56/78/9",
		"../000612/34/56/78/9", "80/000612/34/56/../9",
		"80/000612/34/56/78/.", "80\\000612\\34\\56\\78\\9",
		"80/000612/34/56/78/9\n",
		"80/000612/34/56/78/9xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(wq_bucket_valid(good[i]), "valid: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!wq_bucket_valid(bad[i]), "invalid: '%s'", bad[i]);
}

/*
 * wq_bucket_valid promises "a bucket path as written by wq_bucket_path,
 * and nothing else", but it splits with strtok_r, which skips empty
 * fields: leading, doubled and trailing slashes pass.  wq_head_read then
 * takes "new//80/000612/34/56/78/9" for the leaf "/80/000612/34/56/78/9",
 * an absolute path that openat(newfd, ...) and renameat() resolve outside
 * the queue.
 */
static void
test_valid_slashes(void)
{
	static const char *const bad[] = {
		"/80/000612/34/56/78/9", "80//000612/34/56/78/9",
		"80/000612/34/56/78/9/", "80/000612/34/56/78//9",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!wq_bucket_valid(bad[i]), "invalid: '%s'", bad[i]);
}

/* Leaves of several ranks and times, as wq_bucket_first walks them. */
static void
test_first_order(void)
{
	static const struct { unsigned rank; int64_t us; size_t n; } m[] = {
		{ 0x80, T0, 2 },
		{ 0x80, T0 + 0x1000, 1 },		/* next leaf */
		{ 0x80, T0 + 0x100000, 1 },		/* digits 10-11 */
		{ 0x80, T0 + 0x10000000, 3 },		/* digits 8-9 */
		{ 0x80, T0 + INT64_C(0x100000000000), 1 },	/* digits 0-5 */
		{ 0x80, T0 + INT64_C(0x1000000000), 1 },	/* digits 6-7 */
		{ 0x40, T0 + 0x20000000, 1 },		/* a more urgent rank */
		{ 0x40, T0 - 0x1000, 2 },
		{ 0xc0, T0 - 0x10000000, 1 },		/* a less urgent one */
	};
	/* the same, in serving order */
	static const int order[] = { 7, 6, 0, 1, 2, 3, 5, 4, 8 };
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char leaves[9][WQ_BUCKET_MAX], between[WQ_BUCKET_MAX];
	size_t i, j, nm = sizeof(m) / sizeof(m[0]);

	for (i = 0; i < nm; i++) {
		bucket(leaves[i], m[i].rank, m[i].us);
		for (j = 0; j < m[i].n; j++)
			put_msg(q, m[i].rank, m[i].us, "x", NULL);
	}
	ok(first_is(q, NULL, 0, leaves[order[0]], m[order[0]].n),
	    "the first leaf: lowest rank, earliest time");
	for (i = 1; i < nm; i++)
		ok(first_is(q, leaves[order[i - 1]], 0, leaves[order[i]],
		    m[order[i]].n), "after %s: %s", leaves[order[i - 1]],
		    leaves[order[i]]);
	ok(first_is(q, leaves[order[nm - 1]], 0, NULL, 0),
	    "after the last leaf: ENOMSG");

	/* after a leaf that does not exist: the next one that does */
	ok(first_is(q, bucket(between, 0x80, T0 + 0x2000), 0, leaves[2], 1),
	    "after a missing leaf of the same parent");
	ok(first_is(q, bucket(between, 0x80, T0 + 0x1000000), 0, leaves[3],
	    3), "after a missing leaf in another subtree");
	ok(first_is(q, bucket(between, 0x60, T0), 0, leaves[0], 2),
	    "after a leaf of a missing rank");
	ok(first_is(q, bucket(between, 0x00, 0), 0, leaves[order[0]],
	    m[order[0]].n), "after the smallest leaf: the first");
	ok(first_is(q, bucket(between, 0xff, INT64_MAX), 0, NULL, 0),
	    "after the largest leaf: ENOMSG");
	is_int(t_new_count("q/new"), 13, "nothing moved or removed");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Empty directories go only when wq_bucket_first is told to prune. */
static void
test_first_prune(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char b[WQ_BUCKET_MAX], e1[512], e2[512], e3[512], e4[512], rel[512];
	char full[WQ_BUCKET_MAX], next[WQ_BUCKET_MAX], names[2][256];
	char path[4096];

	/* empty leaves before the first message, and an empty rank */
	t_leaf(e1, "q", 0x80, T0);			/* 80/000612/34/56/78/9 */
	t_leaf(e2, "q", 0x80, T0 + 0x1000);		/* 80/000612/34/56/78/a */
	t_leaf(e3, "q", 0x80, T0 - INT64_C(0x10000000000)); /* 80/000611/... */
	t_leaf(e4, "q", 0x20, T0);			/* an empty rank */
	put_msg(q, 0x80, T0 + 0x100000, "x", NULL);	/* 80/000612/34/56/88/9 */
	bucket(full, 0x80, T0 + 0x100000);
	put_msg(q, 0x80, T0 + 0x10000000, "y", NULL);	/* 80/000612/34/66/78/9 */
	bucket(next, 0x80, T0 + 0x10000000);

	ok(first_is(q, NULL, 0, full, 1), "without prune: the first leaf");
	ok(is_dir(e1) && is_dir(e2) && is_dir(e3) && is_dir(e4),
	    "without prune: the empty leaves stay");
	ok(is_dir("q/new/20"), "and the empty rank");

	/* from after an empty leaf, pruning: that leaf is not removed */
	ok(first_is(q, bucket(b, 0x80, T0), 1, full, 1),
	    "after an empty leaf, with prune");
	ok(is_dir(e1), "the leaf it started after stays");
	ok(!is_dir(e2), "an empty leaf walked past is removed");
	ok(is_dir(e3) && is_dir(e4), "empty leaves before `after' stay");

	ok(first_is(q, NULL, 1, full, 1), "with prune: the first leaf");
	ok(!is_dir(e1) && !is_dir(e3) && !is_dir(e4),
	    "with prune: the empty leaves are gone");
	ok(!is_dir("q/new/20"), "and the empty rank");
	ok(!is_dir("q/new/80/000612/34/56/78") && !is_dir("q/new/80/000611"),
	    "and the directories they emptied");
	snprintf(rel, sizeof(rel), "q/new/%s", full);
	ok(is_dir(rel), "the leaf with a message stays");
	snprintf(rel, sizeof(rel), "q/new/%s", next);
	ok(is_dir(rel), "and the one after it");
	is_int(t_new_count("q/new"), 2, "both messages still there");

	/* emptied leaves are removed up to the first shared directory */
	snprintf(rel, sizeof(rel), "q/new/%s", full);
	need(t_new_list(rel, names, 2) == 1, "one message in %s", rel);
	need(unlink(t_path(path, "%s/%s", rel, names[0])) == 0, "unlink");
	ok(first_is(q, NULL, 1, next, 1), "the first leaf emptied: the next");
	ok(!is_dir("q/new/80/000612/34/56"), "the emptied subtree is gone");
	ok(is_dir("q/new/80/000612/34"), "the shared parent stays");
	ok(first_is(q, NULL, 1, next, 1), "the walk is the same again");
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * An empty directory of recent times is kept: producers are filing into
 * it, and removing it between their mkdir and rename, claim after claim,
 * made a send fail under load.  One older than the clock skew goes.
 */
static void
test_first_prune_recent(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char old[512], now[512], ahead[512], full[WQ_BUCKET_MAX];
	int64_t t = wq_now_us();

	t_leaf(old, "q", 0x80, t - INT64_C(3600000000));
	t_leaf(now, "q", 0x80, t);
	t_leaf(ahead, "q", 0x80, t + INT64_C(10000));
	put_msg(q, 0x80, t + INT64_C(3600000000), "x", NULL);
	bucket(full, 0x80, t + INT64_C(3600000000));
	ok(first_is(q, NULL, 1, full, 1), "with prune: the leaf with a message");
	ok(!is_dir(old), "an empty leaf an hour old is removed");
	ok(is_dir(now) && is_dir(ahead), "the empty leaves of now stay");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Foreign names at any level are skipped, and never removed. */
static void
test_first_foreign(void)
{
	static const char *const levels[] = {
		"q/new", "q/new/80", "q/new/80/000612", "q/new/80/000612/34",
		"q/new/80/000612/34/56", "q/new/80/000612/34/56/78",
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char rel[1024], leaf[512], id[WQ_ID_MAX], want[WQ_BUCKET_MAX];
	char path[4096];
	size_t i, nfiles = 0;

	/* an empty leaf whose parents hold the foreign names */
	t_leaf(leaf, "q", 0x80, T0);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/zz", levels[i]);
		need(mkdir(t_path(path, "%s", rel), 0777) == 0, "mkdir %s",
		    rel);
		snprintf(rel, sizeof(rel), "%s/junk", levels[i]);
		t_write(rel, "wq 1\nsize 1\n\nx", 14);
		nfiles++;
	}
	/* inside "zz" at the top, a whole valid-looking subtree */
	need(mkdir(t_path(path, "q/new/zz/000612"), 0777) == 0, "mkdir");
	need(mkdir(t_path(path, "q/new/zz/000612/34"), 0777) == 0, "mkdir");
	need(mkdir(t_path(path, "q/new/zz/000612/34/56"), 0777) == 0, "mkdir");
	need(mkdir(t_path(path, "q/new/zz/000612/34/56/78"), 0777) == 0,
	    "mkdir");
	need(mkdir(t_path(path, "q/new/zz/000612/34/56/78/9"), 0777) == 0,
	    "mkdir");
	need(wq_id_new(id) == 0, "wq_id_new");
	snprintf(rel, sizeof(rel), "q/new/zz/000612/34/56/78/9/80.%s,0,14,",
	    id);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	nfiles++;
	/* in the leaf, only foreign names */
	snprintf(rel, sizeof(rel), "%s/junk", leaf);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	snprintf(rel, sizeof(rel), "%s/80.%s", leaf, id);	/* no count */
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	snprintf(rel, sizeof(rel), "%s/80.%s,0,14", leaf, id);	/* no group */
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	snprintf(rel, sizeof(rel), "%s/80.%s,0,14,.g", leaf, id); /* bad group */
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	snprintf(rel, sizeof(rel), "%s/zz", leaf);
	need(mkdir(t_path(path, "%s", rel), 0777) == 0, "mkdir leaf/zz");
	nfiles += 4;

	ok(first_is(q, NULL, 0, NULL, 0), "only foreign names: ENOMSG");
	ok(first_is(q, NULL, 1, NULL, 0), "with prune too");
	is_int(t_new_count("q/new"), nfiles, "no foreign file removed");
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/zz", levels[i]);
		ok(is_dir(rel), "%s stays", rel);
	}
	snprintf(rel, sizeof(rel), "%s/zz", leaf);
	ok(is_dir(rel), "leaf/zz stays");

	/* a real message after all that junk is found */
	put_msg(q, 0x80, T0 + 0x1000, "real", NULL);
	ok(first_is(q, NULL, 1, bucket(want, 0x80, T0 + 0x1000), 1),
	    "the real message's leaf, past the junk");
	ok(first_is(q, want, 1, NULL, 0), "and nothing after it");
	is_int(t_new_count("q/new"), nfiles + 1, "foreign files still there");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* wq_bucket_put makes missing directories, and again when removed. */
static void
test_put_recreate(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char b[WQ_BUCKET_MAX], rel[512], path[4096];
	int made;

	bucket(b, 0x80, T0);
	t_write("q/tmp/one", "1", 1);
	made = WQ_BUCKET_LEVELS;
	ok(wq_bucket_put(q, q->tmpfd, "one", b, "80.one,0", &made) == 0,
	    "put into a bucket that does not exist yet");
	is_int(made, 0, "made: every level, from the rank down");
	ok(exists("q/new/80/000612/34/56/78/9/80.one,0"), "the file is there");
	ok(!exists("q/tmp/one"), "and gone from tmp/");
	ok(wq_bucket_sync(q, b, made) == 0, "wq_bucket_sync");

	t_write("q/tmp/two", "2", 1);
	made = WQ_BUCKET_LEVELS;
	ok(wq_bucket_put(q, q->tmpfd, "two", b, "80.two,0", &made) == 0,
	    "put into the existing bucket");
	is_int(made, WQ_BUCKET_LEVELS, "made: nothing");
	ok(wq_bucket_sync(q, b, made) == 0, "wq_bucket_sync");

	/* a consumer emptied and pruned the leaf and its parents */
	need(unlink(t_path(path, "q/new/%s/80.one,0", b)) == 0, "unlink");
	need(unlink(t_path(path, "q/new/%s/80.two,0", b)) == 0, "unlink");
	ok(first_is(q, NULL, 1, NULL, 0), "pruned: ENOMSG");
	ok(!is_dir("q/new/80"), "the whole tree is gone");
	t_write("q/tmp/three", "3", 1);
	made = WQ_BUCKET_LEVELS;
	ok(wq_bucket_put(q, q->tmpfd, "three", b, "80.three,0", &made) == 0,
	    "put after the bucket was removed");
	is_int(made, 0, "made: every level again");
	snprintf(rel, sizeof(rel), "q/new/%s/80.three,0", b);
	ok(exists(rel), "the file is there");
	ok(wq_bucket_sync(q, b, made) == 0, "wq_bucket_sync");

	/* only the leaf removed */
	need(unlink(t_path(path, "%s", rel)) == 0, "unlink");
	need(rmdir(t_path(path, "q/new/%s", b)) == 0, "rmdir the leaf");
	t_write("q/tmp/four", "4", 1);
	made = WQ_BUCKET_LEVELS;
	ok(wq_bucket_put(q, q->tmpfd, "four", b, "80.four,0", &made) == 0 &&
	    made == WQ_BUCKET_LEVELS - 1,
	    "put after only the leaf was removed: made the leaf alone");
	ok(exists("q/new/80/000612/34/56/78/9/80.four,0"), "the file is there");

	/* a missing source is an error, and makes nothing */
	made = WQ_BUCKET_LEVELS;
	is_err(wq_bucket_put(q, q->tmpfd, "nosuch", bucket(b, 0x80, T0 +
	    INT64_C(0x100000000000)), "80.nosuch,0", &made), ENOENT,
	    "a missing source: ENOENT");
	ok(!is_dir("q/new/80/100612"), "no bucket made for it");
	is_int(made, WQ_BUCKET_LEVELS, "made: nothing");
	ok(wq_bucket_sync(q, b, 0) == 0, "wq_bucket_sync of a missing bucket");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Claim order: the lowest rank first, then the oldest bucket first. */
static void
test_claim_order(void)
{
	static const struct { unsigned rank; int64_t us; } m[] = {
		{ 0x80, T0 + 0x10000000 },
		{ 0xc0, T0 - 0x10000000 },
		{ 0x80, T0 },
		{ 0x40, T0 + INT64_C(0x100000000000) },
		{ 0x80, T0 + 0x1000 },
		{ 0x40, T0 + 0x1000 },
		{ 0x80, T0 },
	};
	static const int order[] = { 5, 3, 2, 6, 4, 0, 1 };
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[7][WQ_ID_MAX], body[16], urgent[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_msg *msg;
	size_t i, nm = sizeof(m) / sizeof(m[0]);

	for (i = 0; i < nm; i++) {
		snprintf(body, sizeof(body), "m%zu", i);
		put_msg(q, m[i].rank, m[i].us, body, ids[i]);
	}
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	for (i = 0; i < nm; i++) {
		if (!ok(wq_claim(c, &msg) == 0, "claim %zu", i))
			continue;
		if (!is_str(wq_msg_id(msg), ids[order[i]], "in serving order"))
			diag("expected m%d, rank %02x", order[i],
			    m[order[i]].rank);
		is_int(wq_msg_priority(msg), 0x80 - (int)m[order[i]].rank,
		    "its priority from its rank");
		ok(wq_msg_ack(msg) == 0, "ack");
		wq_msg_free(msg);
	}
	is_err(wq_claim(c, &msg), ENOMSG, "then ENOMSG");

	/* a more urgent message arriving while a leaf is worked through */
	put_msg(q, 0x80, T0, "a", ids[0]);
	put_msg(q, 0x80, T0, "b", ids[1]);
	put_msg(q, 0x80, T0, "c", ids[2]);
	if (ok(wq_claim(c, &msg) == 0, "claim from a leaf of three")) {
		is_str(wq_msg_id(msg), ids[0], "its first");
		wq_msg_free(msg);
	}
	put_msg(q, 0x40, T0 + INT64_C(0x100000000000), "urgent", urgent);
	if (ok(wq_claim(c, &msg) == 0, "claim")) {
		is_str(wq_msg_id(msg), urgent,
		    "the more urgent rank before the rest of the leaf");
		wq_msg_free(msg);
	}
	for (i = 1; i < 3; i++)
		if (ok(wq_claim(c, &msg) == 0, "claim")) {
			is_str(wq_msg_id(msg), ids[i], "then the rest");
			wq_msg_free(msg);
		}
	is_err(wq_claim(c, &msg), ENOMSG, "then ENOMSG");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Point QUEUE/head at target. */
static void
set_head(const char *target)
{
	char path[4096];

	(void)unlink(t_path(path, "q/head"));
	need(symlink(target, path) == 0, "symlink head -> %s", target);
}

/* A fresh consumer whose hint is target claims want first, and acks it. */
static void
claim_with_hint(struct wq_queue *q, const char *target, const char *want,
    const char *desc)
{
	struct wq_consumer *c;
	struct wq_msg *m;

	set_head(target);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim with head -> %s: %s", target,
	    desc)) {
		is_str(wq_msg_id(m), want, desc);
		ok(wq_msg_ack(m) == 0, "ack");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
}

/* A wrong head hint costs time, never a message. */
static void
test_head_hint(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char id1[WQ_ID_MAX], ids[12][WQ_ID_MAX], urgent[WQ_ID_MAX];
	char b[WQ_BUCKET_MAX], target[WQ_BUCKET_MAX + 8], buf[WQ_BUCKET_MAX + 8];
	char path[4096], leaf[512];
	struct wq_consumer *c;
	struct wq_msg *m;
	size_t i, k = 0;
	ssize_t n;

	put_msg(q, 0x80, T0, "one", id1);
	for (i = 0; i < 12; i++)
		put_msg(q, 0x80, T0 + 0x10000000, "two", ids[i]);

	/* no hint: a claim writes one, to the leaf it started from */
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	is_str(wq_msg_id(m), id1, "the first message");
	ok(wq_msg_ack(m) == 0, "ack it");
	wq_msg_free(m);
	wq_consumer_close(c);
	n = readlink(t_path(path, "q/head"), buf, sizeof(buf) - 1);
	ok(n > 0, "QUEUE/head is a symbolic link");
	buf[n > 0 ? n : 0] = '\0';
	snprintf(target, sizeof(target), "new/%s", bucket(b, 0x80, T0));
	is_str(buf, target, "to new/BUCKET of the leaf it started from");
	is_int(t_new_count("q/new/80/000612/34/56/78/9"), 0,
	    "that leaf is now empty");

	/* the hint points at an emptied leaf */
	claim_with_hint(q, target, ids[k++], "an emptied leaf: the next one");
	n = readlink(t_path(path, "q/head"), buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(target, sizeof(target), "new/%s",
	    bucket(b, 0x80, T0 + 0x10000000));
	is_str(buf, target, "the hint is moved to the leaf used");
	claim_with_hint(q, target, ids[k++], "a good hint");
	/* ... at a leaf that was removed */
	snprintf(target, sizeof(target), "new/%s", bucket(b, 0x80, T0));
	(void)rmdir(t_path(path, "q/new/%s", b));
	ok(!is_dir("q/new/80/000612/34/56/78/9"), "the leaf is gone");
	claim_with_hint(q, target, ids[k++], "a removed leaf");
	/* ... at garbage */
	claim_with_hint(q, "new/80/zz", ids[k++], "a path that is no bucket");
	claim_with_hint(q, "cur", ids[k++], "cur/");
	claim_with_hint(q, "/etc", ids[k++], "an absolute path");
	claim_with_hint(q, "new/../../80/000612/34/56/78/9", ids[k++],
	    "a path out of new/");
	claim_with_hint(q, "new/80/000612/34/66/78/9/../../../../../..",
	    ids[k++], "dot-dot inside new/");
	claim_with_hint(q, "nowhere", ids[k++], "a dangling link");

	/* ... at a leaf holding only foreign names */
	t_leaf(leaf, "q", 0x80, T0 - 0x1000);
	snprintf(path, sizeof(path), "%s/junk", leaf);
	t_write(path, "x", 1);
	snprintf(target, sizeof(target), "new/%s",
	    bucket(b, 0x80, T0 - 0x1000));
	claim_with_hint(q, target, ids[k++], "a leaf with only foreign names");

	/* ... at a non-empty leaf of a less urgent rank */
	put_msg(q, 0x40, T0 + 0x20000000, "urgent", urgent);
	snprintf(target, sizeof(target), "new/%s",
	    bucket(b, 0x80, T0 + 0x10000000));
	claim_with_hint(q, target, urgent, "a leaf of a less urgent rank");

	/* a hint that is a regular file, not a link */
	need(unlink(t_path(path, "q/head")) == 0, "unlink head");
	t_write("q/head", "new/80/000612/34/56/78/9", 24);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim with a regular file as head")) {
		is_str(wq_msg_id(m), ids[k++], "the next message");
		wq_msg_free(m);
	}
	wq_consumer_close(c);

	is_int(t_new_count("q/new"), 12 - k + 1,
	    "no message lost: the rest ready (and the junk)");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* One-shot consumers take every message of a queue spread over buckets. */
static void
test_one_shot(void)
{
	enum { N = 300 };
	static char ids[N][WQ_ID_MAX], want[N][WQ_ID_MAX], got[N][WQ_ID_MAX];
	static uint64_t keys[N];
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	struct wq_stat st;
	struct wq_msg *m;
	size_t i, j, claimed = 0, inorder = 0, dup = 0;
	unsigned rank;
	int64_t us;
	char tmp[WQ_ID_MAX];

	/* 300 messages in about 100 leaves of two ranks and far-apart times */
	for (i = 0; i < N; i++) {
		rank = i % 7 == 0 ? 0x40 : 0x80;
		us = T0 + (int64_t)((i * 37) % 100) * INT64_C(0x3001001);
		put_msg(q, rank, us, "x", ids[i]);
		/* serving order: rank, leaf, then name (ids grow) */
		keys[i] = ((uint64_t)rank << 56) | (((uint64_t)us >> 12) << 12);
		keys[i] += i;
	}
	/* sort a copy of the ids by key */
	for (i = 0; i < N; i++)
		memcpy(want[i], ids[i], WQ_ID_MAX);
	for (i = 1; i < N; i++)
		for (j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
			uint64_t k = keys[j];

			keys[j] = keys[j - 1];
			keys[j - 1] = k;
			memcpy(tmp, want[j], WQ_ID_MAX);
			memcpy(want[j], want[j - 1], WQ_ID_MAX);
			memcpy(want[j - 1], tmp, WQ_ID_MAX);
		}
	ok(wq_queue_stat(q, &st) == 0 && st.ready == N && st.total == N,
	    "stat: %d ready", N);

	for (i = 0; i < N + 1; i++) {
		need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
		if (wq_claim(c, &m) == -1) {
			wq_consumer_close(c);
			break;
		}
		memcpy(got[claimed], wq_msg_id(m), WQ_ID_MAX);
		if (strcmp(got[claimed], want[claimed]) == 0)
			inorder++;
		claimed++;
		need(wq_msg_ack(m) == 0, "ack");
		wq_msg_free(m);
		wq_consumer_close(c);
	}
	is_int(claimed, N, "one-shot consumers claim every message");
	for (i = 0; i < claimed; i++)
		for (j = i + 1; j < claimed; j++)
			if (strcmp(got[i], got[j]) == 0)
				dup++;
	is_int(dup, 0, "each once");
	is_int(inorder, N, "in serving order");
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	is_err(wq_claim(c, &m), ENOMSG, "then the queue is empty");
	wq_consumer_close(c);
	is_int(t_new_count("q/new"), 0, "no file left in new/");
	ok(!is_dir("q/new/80") && !is_dir("q/new/40"),
	    "and the tree was pruned");
	ok(wq_queue_stat(q, &st) == 0 && st.total == 0, "stat: empty");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* wq_queue_stat counts ready messages in every bucket. */
static void
test_stat(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char leaf[512], rel[1024];
	char id[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_stat st;
	struct wq_msg *m;
	uint64_t bytes = 0;
	size_t i;

	for (i = 0; i < 20; i++)
		bytes += put_msg(q, i % 3 == 0 ? 0x40 : 0x80,
		    T0 + (int64_t)i * INT64_C(0x10101001), "hello", NULL);
	t_leaf(leaf, "q", 0x80, T0 - 0x1000);		/* an empty leaf */
	snprintf(rel, sizeof(rel), "%s/junk", leaf);	/* foreign names */
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	t_write("q/new/80/junk", "wq 1\nsize 1\n\nx", 14);
	if (ok(wq_queue_stat(q, &st) == 0, "wq_queue_stat")) {
		is_int(st.ready, 20, "20 ready across the buckets");
		is_int(st.total, 20, "20 in all");
		is_int(st.inflight, 0, "none in flight");
		is_int(st.bytes, bytes, "bytes: the sizes of the files");
		ok(st.oldest_ready_ms > 0, "an oldest ready time");
	}
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	wq_msg_free(m);
	if (ok(wq_queue_stat(q, &st) == 0, "wq_queue_stat")) {
		is_int(st.ready, 19, "19 ready");
		is_int(st.inflight, 1, "1 in flight");
		is_int(st.total, 20, "20 in all");
		is_int(st.bytes, bytes, "the same bytes, one of them in cur/");
	}
	wq_consumer_close(c);

	/*
	 * Bytes come from the SIZE of the entry names: no file is looked
	 * at, so a name that says 1000000 counts 1000000, whatever the file.
	 */
	need(wq_id_new(id) == 0, "wq_id_new");
	snprintf(rel, sizeof(rel), "%s/80.%s,0,1000000,", leaf, id);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	if (ok(wq_queue_stat(q, &st) == 0, "wq_queue_stat")) {
		is_int(st.ready, 20, "20 ready");
		is_int(st.total, 21, "21 in all");
		is_int(st.bytes, bytes + 1000000,
		    "the SIZE in the name is counted, not the file's size");
	}
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * A message below a foreign directory of new/ is never served (the walk
 * skips names that are no bucket level), so it is not ready either:
 * stat.c must not descend into directories that are no bucket level.
 */
static void
test_stat_foreign(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	static const char *const dirs[] = {
		"q/new/zz", "q/new/zz/000612", "q/new/zz/000612/34",
		"q/new/zz/000612/34/56", "q/new/zz/000612/34/56/78",
		"q/new/zz/000612/34/56/78/9",
	};
	char id[WQ_ID_MAX], rel[512], path[4096];
	struct wq_consumer *c;
	struct wq_stat st;
	struct wq_msg *m;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		need(mkdir(t_path(path, "%s", dirs[i]), 0777) == 0, "mkdir");
	need(wq_id_new(id) == 0, "wq_id_new");
	snprintf(rel, sizeof(rel), "q/new/zz/000612/34/56/78/9/80.%s,0,14,",
	    id);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	is_err(wq_claim(c, &m), ENOMSG, "the message is not claimable");
	wq_consumer_close(c);
	if (ok(wq_queue_stat(q, &st) == 0, "wq_queue_stat")) {
		is_int(st.ready, 0, "so it is not counted ready");
		is_int(st.total, 0, "nor at all");
		is_int(st.bytes, 0, "nor its size");
	}
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * Foreign names that look like bucket levels: a regular file where a
 * directory of the tree would be ("00" in new/, "a" among leaves), and a
 * file whose name sorts before every rank ("0junk").  The messages must
 * still be served.
 */
static void
test_foreign_lookalike(void)
{
	static const char *const files[] = {
		"q/new/00",			/* a file named like a rank */
		"q/new/80/000000",		/* ... like a time level */
		"q/new/80/000612/00",
		"q/new/80/000612/34/00",
		"q/new/80/000612/34/56/00",
		"q/new/80/000612/34/56/78/0",	/* ... like a leaf */
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char id[WQ_ID_MAX], leaf[WQ_BUCKET_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;
	struct wq_stat st;
	size_t i;

	put_msg(q, 0x80, T0, "real", id);
	bucket(leaf, 0x80, T0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];

		t_write(files[i], "x", 1);
		ok(first_is(q, NULL, 0, leaf, 1),
		    "wq_bucket_first with a file %s", files[i]);
		need(unlink(t_path(path, "%s", files[i])) == 0, "unlink");
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		t_write(files[i], "x", 1);
	ok(first_is(q, NULL, 1, leaf, 1), "wq_bucket_first with them all");
	ok(wq_queue_stat(q, &st) == 0 && st.ready == 1,
	    "stat counts the message");
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim past files named like levels")) {
		is_str(wq_msg_id(m), id, "the real message");
		wq_msg_free(m);
	} else
		diag("errno %d (%s)", errno, strerror(errno));
	wq_consumer_close(c);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		ok(exists(files[i]), "%s left alone", files[i]);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* A foreign file in new/ that sorts before every rank directory. */
static void
test_foreign_first(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char id[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;

	put_msg(q, 0x80, T0, "real", id);
	t_write("q/new/0junk", "x", 1);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim with new/0junk present")) {
		is_str(wq_msg_id(m), id, "the real message");
		wq_msg_free(m);
	} else
		diag("errno %d (%s)", errno, strerror(errno));
	wq_consumer_close(c);
	ok(exists("q/new/0junk"), "0junk left alone");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* A release with delay 0 enters the bucket of the current time. */
static void
test_release_bucket(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char id[WQ_ID_MAX], names[4][256], lo[WQ_BUCKET_MAX], hi[WQ_BUCKET_MAX];
	char b[WQ_BUCKET_MAX], want[256], later[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;
	int64_t before, after;
	uint64_t size;

	size = put_msg(q, 0x80, T0, "old", id);		/* ready long ago */
	put_msg(q, 0x80, T0 + 0x1000, "later", later);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	is_str(wq_msg_id(m), id, "the old message");
	before = wq_now_us();
	ok(wq_release(q, wq_msg_receipt(m), 0) == 0, "wq_release, delay 0");
	after = wq_now_us();
	wq_msg_free(m);
	is_int(t_count("q/cur"), 0, "cur/ is empty");
	if (is_int(t_new_list("q/new", names, 4), 2, "two in new/")) {
		snprintf(want, sizeof(want), "80.%s,1,%" PRIu64 ",", id,
		    size);
		is_str(t_base(names[1]), want, "the released one is last");
		snprintf(b, sizeof(b), "%.*s", (int)(strlen(names[1]) -
		    strlen(t_base(names[1])) - 1), names[1]);
		ok(wq_bucket_valid(b), "in a leaf bucket: %s", b);
		bucket(lo, 0x80, before);
		bucket(hi, 0x80, after);
		ok(strcmp(b, lo) >= 0 && strcmp(b, hi) <= 0,
		    "of the time of the release (%s..%s)", lo, hi);
		ok(strcmp(b, "80/000612/34/56/78/9") != 0,
		    "not its old bucket");
	}
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), later, "the one waiting in an older bucket");
		wq_msg_free(m);
	}
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), id, "then the released one");
		is_int(wq_msg_receive_count(m), 2, "receive count 2");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

int
main(void)
{
	plan(16);
	TEST(test_path, "wq_bucket_path: the format of a bucket path");
	TEST(test_valid, "wq_bucket_valid: valid and invalid paths");
	TEST(test_valid_slashes,
	    "wq_bucket_valid: empty fields (extra slashes) are invalid");
	TEST(test_first_order, "wq_bucket_first: leaves in name order, after");
	TEST(test_first_prune, "wq_bucket_first: prunes only when asked");
	TEST(test_first_prune_recent,
	    "wq_bucket_first: keeps the empty leaves of now");
	TEST(test_first_foreign, "wq_bucket_first: foreign names ignored");
	TEST(test_put_recreate, "wq_bucket_put: recreates a removed bucket");
	TEST(test_claim_order, "claim order: rank first, then oldest bucket");
	TEST(test_head_hint, "a wrong head hint costs no message");
	TEST(test_one_shot, "one-shot consumers claim all of many buckets");
	TEST(test_stat, "wq_queue_stat counts across buckets");
	TEST(test_stat_foreign,
	    "wq_queue_stat ignores messages below foreign directories");
	TEST(test_foreign_lookalike,
	    "files named like bucket levels are ignored");
	TEST(test_foreign_first,
	    "a foreign file sorting before the ranks hides nothing");
	TEST(test_release_bucket, "release enters the bucket of now");
	return done();
}
