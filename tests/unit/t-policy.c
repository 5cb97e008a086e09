/* SPDX-License-Identifier: MIT */
/*
 * t-policy.c — lib/policy.c, lib/create.c, lib/queue.c and the spool:
 * default policy, creating queues (with a mask, EXIST_OK, UPDATE), and
 * opening them (bad policy files, unknown format, missing, invalid names).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

/* A policy with the four fields of the toolkit, the rest default. */
static struct wq_policy
mkpol(uint32_t vis, uint32_t skew, uint64_t max, enum wq_sync sync)
{
	struct wq_policy p;

	wq_policy_default(&p);
	p.visibility = vis;
	p.clock_skew = skew;
	p.max_size = max;
	p.sync = sync;
	return p;
}

static void
test_defaults(void)
{
	struct wq_policy p;

	memset(&p, 0xff, sizeof(p));
	wq_policy_default(&p);
	is_int(p.visibility, 30, "visibility 30");
	is_int(p.clock_skew, 1, "clock-skew 1");
	is_int(p.max_size, 1048576, "max-size 1 MiB");
	is_int(p.sync, WQ_SYNC_ALWAYS, "sync always");
	is_int(p.delay, 0, "delay 0");
	is_int(p.retention, 0, "retention 0 (forever)");
	is_int(p.max_receives, 0, "max-receives 0 (no limit)");
	is_str(p.dead_letter, "", "no dead-letter queue");
	is_int(p.max_depth, 0, "max-depth 0 (no limit)");
	is_int(p.fifo, 0, "not FIFO");
	is_int(p.dedup_window, 300, "dedup-window 300");
	is_int(p.dedup, WQ_DEDUP_ID, "dedup id");
	is_int(p.compress, WQ_COMPRESS_NEVER, "compress never");
	is_str(p.fanout, "", "no fanout");
	is_int(p.mode, 0, "mode 0 (the umask's)");
	is_str(p.group, "", "no group");
}

/* Every key of the policy file, with the values of mkpol's fields. */
#define POLICY_REST "delay 0\nretention 0\nmax-receives 0\nmax-depth 0\n" \
	"fifo 0\ndedup-window 300\ndedup id\ncompress never\nmode 0\n"

static int
is_dir(const char *rel)
{
	char path[4096];
	struct stat st;

	return stat(t_path(path, "%s", rel), &st) == 0 && S_ISDIR(st.st_mode);
}

