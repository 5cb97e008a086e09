/* SPDX-License-Identifier: MIT */
/*
 * wq-recv — claim messages.  Pop (print, then ack once the write
 * succeeded), lease (-L: print with the receipt, leave leased) or exec
 * (-- COMMAND: run it once per message with the body on its standard
 * input; exit 0 acks, anything else releases).  In exec mode the leases of
 * running commands are extended as they run, so a long job is never handed
 * out twice, and up to -j commands run at once.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <stdnoreturn.h>
#include <unistd.h>

extern char **environ;

#include "common.h"

static const char usage[] =
    "[-0flLhV] [-d dir] [-n count] [-w secs] [-v secs] [-j jobs] [--json]\n"
    "       [--peek] [--retry-delay secs] queue [-- command [arg ...]]\n"
    "  -d, --dir DIR           spool directory\n"
    "  -n, --count N           up to N messages (default 1)\n"
    "  -w, --wait SECS         wait up to SECS for a message\n"
    "  -f, --follow            keep receiving forever\n"
    "  -v, --visibility SECS   lease length for these claims\n"
    "  -L, --lease             print receipts, leave messages leased\n"
    "  -l, --lines             newline after each body\n"
    "  -0, --null              NUL after each body\n"
    "      --json              one JSON object per message and line\n"
    "      --peek              show without claiming\n"
    "  -j, --jobs N            with a command: run up to N at once\n"
    "      --retry-delay SECS  with a command: delay before a retry\n"
    "  -h, --help              this text\n"
    "  -V, --version           the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "count",	required_argument,	NULL,	'n' },
	{ "follow",	no_argument,		NULL,	'f' },
	{ "jobs",	required_argument,	NULL,	'j' },
	{ "json",	no_argument,		NULL,	OPT_JSON },
	{ "lease",	no_argument,		NULL,	'L' },
	{ "lines",	no_argument,		NULL,	'l' },
	{ "null",	no_argument,		NULL,	'0' },
	{ "peek",	no_argument,		NULL,	OPT_PEEK },
	{ "retry-delay", required_argument,	NULL,	OPT_RETRY_DELAY },
	{ "visibility",	required_argument,	NULL,	'v' },
	{ "wait",	required_argument,	NULL,	'w' },
	{ NULL,		0,			NULL,	0 }
};

struct opts {
	uint32_t	 count, jobs, retry_delay, visibility, wait;
	int		 follow, lease, json, peek, sep;
	char		**command;
};

struct job {
	pid_t		 pid;
	struct wq_msg	*m;
	int		 lost;	/* the lease could not be extended */
};

/* What exec mode changes of the signal state, to give the commands back. */
struct sigsave {
	sigset_t	 mask;
	struct sigaction term, intr;
};

static const char *qname;

/* SIGTERM and SIGINT received in exec mode (see heed_signals). */
static volatile sig_atomic_t stop_signals;

/* Write one message in the chosen form; 0 when all of it was written. */
static int
output(struct wq_msg *m, const struct opts *o)
{
	const void *body;
	size_t len;
	char *js;

	if (o->json) {
		/* Only a lease's receipt is of use to the reader. */
		if ((js = wq_msg_json(m, o->lease ? 0 : WQ_JSON_NO_RECEIPT))
		    == NULL)
			return -1;
		printf("%s\n", js);
		free(js);
	} else {
		if (wq_msg_body(m, &body, &len) == -1)
			return -1;
		if (o->lease)
			printf("%s\n", wq_msg_receipt(m));
		fwrite(body, 1, len, stdout);
		if (o->sep != -1)
			putchar(o->sep);
	}
	return fflush(stdout) == EOF || ferror(stdout) ? -1 : 0;
}

/*
 * A claim failed.  The likely cause worth naming: a message due for the
 * dead-letter queue (max-receives, retention) when that queue is gone.
 */
static noreturn void
claim_failed(struct wq_consumer *c)
{
	const struct wq_policy *p = wq_queue_policy(wq_consumer_queue(c));

	if (errno == ENOENT && p->dead_letter[0] != '\0')
		wqx_die(ENOENT, qname, "cannot dead-letter a message: no "
		    "queue %s (create it with wq-create %s)", p->dead_letter,
		    p->dead_letter);
	wqx_die(errno, qname, "cannot claim message");
}

