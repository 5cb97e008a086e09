/* SPDX-License-Identifier: MIT */
/*
 * t-wait.c — lib/wait.c: blocking waits.  The first wait sets up the
 * watch and returns at once; later waits sleep until a message arrives
 * (sent by another process), a delayed message falls due, a signal
 * arrives, or the deadline passes.  Also the polling fallback used on
 * network filesystems.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

#define DEADLINE_MS 5000

/* In a child: wait ms, then send body to queue q of the case's spool. */
static pid_t
send_later(long ms, const char *body)
{
	struct wq_spool *s;
	struct wq_queue *q;
	char id[WQ_ID_MAX];
	pid_t pid;

	fflush(stdout);
	need((pid = fork()) != -1, "fork");
	if (pid != 0)
		return pid;
	tap_sleep_ms(ms);
	if ((s = wq_spool_open(tap_dir, 0)) == NULL ||
	    (q = wq_queue_open(s, "q")) == NULL ||
	    wq_send(q, body, strlen(body), id) == -1)
		_exit(1);
	wq_queue_close(q);
	wq_spool_close(s);
	_exit(0);
}

static int
reaped_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Open a consumer and make its first (set-up) wait; the queue is empty. */
static struct wq_consumer *
ready_consumer(struct wq_queue *q)
{
	struct wq_consumer *c;
	struct wq_msg *m;
	long long t0;

	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	is_err(wq_claim(c, &m), ENOMSG, "empty at first");
	t0 = tap_mono_ms();
	ok(wq_consumer_wait(c, wq_now_ms() + DEADLINE_MS, NULL) == 0,
	    "first wait");
	ok(tap_mono_ms() - t0 < DEADLINE_MS / 2,
	    "the first wait returns at once");
	is_err(wq_claim(c, &m), ENOMSG, "still empty");
	return c;
}

/*
 * Wait and claim until a message comes or the deadline passes, the way a
 * caller does.  Returns the message or NULL.
 */
static struct wq_msg *
wait_claim(struct wq_consumer *c, int64_t until, int *waits)
{
	struct wq_msg *m;

	*waits = 0;
	for (;;) {
		if (wq_consumer_wait(c, until, NULL) == -1) {
			diag("wq_consumer_wait: %s", strerror(errno));
			return NULL;
		}
		++*waits;
		if (wq_claim(c, &m) == 0)
			return m;
		if (errno != ENOMSG) {
			diag("wq_claim: %s", strerror(errno));
			return NULL;
		}
		if (wq_now_ms() >= until)
			return NULL;
	}
}

