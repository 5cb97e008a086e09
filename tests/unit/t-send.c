/* SPDX-License-Identifier: MIT */
/*
 * t-send.c — lib/send.c and the message header of lib/msg.c: the file a
 * send leaves in a bucket of new/ (RR.ID,COUNT,SIZE,GROUP), group commits,
 * max-size, bodies from descriptors, the group limit, senders closed
 * without a commit, attributes, the "queue" line, and delayed sends.
 */
#include <sys/wait.h>

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

#define BIG (200 * 1024)	/* more than a pipe holds */

/*
 * Check that the message file rel under tap_dir is a well-formed message
 * id with body: the header lines "wq 1", "id ID", "sent MS", "queue NAME"
 * (none when queue is NULL), the "attr KEY VALUE" lines attrs (verbatim,
 * "" for none), "size N" with N zero-padded to 20 digits, an empty line,
 * then the body.  Returns the size of the file, or -1.
 */
static long long
check_file(const char *rel, const char *id, const char *queue,
    const char *attrs, const void *body, size_t len)
{
	char want[512], *buf, *p;
	size_t cap = len + WQ_HEADER_MAX + 1, hdrlen;
	int64_t sent, idms;
	uint64_t size;
	ssize_t n;

	need((buf = malloc(cap)) != NULL, "malloc");
	if (!ok((n = t_read(rel, buf, cap)) >= 0, "%s exists", rel)) {
		free(buf);
		return -1;
	}
	/* the grammar, line by line */
	p = buf;
	ok(strncmp(p, "wq 1\n", 5) == 0, "first line \"wq 1\"");
	p += 5;
	snprintf(want, sizeof(want), "id %s\n", id);
	ok(strncmp(p, want, strlen(want)) == 0, "second line \"id ID\"");
	p += strlen(want);
	ok(strncmp(p, "sent ", 5) == 0 && strspn(p + 5, "0123456789") > 0 &&
	    p[5 + strspn(p + 5, "0123456789")] == '\n', "third line \"sent MS\"");
	p = strchr(p, '\n') + 1;
	if (queue != NULL) {
		snprintf(want, sizeof(want), "queue %s\n", queue);
		ok(strncmp(p, want, strlen(want)) == 0,
		    "fourth line \"queue %s\"", queue);
		p += strlen(want);
	} else
		ok(strncmp(p, "queue ", 6) != 0, "no \"queue\" line");
	ok(strncmp(p, attrs, strlen(attrs)) == 0, "the attr lines");
	p += strlen(attrs);
	snprintf(want, sizeof(want), "size %020zu\n", len);
	ok(strncmp(p, want, strlen(want)) == 0,
	    "then \"size N\", N in 20 digits: %s", want);
	p += strlen(want);
	ok(*p == '\n', "then an empty line");
	hdrlen = (size_t)(p + 1 - buf);
	is_int((size_t)n, hdrlen + len, "file is header and body");
	ok(memcmp(buf + hdrlen, body, len) == 0, "body stored exactly");

	/* the library's own reader agrees */
	if (ok(wq_msg_parse_header(buf, (size_t)n, &sent, &size, &hdrlen) == 0,
	    "wq_msg_parse_header")) {
		is_int(size, len, "size field");
		is_int(hdrlen, (size_t)(p + 1 - buf), "header length");
		ok(wq_id_time_ms(id, &idms) == 0 && sent == idms,
		    "sent is the time of the id");
	}
	free(buf);
	return n;
}

/*
 * Check that message id is in a bucket of new/ of queue "q", named
 * 80.ID,0,SIZE, with SIZE the size of its file, and holds body.
 */
static void
check_message(const char *id, const void *body, size_t len)
{
	char rel[512], want[256];
	long long n;

	if (!ok(t_new_find_id("q/new", id, rel, NULL) == 0, "%s is in new/",
	    id))
		return;
	n = check_file(rel, id, "q", "", body, len);
	snprintf(want, sizeof(want), "80.%s,0,%lld,", id, n);
	is_str(t_base(rel), want, "named 80.ID,0,SIZE, (the file's size)");
}

