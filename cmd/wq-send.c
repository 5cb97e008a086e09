/* SPDX-License-Identifier: MIT */
/*
 * wq-send — send messages: each BODY argument, each -f FILE, standard
 * input whole, or one per line (-l) or NUL-terminated record (-0).
 * Streams commit in groups: a group ends when it is full or when the
 * input has nothing more to give right now, so a slow producer's messages
 * are not held back waiting for company.  Ids are printed only after
 * their group is committed (durable under sync always and batch).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "[-0lqhV] [-d dir] [-f file]... [-p prio] [--delay secs | --at time]\n"
    "       [-a key=value]... [--group group] [--dedup id] queue [body ...]\n"
    "  -d, --dir DIR          spool directory\n"
    "  -f, --file FILE        send the contents of FILE (repeatable)\n"
    "  -l, --lines            one message per line of standard input\n"
    "  -0, --null             one message per NUL-terminated record\n"
    "  -q, --quiet            print no ids\n"
    "  -p, --priority N       -100 (least urgent) to 100 (most); 0\n"
    "      --delay SECS       ready only after SECS\n"
    "      --at TIME          ready only at TIME (@EPOCH or ISO 8601)\n"
    "  -a, --attr KEY=VALUE   an attribute (repeatable)\n"
    "      --group GROUP      message group of a FIFO queue\n"
    "      --dedup ID         deduplication id: a repeat is not sent again\n"
    "  -h, --help             this text\n"
    "  -V, --version          the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "at",		required_argument,	NULL,	OPT_AT },
	{ "attr",	required_argument,	NULL,	'a' },
	{ "dedup",	required_argument,	NULL,	OPT_DEDUP },
	{ "delay",	required_argument,	NULL,	OPT_DELAY },
	{ "file",	required_argument,	NULL,	'f' },
	{ "group",	required_argument,	NULL,	OPT_GROUP },
	{ "lines",	no_argument,		NULL,	'l' },
	{ "null",	no_argument,		NULL,	'0' },
	{ "priority",	required_argument,	NULL,	'p' },
	{ "quiet",	no_argument,		NULL,	'q' },
	{ NULL,		0,			NULL,	0 }
};

/* What the options ask of every message of this run. */
struct send_opts {
	int		 priority, prio_set, delay_set, at_set;
	uint32_t	 delay;
	int64_t		 at;
	const char	*group, *dedup;
	char		**attrs;
	size_t		 nattrs;
};

static int qflag;
static const char *qname;

struct reader {
	int	 fd;
	char	*buf;
	size_t	 cap, start, end;
	int	 eof;
};

/* Commit the group and print its ids; on failure print what made it. */
static void
commit(struct wq_sender *s)
{
	size_t i;
	int rc, saved;

	rc = wq_sender_commit(s);
	saved = errno;
	for (i = 0; !qflag && i < wq_sender_committed(s); i++)
		printf("%s\n", wq_sender_id(s, i));
	if (fflush(stdout) == EOF)
		wqx_die(errno, qname, "cannot write ids");
	if (rc == -1 && saved == EAGAIN)
		wqx_die(saved, qname, "queue is full (max-depth %llu): %zu "
		    "message%s not sent", (unsigned long long)wq_queue_policy(
		    wq_sender_queue(s))->max_depth, wq_sender_refused(s),
		    wq_sender_refused(s) == 1 ? "" : "s");
	/*
	 * ENOENT here is not the "no such queue" of opening it: the queue
	 * was removed meanwhile, or a file of this send vanished under it
	 * (seen on NFS: a tmp/ file the server removed).  Say which errno,
	 * which the line would otherwise leave out.
	 */
	if (rc == -1 && wqx_exit_status(saved) == EX_NOINPUT)
		wqx_die(saved, qname, "cannot send: %s (the queue was removed, "
		    "or a file of this send vanished, meanwhile)",
		    strerror(saved));
	if (rc == -1)
		wqx_die(saved, qname, "cannot send");
}

/*
 * The messages before one that cannot be written are still sent (and
 * reported); the error is the one of the write, which commit() must not
 * overwrite: an EIO read back as the ENOENT of a later call said "no
 * such queue" (exit 66).
 */
static void
add(struct wq_sender *s, const void *body, size_t len)
{
	int saved;

	if (wq_sender_pending(s) == WQ_SEND_GROUP_MAX)
		commit(s);
	if (wq_sender_add(s, body, len) == 0)
		return;
	saved = errno;
	commit(s);
	if (saved == EMSGSIZE)
		wqx_die(EMSGSIZE, qname, "message of %zu bytes not sent", len);
	wqx_die(saved, qname, "cannot write message");
}

