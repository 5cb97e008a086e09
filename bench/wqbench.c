/* SPDX-License-Identifier: MIT */
/*
 * wqbench — wq's side of the comparison with other queues.  Each mode
 * works on an existing, empty queue (the harness makes it with
 * wq-create, in the sync mode it wants to measure) and prints one row
 * per measured phase:
 *   RESULT wq CONFIG PHASE N SECONDS OPS_PER_S US_PER_OP
 * tab-separated, CONFIG being the -t tag (default "wq").
 *
 *   loop     one process, through libwq: "enqueue-lib" sends N bodies of
 *            SIZE bytes through one sender (a commit per
 *            WQ_SEND_GROUP_MAX), then "dequeue-lib" claims, reads and
 *            acks them all through one consumer.
 *   mpmc     "2p2c": two producer and two consumer processes at once,
 *            each with its own spool and queue handles; from their
 *            common start to the last consumer's exit, N messages in all.
 *   wake     how long a blocked `wq-recv -w` takes to deliver a message
 *            sent while it sleeps ("wake-median", "wake-p99": SECONDS is
 *            the latency), next to the same for /bin/cat reading a pipe
 *            ("wake-pipe-median", "wake-pipe-p99"), the two interleaved.
 *   oneshot  the median cost of one process: /bin/true, touch, and the
 *            wq-send, wq-recv, wq-ack, wq-stat, wq-create and wq-rm
 *            commands, each spawned and waited for, interleaved run by
 *            run.
 *
 * usage: wqbench loop|mpmc -d SPOOL [-n N] [-s SIZE] [-t TAG] QUEUE
 *        wqbench wake|oneshot -d SPOOL -b BINDIR [-r RUNS] [-t TAG] QUEUE
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wq.h"
#include "bench.h"

#define WAKE_BODY	100	/* bytes of the message a sleeper waits for */
#define ASLEEP_TIMEOUT	5.0	/* seconds a child may take to fall asleep */

extern char **environ;

struct opts {
	const char	*dir, *bindir, *tag, *queue;
	long		 n, runs;
	size_t		 size;
};

/* What the processes of mpmc share: MAP_SHARED, so seen by all. */
struct shared {
	long		 acked;
	pid_t		 consumers[2];
};

static volatile unsigned long sink;	/* keeps body reads from vanishing */

static noreturn void
usage(void)
{
	fprintf(stderr, "usage: wqbench loop|mpmc -d SPOOL [-n N] [-s SIZE] "
	    "[-t TAG] QUEUE\n"
	    "       wqbench wake|oneshot -d SPOOL -b BINDIR [-r RUNS] "
	    "[-t TAG] QUEUE\n");
	exit(64);
}

static void
result(const struct opts *o, const char *phase, long n, double secs)
{
	printf("RESULT\twq\t%s\t%s\t%ld\t%.6f\t%.0f\t%.3f\n", o->tag, phase,
	    n, secs, n / secs, secs * 1e6 / n);
	fflush(stdout);
}

/* A latency as a row: one operation took secs; n says how many runs. */
static void
latency(const struct opts *o, const char *phase, long n, double secs)
{
	printf("RESULT\twq\t%s\t%s\t%ld\t%.6f\t%.0f\t%.3f\n", o->tag, phase,
	    n, secs, 1 / secs, secs * 1e6);
	fflush(stdout);
}

/* The p-th percentile by nearest rank (p = 50 is the lower median). */
static double
percentile(double *v, long n, int p)
{
	long k = (p * n + 99) / 100;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	if (k < 1)
		k = 1;
	return v[k - 1];
}

static double *
xcalloc_d(long n)
{
	double *v;

	if ((v = calloc((size_t)n, sizeof(*v))) == NULL)
		err(1, "calloc");
	return v;
}

static struct wq_queue *
open_queue(const struct opts *o, struct wq_spool **sp)
{
	struct wq_queue *q;

	if ((*sp = wq_spool_open(o->dir, 0)) == NULL)
		err(1, "%s", o->dir);
	if ((q = wq_queue_open(*sp, o->queue)) == NULL)
		err(1, "%s/%s", o->dir, o->queue);
	return q;
}

static void
close_queue(struct wq_spool *sp, struct wq_queue *q)
{
	wq_queue_close(q);
	wq_spool_close(sp);
}