static void
test_send_one(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	static const char body[] = "hello\0wor\nld\r\n";
	char id[WQ_ID_MAX], names[4][256], lo[WQ_BUCKET_MAX];
	char hi[WQ_BUCKET_MAX];
	int64_t before = wq_now_ms(), before_us = wq_now_us(), idms, after_us;

	memset(id, 0, sizeof(id));
	ok(wq_send(q, body, sizeof(body) - 1, id) == 0, "wq_send");
	after_us = wq_now_us();
	diag("id %s", id);
	ok(wq_id_time_ms(id, &idms) == 0 && idms >= before &&
	    idms <= wq_now_ms(), "id carries the send time");
	if (is_int(t_new_list("q/new", names, 4), 1, "one entry in new/")) {
		char want[256], bucket[256], *slash;

		snprintf(want, sizeof(want), "80.%s,0,", id);
		ok(strncmp(t_base(names[0]), want, strlen(want)) == 0,
		    "named 80.ID,0,...");
		snprintf(bucket, sizeof(bucket), "%s", names[0]);
		if ((slash = strrchr(bucket, '/')) != NULL)
			*slash = '\0';
		ok(slash != NULL && wq_bucket_valid(bucket),
		    "in a leaf bucket: %s", names[0]);
		need(wq_bucket_path(0x80, before_us, lo, sizeof(lo)) == 0 &&
		    wq_bucket_path(0x80, after_us, hi, sizeof(hi)) == 0,
		    "wq_bucket_path");
		ok(strcmp(bucket, lo) >= 0 && strcmp(bucket, hi) <= 0,
		    "of rank 80 and the time of the send (%s..%s)", lo, hi);
	}
	is_int(t_count("q/tmp"), 0, "tmp/ is empty");
	is_int(t_count("q/cur"), 0, "cur/ is empty");
	check_message(id, body, sizeof(body) - 1);

	ok(wq_send(q, "", 0, id) == 0, "send an empty body");
	check_message(id, "", 0);
	is_int(t_new_count("q/new"), 2, "two entries in new/");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_sync_modes(void)
{
	static const enum wq_sync modes[] = {
		WQ_SYNC_ALWAYS, WQ_SYNC_BATCH, WQ_SYNC_NONE,
	};
	struct wq_spool *s = t_spool();
	struct wq_policy pol;
	struct wq_queue *q;
	struct wq_sender *w;
	char id[WQ_ID_MAX], name[16];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "q%zu", i);
		pol.sync = modes[i];
		q = t_queue(s, name, &pol, WQ_POL_SYNC);
		ok(wq_send(q, "x", 1, id) == 0, "send under sync %s",
		    wq_sync_name(modes[i]));
		need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
		ok(wq_sender_add(w, "a", 1) == 0 && wq_sender_add(w, "b", 1) ==
		    0 && wq_sender_commit(w) == 0, "group under sync %s",
		    wq_sync_name(modes[i]));
		wq_sender_close(w);
		snprintf(name, sizeof(name), "q%zu/new", i);
		is_int(t_new_count(name), 3, "three messages");
		wq_queue_close(q);
	}
	wq_spool_close(s);
}