static void
add_fd(struct wq_sender *s, int fd, const char *what)
{
	int saved;

	if (wq_sender_pending(s) == WQ_SEND_GROUP_MAX)
		commit(s);
	if (wq_sender_add_fd(s, fd) == 0)
		return;
	saved = errno;
	commit(s);
	wqx_die(saved, qname, "%s not sent", what);
}

static int
input_waiting(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Fill the buffer; commit first if reading would make messages wait. */
static int
fill(struct reader *r, struct wq_sender *s, uint64_t max)
{
	ssize_t n;
	char *nb;
	int saved;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		if (r->cap > max)
			return -1;	/* a record over max-size */
		if ((nb = realloc(r->buf, r->cap * 2)) == NULL)
			wqx_die(errno, qname, "cannot read input");
		r->buf = nb;
		r->cap *= 2;
	}
	if (wq_sender_pending(s) > 0 && !input_waiting(r->fd))
		commit(s);
	while ((n = read(r->fd, r->buf + r->end, r->cap - r->end)) == -1)
		if (errno != EINTR) {
			/* The whole records read so far are sent, as when
			 * a later one is too large; none is left in tmp/. */
			saved = errno;
			commit(s);
			wqx_die(saved, qname, "cannot read input");
		}
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

static void
send_records(struct wq_sender *s, int delim, uint64_t max)
{
	struct reader r = { .fd = STDIN_FILENO, .cap = 65536 };
	char *p;

	if ((r.buf = malloc(r.cap)) == NULL)
		wqx_die(errno, qname, "cannot read input");
	for (;;) {
		p = memchr(r.buf + r.start, delim, r.end - r.start);
		if (p != NULL) {
			add(s, r.buf + r.start, (size_t)(p - (r.buf + r.start)));
			r.start = (size_t)(p - r.buf) + 1;
			continue;
		}
		if (r.eof) {
			if (r.start < r.end)
				add(s, r.buf + r.start, r.end - r.start);
			break;
		}
		if (fill(&r, s, max) == -1) {
			commit(s);
			wqx_die(EMSGSIZE, qname, "record longer than %llu "
			    "bytes not sent", (unsigned long long)max);
		}
	}
	free(r.buf);
}

static void
send_files(struct wq_sender *s, char **files, size_t n)
{
	size_t i;
	int fd;

	/* Open them all first: a missing file sends nothing at all. */
	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0)
			continue;
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) == -1)
			wqx_die(errno == ENOENT ? EINVAL : errno, qname,
			    "cannot open %s: %s", files[i], strerror(errno));
		close(fd);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(files[i], "-") == 0) {
			add_fd(s, STDIN_FILENO, "standard input");
			continue;
		}
		if ((fd = open(files[i], O_RDONLY | O_CLOEXEC)) == -1)
			wqx_die(errno, qname, "cannot open %s", files[i]);
		add_fd(s, fd, files[i]);
		close(fd);
	}
}

static void
push_attr(struct send_opts *so, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL)
		wqx_die(EINVAL, NULL, "attribute is not KEY=VALUE: %s", arg);
	if (eq == arg)
		wqx_fail(EX_DATAERR, NULL, "attribute has an empty key: %s",
		    arg);
	so->attrs = reallocarray(so->attrs, so->nattrs + 1,
	    sizeof(*so->attrs));
	if (so->attrs == NULL)
		wqx_die(errno, NULL, "cannot parse options");
	so->attrs[so->nattrs++] = arg;
}