static void
test_create_default(void)
{
	struct wq_spool *s = t_spool();
	const struct wq_policy *p;
	struct wq_queue *q;
	char buf[4096];

	ok(wq_queue_create(s, "jobs", NULL, 0, 0) == 0, "create jobs");
	ok(is_dir("jobs/tmp") && is_dir("jobs/new") && is_dir("jobs/cur"),
	    "tmp/, new/ and cur/ exist");
	ok(t_read("jobs/policy", buf, sizeof(buf)) > 0, "policy file exists");
	is_str(buf, "wq-format 1\nvisibility 30\nclock-skew 1\n"
	    "max-size 1048576\nsync always\n" POLICY_REST,
	    "policy file text: every key");
	is_int(t_count(""), 1, "nothing but the queue in the spool");
	is_int(t_count("jobs"), 4, "queue holds policy, tmp, new, cur");
	is_int(t_count("jobs/tmp"), 0, "no policy leftovers in tmp/");
	need((q = wq_queue_open(s, "jobs")) != NULL, "open jobs");
	is_str(wq_queue_name(q), "jobs", "wq_queue_name");
	p = wq_queue_policy(q);
	is_int(p->visibility, 30, "visibility");
	is_int(p->clock_skew, 1, "clock-skew");
	is_int(p->max_size, 1048576, "max-size");
	is_int(p->sync, WQ_SYNC_ALWAYS, "sync");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_create_mask(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy given = mkpol(5, 7, 1234, WQ_SYNC_NONE);
	const struct wq_policy *p;
	struct wq_queue *q;
	char buf[4096];

	ok(wq_queue_create(s, "q1", &given, WQ_POL_VISIBILITY | WQ_POL_SYNC,
	    0) == 0, "create with visibility and sync");
	need((q = wq_queue_open(s, "q1")) != NULL, "open q1");
	p = wq_queue_policy(q);
	is_int(p->visibility, 5, "visibility set");
	is_int(p->sync, WQ_SYNC_NONE, "sync set");
	is_int(p->clock_skew, 1, "clock-skew not in mask: default");
	is_int(p->max_size, 1048576, "max-size not in mask: default");
	wq_queue_close(q);

	ok(wq_queue_create(s, "q2", &given, WQ_POL_VISIBILITY |
	    WQ_POL_CLOCK_SKEW | WQ_POL_MAX_SIZE | WQ_POL_SYNC, 0) == 0,
	    "create with every field");
	t_read("q2/policy", buf, sizeof(buf));
	is_str(buf, "wq-format 1\nvisibility 5\nclock-skew 7\n"
	    "max-size 1234\nsync none\n" POLICY_REST, "policy file text");
	need((q = wq_queue_open(s, "q2")) != NULL, "open q2");
	p = wq_queue_policy(q);
	ok(p->visibility == 5 && p->clock_skew == 7 && p->max_size == 1234 &&
	    p->sync == WQ_SYNC_NONE, "all fields read back");
	wq_queue_close(q);

	given.sync = WQ_SYNC_BATCH;
	ok(wq_queue_create(s, "q3", &given, WQ_POL_SYNC, 0) == 0,
	    "create with sync batch");
	need((q = wq_queue_open(s, "q3")) != NULL, "open q3");
	is_int(wq_queue_policy(q)->sync, WQ_SYNC_BATCH, "sync batch");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_create_exists(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy given = mkpol(9, 2, 100, WQ_SYNC_BATCH);
	struct wq_queue *q;
	char before[4096], after[4096];

	need(wq_queue_create(s, "q", NULL, 0, 0) == 0, "create q");
	t_read("q/policy", before, sizeof(before));
	is_err(wq_queue_create(s, "q", NULL, 0, 0), EEXIST,
	    "again without flags: EEXIST");
	is_err(wq_queue_create(s, "q", &given, WQ_POL_VISIBILITY, 0), EEXIST,
	    "again with a policy: EEXIST");
	ok(wq_queue_create(s, "q", &given, WQ_POL_VISIBILITY,
	    WQ_CREATE_EXIST_OK) == 0, "EXIST_OK: no error");
	t_read("q/policy", after, sizeof(after));
	is_str(after, before, "EXIST_OK leaves the policy alone");
	is_int(t_count(""), 1, "no half-made queue left in the spool");
	need((q = wq_queue_open(s, "q")) != NULL, "open q");
	is_int(wq_queue_policy(q)->visibility, 30, "visibility unchanged");
	wq_queue_close(q);
	ok(wq_queue_create(s, "fresh", NULL, 0, WQ_CREATE_EXIST_OK) == 0,
	    "EXIST_OK creates a missing queue");
	ok(is_dir("fresh/new"), "and it exists");
	wq_spool_close(s);
}

static void
test_create_update(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy given = mkpol(7, 3, 5000, WQ_SYNC_BATCH);
	struct wq_policy upd = mkpol(9, 99, 1, WQ_SYNC_NONE);
	const struct wq_policy *p;
	struct wq_queue *q;

	need(wq_queue_create(s, "q", &given, WQ_POL_VISIBILITY |
	    WQ_POL_CLOCK_SKEW | WQ_POL_MAX_SIZE | WQ_POL_SYNC, 0) == 0,
	    "create q");
	ok(wq_queue_create(s, "q", &upd, WQ_POL_VISIBILITY,
	    WQ_CREATE_UPDATE) == 0, "UPDATE visibility");
	need((q = wq_queue_open(s, "q")) != NULL, "open q");
	p = wq_queue_policy(q);
	is_int(p->visibility, 9, "visibility changed");
	is_int(p->clock_skew, 3, "clock-skew kept");
	is_int(p->max_size, 5000, "max-size kept");
	is_int(p->sync, WQ_SYNC_BATCH, "sync kept");
	wq_queue_close(q);

	ok(wq_queue_create(s, "q", &upd, WQ_POL_MAX_SIZE | WQ_POL_SYNC,
	    WQ_CREATE_UPDATE) == 0, "UPDATE max-size and sync");
	need((q = wq_queue_open(s, "q")) != NULL, "open q");
	p = wq_queue_policy(q);
	is_int(p->visibility, 9, "visibility kept");
	is_int(p->clock_skew, 3, "clock-skew kept");
	is_int(p->max_size, 1, "max-size changed");
	is_int(p->sync, WQ_SYNC_NONE, "sync changed");
	wq_queue_close(q);

	ok(wq_queue_create(s, "q", &upd, 0, WQ_CREATE_UPDATE) == 0,
	    "UPDATE with an empty mask");
	need((q = wq_queue_open(s, "q")) != NULL, "open q");
	p = wq_queue_policy(q);
	ok(p->visibility == 9 && p->clock_skew == 3 && p->max_size == 1 &&
	    p->sync == WQ_SYNC_NONE, "nothing changed");
	wq_queue_close(q);
	/* Each update linked the policy it replaced into tmp/ (for readers
	 * on other hosts, for a minute): nothing else is left there. */
	is_int(t_count("q/tmp"), 3, "three replaced policies kept");
	is_int(t_count_prefix("q/tmp", ".policy.old."), 3,
	    "all of them .policy.old.*");
	is_int(t_count(""), 1, "no half-made queue left in the spool");

	ok(wq_queue_create(s, "new", &upd, WQ_POL_VISIBILITY,
	    WQ_CREATE_UPDATE) == 0, "UPDATE creates a missing queue");
	need((q = wq_queue_open(s, "new")) != NULL, "open new");
	p = wq_queue_policy(q);
	ok(p->visibility == 9 && p->clock_skew == 1, "with the masked field");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Replace the policy file of queue q and try to open it. */
static struct wq_queue *
open_with_policy(struct wq_spool *s, const char *text)
{
	t_write("q/policy", text, strlen(text));
	errno = 0;
	return wq_queue_open(s, "q");
}

static void
test_policy_bad(void)
{
	static const char *const bad[] = {
		"wq-format 1\nvisibility 30\ncolour blue\n",	/* unknown key */
		"wq-format 1\nVisibility 30\n",
		"wq-format 1\nvisibility\n",
		"wq-format 1\nvisibility 30 \n",
		"wq-format 1\nvisibility x\n",
		"wq-format 1\nvisibility -1\n",
		"wq-format 1\nvisibility 43201\n",	/* above 12 hours */
		"wq-format 1\nclock-skew 3601\n",
		"wq-format 1\nmax-size 1099511627777\n",	/* above 1 TiB */
		"wq-format 1\nsync sometimes\n",
		"wq-format 1\nvisibility 30",			/* no newline */
		"wq-format 1\n\n",				/* empty line */
		"visibility 30\n",				/* no header */
		"",
		"WQ-FORMAT 1\n",
		"wq-format 1\nvisibility 0\n",		/* no lease */
		"wq-format 1\nmax-size 0\n",			/* nothing fits */
		"wq-format 1\ndelay 31622401\n",		/* above a year */
		"wq-format 1\nfifo 2\n",
		"wq-format 1\nmax-receives 3\n",		/* no dead-letter */
		"wq-format 1\ndead-letter a b\n",
		"wq-format 1\ndedup maybe\n",
		"wq-format 1\ncompress sometimes\n",
		"wq-format 1\nmode 10000\n",
		"wq-format 1\nmode 9\n",
		"wq-format 1\nfanout a,,b\n",
		"wq-format 1\nfanout a\nfifo 1\n",		/* topics: no FIFO */
		"wq-format 1\nfanout a\ndelay 5\n",		/* nor delays */
		"wq-format 1\ngroup .x\n",
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q;
	size_t i;

	need(wq_queue_create(s, "q", NULL, 0, 0) == 0, "create q");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = open_with_policy(s, bad[i]);
		if (!is_err(q == NULL ? -1 : 0, EBADMSG, "bad policy: EBADMSG"))
			diag("policy was: \"%s\"", bad[i]);
		wq_queue_close(q);
	}
	q = open_with_policy(s, "wq-format 1\nvisibility 43200\nclock-skew 0\n"
	    "max-size 1\nsync batch\n");
	if (ok(q != NULL, "largest visibility, zero skew, smallest size")) {
		is_int(wq_queue_policy(q)->visibility, 43200, "visibility");
		is_int(wq_queue_policy(q)->clock_skew, 0, "clock-skew");
		is_int(wq_queue_policy(q)->max_size, 1, "max-size");
	}
	wq_queue_close(q);
	q = open_with_policy(s, "wq-format 1\n");
	if (ok(q != NULL, "header only: defaults"))
		is_int(wq_queue_policy(q)->visibility, 30, "visibility");
	wq_queue_close(q);
	q = open_with_policy(s, "wq-format 1\nvisibility 12\n");
	if (ok(q != NULL, "a partial policy"))
		ok(wq_queue_policy(q)->visibility == 12 &&
		    wq_queue_policy(q)->max_size == 1048576,
		    "given field read, the others default");
	wq_queue_close(q);
	wq_spool_close(s);
}

/* The keys of the semantics are written, and read back as written. */
static void
test_policy_keys(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy given = mkpol(30, 1, 1048576, WQ_SYNC_ALWAYS), upd;
	const struct wq_policy *p;
	struct wq_queue *q;
	char buf[4096];

	given.delay = 5;
	given.retention = 86400;
	given.max_receives = 3;
	strlcpy(given.dead_letter, "dlq", sizeof(given.dead_letter));
	given.max_depth = 1000;
	given.fifo = 1;
	given.dedup_window = 60;
	given.dedup = WQ_DEDUP_CONTENT;
	given.compress = WQ_COMPRESS_AUTO;
	ok(wq_queue_create(s, "q", &given, WQ_POL_DELAY | WQ_POL_RETENTION |
	    WQ_POL_MAX_RECEIVES | WQ_POL_DEAD_LETTER | WQ_POL_MAX_DEPTH |
	    WQ_POL_FIFO | WQ_POL_DEDUP_WINDOW | WQ_POL_DEDUP |
	    WQ_POL_COMPRESS, 0) == 0, "create with the semantic keys");
	t_read("q/policy", buf, sizeof(buf));
	is_str(buf, "wq-format 1\nvisibility 30\nclock-skew 1\n"
	    "max-size 1048576\nsync always\ndelay 5\nretention 86400\n"
	    "max-receives 3\nmax-depth 1000\nfifo 1\ndedup-window 60\n"
	    "dedup content\ncompress auto\nmode 0\ndead-letter dlq\n",
	    "policy file text");
	need((q = wq_queue_open(s, "q")) != NULL, "open q");
	p = wq_queue_policy(q);
	ok(p->delay == 5 && p->retention == 86400 && p->max_receives == 3 &&
	    strcmp(p->dead_letter, "dlq") == 0 && p->max_depth == 1000 &&
	    p->fifo == 1 && p->dedup_window == 60 &&
	    p->dedup == WQ_DEDUP_CONTENT && p->compress == WQ_COMPRESS_AUTO &&
	    p->fanout[0] == '\0' && p->mode == 0 && p->group[0] == '\0',
	    "all read back");
	wq_queue_close(q);

	/* max-receives needs a dead-letter queue; FIFO is for good */
	upd = given;
	upd.dead_letter[0] = '\0';
	is_err(wq_queue_create(s, "q", &upd, WQ_POL_DEAD_LETTER,
	    WQ_CREATE_UPDATE), EINVAL,
	    "UPDATE: no dead-letter queue with max-receives: EINVAL");
	upd.fifo = 0;
	is_err(wq_queue_create(s, "q", &upd, WQ_POL_FIFO, WQ_CREATE_UPDATE),
	    EINVAL, "UPDATE: FIFO cannot be switched off: EINVAL");
	t_read("q/policy", buf, sizeof(buf));
	ok(strstr(buf, "\nfifo 1\n") != NULL &&
	    strstr(buf, "\ndead-letter dlq\n") != NULL, "the policy unchanged");

	/* a topic */
	given = mkpol(30, 1, 1048576, WQ_SYNC_ALWAYS);
	strlcpy(given.fanout, "a,b", sizeof(given.fanout));
	ok(wq_queue_create(s, "topic", &given, WQ_POL_FANOUT, 0) == 0,
	    "create a topic");
	t_read("topic/policy", buf, sizeof(buf));
	is_str(buf, "wq-format 1\nvisibility 30\nclock-skew 1\n"
	    "max-size 1048576\nsync always\n" POLICY_REST "fanout a,b\n",
	    "its policy file text");
	given.fifo = 1;
	is_err(wq_queue_create(s, "t2", &given, WQ_POL_FANOUT | WQ_POL_FIFO,
	    0), EINVAL, "a FIFO topic: EINVAL");
	wq_spool_close(s);
}

static void
test_policy_format(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q;

	need(wq_queue_create(s, "q", NULL, 0, 0) == 0, "create q");
	q = open_with_policy(s, "wq-format 2\nvisibility 30\n");
	is_err(q == NULL ? -1 : 0, EPROTO, "wq-format 2: EPROTO");
	wq_queue_close(q);
	q = open_with_policy(s, "wq-format 2\nsomething new 1\n");
	is_err(q == NULL ? -1 : 0, EPROTO,
	    "wq-format 2 with keys we do not know: EPROTO");
	wq_queue_close(q);
	q = open_with_policy(s, "wq-format 0\n");
	is_err(q == NULL ? -1 : 0, EPROTO, "wq-format 0: EPROTO");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_open_missing(void)
{
	struct wq_spool *s = t_spool(), *gone;
	char path[4096];
	struct wq_queue *q;

	errno = 0;
	q = wq_queue_open(s, "nosuch");
	is_err(q == NULL ? -1 : 0, ENOENT, "missing queue: ENOENT");
	wq_queue_close(q);

	/* a spool that does not exist yet holds no queues */
	need((gone = wq_spool_open(t_path(path, "not/yet"), 0)) != NULL,
	    "open a spool that does not exist");
	errno = 0;
	q = wq_queue_open(gone, "q");
	is_err(q == NULL ? -1 : 0, ENOENT, "queue of a missing spool: ENOENT");
	wq_queue_close(q);
	ok(access(path, F_OK) == -1, "the spool was not created");
	wq_spool_close(gone);

	/* a regular file where the queue would be */
	t_write("file", "x", 1);
	errno = 0;
	q = wq_queue_open(s, "file");
	is_err(q == NULL ? -1 : 0, ENOENT, "a plain file: ENOENT");
	wq_queue_close(q);

	/* a directory without a policy file is no queue */
	need(mkdir(t_path(path, "bare"), 0777) == 0, "mkdir bare");
	errno = 0;
	q = wq_queue_open(s, "bare");
	is_err(q == NULL ? -1 : 0, ENOENT, "a directory without policy");
	wq_queue_close(q);

	/* a queue that lost its new/ is corrupt */
	need(wq_queue_create(s, "broken", NULL, 0, 0) == 0, "create broken");
	need(rmdir(t_path(path, "broken/new")) == 0, "rmdir broken/new");
	errno = 0;
	q = wq_queue_open(s, "broken");
	is_err(q == NULL ? -1 : 0, EBADMSG, "queue without new/: EBADMSG");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_invalid_names(void)
{
	static const char *const bad[] = {
		"", ".", "..", ".hidden", "-x", "a b", "a\nb", "\xc3\xa9t\xc3\xa9",
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		q = wq_queue_open(s, bad[i]);
		is_err(q == NULL ? -1 : 0, EINVAL, "open invalid name: EINVAL");
		wq_queue_close(q);
		is_err(wq_queue_create(s, bad[i], NULL, 0, 0), EINVAL,
		    "create invalid name: EINVAL");
		is_err(wq_queue_create(s, bad[i], NULL, 0,
		    WQ_CREATE_EXIST_OK | WQ_CREATE_UPDATE), EINVAL,
		    "create -pu invalid name: EINVAL");
	}
	is_int(t_count(""), 0, "nothing created");
	wq_spool_close(s);
}

static void
test_path_queue(void)
{
	struct wq_spool *s = t_spool();
	char path[4096], slash[4096];
	struct wq_queue *q;

	t_path(path, "elsewhere");
	ok(wq_queue_create(s, path, NULL, 0, 0) == 0, "create by path");
	ok(is_dir("elsewhere/new"), "made where the path says");
	is_err(wq_queue_create(s, path, NULL, 0, 0), EEXIST,
	    "again by path: EEXIST");
	need((q = wq_queue_open(s, path)) != NULL, "open by path");
	is_str(wq_queue_name(q), path, "name is the path as given");
	wq_queue_close(q);
	need(snprintf(slash, sizeof(slash), "%s/", path) < (int)sizeof(slash),
	    "path fits");
	need((q = wq_queue_open(s, slash)) != NULL, "open by path/");
	wq_queue_close(q);
	is_err(wq_queue_create(s, t_path(path, "a/.."), NULL, 0, 0), EINVAL,
	    "a path ending in ..: EINVAL");
	wq_spool_close(s);
}

static void
test_spool_list(void)
{
	struct wq_spool *s = t_spool();
	char path[4096], **names;
	size_t n;

	need(wq_queue_create(s, "b", NULL, 0, 0) == 0, "create b");
	need(wq_queue_create(s, "a", NULL, 0, 0) == 0, "create a");
	need(mkdir(t_path(path, "notaqueue"), 0777) == 0, "mkdir notaqueue");
	t_write("file", "", 0);
	need(mkdir(t_path(path, ".hidden"), 0777) == 0, "mkdir .hidden");
	is_str(wq_spool_path(s), tap_dir, "wq_spool_path");
	need(wq_spool_list(s, &names, &n) == 0, "wq_spool_list");
	if (is_int(n, 2, "two queues")) {
		is_str(names[0], "a", "a first");
		is_str(names[1], "b", "b second");
	}
	wq_names_free(names, n);
	wq_spool_close(s);
}

/*
 * EXIST_OK means "it is a queue already"; a name taken by something that
 * is not a queue (a directory without a policy file, a plain file) should
 * not be reported as a queue that exists.
 */
static void
test_exist_ok_not_queue(void)
{
	struct wq_spool *s = t_spool();
	char path[4096];
	struct wq_queue *q;

	need(mkdir(t_path(path, "d"), 0777) == 0, "mkdir d");
	t_write("d/something", "x", 1);
	t_write("f", "x", 1);
	is_err(wq_queue_create(s, "d", NULL, 0, 0), EEXIST,
	    "without flags: EEXIST");
	ok(wq_queue_create(s, "d", NULL, 0, WQ_CREATE_EXIST_OK) == -1,
	    "EXIST_OK on a non-queue directory fails");
	ok(wq_queue_create(s, "f", NULL, 0, WQ_CREATE_EXIST_OK) == -1,
	    "EXIST_OK on a plain file fails");
	errno = 0;
	q = wq_queue_open(s, "d");
	is_err(q == NULL ? -1 : 0, ENOENT, "and d is still no queue");
	wq_queue_close(q);
	wq_spool_close(s);
}

int
main(void)
{
	plan(13);
	TEST(test_defaults, "wq_policy_default");
	TEST(test_create_default, "create with the default policy");
	TEST(test_create_mask, "create with a setmask");
	TEST(test_create_exists, "create: EEXIST, EXIST_OK");
	TEST(test_create_update, "create: UPDATE changes the masked fields");
	TEST(test_policy_bad, "open: a bad policy file is EBADMSG");
	TEST(test_policy_keys, "the keys of the semantics: written, read back");
	TEST(test_policy_format, "open: an unknown wq-format is EPROTO");
	TEST(test_open_missing, "open: a missing queue is ENOENT");
	TEST(test_invalid_names, "open and create: invalid names are EINVAL");
	TEST(test_path_queue, "queues named by a path");
	TEST(test_spool_list, "wq_spool_list");
	TEST(test_exist_ok_not_queue,
	    "create EXIST_OK on a name that is not a queue");
	return done();
}