/* Claim one message, waiting until `until` (ms) at most. */
static struct wq_msg *
next_message(struct wq_consumer *c, int64_t until, const sigset_t *mask)
{
	struct wq_msg *m;

	for (;;) {
		if (wq_claim(c, &m) == 0)
			return m;
		if (errno != ENOMSG)
			claim_failed(c);
		if (wq_now_ms() >= until)
			return NULL;
		if (wq_consumer_wait(c, until, mask) == -1)
			wqx_die(errno, qname, "cannot wait for messages");
	}
}

static int
run_peek(struct wq_consumer *c, const struct opts *o)
{
	struct wq_msg *m;
	uint32_t got = 0;

	while (got < o->count) {
		if (wq_peek(c, &m) == -1) {
			if (errno == ENOMSG)
				break;
			wqx_die(errno, qname, "cannot read message");
		}
		if (output(m, o) == -1) {
			if (errno != EBADMSG)
				wqx_die(errno, qname, "cannot write message");
			wqx_warn(EBADMSG, qname, "message %s skipped",
			    wq_msg_id(m));
			wq_msg_free(m);
			continue;
		}
		wq_msg_free(m);
		got++;
	}
	return got > 0 ? 0 : EX_NEGATIVE;
}

/* A claimed message whose body is corrupt: the library moved it away. */
static void
corrupt(struct wq_msg *m)
{
	wqx_warn(EBADMSG, qname, "message %s moved to corrupt/",
	    wq_msg_id(m));
	wq_msg_free(m);
}

/* Pop and lease modes. */
static int
run_print(struct wq_consumer *c, const struct opts *o, int64_t until)
{
	struct wq_msg *m;
	uint32_t got = 0;
	int saved;

	while (o->follow || got < o->count) {
		/* After the first message, take only what is there now. */
		if ((m = next_message(c, got > 0 && !o->follow ? 0 : until,
		    NULL)) == NULL)
			break;
		if (output(m, o) == -1) {
			if (errno == EBADMSG) {
				corrupt(m);
				continue;
			}
			saved = errno;
			(void)wq_msg_release(m, 0);
			wqx_die(saved, qname, "cannot write message");
		}
		if (!o->lease && wq_msg_ack(m) == -1)
			wqx_die(errno, qname, "cannot ack message %s",
			    wq_msg_id(m));
		wq_msg_free(m);
		got++;
	}
	return got > 0 ? 0 : EX_NEGATIVE;
}

static void
on_sigchld(int sig)
{
	(void)sig;
}

static void
on_stop(int sig)
{
	(void)sig;
	if (stop_signals < SIG_ATOMIC_MAX)
		stop_signals++;
}

/*
 * Count sig with on_stop, unless it was ignored from the start (as a
 * shell does with SIGINT for a background job): then it stays ignored.
 */
static void
catch_stop(int sig, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	/* One handler at a time: the count is not incremented atomically. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGINT);
	if (sigaction(sig, NULL, old) == 0 && old->sa_handler != SIG_IGN)
		(void)sigaction(sig, &sa, NULL);
}

/*
 * Exec mode: SIGCHLD, SIGTERM and SIGINT are blocked but while waiting in
 * ppoll, so their handlers never interrupt a claim or an ack, and a
 * signal sent while the loop was busy ends the next wait at once.
 */
static void
catch_signals(struct sigsave *ss)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &ss->mask);
	signal(SIGCHLD, on_sigchld);
	catch_stop(SIGTERM, &ss->term);
	catch_stop(SIGINT, &ss->intr);
}

/*
 * The command gets the signal state wq-recv was started with.  The
 * dispositions go back first: a signal that comes before exec then waits
 * for the mask and acts on the command, instead of running our handler in
 * the child, where it would be lost.
 */
static void
restore_signals(const struct sigsave *ss)
{
	signal(SIGCHLD, SIG_DFL);
	(void)sigaction(SIGTERM, &ss->term, NULL);
	(void)sigaction(SIGINT, &ss->intr, NULL);
	sigprocmask(SIG_SETMASK, &ss->mask, NULL);
}

/* Is the command there to run?  Checked before any message is claimed. */
static int
command_exists(const char *cmd)
{
	char path[4096], *dirs, *dir, *save;
	const char *env;
	int found = 0;

	if (strchr(cmd, '/') != NULL)
		return access(cmd, X_OK) == 0;
	if ((env = getenv("PATH")) == NULL || (dirs = strdup(env)) == NULL)
		return 1;	/* let execvp decide */
	for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", *dir ? dir : ".", cmd);
		found = access(path, X_OK) == 0;
	}
	free(dirs);
	return found;
}

