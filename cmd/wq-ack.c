/* SPDX-License-Identifier: MIT */
/*
 * wq-ack — finish leases: ack (delete), release (back to the queue, now
 * or after a delay) or extend them.  Receipts come as arguments or, for
 * "-", one per line on standard input.  All are checked before any is
 * used, so a malformed one changes nothing; a stale one is refused (exit
 * 1) and changes nothing, and the others are still handled.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-hV] [-d dir] [--release [--delay secs] | --extend secs | --dead] "
    "queue receipt ...\n"
    "  -d, --dir DIR       spool directory\n"
    "      --release       return the messages to the queue\n"
    "      --delay SECS    with --release: ready again after SECS\n"
    "      --extend SECS   extend the leases to SECS from now\n"
    "      --dead          move them to the dead-letter queue now\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n"
    "A receipt of - reads receipts from standard input, one per line.";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "dead",	no_argument,		NULL,	OPT_DEAD },
	{ "delay",	required_argument,	NULL,	OPT_DELAY },
	{ "extend",	required_argument,	NULL,	OPT_EXTEND },
	{ "release",	no_argument,		NULL,	OPT_RELEASE },
	{ NULL,		0,			NULL,	0 }
};

enum action { ACK, RELEASE, EXTEND, DEAD };

struct receipts {
	char	**v;
	size_t	  n;
};

static void
push(struct receipts *r, char *s)
{
	if ((r->v = reallocarray(r->v, r->n + 1, sizeof(*r->v))) == NULL ||
	    (r->v[r->n] = strdup(s)) == NULL)
		wqx_die(errno, NULL, "cannot read receipts");
	r->n++;
}

static void
read_stdin(struct receipts *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0)
			push(r, line);
	}
	if (ferror(stdin))
		wqx_die(errno, NULL, "cannot read receipts");
	free(line);
}

static int
apply(struct wq_queue *q, const char *qname, const char *receipt,
    enum action act, uint32_t secs)
{
	char next[WQ_RECEIPT_MAX];
	int rc = -1;

	switch (act) {
	case ACK:
		rc = wq_ack(q, receipt);
		break;
	case RELEASE:
		rc = wq_release(q, receipt, secs);
		break;
	case EXTEND:
		if ((rc = wq_extend(q, receipt, secs, next)) == 0)
			printf("%s\n", next);
		break;
	case DEAD:
		rc = wq_dead(q, receipt);
		break;
	}
	if (rc == 0)
		return 0;
	if (errno == EDESTADDRREQ)
		wqx_die(EINVAL, qname, "no dead-letter queue set (wq-create "
		    "-u --dead-letter QUEUE %s)", qname);
	return wqx_warn(errno, qname, "%s: %s", receipt,
	    errno == ENOMSG ? "receipt is stale: the lease is no longer held"
	    : "cannot change lease");
}

static enum action
set_action(enum action cur, enum action want)
{
	if (cur != ACK && cur != want)
		wqx_die(EINVAL, NULL, "--release, --extend and --dead do not "
		    "mix");
	return want;
}

int
main(int argc, char *argv[])
{
	struct receipts r = { NULL, 0 };
	struct wq_spool *s;
	struct wq_queue *q;
	enum action act = ACK;
	uint32_t secs = 0;
	int ch, i, dflag = 0, status = 0, st;
	size_t k;

	while ((ch = getopt_long(argc, argv, "d:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_DEAD:
			act = set_action(act, DEAD);
			break;
		case OPT_DELAY:
			secs = wqx_seconds("delay", optarg, 0, 12 * 3600);
			dflag = 1;
			break;
		case OPT_EXTEND:
			act = set_action(act, EXTEND);
			secs = wqx_seconds("extend", optarg, 0, 12 * 3600);
			break;
		case OPT_RELEASE:
			act = set_action(act, RELEASE);
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		wqx_usage_exit(usage, EX_USAGE);
	if (dflag && act != RELEASE)
		wqx_die(EINVAL, NULL, "--delay goes with --release");
	if (act == RELEASE && !dflag)
		secs = 0;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			read_stdin(&r);
		else
			push(&r, argv[i]);
	for (k = 0; k < r.n; k++)
		if (!wq_receipt_valid(r.v[k]))
			wqx_die(EINVAL, argv[0], "%s: not a receipt", r.v[k]);
	wqx_sandbox("stdio rpath wpath cpath");
	s = wqx_spool(0);
	q = wqx_queue(s, argv[0]);
	for (k = 0; k < r.n; k++)
		if ((st = apply(q, argv[0], r.v[k], act, secs)) != 0 &&
		    status == 0)
			status = st;
	if (fflush(stdout) == EOF)
		status = wqx_warn(errno, argv[0], "cannot write receipts");
	wq_queue_close(q);
	wq_spool_close(s);
	for (k = 0; k < r.n; k++)
		free(r.v[k]);
	free(r.v);
	return status;
}