static void
test_group(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char names[8][256], body[16], want[256];
	struct wq_sender *w;
	size_t i;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_int(wq_sender_pending(w), 0, "nothing pending");
	ok(wq_sender_commit(w) == 0, "commit of nothing");
	is_int(wq_sender_committed(w), 0, "nothing committed");
	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "body %zu", i);
		ok(wq_sender_add(w, body, strlen(body)) == 0, "add %zu", i);
	}
	is_int(wq_sender_pending(w), 5, "five pending");
	is_int(t_new_count("q/new"), 0, "none visible before the commit");
	is_int(t_count("q/tmp"), 5, "all five in tmp/");
	is_int(wq_sender_committed(w), 0, "none committed yet");
	ok(wq_sender_id(w, 0) == NULL, "no id before the commit");

	ok(wq_sender_commit(w) == 0, "commit");
	is_int(wq_sender_pending(w), 0, "nothing pending after");
	is_int(wq_sender_committed(w), 5, "five committed");
	is_int(t_count("q/tmp"), 0, "tmp/ is empty");
	if (is_int(t_new_list("q/new", names, 8), 5, "all five visible")) {
		for (i = 0; i < 5; i++) {
			snprintf(want, sizeof(want), "80.%s,0,",
			    wq_sender_id(w, i));
			ok(strncmp(t_base(names[i]), want, strlen(want)) == 0,
			    "id i is the i-th entry");
			ok(strlen(names[i]) == strlen(names[0]) &&
			    strncmp(names[i], names[0], strlen(names[0]) -
			    strlen(t_base(names[0]))) == 0,
			    "a group goes into one bucket");
			snprintf(body, sizeof(body), "body %zu", i);
			check_message(wq_sender_id(w, i), body, strlen(body));
		}
	}
	for (i = 1; i < 5; i++)
		ok(strcmp(wq_sender_id(w, i - 1), wq_sender_id(w, i)) < 0,
		    "ids in order of adding");
	ok(wq_sender_id(w, 5) == NULL, "no sixth id");

	/* a second group on the same sender */
	ok(wq_sender_add(w, "again", 5) == 0, "add after a commit");
	ok(wq_sender_commit(w) == 0, "second commit");
	is_int(wq_sender_committed(w), 1, "committed counts this commit");
	check_message(wq_sender_id(w, 0), "again", 5);
	is_int(t_new_count("q/new"), 6, "six in new/");
	wq_sender_close(w);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_max_size(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy pol = { .max_size = 10 };
	struct wq_queue *q = t_queue(s, "q", &pol, WQ_POL_MAX_SIZE);
	char id[WQ_ID_MAX], path[4096];
	struct wq_sender *w;
	int fd, p[2];

	is_err(wq_send(q, "0123456789a", 11, id), EMSGSIZE,
	    "11 bytes over a max-size of 10: EMSGSIZE");
	is_int(t_count("q/tmp"), 0, "nothing in tmp/");
	is_int(t_new_count("q/new"), 0, "nothing in new/");
	ok(wq_send(q, "0123456789", 10, id) == 0, "10 bytes are fine");
	check_message(id, "0123456789", 10);

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_err(wq_sender_add(w, "0123456789a", 11), EMSGSIZE,
	    "wq_sender_add: EMSGSIZE");
	is_int(wq_sender_pending(w), 0, "nothing pending");

	t_write("big", "0123456789abcdef", 16);
	need((fd = open(t_path(path, "big"), O_RDONLY)) != -1, "open big");
	is_err(wq_sender_add_fd(w, fd), EMSGSIZE,
	    "wq_sender_add_fd of a file too big: EMSGSIZE");
	close(fd);
	need(pipe(p) == 0, "pipe");
	need(write(p[1], "0123456789abcdef", 16) == 16, "write pipe");
	close(p[1]);
	is_err(wq_sender_add_fd(w, p[0]), EMSGSIZE,
	    "wq_sender_add_fd of a pipe too big: EMSGSIZE");
	close(p[0]);
	is_int(wq_sender_pending(w), 0, "nothing pending");
	is_int(t_count("q/tmp"), 0, "nothing left in tmp/");
	ok(wq_sender_commit(w) == 0, "commit");
	is_int(t_new_count("q/new"), 1, "only the message that fit in new/");
	wq_sender_close(w);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_add_fd(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_sender *w;
	char path[4096], *big;
	int fd, p[2], status;
	size_t i;
	pid_t pid;

	need((big = malloc(BIG)) != NULL, "malloc");
	for (i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 + i / 251);
	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");

	/* a pipe, filled by a child while we read */
	need(pipe(p) == 0, "pipe");
	need((pid = fork()) != -1, "fork");
	if (pid == 0) {
		close(p[0]);
		_exit(wq_write_all(p[1], big, BIG) == 0 ? 0 : 1);
	}
	close(p[1]);
	ok(wq_sender_add_fd(w, p[0]) == 0, "add_fd from a pipe");
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer done");

	/* a file */
	t_write("body", big, BIG / 2);
	need((fd = open(t_path(path, "body"), O_RDONLY)) != -1, "open body");
	ok(wq_sender_add_fd(w, fd) == 0, "add_fd from a file");
	close(fd);

	/* an empty file */
	t_write("empty", "", 0);
	need((fd = open(t_path(path, "empty"), O_RDONLY)) != -1, "open");
	ok(wq_sender_add_fd(w, fd) == 0, "add_fd from an empty file");
	close(fd);

	/* a file read from the middle: the rest is the body */
	need((fd = open(t_path(path, "body"), O_RDONLY)) != -1, "open body");
	need(lseek(fd, 1000, SEEK_SET) == 1000, "lseek");
	ok(wq_sender_add_fd(w, fd) == 0, "add_fd from an offset");
	close(fd);

	ok(wq_sender_commit(w) == 0, "commit");
	if (is_int(wq_sender_committed(w), 4, "four committed")) {
		check_message(wq_sender_id(w, 0), big, BIG);
		check_message(wq_sender_id(w, 1), big, BIG / 2);
		check_message(wq_sender_id(w, 2), "", 0);
		check_message(wq_sender_id(w, 3), big + 1000, BIG / 2 - 1000);
	}
	wq_sender_close(w);
	free(big);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_group_limit(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy pol = { .sync = WQ_SYNC_NONE };
	struct wq_queue *q = t_queue(s, "q", &pol, WQ_POL_SYNC);
	struct wq_sender *w;
	size_t i, failed = 0;
	char path[4096];
	int fd;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	for (i = 0; i < WQ_SEND_GROUP_MAX; i++)
		if (wq_sender_add(w, "m", 1) == -1)
			failed++;
	is_int(failed, 0, "1000 adds without a commit");
	is_int(wq_sender_pending(w), WQ_SEND_GROUP_MAX, "1000 pending");
	is_err(wq_sender_add(w, "m", 1), ENOBUFS, "the 1001st add: ENOBUFS");
	t_write("body", "x", 1);
	need((fd = open(t_path(path, "body"), O_RDONLY)) != -1, "open body");
	is_err(wq_sender_add_fd(w, fd), ENOBUFS,
	    "the 1001st add_fd: ENOBUFS");
	close(fd);
	is_int(wq_sender_pending(w), WQ_SEND_GROUP_MAX, "still 1000 pending");
	is_int(t_count("q/tmp"), WQ_SEND_GROUP_MAX, "1000 files in tmp/");
	ok(wq_sender_commit(w) == 0, "commit");
	is_int(wq_sender_committed(w), WQ_SEND_GROUP_MAX, "1000 committed");
	is_int(t_new_count("q/new"), WQ_SEND_GROUP_MAX, "1000 in new/");
	ok(wq_sender_add(w, "m", 1) == 0, "add after the commit");
	wq_sender_close(w);
	is_int(t_count("q/tmp"), 0, "tmp/ empty after close");
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_close_uncommitted(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_sender *w;
	char path[4096];
	int fd;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	ok(wq_sender_add(w, "one", 3) == 0, "add");
	ok(wq_sender_add(w, "two", 3) == 0, "add");
	t_write("body", "three", 5);
	need((fd = open(t_path(path, "body"), O_RDONLY)) != -1, "open body");
	ok(wq_sender_add_fd(w, fd) == 0, "add_fd");
	close(fd);
	is_int(t_count("q/tmp"), 3, "three in tmp/");
	wq_sender_close(w);
	is_int(t_count("q/tmp"), 0, "close without commit empties tmp/");
	is_int(t_new_count("q/new"), 0, "and nothing reached new/");
	wq_sender_close(NULL);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Attributes: "attr KEY VALUE" lines after "queue", read back by claims. */
static void
test_attrs(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char rel[512], want[256], id[WQ_ID_MAX];
	const char *k, *v;
	struct wq_consumer *c;
	struct wq_sender *w;
	struct wq_msg *m;
	long long n;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_err(wq_sender_attr(w, "1x", "v"), EILSEQ, "a bad key: EILSEQ");
	is_err(wq_sender_attr(w, "k", "a\nb"), EILSEQ,
	    "a value with a newline: EILSEQ");
	ok(wq_sender_attr(w, "k1", "v1") == 0, "attr k1=v1");
	ok(wq_sender_attr(w, "colour", "dark blue") == 0,
	    "attr colour=dark blue");
	ok(wq_sender_add(w, "body", 4) == 0, "add");
	is_err(wq_sender_attr(w, "late", "x"), EBUSY,
	    "with a message pending: EBUSY");
	ok(wq_sender_commit(w) == 0 && wq_sender_committed(w) == 1, "commit");
	strlcpy(id, wq_sender_id(w, 0), sizeof(id));
	wq_sender_close(w);
	if (ok(t_new_find_id("q/new", id, rel, NULL) == 0, "in new/")) {
		n = check_file(rel, id, "q", "attr k1 v1\nattr colour dark blue\n",
		    "body", 4);
		snprintf(want, sizeof(want), "80.%s,0,%lld,", id, n);
		is_str(t_base(rel), want, "SIZE counts the attr lines too");
	}
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_int(wq_msg_attr_count(m), 2, "two attributes");
		if (ok(wq_msg_attr(m, 0, &k, &v) == 0, "the first")) {
			is_str(k, "k1", "key");
			is_str(v, "v1", "value");
		}
		if (ok(wq_msg_attr(m, 1, &k, &v) == 0, "the second")) {
			is_str(k, "colour", "key");
			is_str(v, "dark blue", "value with a blank");
		}
		is_err(wq_msg_attr(m, 2, &k, &v), EINVAL, "no third: EINVAL");
		is_str(wq_msg_origin(m), "q", "wq_msg_origin: the queue");
		ok(t_body_is(m, "body"), "the body");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * The "queue" line holds the queue's name; a queue opened by a path has
 * the last part of the path there if that is a valid name, else no
 * "queue" line.
 */
static void
test_header_queue(void)
{
	struct wq_spool *s = t_spool();
	char path[4096], rel[512], id[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_queue *q;
	struct wq_msg *m;

	t_path(path, "elsewhere");
	need(wq_queue_create(s, path, NULL, 0, 0) == 0, "create by path");
	need((q = wq_queue_open(s, path)) != NULL, "open by path");
	need(wq_send(q, "x", 1, id) == 0, "send");
	if (ok(t_new_find_id("elsewhere/new", id, rel, NULL) == 0, "in new/"))
		check_file(rel, id, "elsewhere", "", "x", 1);
	wq_queue_close(q);

	/* ".../_odd/" is a queue, but "_odd" is no queue name */
	t_path(path, "_odd");
	need(wq_queue_create(s, path, NULL, 0, 0) == 0, "create _odd");
	strlcat(path, "/", sizeof(path));
	need((q = wq_queue_open(s, path)) != NULL, "open _odd/");
	need(wq_send(q, "y", 1, id) == 0, "send");
	if (ok(t_new_find_id("_odd/new", id, rel, NULL) == 0, "in new/"))
		check_file(rel, id, NULL, "", "y", 1);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		ok(wq_msg_origin(m) == NULL, "wq_msg_origin: NULL");
		is_int(wq_msg_attr_count(m), 0, "no attributes");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * A delayed send waits in cur/ as RR.ID,0,SIZE,GROUP,DUE,delayed (as a
 * release with a delay does), and is no receipt.
 */
static void
test_delayed(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char names[4][256], rel[512], id[WQ_ID_MAX];
	int64_t before, after, at;
	struct wq_sender *w;
	struct wq_stat st;
	struct wq_entry e;

	memset(&e, 0, sizeof(e));
	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	ok(wq_sender_priority(w, 7) == 0, "priority 7");
	ok(wq_sender_delay(w, 60) == 0, "delay 60 s");
	ok(wq_sender_add(w, "later", 5) == 0, "add");
	before = wq_now_ms();
	ok(wq_sender_commit(w) == 0 && wq_sender_committed(w) == 1, "commit");
	after = wq_now_ms();
	strlcpy(id, wq_sender_id(w, 0), sizeof(id));
	is_int(t_new_count("q/new"), 0, "nothing in new/");
	if (is_int(t_list("q/cur", names, 4), 1, "one entry in cur/") &&
	    ok(wq_entry_parse(names[0], 1, &e) == 0, "a cur/ name: %s",
	    names[0])) {
		is_int(e.rank, 0x80 - 7, "rank of priority 7");
		is_str(e.id, id, "the id");
		is_int(e.count, 0, "count 0");
		snprintf(rel, sizeof(rel), "q/cur/%s", names[0]);
		is_int(e.size, check_file(rel, id, "q", "", "later", 5),
		    "SIZE is the size of the file");
		is_str(e.group, "", "no group");
		ok(e.deadline >= before + 60000 && e.deadline <= after + 60000,
		    "DUE in 60 s");
		is_str(e.nonce, WQ_DELAYED, "NONCE delayed");
		ok(!wq_receipt_valid(names[0]), "no receipt");
	}
	ok(wq_queue_stat(q, &st) == 0 && st.delayed == 1 && st.total == 1 &&
	    st.bytes == e.size, "stat: one delayed, its bytes");

	/* at a given time */
	at = wq_now_ms() + 3600 * 1000;
	ok(wq_sender_at(w, at) == 0, "at now + 1 h");
	ok(wq_sender_add(w, "at", 2) == 0 && wq_sender_commit(w) == 0,
	    "send");
	snprintf(rel, sizeof(rel), "%s", wq_sender_id(w, 0));
	is_int(t_list("q/cur", names, 4), 2, "two entries in cur/");
	ok((wq_entry_parse(names[0], 1, &e) == 0 && strcmp(e.id, rel) == 0) ||
	    (wq_entry_parse(names[1], 1, &e) == 0 && strcmp(e.id, rel) == 0),
	    "the second");
	is_int(e.deadline, at, "DUE the time given");
	is_str(e.nonce, WQ_DELAYED, "NONCE delayed");
	is_err(wq_sender_at(w, -1), EINVAL, "before the epoch: EINVAL");
	ok(wq_sender_at(w, 0) == 0, "at 0: the past, ready at once");
	wq_sender_close(w);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_parse_header(void)
{
	static const char good[] = "wq 1\nid X\nsent 1700000000000\n"
	    "queue q\nattr k v\nsize 00000000000000000005\nattr k2 v\n\n"
	    "hello";
	static const char *const bad[] = {
		"",
		"wq 1\n",
		"wq 2\nsize 1\n\nx",
		"wq 1 \nsize 1\n\nx",
		"WQ 1\nsize 1\n\nx",
		"wq 1\nid X\nsent 1\n\nx",		/* no size */
		"wq 1\nsize 1\n",			/* no empty line */
		"wq 1\nsize 1",				/* torn */
		"wq 1\nsize x\n\nx",
		"wq 1\nsize -1\n\nx",
		"wq 1\nsize 1 \n\nx",
		"wq 1\nsize \n\nx",
		"wq 1\nsize 18446744073709551616\n\n",	/* overflows */
		"wq 1\nsize 1\nsent 9223372036854775808\n\nx",
		"wq 1\nsize 1\nsent x\n\nx",
	};
	int64_t sent;
	uint64_t size;
	size_t hdrlen, i;

	if (ok(wq_msg_parse_header(good, sizeof(good) - 1, &sent, &size,
	    &hdrlen) == 0, "a good header")) {
		is_int(sent, 1700000000000LL, "sent");
		is_int(size, 5, "size");
		is_int(hdrlen, sizeof(good) - 1 - 5, "header length");
	}
	ok(wq_msg_parse_header("wq 1\nsize 0\n\n", 13, &sent, &size,
	    &hdrlen) == 0 && sent == 0 && size == 0 && hdrlen == 13,
	    "size alone, no sent: sent 0");
	ok(wq_msg_parse_header("wq 1\nsize 18446744073709551615\n\n", 32,
	    &sent, &size, &hdrlen) == 0 && size == UINT64_MAX,
	    "largest size");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_err(wq_msg_parse_header(bad[i], strlen(bad[i]), &sent,
		    &size, &hdrlen), EBADMSG, bad[i]);
}

static __attribute__((noinline)) void
dirty_stack(void)
{
	volatile unsigned char junk[16384];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xff;
}

static __attribute__((noinline)) int
parse_good(void)
{
	static const char h[] = "wq 1\nid X\nsent 1\nsize 1\n\nx";
	int64_t sent;
	uint64_t size;
	size_t hdrlen;

	return wq_msg_parse_header(h, sizeof(h) - 1, &sent, &size, &hdrlen);
}

/*
 * On every line that is not "sent" (the "id" line comes first), the
 * parser still tests its local v > INT64_MAX although v was never set:
 * with 0xff bytes left on the stack a valid header is refused.
 */
static void
test_parse_header_stack(void)
{
	int i, bad = 0;

	for (i = 0; i < 10; i++) {
		dirty_stack();
		if (parse_good() == -1)
			bad++;
	}
	is_int(bad, 0, "a valid header parses whatever is on the stack");
}

int
main(void)
{
	plan(12);
	TEST(test_send_one, "wq_send: the file in new/");
	TEST(test_sync_modes, "send under each sync mode");
	TEST(test_group, "wq_sender: a group, one commit");
	TEST(test_max_size, "max-size: EMSGSIZE, nothing left behind");
	TEST(test_add_fd, "wq_sender_add_fd: pipe and file");
	TEST(test_group_limit, "the 1001st add without a commit: ENOBUFS");
	TEST(test_close_uncommitted, "wq_sender_close without a commit");
	TEST(test_attrs, "attributes: header lines, read back");
	TEST(test_header_queue, "the \"queue\" line: the queue's name");
	TEST(test_delayed, "delayed sends wait in cur/, named as delayed");
	TEST(test_parse_header, "wq_msg_parse_header");
	TEST(test_parse_header_stack,
	    "wq_msg_parse_header does not depend on stack garbage");
	return done();
}