/* Remove WQ_ATTR_* and WQ_GROUP that wq-recv itself was given. */
static void
clear_inherited(void)
{
	char name[256], *eq;
	size_t i;

	(void)unsetenv("WQ_GROUP");
	for (i = 0; environ[i] != NULL;) {
		if (strncmp(environ[i], "WQ_ATTR_", 8) != 0 ||
		    (eq = strchr(environ[i], '=')) == NULL ||
		    (size_t)(eq - environ[i]) >= sizeof(name)) {
			i++;
			continue;
		}
		memcpy(name, environ[i], (size_t)(eq - environ[i]));
		name[eq - environ[i]] = '\0';
		if (unsetenv(name) == -1)
			i++;
	}
}

/* WQ_ATTR_<KEY> for each attribute, WQ_GROUP and WQ_PRIORITY. */
static int
export_attrs(struct wq_msg *m)
{
	char name[16 + WQ_ATTR_KEY_MAX], prio[16];
	const char *key, *value;
	size_t i;

	clear_inherited();
	for (i = 0; i < wq_msg_attr_count(m); i++) {
		if (wq_msg_attr(m, i, &key, &value) == -1)
			return -1;
		snprintf(name, sizeof(name), "WQ_ATTR_%s", key);
		if (setenv(name, value, 1) == -1)
			return -1;
	}
	snprintf(prio, sizeof(prio), "%d", wq_msg_priority(m));
	if (setenv("WQ_PRIORITY", prio, 1) == -1)
		return -1;
	if (wq_msg_group(m) != NULL && setenv("WQ_GROUP", wq_msg_group(m), 1)
	    == -1)
		return -1;
	return 0;
}

static void
child(struct wq_msg *m, char **command)
{
	char count[16];
	off_t off;
	int fd;

	fd = wq_msg_body_fd(m, &off);
	if (lseek(fd, off, SEEK_SET) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		_exit(127);
	snprintf(count, sizeof(count), "%" PRIu32, wq_msg_receive_count(m));
	if (setenv("WQ_QUEUE", qname, 1) == -1 ||
	    setenv("WQ_ID", wq_msg_id(m), 1) == -1 ||
	    setenv("WQ_RECEIPT", wq_msg_receipt(m), 1) == -1 ||
	    setenv("WQ_RECEIVE_COUNT", count, 1) == -1 ||
	    export_attrs(m) == -1)
		_exit(127);
	execvp(command[0], command);
	fprintf(stderr, "%s: %s: cannot run %s: %s\n", getprogname(), qname,
	    command[0], strerror(errno));
	_exit(127);
}

static void
spawn(struct job *j, struct wq_msg *m, char **command,
    const struct sigsave *ss)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		(void)wq_msg_release(m, 0);
		wqx_die(errno, qname, "cannot start %s", command[0]);
	}
	if (pid == 0) {
		restore_signals(ss);
		child(m, command);
	}
	j->pid = pid;
	j->m = m;
	j->lost = 0;
}

/* Exit statuses of a command with a meaning beyond "failed". */
#define EXIT_DEAD	100	/* dead-letter the message now (qmail's 100) */
#define EXIT_RETRY	75	/* EX_TEMPFAIL: retry, not counted */

/* A command failed: dead-letter, or release for a retry. */
static void
fail_job(struct job *j, int status, const struct opts *o)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
	const char *what = WIFSIGNALED(status) ? "was killed" : "failed";

	if (WIFEXITED(status) && code == EXIT_DEAD) {
		if (wq_msg_dead(j->m) == 0) {
			wqx_warn(0, qname, "message %s: command exit %d; "
			    "dead-lettered", wq_msg_id(j->m), code);
			return;
		}
		wqx_warn(errno, qname, "message %s: command exit %d; cannot "
		    "dead-letter%s", wq_msg_id(j->m), code, errno ==
		    EDESTADDRREQ ? " (no dead-letter queue set)" : "");
	}
	if ((WIFEXITED(status) && code == EXIT_RETRY ?
	    wq_msg_retry(j->m, o->retry_delay) :
	    wq_msg_release(j->m, o->retry_delay)) == -1)
		wqx_warn(errno, qname, "message %s: command %s; cannot "
		    "release", wq_msg_id(j->m), what);
	else
		wqx_warn(0, qname, "message %s: command %s (status %d); "
		    "released", wq_msg_id(j->m), what, code);
}

/*
 * A command ended: ack on exit 0; dead-letter on 100; release for a
 * retry otherwise (75: without counting the receive).
 */