/* Leftovers would be counted as ours, or left behind by a mode. */
static void
require_empty(struct wq_queue *q)
{
	struct wq_stat st;

	if (wq_queue_stat(q, &st) == -1)
		err(1, "wq_queue_stat");
	if (st.total != 0)
		errx(1, "queue %s is not empty (%llu messages)",
		    wq_queue_name(q), (unsigned long long)st.total);
}

static char *
make_body(size_t size)
{
	char *b;
	size_t i;

	if ((b = malloc(size)) == NULL)
		err(1, "malloc");
	for (i = 0; i < size; i++)
		b[i] = (char)('a' + i % 26);
	return b;
}

/* Send n bodies through one sender, a commit per full group. */
static void
send_many(struct wq_queue *q, const char *body, size_t size, long n)
{
	struct wq_sender *s;
	long i;

	if ((s = wq_sender_open(q)) == NULL)
		err(1, "wq_sender_open");
	for (i = 0; i < n; i++) {
		if (wq_sender_pending(s) == WQ_SEND_GROUP_MAX &&
		    wq_sender_commit(s) == -1)
			err(1, "wq_sender_commit");
		if (wq_sender_add(s, body, size) == -1)
			err(1, "wq_sender_add");
	}
	if (wq_sender_commit(s) == -1)
		err(1, "wq_sender_commit");
	wq_sender_close(s);
}

/* Read the body of a claimed message, check its size, ack it. */
static void
consume(struct wq_msg *m, size_t size)
{
	const void *body;
	size_t len;

	if (wq_msg_body(m, &body, &len) == -1)
		err(1, "wq_msg_body");
	if (len != size)
		errx(1, "message %s: %zu bytes, not %zu", wq_msg_id(m), len,
		    size);
	sink += *(const unsigned char *)body;
	if (wq_msg_ack(m) == -1)
		err(1, "wq_msg_ack");
	wq_msg_free(m);
}

/* Nothing must be left to claim; the consumer's default lease. */
static void
require_drained(struct wq_queue *q)
{
	struct wq_consumer *c;
	struct wq_msg *m;

	if ((c = wq_consumer_open(q, 0)) == NULL)
		err(1, "wq_consumer_open");
	if (wq_claim(c, &m) == 0)
		errx(1, "a message is left: %s", wq_msg_id(m));
	if (errno != ENOMSG)
		err(1, "wq_claim");
	wq_consumer_close(c);
}

/* --- loop ------------------------------------------------------------ */

static void
dequeue_lib(struct wq_queue *q, size_t size, long n)
{
	struct wq_consumer *c;
	struct wq_msg *m;
	long i;

	/* 0: the queue's own visibility, as wq-recv without -v. */
	if ((c = wq_consumer_open(q, 0)) == NULL)
		err(1, "wq_consumer_open");
	for (i = 0; i < n; i++) {
		if (wq_claim(c, &m) == -1) {
			if (errno == ENOMSG)
				errx(1, "no message after %ld of %ld", i, n);
			err(1, "wq_claim");
		}
		consume(m, size);
	}
	wq_consumer_close(c);
}

static void
mode_loop(const struct opts *o)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	char *body = make_body(o->size);
	double t;

	require_empty(q);
	t = now_s();
	send_many(q, body, o->size, o->n);
	result(o, "enqueue-lib", o->n, now_s() - t);
	t = now_s();
	dequeue_lib(q, o->size, o->n);
	result(o, "dequeue-lib", o->n, now_s() - t);
	require_drained(q);
	free(body);
	close_queue(sp, q);
}

/* --- mpmc ------------------------------------------------------------ */

static void
on_signal(int sig)
{
	(void)sig;
}

/* Block until the parent closes the barrier's write end. */
static void
await_start(int barrier)
{
	char c;

	if (read(barrier, &c, 1) == -1)
		err(1, "barrier");
	close(barrier);
}

static noreturn void
producer(const struct opts *o, long n, int barrier)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	char *body = make_body(o->size);

	await_start(barrier);
	send_many(q, body, o->size, n);
	close_queue(sp, q);
	_exit(0);
}

/*
 * The consumer that acks the last message wakes its sibling at once:
 * else the sibling would sleep out its 100 ms wait and the time to the
 * last exit would measure that sleep, not the queue.
 */
static void
count_ack(struct shared *sh, long total)
{
	int i;

	if (__atomic_add_fetch(&sh->acked, 1, __ATOMIC_SEQ_CST) != total)
		return;
	for (i = 0; i < 2; i++)
		if (sh->consumers[i] != getpid())
			kill(sh->consumers[i], SIGUSR1);
}