/* Apply the options to the sender; bad values are refused before any send. */
static void
configure(struct wq_sender *s, struct send_opts *so)
{
	size_t i;
	char *eq;

	if (so->prio_set && wq_sender_priority(s, so->priority) == -1)
		wqx_die(EINVAL, qname, "priority %d: %s", so->priority,
		    wq_queue_policy(wq_sender_queue(s))->fifo ?
		    "FIFO queues serve in send order, without priorities" :
		    "want -100 to 100");
	if ((so->delay_set && wq_sender_delay(s, so->delay) == -1) ||
	    (so->at_set && wq_sender_at(s, so->at) == -1))
		wqx_die(EINVAL, qname, "per-message delays do not apply to "
		    "FIFO queues and topics (give the queue a --delay)");
	if (so->group != NULL && !wq_group_valid(so->group))
		wqx_die(EINVAL, qname, "invalid group (want "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,63})");
	if (so->group != NULL && wq_sender_group(s, so->group) == -1)
		wqx_die(EINVAL, qname, "group %s: groups are for FIFO queues "
		    "(wq-create --fifo)", so->group);
	if (so->dedup != NULL && wq_sender_dedup(s, so->dedup) == -1)
		wqx_die(EINVAL, qname, "invalid deduplication id (want 1 to "
		    "%d bytes, no newline)", WQ_DEDUP_ID_MAX);
	for (i = 0; i < so->nattrs; i++) {
		eq = strchr(so->attrs[i], '=');
		*eq = '\0';
		if (wq_sender_attr(s, so->attrs[i], eq + 1) == 0)
			continue;
		if (errno != EILSEQ && errno != EMSGSIZE)
			wqx_die(errno, qname, "cannot set attribute");
		wqx_fail(EX_DATAERR, qname, "attribute %s: %s", so->attrs[i],
		    !wq_attr_key_valid(so->attrs[i]) ? "invalid key (want "
		    "[A-Za-z_][A-Za-z0-9_]{0,63})" : errno == EMSGSIZE ?
		    "too many attributes (at most 64, and 3.5 KiB in all)" :
		    "invalid value (want UTF-8 text without control "
		    "characters, up to 1024 bytes)");
	}
}

int
main(int argc, char *argv[])
{
	struct send_opts so = { 0 };
	char bad[256];
	struct wq_spool *sp;
	struct wq_queue *q;
	struct wq_sender *s;
	char **files = NULL;
	size_t nfiles = 0;
	int ch, delim = -1, i;

	while ((ch = getopt_long(argc, argv, "0a:d:f:hlp:qV", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'a':
			push_attr(&so, optarg);
			break;
		case 'p':
			so.priority = wqx_integer("priority", optarg,
			    WQ_PRIORITY_MIN, WQ_PRIORITY_MAX);
			so.prio_set = 1;
			break;
		case OPT_AT:
			so.at = wqx_time("time", optarg);
			so.at_set = 1;
			break;
		case OPT_DELAY:
			so.delay = wqx_seconds("delay", optarg, 0,
			    WQ_DELAY_MAX);
			so.delay_set = 1;
			break;
		case OPT_GROUP:
			so.group = optarg;
			break;
		case OPT_DEDUP:
			so.dedup = optarg;
			break;
		case '0':
			delim = '\0';
			break;
		case 'f':
			files = reallocarray(files, nfiles + 1, sizeof(*files));
			if (files == NULL)
				wqx_die(errno, NULL, "cannot parse options");
			files[nfiles++] = optarg;
			break;
		case 'l':
			delim = '\n';
			break;
		case 'q':
			qflag = 1;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		wqx_usage_exit(usage, EX_USAGE);
	qname = argv[0];
	if ((argc > 1 || nfiles > 0) && delim != -1)
		wqx_die(EINVAL, qname, "-l and -0 read standard input: no "
		    "body arguments or -f with them");
	if (argc > 1 && nfiles > 0)
		wqx_die(EINVAL, qname, "body arguments and -f do not mix");
	if (so.delay_set && so.at_set)
		wqx_die(EINVAL, qname, "--delay and --at do not mix");
	if (so.dedup != NULL && (argc > 2 || nfiles > 1 || delim != -1))
		wqx_die(EINVAL, qname, "--dedup names one message: one BODY, "
		    "one -f FILE or standard input whole");
	wqx_sandbox("stdio rpath wpath cpath");
	sp = wqx_spool(0);
	q = wqx_queue(sp, qname);
	if ((s = wq_sender_open(q)) == NULL)
		wqx_die(errno, qname, "cannot send");
	if (wq_topic_check(q, bad, sizeof(bad)) == -1)
		wqx_die(errno, qname, "subscriber %s: cannot open queue%s", bad,
		    errno == ENOENT ? " (no such queue)" : "");
	configure(s, &so);
	if (argc > 1) {
		/* All or nothing: no body is sent if one is too large. */
		for (i = 1; i < argc; i++)
			if (strlen(argv[i]) > wq_queue_policy(q)->max_size)
				wqx_die(EMSGSIZE, qname, "message %d of %zu "
				    "bytes: nothing sent", i, strlen(argv[i]));
		for (i = 1; i < argc; i++)
			add(s, argv[i], strlen(argv[i]));
	}
	else if (nfiles > 0)
		send_files(s, files, nfiles);
	else if (delim != -1)
		send_records(s, delim, wq_queue_policy(q)->max_size);
	else
		add_fd(s, STDIN_FILENO, "standard input");
	commit(s);
	wq_sender_close(s);
	wq_queue_close(q);
	wq_spool_close(sp);
	free(files);
	free(so.attrs);
	return 0;
}