static void
finish(struct job *j, int status, const struct opts *o)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (wq_msg_ack(j->m) == -1)
			wqx_warn(errno, qname, "message %s done but not acked",
			    wq_msg_id(j->m));
	} else
		fail_job(j, status, o);
	wq_msg_free(j->m);
	j->pid = 0;
	j->m = NULL;
}

static uint32_t
reap(struct job *jobs, const struct opts *o)
{
	uint32_t i, running = 0;
	int status;

	for (i = 0; i < o->jobs; i++) {
		if (jobs[i].pid == 0)
			continue;
		if (waitpid(jobs[i].pid, &status, WNOHANG) == jobs[i].pid)
			finish(&jobs[i], status, o);
		else
			running++;
	}
	return running;
}

/*
 * Extend leases that have less than half their length left; return when
 * the next one will need it.
 */
static int64_t
extend_leases(struct job *jobs, const struct opts *o, uint32_t vis)
{
	int64_t now = wq_now_ms(), half = (int64_t)vis * 500, next = INT64_MAX;
	int64_t due;
	uint32_t i;

	for (i = 0; i < o->jobs; i++) {
		if (jobs[i].pid == 0 || jobs[i].lost)
			continue;
		due = wq_msg_deadline_ms(jobs[i].m) - half;
		if (due <= now) {
			if (wq_msg_extend(jobs[i].m, vis) == -1) {
				/* Say it once; the command runs on. */
				wqx_warn(errno, qname, "message %s: cannot "
				    "extend lease", wq_msg_id(jobs[i].m));
				jobs[i].lost = 1;
				continue;
			}
			due = wq_msg_deadline_ms(jobs[i].m) - half;
		}
		if (due < next)
			next = due;
	}
	return next;
}

static void
sleep_until(int64_t until, const sigset_t *mask)
{
	struct timespec ts;
	int64_t ms = until - wq_now_ms();

	if (ms <= 0)
		return;
	if (ms > 3600 * 1000)
		ms = 3600 * 1000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	(void)ppoll(NULL, 0, &ts, mask);
}

/*
 * Run the handlers of signals that came while they were blocked.  The
 * loop waits in ppoll only when it has nothing to claim or no free slot;
 * without this it would start up to -j more commands after a stop signal.
 */
static void
take_signals(const sigset_t *mask)
{
	const struct timespec zero = { 0, 0 };

	(void)ppoll(NULL, 0, &zero, mask);
}

/* Their messages are released as they die, as for any killed command. */
static void
terminate_jobs(const struct job *jobs, const struct opts *o)
{
	uint32_t i;

	for (i = 0; i < o->jobs; i++)
		if (jobs[i].pid != 0)
			(void)kill(jobs[i].pid, SIGTERM);
}

/*
 * Act on the stop signals that came since the last call; *seen counts
 * those already acted on.  The first one stops the claims, and the
 * running commands are waited for; each one after it forwards SIGTERM to
 * the commands still running.  Returns whether to stop.
 */
static int
heed_signals(const struct job *jobs, const struct opts *o, uint32_t running,
    int *seen)
{
	int n = stop_signals;

	if (n == *seen)
		return n > 0;
	if (*seen == 0 && running > 0)
		wqx_warn(0, qname, "stopping; waiting for %" PRIu32
		    " command%s", running, running == 1 ? "" : "s");
	if (n > 1)
		terminate_jobs(jobs, o);
	*seen = n;
	return 1;
}

/*
 * Claim a message and start the command on it in a free slot.  1: started;
 * 0: nothing claimable; -1: the message claimed was corrupt and has been
 * moved away (claim again).
 */
static int
start_next(struct wq_consumer *c, struct job *jobs, const struct opts *o,
    const struct sigsave *ss)
{
	struct wq_msg *m;
	uint32_t i;
	off_t off;

	if (wq_claim(c, &m) == -1) {
		if (errno != ENOMSG)
			claim_failed(c);
		return 0;
	}
	/* Decode a compressed body before the fork. */
	if (wq_msg_body_fd(m, &off) == -1) {
		if (errno != EBADMSG)
			wqx_die(errno, qname, "cannot read message %s",
			    wq_msg_id(m));
		corrupt(m);
		return -1;
	}
	for (i = 0; jobs[i].pid != 0; i++)
		;
	spawn(&jobs[i], m, o->command, ss);
	return 1;
}