/*
 * SIGUSR1 stays blocked but for the waits, whose ppoll unblocks it
 * atomically: a wake-up sent before the wait is not lost.
 */
static noreturn void
consumer(const struct opts *o, struct shared *sh, const sigset_t *waitmask,
    int barrier)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	struct wq_consumer *c;
	struct wq_msg *m;

	if ((c = wq_consumer_open(q, 0)) == NULL)
		err(1, "wq_consumer_open");
	await_start(barrier);
	while (__atomic_load_n(&sh->acked, __ATOMIC_SEQ_CST) < o->n) {
		if (wq_claim(c, &m) == 0) {
			consume(m, o->size);
			count_ack(sh, o->n);
		} else if (errno != ENOMSG)
			err(1, "wq_claim");
		else if (wq_consumer_wait(c, wq_now_ms() + 100, waitmask)
		    == -1)
			err(1, "wq_consumer_wait");
	}
	wq_consumer_close(c);
	close_queue(sp, q);
	_exit(0);
}

static void
reap(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "%s (pid %d) failed, status %#x", what, (int)pid,
		    status);
}

/*
 * Fork the four; they wait on the barrier until its write end is closed.
 * Returns the time of that release.
 */
static double
start_mpmc(const struct opts *o, struct shared *sh, pid_t prod[2],
    const sigset_t *waitmask)
{
	double t;
	int barrier[2], i;

	if (pipe2(barrier, O_CLOEXEC) == -1)
		err(1, "pipe");
	fflush(stdout);
	for (i = 0; i < 4; i++) {
		pid_t pid;

		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			close(barrier[1]);
			if (i < 2)
				producer(o, i == 0 ? o->n - o->n / 2 :
				    o->n / 2, barrier[0]);
			consumer(o, sh, waitmask, barrier[0]);
		}
		if (i < 2)
			prod[i] = pid;
		else
			sh->consumers[i - 2] = pid;
	}
	close(barrier[0]);
	t = now_s();
	close(barrier[1]);	/* the start */
	return t;
}

static void
mode_mpmc(const struct opts *o)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	struct shared *sh;
	sigset_t block, waitmask;
	pid_t prod[2];
	double t;
	int i;

	require_empty(q);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		err(1, "mmap");
	signal(SIGUSR1, on_signal);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
		err(1, "sigprocmask");
	sigdelset(&waitmask, SIGUSR1);
	t = start_mpmc(o, sh, prod, &waitmask);
	for (i = 0; i < 2; i++)
		reap(sh->consumers[i], "consumer");
	t = now_s() - t;
	for (i = 0; i < 2; i++)
		reap(prod[i], "producer");
	if (sh->acked != o->n)
		errx(1, "%ld acked, not %ld", sh->acked, o->n);
	require_drained(q);
	result(o, "2p2c", o->n, t);
	munmap(sh, sizeof(*sh));
	close_queue(sp, q);
}

/* --- processes ------------------------------------------------------- */

/* Spawn argv[0] with stdin and stdout on the given fds (-1: /dev/null). */
static pid_t
spawn(char *const argv[], int in, int out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int e;

	posix_spawn_file_actions_init(&fa);
	if (in == -1)
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out == -1) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
		    O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
		    O_WRONLY, 0);
	} else
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if ((e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) != 0)
		errc(1, e, "spawn %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* A child must exit 0; the error names its command. */
static void
reap_cmd(pid_t pid, char *const argv[])
{
	char what[512];

	snprintf(what, sizeof(what), "%s %s", argv[0],
	    argv[1] != NULL ? argv[1] : "");
	reap(pid, what);
}

/* The state letter of /proc/PID/stat: after the last ')' of the name. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		errx(1, "%s: cannot read", path);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		errx(1, "%s: unexpected format", path);
	return p[2];
}

static void
proc_wchan(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "%s", path);
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * Wait until the child sleeps where it waits for input (its wchan holds
 * `where`): a plain 'S' could also be a sleep on the way there, such as
 * a page fault on its binary.
 */
static void
wait_asleep(pid_t pid, const char *where)
{
	const struct timespec pause = { 0, 100000 };
	double limit = now_s() + ASLEEP_TIMEOUT;
	char wchan[128];

	for (;;) {
		if (proc_state(pid) == 'S') {
			proc_wchan(pid, wchan, sizeof(wchan));
			if (strcmp(wchan, "0") != 0 &&
			    strstr(wchan, where) != NULL)
				return;
		}
		if (now_s() > limit)
			errx(1, "pid %d not asleep in %s after %.0f s",
			    (int)pid, where, ASLEEP_TIMEOUT);
		nanosleep(&pause, NULL);
	}
}

static void
read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		if (n == 0)
			errx(1, "end of output after %zu of %zu bytes", got,
			    len);
		got += (size_t)n;
	}
}

