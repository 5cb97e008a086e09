/* SPDX-License-Identifier: MIT */
/*
 * t-claim.c — lib/claim.c, lib/lease.c, lib/msg.c and lib/stat.c: claim
 * order, leases (ack, release, delays, expiry, extension), receipts
 * (RR.ID,COUNT,SIZE,GROUP,DEADLINE,NONCE), peeking, counting, corrupt
 * files and foreign names, priorities, and FIFO groups (lib/fifo.c).
 * Ready messages live in the bucket tree of new/ (lib/bucket.c): the
 * helpers t_new_* of tap.h look for them at any depth.
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

/* Send n messages "message I"; their ids into ids. */
static void
send_n(struct wq_queue *q, size_t n, char ids[][WQ_ID_MAX])
{
	char body[64];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "message %zu", i);
		need(wq_send(q, body, strlen(body), ids[i]) == 0, "send %zu",
		    i);
	}
}

static void
test_order(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	char ids[8][WQ_ID_MAX], body[64];
	struct wq_msg *m;
	size_t i;

	send_n(q, 8, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	ok(wq_consumer_queue(c) == q, "wq_consumer_queue");
	for (i = 0; i < 8; i++) {
		if (!ok(wq_claim(c, &m) == 0, "claim %zu", i))
			break;
		is_str(wq_msg_id(m), ids[i], "claimed in send order");
		snprintf(body, sizeof(body), "message %zu", i);
		ok(t_body_is(m, body), "body of message %zu", i);
		wq_msg_free(m);
	}
	m = (struct wq_msg *)1;
	is_err(wq_claim(c, &m), ENOMSG, "then ENOMSG");
	ok(m == NULL, "and no message");
	is_int(t_count("q/cur"), 8, "eight leases in cur/");
	is_int(t_new_count("q/new"), 0, "new/ is empty");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_empty(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	struct wq_msg *m;

	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	is_err(wq_claim(c, &m), ENOMSG, "claim on an empty queue: ENOMSG");
	is_err(wq_claim(c, &m), ENOMSG, "again: ENOMSG");
	is_err(wq_peek(c, &m), ENOMSG, "peek on an empty queue: ENOMSG");
	wq_consumer_close(c);
	wq_consumer_close(NULL);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_claim_lease(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], names[4][256], prefix[256], buf[64];
	char rel[512];
	struct wq_consumer *c;
	struct wq_entry e, ne;
	struct wq_msg *m;
	int64_t before, after, idms;
	long long size;
	const void *b;
	size_t len;
	off_t off;
	int fd;

	send_n(q, 1, ids);
	need(t_new_find_id("q/new", ids[0], rel, &ne) == 0, "find %s", ids[0]);
	size = t_size(rel);
	need((c = wq_consumer_open(q, 7)) != NULL, "wq_consumer_open");
	before = wq_now_ms();
	need(wq_claim(c, &m) == 0, "claim");
	after = wq_now_ms();
	is_int(t_new_count("q/new"), 0, "gone from new/");
	if (is_int(t_list("q/cur", names, 4), 1, "one entry in cur/")) {
		is_str(names[0], wq_msg_receipt(m), "the receipt is its name");
		snprintf(prefix, sizeof(prefix), "80.%s,1,%lld,,", ids[0],
		    size);
		ok(strncmp(names[0], prefix, strlen(prefix)) == 0,
		    "named 80.ID,1,SIZE,,... (%s)", names[0]);
		snprintf(rel, sizeof(rel), "q/cur/%s", names[0]);
		is_int(t_size(rel), size, "the same file");
	}
	ok(wq_receipt_valid(wq_msg_receipt(m)), "a valid receipt");
	ok(wq_entry_parse(wq_msg_receipt(m), 1, &e) == 0 &&
	    strlen(e.nonce) == 16 && strcmp(e.nonce, WQ_DELAYED) != 0,
	    "with a 16-digit nonce");
	is_int(e.size, size, "SIZE in the receipt: the size of the file");
	is_int(ne.size, size, "as it was in new/");
	is_str(e.group, "", "no group");
	is_int(wq_msg_receive_count(m), 1, "receive count 1");
	ok(wq_msg_deadline_ms(m) >= before + 7000 &&
	    wq_msg_deadline_ms(m) <= after + 7000,
	    "deadline is now + visibility");
	is_int(e.deadline, wq_msg_deadline_ms(m), "deadline in the name");
	ok(wq_id_time_ms(ids[0], &idms) == 0 && wq_msg_sent_ms(m) == idms,
	    "sent time");
	is_int(wq_msg_size(m), 9, "size");
	is_int(wq_msg_priority(m), 0, "priority 0");
	ok(wq_msg_body(m, &b, &len) == 0 && len == 9 &&
	    memcmp(b, "message 0", 9) == 0, "body");
	is_int(((const char *)b)[len], 0, "body NUL-terminated");
	fd = wq_msg_body_fd(m, &off);
	ok(fd >= 0 && pread(fd, buf, sizeof(buf), off) == 9 &&
	    memcmp(buf, "message 0", 9) == 0, "body through the fd");
	wq_msg_free(m);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_ack(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[2][WQ_ID_MAX], receipt[WQ_RECEIPT_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;

	send_n(q, 2, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	strlcpy(receipt, wq_msg_receipt(m), sizeof(receipt));
	wq_msg_free(m);
	ok(wq_ack(q, receipt) == 0, "wq_ack");
	is_int(t_count("q/cur"), 0, "cur/ is empty");
	is_int(t_new_count("q/new"), 1, "the other message is still ready");
	is_err(wq_ack(q, receipt), ENOMSG, "ack twice: ENOMSG");
	is_err(wq_release(q, receipt, 0), ENOMSG, "release after ack: ENOMSG");

	need(wq_claim(c, &m) == 0, "claim");
	is_str(wq_msg_id(m), ids[1], "the second message");
	ok(wq_msg_ack(m) == 0, "wq_msg_ack");
	is_err(wq_msg_ack(m), ENOMSG, "wq_msg_ack twice: ENOMSG");
	wq_msg_free(m);
	is_int(t_count("q/cur") + t_new_count("q/new"), 0, "queue is empty");
	is_err(wq_claim(c, &m), ENOMSG, "nothing to claim");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_release(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], names[4][256], want[256], rel[512];
	struct wq_consumer *c;
	struct wq_msg *m;
	long long size;

	send_n(q, 1, ids);
	need(t_new_find_id("q/new", ids[0], rel, NULL) == 0, "find %s",
	    ids[0]);
	size = t_size(rel);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	ok(wq_release(q, wq_msg_receipt(m), 0) == 0, "wq_release");
	is_int(t_count("q/cur"), 0, "cur/ is empty");
	snprintf(want, sizeof(want), "80.%s,1,%lld,", ids[0], size);
	if (is_int(t_new_list("q/new", names, 4), 1, "back in new/"))
		is_str(t_base(names[0]), want, "as 80.ID,1,SIZE,");
	is_err(wq_release(q, wq_msg_receipt(m), 0), ENOMSG,
	    "release twice: ENOMSG");
	wq_msg_free(m);

	if (ok(wq_claim(c, &m) == 0, "claim again")) {
		is_str(wq_msg_id(m), ids[0], "the released message");
		is_int(wq_msg_receive_count(m), 2, "receive count 2");
		ok(wq_msg_release(m, 0) == 0, "wq_msg_release");
		wq_msg_free(m);
	}
	if (ok(wq_claim(c, &m) == 0, "claim again")) {
		is_str(wq_msg_id(m), ids[0], "again the released message");
		is_int(wq_msg_receive_count(m), 3, "receive count 3");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * The design (wq(5), HOW A MESSAGE IS CLAIMED): order is by the time a
 * message became ready, at the resolution of a leaf bucket.  A released
 * message enters the bucket of the current time, so it is served after
 * the messages already waiting in older buckets, and the next consumer to
 * walk new/ claims those first.
 */
static void
test_release_order(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[3][WQ_ID_MAX];
	struct wq_consumer *c, *c2;
	struct wq_msg *m;
	size_t i;

	send_n(q, 3, ids);
	tap_sleep_ms(10);	/* past the 4.1 ms of the senders' leaf */
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	is_str(wq_msg_id(m), ids[0], "the first message");
	ok(wq_msg_release(m, 0) == 0, "release the first");
	wq_msg_free(m);
	need((c2 = wq_consumer_open(q, 0)) != NULL, "second consumer");
	for (i = 1; i < 3; i++)
		if (ok(wq_claim(c2, &m) == 0, "claim %zu", i)) {
			is_str(wq_msg_id(m), ids[i],
			    "the messages already waiting first");
			is_int(wq_msg_receive_count(m), 1, "receive count 1");
			wq_msg_free(m);
		}
	if (ok(wq_claim(c2, &m) == 0, "claim the released one")) {
		is_str(wq_msg_id(m), ids[0], "the released message last");
		is_int(wq_msg_receive_count(m), 2, "receive count 2");
		wq_msg_free(m);
	}
	is_err(wq_claim(c2, &m), ENOMSG, "then nothing");
	wq_consumer_close(c2);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_release_delay(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], names[4][256], prefix[256], rel[512];
	struct wq_consumer *c;
	struct wq_stat st;
	struct wq_entry e;
	struct wq_msg *m;
	int64_t before;

	send_n(q, 1, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	before = wq_now_ms();
	ok(wq_msg_release(m, 1) == 0, "release with a delay of 1 s");
	wq_msg_free(m);
	is_int(t_new_count("q/new"), 0, "not in new/");
	if (is_int(t_list("q/cur", names, 4), 1, "in cur/")) {
		snprintf(prefix, sizeof(prefix), "80.%s,1,", ids[0]);
		ok(strncmp(names[0], prefix, strlen(prefix)) == 0,
		    "named 80.ID,1,...");
		ok(wq_entry_parse(names[0], 1, &e) == 0 &&
		    strcmp(e.nonce, WQ_DELAYED) == 0, "as delayed");
		ok(strlen(names[0]) > strlen(",delayed") &&
		    strcmp(names[0] + strlen(names[0]) - strlen(",delayed"),
		    ",delayed") == 0, "ending in \",delayed\"");
		snprintf(rel, sizeof(rel), "q/cur/%s", names[0]);
		is_int(e.size, t_size(rel), "SIZE is the size of the file");
		is_str(e.group, "", "no group");
		ok(e.deadline >= before + 1000 &&
		    e.deadline <= wq_now_ms() + 1000, "due in 1 s");
		ok(!wq_receipt_valid(names[0]), "a delayed name is no receipt");
		is_err(wq_ack(q, names[0]), EINVAL,
		    "and cannot be acked: EINVAL");
	}
	ok(wq_queue_stat(q, &st) == 0, "stat");
	ok(st.delayed == 1 && st.ready == 0 && st.inflight == 0 &&
	    st.total == 1, "counted as delayed");
	is_err(wq_claim(c, &m), ENOMSG, "not claimable before it is due");
	tap_sleep_ms(500);
	is_err(wq_claim(c, &m), ENOMSG, "nor after half the delay");
	while (wq_now_ms() < e.deadline + 100)
		tap_sleep_ms(50);
	ok(wq_queue_stat(q, &st) == 0 && st.ready == 1 && st.delayed == 0,
	    "counted as ready once due");
	if (ok(wq_claim(c, &m) == 0, "claimable once due")) {
		is_str(wq_msg_id(m), ids[0], "the delayed message");
		is_int(wq_msg_receive_count(m), 2, "receive count 2");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_expiry(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], old[WQ_RECEIPT_MAX], nr[WQ_RECEIPT_MAX];
	struct wq_consumer *a, *b;
	struct wq_msg *m;
	int64_t deadline;

	send_n(q, 1, ids);
	need((a = wq_consumer_open(q, 1)) != NULL, "consumer a");
	need((b = wq_consumer_open(q, 30)) != NULL, "consumer b");
	need(wq_claim(a, &m) == 0, "a claims with visibility 1");
	strlcpy(old, wq_msg_receipt(m), sizeof(old));
	deadline = wq_msg_deadline_ms(m);
	wq_msg_free(m);
	is_err(wq_claim(b, &m), ENOMSG, "b finds nothing while leased");
	/* past the deadline but within the clock skew: still a's */
	while (wq_now_ms() < deadline + 300)
		tap_sleep_ms(50);
	is_err(wq_claim(b, &m), ENOMSG, "nor within the clock skew");
	/* past deadline + clock-skew (1 s) */
	while (wq_now_ms() < deadline + 1000 + 200)
		tap_sleep_ms(50);
	if (!ok(wq_claim(b, &m) == 0, "b claims the expired lease"))
		return;
	is_str(wq_msg_id(m), ids[0], "the same message");
	is_int(wq_msg_receive_count(m), 2, "receive count 2");
	ok(strcmp(wq_msg_receipt(m), old) != 0, "a new receipt");
	is_err(wq_ack(q, old), ENOMSG, "the old receipt: ack ENOMSG");
	is_err(wq_extend(q, old, 10, nr), ENOMSG,
	    "the old receipt: extend ENOMSG");
	is_err(wq_release(q, old, 0), ENOMSG,
	    "the old receipt: release ENOMSG");
	is_int(t_count("q/cur"), 1, "b's lease untouched");
	ok(wq_msg_ack(m) == 0, "b acks");
	is_int(t_count("q/cur") + t_new_count("q/new"), 0, "queue is empty");
	wq_msg_free(m);
	wq_consumer_close(a);
	wq_consumer_close(b);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_extend(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[2][WQ_ID_MAX], old[WQ_RECEIPT_MAX], nr[WQ_RECEIPT_MAX];
	char nr2[WQ_RECEIPT_MAX], names[4][256];
	struct wq_entry eo, en;
	struct wq_consumer *c;
	struct wq_msg *m;
	int64_t before;

	send_n(q, 2, ids);
	need((c = wq_consumer_open(q, 5)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	strlcpy(old, wq_msg_receipt(m), sizeof(old));
	wq_msg_free(m);
	before = wq_now_ms();
	ok(wq_extend(q, old, 60, nr) == 0, "wq_extend by 60 s");
	ok(strcmp(nr, old) != 0, "a new receipt");
	ok(wq_receipt_valid(nr), "a valid one");
	need(wq_entry_parse(old, 1, &eo) == 0 && wq_entry_parse(nr, 1, &en) ==
	    0, "parse receipts");
	is_str(en.nonce, eo.nonce, "same nonce");
	is_str(en.id, eo.id, "same id");
	is_int(en.count, eo.count, "same count");
	is_int(en.size, eo.size, "same size");
	is_str(en.group, eo.group, "same group");
	ok(en.deadline >= before + 60000 && en.deadline <= wq_now_ms() + 60000,
	    "deadline now + 60 s");
	if (is_int(t_list("q/cur", names, 4), 1, "one entry in cur/"))
		is_str(names[0], nr, "renamed to the new receipt");

	ok(wq_extend(q, old, 120, nr2) == 0, "the old receipt still extends");
	ok(wq_entry_parse(nr2, 1, &en) == 0 && en.deadline >= before + 120000,
	    "to now + 120 s");
	ok(wq_ack(q, old) == 0, "the old receipt acks (lookup by nonce)");
	is_int(t_count("q/cur"), 0, "cur/ is empty");
	is_err(wq_ack(q, nr2), ENOMSG, "the newest receipt is stale now");

	/* through the message handle */
	need(wq_claim(c, &m) == 0, "claim the second");
	strlcpy(old, wq_msg_receipt(m), sizeof(old));
	ok(wq_msg_extend(m, 90) == 0, "wq_msg_extend");
	ok(strcmp(wq_msg_receipt(m), old) != 0, "the message has the new receipt");
	ok(wq_msg_deadline_ms(m) >= before + 90000, "and the new deadline");
	ok(wq_release(q, old, 0) == 0, "the old receipt releases");
	is_int(t_new_count("q/new"), 1, "back in new/");
	is_err(wq_msg_ack(m), ENOMSG, "the handle's receipt is stale now");
	wq_msg_free(m);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_bad_receipts(void)
{
	static const char *const bad[] = {
		"", "garbage", "80.0006123456789abc.1.0.deadbeef.h,1",
		"80.0006123456789abc.1.0.deadbeef.h,1,14,",	/* new/ form */
		"80.0006123456789abc.1.0.deadbeef.h,1,14,,1700000000000,"
		    "delayed",
		"../../etc/passwd",
		"80.0006123456789abc.1.0.deadbeef.h,1,14,,1700000000000,"
		    "0123456789abcdef/x",
		"80.0006123456789abc.1.0.deadbeef.h,1,14,,1700000000000,"
		    "0123456789abcdef\n",
		"80.0006123456789abc.1.0.deadbeef.h,1,14,../x,1700000000000,"
		    "0123456789abcdef",				/* bad group */
		/* the 0.1.0 grammar with a bad nonce */
		"80.0006123456789abc.1.0.deadbeef.h,1,1700000000000,"
		    "0123456789abcdeX",
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], nr[WQ_RECEIPT_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;
	size_t i;

	send_n(q, 1, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_err(wq_ack(q, bad[i]), EINVAL, "ack of garbage: EINVAL");
		is_err(wq_release(q, bad[i], 0), EINVAL,
		    "release of garbage: EINVAL");
		is_err(wq_release(q, bad[i], 5), EINVAL,
		    "delay of garbage: EINVAL");
		is_err(wq_extend(q, bad[i], 5, nr), EINVAL,
		    "extend of garbage: EINVAL");
	}
	/* A well-formed receipt of wq 0.1.0 that names no lease: stale. */
	is_err(wq_ack(q, "80.0006123456789abc.1.0.deadbeef.h,1,1700000000000,"
	    "0123456789abcdef"), ENOMSG, "a 0.1.0 receipt of no lease");
	is_err(wq_ack(q, "80.0006123456789abc.1.0.deadbeef.h,1,14,,"
	    "1700000000000,0123456789abcdef"), ENOMSG,
	    "a well-formed unknown receipt: ENOMSG");
	is_err(wq_ack(q, "80.0006123456789abc.1.0.deadbeef.h,1,14,g,"
	    "1700000000000,0123456789abcdef"), ENOMSG,
	    "one with a group: ENOMSG");
	is_int(t_count("q/cur"), 1, "the real lease untouched");
	ok(wq_msg_ack(m) == 0, "the real receipt acks");
	wq_msg_free(m);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_peek(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *p, *c;
	char ids[2][WQ_ID_MAX];
	struct wq_msg *m;

	send_n(q, 2, ids);
	need((p = wq_consumer_open(q, 0)) != NULL, "peeking consumer");
	need((c = wq_consumer_open(q, 0)) != NULL, "claiming consumer");
	if (ok(wq_peek(p, &m) == 0, "peek")) {
		is_str(wq_msg_id(m), ids[0], "the first message");
		ok(t_body_is(m, "message 0"), "its body");
		is_int(wq_msg_receive_count(m), 0, "receive count 0");
		is_str(wq_msg_receipt(m), "", "no receipt");
		is_err(wq_msg_ack(m), EINVAL, "cannot be acked");
		wq_msg_free(m);
	}
	is_int(t_new_count("q/new"), 2, "both still in new/");
	is_int(t_count("q/cur"), 0, "nothing in cur/");
	if (ok(wq_peek(p, &m) == 0, "peek again")) {
		is_str(wq_msg_id(m), ids[1], "the second message");
		wq_msg_free(m);
	}
	is_err(wq_peek(p, &m), ENOMSG, "then ENOMSG");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[0], "claims the first");
		is_int(wq_msg_receive_count(m), 1, "receive count 1");
		wq_msg_free(m);
	}
	wq_consumer_close(p);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static uint64_t
file_size(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (stat(t_path(path, "%s/%s", dir, name), &st) == -1)
		return 0;
	return (uint64_t)st.st_size;
}

/* Sum of the sizes of the files in q/new and q/cur. */
static uint64_t
all_bytes(void)
{
	char names[16][256];
	uint64_t sum = 0;
	size_t n, i;

	n = t_new_list("q/new", names, 16);
	for (i = 0; i < n && i < 16; i++)
		sum += file_size("q/new", names[i]);
	n = t_list("q/cur", names, 16);
	for (i = 0; i < n && i < 16; i++)
		sum += file_size("q/cur", names[i]);
	return sum;
}

static int
stat_is(struct wq_queue *q, uint64_t ready, uint64_t inflight,
    uint64_t delayed, uint64_t total)
{
	struct wq_stat st;

	if (!ok(wq_queue_stat(q, &st) == 0, "wq_queue_stat"))
		return 0;
	if (st.ready == ready && st.inflight == inflight &&
	    st.delayed == delayed && st.total == total &&
	    st.bytes == all_bytes())
		return 1;
	diag("ready %" PRIu64 " inflight %" PRIu64 " delayed %" PRIu64
	    " total %" PRIu64 " bytes %" PRIu64 " (files: %" PRIu64 ")",
	    st.ready, st.inflight, st.delayed, st.total, st.bytes,
	    all_bytes());
	return 0;
}

static void
test_stat(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c, *shortc;
	struct wq_msg *m1, *m2, *m3;
	char ids[5][WQ_ID_MAX];
	struct wq_stat st;
	int64_t t0, deadline;

	need((c = wq_consumer_open(q, 0)) != NULL, "consumer");
	need((shortc = wq_consumer_open(q, 1)) != NULL, "short consumer");
	ok(wq_queue_stat(q, &st) == 0 && st.total == 0 && st.bytes == 0 &&
	    st.ready == 0 && st.oldest_ready_ms == -1, "empty queue");
	send_n(q, 5, ids);
	ok(stat_is(q, 5, 0, 0, 5), "5 sent: 5 ready");
	ok(wq_queue_stat(q, &st) == 0 && wq_id_time_ms(ids[0], &t0) == 0 &&
	    st.oldest_ready_ms == t0, "oldest ready is the first sent");
	ok(st.bytes > 5 * 9, "bytes count headers and bodies");

	need(wq_claim(c, &m1) == 0, "claim 1");
	ok(stat_is(q, 4, 1, 0, 5), "1 claimed: 4 ready, 1 in flight");
	ok(wq_queue_stat(q, &st) == 0 && wq_id_time_ms(ids[1], &t0) == 0 &&
	    st.oldest_ready_ms == t0, "oldest ready is now the second");
	need(wq_claim(c, &m2) == 0, "claim 2");
	ok(wq_msg_release(m2, 60) == 0, "release 2 with a delay of 60 s");
	ok(stat_is(q, 3, 1, 1, 5), "3 ready, 1 in flight, 1 delayed");
	ok(wq_msg_ack(m1) == 0, "ack 1");
	ok(stat_is(q, 3, 0, 1, 4), "3 ready, 1 delayed, total 4");

	/* a lease past deadline + skew counts as ready before promotion */
	need(wq_claim(shortc, &m3) == 0, "claim 3 with visibility 1");
	deadline = wq_msg_deadline_ms(m3);
	ok(stat_is(q, 2, 1, 1, 4), "2 ready, 1 in flight, 1 delayed");
	while (wq_now_ms() < deadline + 1000 + 200)
		tap_sleep_ms(50);
	ok(stat_is(q, 3, 0, 1, 4), "the expired lease counts as ready");
	is_int(t_count("q/cur"), 2, "though it is still in cur/");
	wq_msg_free(m1);
	wq_msg_free(m2);
	wq_msg_free(m3);
	wq_consumer_close(c);
	wq_consumer_close(shortc);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_corrupt(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[3][WQ_ID_MAX], rel[512], path[4096], names[4][256];
	char prefix[256];
	struct wq_consumer *c, *p;
	struct wq_msg *m;
	int fd;

	send_n(q, 3, ids);
	/* first: the file is longer than its size field says */
	need(t_new_find_id("q/new", ids[0], rel, NULL) == 0, "find %s",
	    ids[0]);
	need((fd = open(t_path(path, "%s", rel), O_WRONLY | O_APPEND)) != -1,
	    "open %s", rel);
	need(write(fd, "extra", 5) == 5, "append");
	close(fd);
	/* second: torn, shorter than its size field says */
	need(t_new_find_id("q/new", ids[1], rel, NULL) == 0, "find %s",
	    ids[1]);
	need(truncate(t_path(path, "%s", rel), 40) == 0, "truncate");

	need((p = wq_consumer_open(q, 0)) != NULL, "peeking consumer");
	if (ok(wq_peek(p, &m) == 0, "peek skips corrupt files")) {
		is_str(wq_msg_id(m), ids[2], "peeks the valid one");
		wq_msg_free(m);
	}
	is_int(t_new_count("q/new"), 3, "peek quarantines nothing");

	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[2], "the next valid message");
		ok(t_body_is(m, "message 2"), "its body");
		wq_msg_free(m);
	}
	is_int(t_new_count("q/new"), 0, "new/ is empty");
	is_int(t_count("q/cur"), 1, "only the valid lease in cur/");
	if (is_int(t_list("q/corrupt", names, 4), 2,
	    "two files quarantined in corrupt/")) {
		snprintf(prefix, sizeof(prefix), "80.%s,", ids[0]);
		ok(strncmp(names[0], prefix, strlen(prefix)) == 0,
		    "the long one");
		snprintf(prefix, sizeof(prefix), "80.%s,", ids[1]);
		ok(strncmp(names[1], prefix, strlen(prefix)) == 0,
		    "the torn one");
	}
	is_err(wq_claim(c, &m), ENOMSG, "nothing else to claim");
	ok(stat_is(q, 0, 1, 0, 1), "stat does not count corrupt/");
	wq_consumer_close(c);
	wq_consumer_close(p);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_bad_header(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], id[WQ_ID_MAX], leaf[512], rel[1024];
	struct wq_consumer *c;
	struct wq_msg *m;

	/* a file with a valid name but no header at all, in a bucket of now */
	need(wq_id_new(id) == 0, "wq_id_new");
	snprintf(rel, sizeof(rel), "%s/80.%s,0,16,",
	    t_leaf(leaf, "q", 0x80, -1), id);
	t_write(rel, "just some bytes\n", 16);
	send_n(q, 1, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[0], "skips the headerless file");
		wq_msg_free(m);
	}
	is_int(t_count("q/corrupt"), 1, "and quarantines it");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Leave 0xff bytes in the stack below the caller, as deep calls may. */
static __attribute__((noinline)) void
dirty_stack(void)
{
	volatile unsigned char junk[32768];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xff;
}

/*
 * wq_msg_parse_header compares its local "v" with INT64_MAX on every
 * header line, also on lines that are not "sent" (such as "id", which
 * comes first) where v was never assigned: with stack garbage there a
 * valid message is taken for corrupt and quarantined.
 */
static void
test_valid_after_dirty_stack(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[3][WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;
	size_t i, got = 0;

	send_n(q, 3, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	for (i = 0; i < 3; i++) {
		dirty_stack();
		if (wq_claim(c, &m) == 0) {
			got++;
			wq_msg_free(m);
		}
	}
	is_int(got, 3, "all three valid messages claimed");
	is_int(t_count("q/corrupt"), 0, "none quarantined");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_foreign(void)
{
	static const char *const junk[] = {
		"junk", "80.bad", "80.0006123456789abc.1.0.deadbeef.h",
		"zz.0006123456789abc.1.0.deadbeef.h,0,14,", ".hidden",
		"80.0006123456789abc.1.0.deadbeef.h,0,",	/* no size */
		"80.0006123456789abc.1.0.deadbeef.h,0,14",	/* no group */
		"80.0006123456789abc.1.0.deadbeef.h,0,x,",	/* bad size */
		"80.0006123456789abc.1.0.deadbeef.h,0,14,.g",	/* bad group */
		"80.0006123456789abc.1.0.deadbeef.h,0,14,a b",
		"README",
	};
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[1][WQ_ID_MAX], id[WQ_ID_MAX], leaf[512], rel[1024];
	char path[4096];
	struct wq_consumer *c;
	struct wq_stat st;
	struct wq_msg *m;
	size_t i, nj = sizeof(junk) / sizeof(junk[0]);

	/* foreign names directly in new/, in a leaf bucket, and in cur/ */
	t_leaf(leaf, "q", 0x80, -1);
	for (i = 0; i < nj; i++) {
		snprintf(rel, sizeof(rel), "q/new/%s", junk[i]);
		t_write(rel, "wq 1\nsize 1\n\nx", 14);
		snprintf(rel, sizeof(rel), "%s/%s", leaf, junk[i]);
		t_write(rel, "wq 1\nsize 1\n\nx", 14);
		snprintf(rel, sizeof(rel), "q/cur/%s", junk[i]);
		t_write(rel, "wq 1\nsize 1\n\nx", 14);
	}
	need(mkdir(t_path(path, "q/new/adir"), 0777) == 0, "mkdir new/adir");
	/* a well-named message directly in new/ (the flat layout): foreign */
	need(wq_id_new(id) == 0, "wq_id_new");
	snprintf(rel, sizeof(rel), "q/new/80.%s,0,14,", id);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	/* in cur/, a lease in the 0.1.0 grammar but with a bad nonce */
	snprintf(rel, sizeof(rel), "q/cur/80.%s,1,1700000000000,"
	    "0123456789abcdeX", id);
	t_write(rel, "wq 1\nsize 1\n\nx", 14);
	send_n(q, 1, ids);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[0], "the real message");
		wq_msg_free(m);
	}
	is_err(wq_claim(c, &m), ENOMSG, "foreign names are not claimed");
	is_int(t_new_count("q/new"), 2 * nj + 1,
	    "foreign names in new/ left alone");
	ok(access(t_path(path, "q/new/adir"), F_OK) == 0,
	    "a foreign directory in new/ left alone");
	snprintf(rel, sizeof(rel), "%s/junk", leaf);
	ok(access(t_path(path, "%s", rel), F_OK) == 0,
	    "a leaf with only foreign names is not removed");
	is_int(t_count("q/cur"), nj + 2, "foreign names in cur/ left alone");
	is_int(t_count("q/corrupt"), 0, "nothing quarantined");
	ok(wq_queue_stat(q, &st) == 0 && st.total == 1 && st.inflight == 1 &&
	    st.ready == 0, "stat counts only the real message");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/*
 * What is not a regular file, under the name of a message: a FIFO and a
 * directory.  A claim reads the file without an fstat when the read
 * stops short (msg.c, file_size), so the read's own errors must tell
 * them apart: both are quarantined, and the valid message is served.
 */
static void
test_not_files(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[3][WQ_ID_MAX], rel[512], path[4096];
	struct wq_consumer *c;
	struct wq_msg *m;

	send_n(q, 3, ids);
	need(t_new_find_id("q/new", ids[0], rel, NULL) == 0, "find the first");
	need(unlink(t_path(path, "%s", rel)) == 0 && mkfifo(path, 0644) == 0,
	    "a FIFO in its place");
	need(t_new_find_id("q/new", ids[1], rel, NULL) == 0, "find the second");
	need(unlink(t_path(path, "%s", rel)) == 0 && mkdir(path, 0755) == 0,
	    "a directory in its place");
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[2], "the valid message");
		wq_msg_free(m);
	}
	is_int(t_count("q/corrupt"), 2, "the FIFO and the directory "
	    "quarantined");
	is_err(wq_claim(c, &m), ENOMSG, "nothing else");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Send body with priority p through a sender of its own; its id into id. */
static void
send_prio(struct wq_queue *q, int p, const char *body, char id[WQ_ID_MAX])
{
	struct wq_sender *w;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	need(wq_sender_priority(w, p) == 0, "wq_sender_priority %d", p);
	need(wq_sender_add(w, body, strlen(body)) == 0 &&
	    wq_sender_commit(w) == 0 && wq_sender_committed(w) == 1,
	    "send with priority %d", p);
	strlcpy(id, wq_sender_id(w, 0), WQ_ID_MAX);
	wq_sender_close(w);
}

/*
 * Priorities: a higher priority is served first (rank 0x80 - priority,
 * lowest rank first), equal priorities in send order, and a released
 * message keeps its priority.
 */
static void
test_priority(void)
{
	static const int prio[] = { 0, 5, -5, 100, -100, 5, 0 };
	static const int order[] = { 3, 1, 5, 0, 6, 2, 4 };
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[7][WQ_ID_MAX], rel[512], body[16];
	size_t i, n = sizeof(prio) / sizeof(prio[0]);
	struct wq_consumer *c;
	struct wq_entry e;
	struct wq_msg *m;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "p%d", prio[i]);
		send_prio(q, prio[i], body, ids[i]);
		if (ok(t_new_find_id("q/new", ids[i], rel, &e) == 0,
		    "find %s", ids[i]))
			is_int(e.rank, 0x80 - prio[i], "rank 0x80 - priority");
	}
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	/* the most urgent, released: it is served first again */
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		is_str(wq_msg_id(m), ids[3], "priority 100 first");
		is_int(wq_msg_priority(m), 100, "wq_msg_priority");
		ok(strncmp(wq_msg_receipt(m), "1c.", 3) == 0,
		    "its receipt has rank 1c");
		ok(wq_msg_release(m, 0) == 0, "release it");
		wq_msg_free(m);
	}
	for (i = 0; i < n; i++) {
		if (!ok(wq_claim(c, &m) == 0, "claim %zu", i))
			break;
		if (!is_str(wq_msg_id(m), ids[order[i]],
		    "higher priority first, equal ones in send order"))
			diag("expected the message of priority %d",
			    prio[order[i]]);
		is_int(wq_msg_priority(m), prio[order[i]], "wq_msg_priority");
		ok(wq_msg_ack(m) == 0, "ack");
		wq_msg_free(m);
	}
	is_err(wq_claim(c, &m), ENOMSG, "then ENOMSG");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* Set the mtime of a directory under the case's to 10 s ago. */
static void
age_dir(const char *rel)
{
	struct timespec ts[2];
	char path[4096];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 10;
	ts[1] = ts[0];
	need(utimensat(AT_FDCWD, t_path(path, "%s", rel), ts, 0) == 0,
	    "age %s", rel);
}

/*
 * A consumer lists the ranks of new/ again only when new/'s mtime moved
 * (claim.c, top_rank): a more urgent message sent between two claims of
 * a stream is still served next, also when new/ was old enough for the
 * listing to be trusted, and also into an emptied rank directory.
 */
static void
test_priority_stream(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	char ids[4][WQ_ID_MAX], urgent[WQ_ID_MAX], later[WQ_ID_MAX];
	struct wq_consumer *c;
	struct wq_msg *m;

	send_n(q, 4, ids);
	age_dir("q/new");
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0 && wq_msg_ack(m) == 0, "claim the first");
	wq_msg_free(m);
	need(wq_claim(c, &m) == 0 && wq_msg_ack(m) == 0, "claim the second");
	wq_msg_free(m);
	send_prio(q, 10, "urgent", urgent);
	if (ok(wq_claim(c, &m) == 0, "claim after an urgent send")) {
		is_str(wq_msg_id(m), urgent, "the urgent one comes next");
		ok(wq_msg_ack(m) == 0, "ack");
		wq_msg_free(m);
	}
	/* Its rank directory may stay behind; a message filed into it
	 * leaves new/'s mtime alone. */
	age_dir("q/new");
	if (ok(wq_claim(c, &m) == 0, "claim the third")) {
		is_str(wq_msg_id(m), ids[2], "back to the rest");
		wq_msg_free(m);	/* left leased */
	}
	send_prio(q, 10, "later", later);
	if (ok(wq_claim(c, &m) == 0, "claim after a second urgent send")) {
		is_str(wq_msg_id(m), later, "it comes next too");
		wq_msg_free(m);
	}
	if (ok(wq_claim(c, &m) == 0, "claim the fourth")) {
		is_str(wq_msg_id(m), ids[3], "then the last");
		wq_msg_free(m);
	}
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* wq_sender_priority takes -100..100, and only between commits. */
static void
test_priority_bad(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_sender *w;
	char rel[512];
	struct wq_entry e;

	memset(&e, 0, sizeof(e));
	rel[0] = '\0';
	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_err(wq_sender_priority(w, 101), EINVAL, "101: EINVAL");
	is_err(wq_sender_priority(w, -101), EINVAL, "-101: EINVAL");
	ok(wq_sender_priority(w, WQ_PRIORITY_MAX) == 0, "100");
	ok(wq_sender_priority(w, WQ_PRIORITY_MIN) == 0, "-100");
	ok(wq_sender_add(w, "x", 1) == 0, "add");
	is_err(wq_sender_priority(w, 3), EBUSY,
	    "with a message pending: EBUSY");
	ok(wq_sender_commit(w) == 0, "commit");
	if (ok(wq_sender_committed(w) == 1 && t_new_find_id("q/new",
	    wq_sender_id(w, 0), rel, &e) == 0, "find the message"))
		is_int(e.rank, 0xe4, "sent at -100: rank e4");
	ok(strncmp(rel, "q/new/e4/", 9) == 0, "in the tree of rank e4 (%s)",
	    rel);
	ok(wq_sender_priority(w, 3) == 0, "after the commit: settable");
	wq_sender_close(w);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* The target of lock/GROUP, or "" when there is none. */
static const char *
lock_of(const char *group, char buf[128])
{
	char path[4096];
	ssize_t n;

	n = readlink(t_path(path, "q/lock/%s", group), buf, 127);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/*
 * FIFO queues: each group's messages sit in new/GROUP/, named with their
 * group; a claim takes lock/GROUP -> "DEADLINE,NONCE", so the group has
 * one message in flight at a time, served in send order.
 */
static void
test_fifo(void)
{
	struct wq_spool *s = t_spool();
	struct wq_policy pol = { .fifo = 1 };
	struct wq_queue *q = t_queue(s, "q", &pol, WQ_POL_FIFO);
	char a[3][WQ_ID_MAX], b[WQ_ID_MAX], d[WQ_ID_MAX], rel[512];
	char want[128], buf[128];
	struct wq_sender *w;
	struct wq_consumer *c1, *c2;
	struct wq_msg *m1, *m2, *m3, *m4;
	struct wq_entry e;
	size_t i;

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_err(wq_sender_priority(w, 1), EINVAL,
	    "no priorities in a FIFO queue");
	ok(wq_sender_priority(w, 0) == 0, "but priority 0");
	is_err(wq_sender_group(w, "a b"), EINVAL, "a bad group: EINVAL");
	need(wq_sender_group(w, "ga") == 0, "group ga");
	for (i = 0; i < 3; i++)
		need(wq_sender_add(w, "a", 1) == 0, "add");
	need(wq_sender_commit(w) == 0 && wq_sender_committed(w) == 3,
	    "commit three to ga");
	for (i = 0; i < 3; i++)
		strlcpy(a[i], wq_sender_id(w, i), WQ_ID_MAX);
	need(wq_sender_group(w, "gb") == 0, "group gb");
	need(wq_sender_add(w, "b", 1) == 0 && wq_sender_commit(w) == 0,
	    "commit one to gb");
	strlcpy(b, wq_sender_id(w, 0), WQ_ID_MAX);
	wq_sender_close(w);
	need(wq_send(q, "d", 1, d) == 0, "wq_send: the default group");

	if (ok(t_new_find_id("q/new/ga", a[0], rel, &e) == 0,
	    "the messages of ga are under new/ga/")) {
		is_str(e.group, "ga", "named with GROUP ga");
		is_int(e.size, t_size(rel), "and SIZE the size of the file");
	}
	is_int(t_new_count("q/new/ga"), 3, "all three");
	if (ok(t_new_find_id("q/new/gb", b, rel, &e) == 0, "gb's in new/gb/"))
		is_str(e.group, "gb", "named with GROUP gb");
	if (ok(t_new_find_id("q/new/default", d, rel, &e) == 0,
	    "wq_send's in new/default/"))
		is_str(e.group, "default", "named with GROUP default");

	need((c1 = wq_consumer_open(q, 60)) != NULL, "consumer 1");
	need((c2 = wq_consumer_open(q, 60)) != NULL, "consumer 2");
	need(wq_claim(c1, &m1) == 0, "claim");
	need(wq_claim(c2, &m2) == 0, "claim");
	need(wq_claim(c2, &m3) == 0, "claim");
	ok(strcmp(wq_msg_id(m1), a[0]) == 0 || strcmp(wq_msg_id(m2), a[0]) ==
	    0 || strcmp(wq_msg_id(m3), a[0]) == 0, "ga's first is out");
	ok(strcmp(wq_msg_id(m1), a[1]) != 0 && strcmp(wq_msg_id(m2), a[1]) !=
	    0 && strcmp(wq_msg_id(m3), a[1]) != 0, "but not its second");
	is_err(wq_claim(c2, &m4), ENOMSG, "every group busy: ENOMSG");
	wq_msg_free(m1);
	wq_msg_free(m2);
	wq_msg_free(m3);
	wq_consumer_close(c2);
	wq_consumer_close(c1);

	/* ga's lease: its receipt names the group, and lock/ga holds it */
	need((c1 = wq_consumer_open(q, 60)) != NULL, "consumer");
	is_int(t_count("q/cur"), 3, "three leases in cur/");
	{
		char names[4][256];
		size_t n = t_list("q/cur", names, 4), k;

		for (k = 0; k < n && k < 4; k++) {
			need(wq_entry_parse(names[k], 1, &e) == 0, "parse %s",
			    names[k]);
			if (strcmp(e.id, a[0]) == 0)
				break;
		}
		if (ok(k < n, "ga's lease in cur/")) {
			is_str(e.group, "ga", "its receipt names ga");
			snprintf(want, sizeof(want), "%" PRId64 ",%s",
			    e.deadline, e.nonce);
			is_str(lock_of("ga", buf), want,
			    "lock/ga -> DEADLINE,NONCE of the lease");
			ok(wq_ack(q, names[k]) == 0, "ack it");
			is_str(lock_of("ga", buf), "", "lock/ga is gone");
		}
	}
	if (ok(wq_claim(c1, &m1) == 0, "claim")) {
		is_str(wq_msg_id(m1), a[1], "ga's second, now");
		is_str(wq_msg_group(m1), "ga", "wq_msg_group");
		ok(wq_msg_release(m1, 0) == 0, "release it");
		wq_msg_free(m1);
	}
	if (ok(wq_claim(c1, &m1) == 0, "claim")) {
		is_str(wq_msg_id(m1), a[1], "a released message keeps its "
		    "place in front of its group");
		is_int(wq_msg_receive_count(m1), 2, "receive count 2");
		wq_msg_free(m1);
	}
	wq_consumer_close(c1);
	wq_queue_close(q);
	wq_spool_close(s);
}

/* A plain queue has no groups: every name has an empty GROUP. */
static void
test_no_group(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_sender *w;
	struct wq_consumer *c;
	struct wq_msg *m;
	char path[4096];

	need((w = wq_sender_open(q)) != NULL, "wq_sender_open");
	is_err(wq_sender_group(w, "g"), EINVAL,
	    "wq_sender_group on a queue that is not FIFO: EINVAL");
	ok(wq_sender_add(w, "x", 1) == 0 && wq_sender_commit(w) == 0,
	    "send");
	wq_sender_close(w);
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	if (ok(wq_claim(c, &m) == 0, "claim")) {
		ok(wq_msg_group(m) == NULL, "wq_msg_group: NULL");
		ok(strstr(wq_msg_receipt(m), ",,") != NULL,
		    "an empty GROUP in the receipt");
		wq_msg_free(m);
	}
	ok(access(t_path(path, "q/lock"), F_OK) == -1, "no lock/ directory");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_sweep(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct timespec old[2];
	char path[4096];

	t_write("q/tmp/stale", "x", 1);
	t_write("q/tmp/.stale-dot", "x", 1);
	t_write("q/tmp/fresh", "x", 1);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 37 * 3600;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	need(utimensat(AT_FDCWD, t_path(path, "q/tmp/stale"), old, 0) == 0,
	    "utimensat");
	need(utimensat(AT_FDCWD, t_path(path, "q/tmp/.stale-dot"), old, 0) ==
	    0, "utimensat");
	ok(wq_queue_sweep(q) == 0, "wq_queue_sweep");
	ok(access(t_path(path, "q/tmp/stale"), F_OK) == -1,
	    "a file untouched for 37 hours is removed");
	ok(access(t_path(path, "q/tmp/.stale-dot"), F_OK) == -1,
	    "a stale dot file too");
	ok(access(t_path(path, "q/tmp/fresh"), F_OK) == 0,
	    "a fresh one stays");
	wq_queue_close(q);
	wq_spool_close(s);
}

int
main(void)
{
	plan(23);
	TEST(test_order, "claim order is send order");
	TEST(test_empty, "claim on an empty queue: ENOMSG");
	TEST(test_claim_lease, "claim renames into cur/ with count 1");
	TEST(test_ack, "ack removes the message");
	TEST(test_release, "release returns to new/, next count 2");
	TEST(test_release_order,
	    "a released message is served after those already waiting");
	TEST(test_release_delay, "release with a delay");
	TEST(test_expiry, "lease expiry: reclaimed, old receipt stale");
	TEST(test_extend, "extend: new receipt, the old one still works");
	TEST(test_bad_receipts, "garbage receipts: EINVAL");
	TEST(test_peek, "peek does not claim");
	TEST(test_stat, "wq_queue_stat in each state");
	TEST(test_corrupt, "size mismatch: quarantined and skipped");
	TEST(test_not_files, "a FIFO or a directory as a message: quarantined");
	TEST(test_bad_header, "no header: quarantined and skipped");
	TEST(test_valid_after_dirty_stack,
	    "valid messages are not quarantined, whatever is on the stack");
	TEST(test_foreign, "foreign names are ignored and left alone");
	TEST(test_sweep, "wq_queue_sweep removes stale tmp/ files");
	TEST(test_priority, "higher priority first; release keeps it");
	TEST(test_priority_stream, "an urgent message sent mid-stream comes next");
	TEST(test_priority_bad, "wq_sender_priority: range, EBUSY, rank");
	TEST(test_fifo, "FIFO: a tree and a lock per group, names carry it");
	TEST(test_no_group, "a plain queue: empty GROUP, no groups");
	return done();
}