static int
run_exec(struct wq_consumer *c, const struct opts *o, int64_t until)
{
	struct job *jobs;
	struct sigsave ss;
	uint32_t got = 0, running, vis;
	int64_t next_extend;
	int r, seen = 0, stopping, enough;

	if (!command_exists(o->command[0]))
		wqx_die(EINVAL, qname, "%s: command not found", o->command[0]);
	if ((jobs = calloc(o->jobs, sizeof(*jobs))) == NULL)
		wqx_die(errno, qname, "cannot start");
	vis = o->visibility ? o->visibility :
	    wq_queue_policy(wq_consumer_queue(c))->visibility;
	catch_signals(&ss);
	for (;;) {
		take_signals(&ss.mask);
		running = reap(jobs, o);
		next_extend = extend_leases(jobs, o, vis);
		stopping = heed_signals(jobs, o, running, &seen);
		enough = !o->follow && got >= o->count;
		if (running == 0 && (stopping || enough))
			break;
		if (stopping || enough || running == o->jobs) {
			sleep_until(next_extend, &ss.mask);
			continue;
		}
		if ((r = start_next(c, jobs, o, &ss)) != 0) {
			if (r > 0)
				got++;
			continue;
		}
		/* Nothing ready: done, unless still willing to wait. */
		if (running == 0 && !o->follow &&
		    (got > 0 || wq_now_ms() >= until))
			break;
		if (wq_consumer_wait(c, got > 0 && !o->follow ? next_extend :
		    (until < next_extend ? until : next_extend), &ss.mask)
		    == -1)
			wqx_die(errno, qname, "cannot wait");
	}
	free(jobs);
	/*
	 * A follower has no count to reach: stopped by a signal it did its
	 * job, and systemd takes any other status for a failure.
	 */
	return got > 0 || o->follow ? 0 : EX_NEGATIVE;
}

static void
parse_options(int argc, char *argv[], struct opts *o)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "+0d:fhj:lLn:v:Vw:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '0':
			o->sep = '\0';
			break;
		case 'f':
			o->follow = 1;
			break;
		case 'j':
			o->jobs = wqx_seconds("jobs", optarg, 1, 1024);
			break;
		case 'l':
			o->sep = '\n';
			break;
		case 'L':
			o->lease = 1;
			break;
		case 'n':
			o->count = wqx_seconds("count", optarg, 1, UINT32_MAX);
			break;
		case 'v':
			o->visibility = wqx_seconds("visibility", optarg, 1,
			    12 * 3600);
			break;
		case 'w':
			o->wait = wqx_seconds("wait", optarg, 0, 24 * 3600);
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PEEK:
			o->peek = 1;
			break;
		case OPT_RETRY_DELAY:
			o->retry_delay = wqx_seconds("retry delay", optarg, 0,
			    12 * 3600);
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct opts o = { .count = 1, .jobs = 1, .sep = -1 };
	struct wq_spool *s;
	struct wq_queue *q;
	struct wq_consumer *c;
	int64_t until;
	int status;

	parse_options(argc, argv, &o);
	argc -= optind;
	argv += optind;
	if (argc == 0 || (argc > 1 && strcmp(argv[1], "--") != 0) ||
	    (argc == 2))
		wqx_usage_exit(usage, EX_USAGE);
	qname = argv[0];
	o.command = argc > 2 ? argv + 2 : NULL;
	if (o.command != NULL && (o.lease || o.peek || o.json || o.sep != -1))
		wqx_die(EINVAL, qname, "a command does not mix with -L, -l, "
		    "-0, --json or --peek");
	if (o.command == NULL && (o.jobs != 1 || o.retry_delay != 0))
		wqx_die(EINVAL, qname, "-j and --retry-delay go with a "
		    "command");
	if (o.peek && (o.lease || o.follow))
		wqx_die(EINVAL, qname, "--peek does not mix with -L or -f");
	wqx_sandbox(o.command ? "stdio rpath wpath cpath proc exec" :
	    "stdio rpath wpath cpath");
	s = wqx_spool(0);
	q = wqx_queue(s, qname);
	(void)wq_queue_sweep(q);
	if ((c = wq_consumer_open(q, o.visibility)) == NULL)
		wqx_die(errno, qname, "cannot receive");
	until = o.follow ? INT64_MAX : wq_now_ms() + (int64_t)o.wait * 1000;
	if (o.peek)
		status = run_peek(c, &o);
	else if (o.command != NULL)
		status = run_exec(c, &o, until);
	else
		status = run_print(c, &o, until);
	wq_consumer_close(c);
	wq_queue_close(q);
	wq_spool_close(s);
	return status;
}