static void
xpipe(int fd[2])
{
	if (pipe2(fd, O_CLOEXEC) == -1)
		err(1, "pipe");
}

/* --- wake ------------------------------------------------------------ */

/* One `wq-recv -w 10` asleep on an empty queue, then a send. */
static double
wake_wq(const struct opts *o, struct wq_queue *q, const char *body)
{
	char bin[4096], buf[WAKE_BODY], id[WQ_ID_MAX];
	char *argv[] = { bin, "-d", (char *)o->dir, "-w", "10",
	    (char *)o->queue, NULL };
	int out[2];
	pid_t pid;
	double t;

	snprintf(bin, sizeof(bin), "%s/wq-recv", o->bindir);
	xpipe(out);
	pid = spawn(argv, -1, out[1]);
	close(out[1]);
	wait_asleep(pid, "poll");
	t = now_s();
	if (wq_send(q, body, WAKE_BODY, id) == -1)
		err(1, "wq_send");
	read_full(out[0], buf, sizeof(buf));
	t = now_s() - t;
	if (memcmp(buf, body, sizeof(buf)) != 0)
		errx(1, "wq-recv printed another body");
	close(out[0]);
	reap_cmd(pid, argv);
	return t;
}

/* The floor: cat asleep on an empty pipe, then a write. */
static double
wake_pipe(const char *body)
{
	char *argv[] = { "/bin/cat", NULL };
	char buf[WAKE_BODY];
	int in[2], out[2];
	pid_t pid;
	double t;

	xpipe(in);
	xpipe(out);
	pid = spawn(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	wait_asleep(pid, "pipe");
	t = now_s();
	if (write(in[1], body, WAKE_BODY) != WAKE_BODY)
		err(1, "write to cat");
	read_full(out[0], buf, sizeof(buf));
	t = now_s() - t;
	close(in[1]);
	close(out[0]);
	reap_cmd(pid, argv);
	return t;
}

static void
mode_wake(const struct opts *o)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	char *body = make_body(WAKE_BODY);
	double *wq = xcalloc_d(o->runs), *cat = xcalloc_d(o->runs);
	long r;

	require_empty(q);
	for (r = 0; r < o->runs; r++) {
		wq[r] = wake_wq(o, q, body);
		cat[r] = wake_pipe(body);
	}
	latency(o, "wake-median", o->runs, median(wq, o->runs));
	latency(o, "wake-p99", o->runs, percentile(wq, o->runs, 99));
	latency(o, "wake-pipe-median", o->runs, median(cat, o->runs));
	latency(o, "wake-pipe-p99", o->runs, percentile(cat, o->runs, 99));
	free(wq);
	free(cat);
	free(body);
	close_queue(sp, q);
}

/* --- oneshot --------------------------------------------------------- */

enum kind { K_TRUE, K_TOUCH, K_SEND, K_RECV, K_ACK, K_STAT, K_CREATE, K_RM,
    KINDS };

static const char *const kind_names[KINDS] = { "bin-true", "touch",
    "wq-send", "wq-recv", "wq-ack", "wq-stat", "wq-create", "wq-rm" };

/* Spawn and wait for one command, output to /dev/null: its seconds. */
static double
timed(char *const argv[])
{
	double t = now_s();

	reap_cmd(spawn(argv, -1, -1), argv);
	return now_s() - t;
}

/* A message leased in-process for an hour: its receipt, for wq-ack. */
static void
lease_one(struct wq_consumer *c, char receipt[WQ_RECEIPT_MAX])
{
	struct wq_msg *m;
	char id[WQ_ID_MAX];

	if (wq_send(wq_consumer_queue(c), "to ack", 6, id) == -1)
		err(1, "wq_send");
	if (wq_claim(c, &m) == -1)
		err(1, "wq_claim");
	snprintf(receipt, WQ_RECEIPT_MAX, "%s", wq_msg_receipt(m));
	wq_msg_free(m);
}