static void
test_first_wait(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	long long t0;

	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	t0 = tap_mono_ms();
	ok(wq_consumer_wait(c, INT64_MAX, NULL) == 0,
	    "first wait with no deadline");
	ok(tap_mono_ms() - t0 < 1000, "returns at once");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_wake_on_send(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c = ready_consumer(q);
	struct wq_msg *m;
	int64_t until;
	int waits;
	pid_t pid;

	pid = send_later(300, "wake up");
	until = wq_now_ms() + DEADLINE_MS;
	m = wait_claim(c, until, &waits);
	if (ok(m != NULL, "a message arrived")) {
		ok(wq_now_ms() < until, "before the deadline");
		ok(t_body_is(m, "wake up"), "the child's message");
		wq_msg_free(m);
	}
	diag("%d wait(s)", waits);
	ok(reaped_ok(pid), "sender exited 0");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_timeout(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c = ready_consumer(q);
	struct wq_msg *m;
	int64_t until;

	until = wq_now_ms() + 300;
	ok(wq_consumer_wait(c, until, NULL) == 0, "wait with a 300 ms deadline");
	ok(wq_now_ms() >= until - 20, "returned at the deadline, not before");
	is_err(wq_claim(c, &m), ENOMSG, "then claim: ENOMSG");
	until = wq_now_ms() - 1000;
	ok(wq_consumer_wait(c, until, NULL) == 0,
	    "a deadline in the past returns");
	is_err(wq_claim(c, &m), ENOMSG, "still nothing");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_wake_on_due(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	char id[WQ_ID_MAX];
	struct wq_msg *m;
	int64_t until, due;
	int waits;

	need(wq_send(q, "later", 5, id) == 0, "send");
	c = NULL;
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	need(wq_claim(c, &m) == 0, "claim");
	due = wq_now_ms() + 1000;
	need(wq_msg_release(m, 1) == 0, "release with a delay of 1 s");
	wq_msg_free(m);
	ok(wq_consumer_wait(c, wq_now_ms() + DEADLINE_MS, NULL) == 0,
	    "first wait");
	is_err(wq_claim(c, &m), ENOMSG, "not yet due");
	until = wq_now_ms() + DEADLINE_MS;
	m = wait_claim(c, until, &waits);
	if (ok(m != NULL, "the delayed message came")) {
		ok(wq_now_ms() < until, "before the deadline");
		ok(wq_now_ms() >= due, "not before it was due");
		is_str(wq_msg_id(m), id, "the same message");
		wq_msg_free(m);
	}
	diag("%d wait(s)", waits);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_wake_on_release(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c, *other;
	char id[WQ_ID_MAX];
	struct wq_msg *m, *held;
	int64_t until;
	int waits;
	pid_t pid;

	need(wq_send(q, "held", 4, id) == 0, "send");
	need((other = wq_consumer_open(q, 60)) != NULL, "other consumer");
	need(wq_claim(other, &held) == 0, "other claims it");
	c = ready_consumer(q);
	fflush(stdout);
	need((pid = fork()) != -1, "fork");
	if (pid == 0) {
		tap_sleep_ms(300);
		_exit(wq_msg_release(held, 0) == 0 ? 0 : 1);
	}
	until = wq_now_ms() + DEADLINE_MS;
	m = wait_claim(c, until, &waits);
	if (ok(m != NULL, "the released message came")) {
		ok(wq_now_ms() < until, "before the deadline");
		is_str(wq_msg_id(m), id, "the same message");
		is_int(wq_msg_receive_count(m), 2, "receive count 2");
		wq_msg_free(m);
	}
	ok(reaped_ok(pid), "releaser exited 0");
	wq_msg_free(held);
	wq_consumer_close(other);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void
test_signal(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c = ready_consumer(q);
	struct sigaction sa;
	sigset_t block, during;
	int64_t until;
	pid_t pid, parent = getpid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	need(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	need(sigprocmask(SIG_BLOCK, &block, &during) == 0, "sigprocmask");
	sigdelset(&during, SIGUSR1);
	fflush(stdout);
	need((pid = fork()) != -1, "fork");
	if (pid == 0) {
		tap_sleep_ms(300);
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	}
	until = wq_now_ms() + DEADLINE_MS;
	ok(wq_consumer_wait(c, until, &during) == 0, "wait");
	ok(got_usr1, "a signal unblocked by the mask interrupted it");
	ok(wq_now_ms() < until, "before the deadline");
	ok(reaped_ok(pid), "signaller exited 0");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

static void
test_polling(void)
{
	struct wq_spool *s = t_spool();
	struct wq_queue *q = t_queue(s, "q", NULL, 0);
	struct wq_consumer *c;
	struct wq_msg *m;
	int64_t until;
	int waits;
	pid_t pid;

	q->remote = 1;		/* as on NFS: no inotify */
	need((c = wq_consumer_open(q, 0)) != NULL, "wq_consumer_open");
	is_err(wq_claim(c, &m), ENOMSG, "empty at first");
	pid = send_later(300, "wake up");
	until = wq_now_ms() + DEADLINE_MS;
	m = wait_claim(c, until, &waits);
	if (ok(m != NULL, "polling finds the message")) {
		ok(wq_now_ms() < until, "before the deadline");
		wq_msg_free(m);
	}
	diag("%d wait(s)", waits);
	ok(waits > 1, "by polling (more than one wait)");
	ok(reaped_ok(pid), "sender exited 0");
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
}

int
main(void)
{
	plan(7);
	TEST(test_first_wait, "the first wait returns at once");
	TEST(test_wake_on_send, "a send by another process wakes the wait");
	TEST(test_timeout, "the wait times out");
	TEST(test_wake_on_due, "a delayed message falling due wakes the wait");
	TEST(test_wake_on_release, "a release wakes the wait");
	TEST(test_signal, "a signal wakes the wait");
	TEST(test_polling, "remote filesystems: polling");
	return done();
}