/* The command of one kind in run r; bufs hold its varying parts. */
static void
command(const struct opts *o, enum kind k, long r, const char *receipt,
    char bin[4096], char arg[4096], char *argv[8])
{
	static const char *const cmds[KINDS] = { NULL, NULL, "wq-send",
	    "wq-recv", "wq-ack", "wq-stat", "wq-create", "wq-rm" };
	int i = 0;

	if (k == K_TRUE || k == K_TOUCH) {
		snprintf(bin, 4096, "%s", k == K_TRUE ? "/bin/true" :
		    "/usr/bin/touch");
		snprintf(arg, 4096, "%s/touched-%ld", o->dir, r);
	} else {
		snprintf(bin, 4096, "%s/%s", o->bindir, cmds[k]);
		snprintf(arg, 4096, "c%ld", r);
	}
	argv[i++] = bin;
	if (k == K_TOUCH)
		argv[i++] = arg;
	else if (k != K_TRUE) {
		argv[i++] = "-d";
		argv[i++] = (char *)o->dir;
		argv[i++] = k == K_CREATE || k == K_RM ? arg : (char *)o->queue;
		if (k == K_SEND)
			argv[i++] = "hello";
		if (k == K_ACK)
			argv[i++] = (char *)receipt;
	}
	argv[i] = NULL;
}

/* One run: every kind once, in kind order (wq-send feeds wq-recv). */
static void
oneshot_run(const struct opts *o, struct wq_consumer *c, long r,
    double *t[KINDS])
{
	char bin[4096], arg[4096], receipt[WQ_RECEIPT_MAX], *argv[8];
	int k;

	for (k = 0; k < KINDS; k++) {
		if (k == K_ACK)
			lease_one(c, receipt);
		command(o, k, r, receipt, bin, arg, argv);
		t[k][r] = timed(argv);
		if (k == K_TOUCH && unlink(arg) == -1)
			err(1, "%s", arg);
	}
}

static void
mode_oneshot(const struct opts *o)
{
	struct wq_spool *sp;
	struct wq_queue *q = open_queue(o, &sp);
	struct wq_consumer *c;
	double *t[KINDS];
	long r;
	int k;

	require_empty(q);
	/* A long lease: the message must still be held when wq-ack runs. */
	if ((c = wq_consumer_open(q, 3600)) == NULL)
		err(1, "wq_consumer_open");
	for (k = 0; k < KINDS; k++)
		t[k] = xcalloc_d(o->runs);
	for (r = 0; r < o->runs; r++)
		oneshot_run(o, c, r, t);
	for (k = 0; k < KINDS; k++) {
		latency(o, kind_names[k], o->runs, median(t[k], o->runs));
		free(t[k]);
	}
	wq_consumer_close(c);
	require_drained(q);
	close_queue(sp, q);
}

/* --- main ------------------------------------------------------------ */

static long
number(const char *what, const char *s, long long min, long long max)
{
	const char *errstr;
	long long v;

	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		warnx("%s %s: %s", what, s, errstr);
		usage();
	}
	return (long)v;
}

static void
parse(int argc, char *argv[], struct opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "b:d:n:r:s:t:")) != -1) {
		switch (ch) {
		case 'b':
			o->bindir = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'n':
			o->n = number("-n", optarg, 1, 1000000000);
			break;
		case 'r':
			o->runs = number("-r", optarg, 1, 1000000);
			break;
		case 's':
			o->size = (size_t)number("-s", optarg, 1, 1 << 30);
			break;
		case 't':
			o->tag = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || o->dir == NULL)
		usage();
	o->queue = argv[optind];
}

int
main(int argc, char *argv[])
{
	struct opts o = { .tag = "wq", .n = 10000, .size = 100 };
	const char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];
	parse(argc - 1, argv + 1, &o);
	if (strcmp(mode, "wake") == 0 || strcmp(mode, "oneshot") == 0) {
		if (o.bindir == NULL)
			usage();
		if (o.runs == 0)
			o.runs = mode[0] == 'w' ? 200 : 300;
	}
	if (strcmp(mode, "loop") == 0)
		mode_loop(&o);
	else if (strcmp(mode, "mpmc") == 0)
		mode_mpmc(&o);
	else if (strcmp(mode, "wake") == 0)
		mode_wake(&o);
	else if (strcmp(mode, "oneshot") == 0)
		mode_oneshot(&o);
	else
		usage();
	return 0;
}
