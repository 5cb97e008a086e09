/* SPDX-License-Identifier: MIT */
/*
 * wq-redrive — move messages from a dead-letter queue back to the queue
 * each was sent to (or to --to QUEUE), attributes and all, with a fresh
 * receive count.  Each move is one rename, so a crash leaves every
 * message in one of the two queues.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-qhV] [-d dir] [-n count] [--to queue] dead-letter-queue\n"
    "  -d, --dir DIR     spool directory\n"
    "  -n, --count N     move at most N messages (default: all)\n"
    "      --to QUEUE    move them to QUEUE, not where they came from\n"
    "  -q, --quiet       do not print how many were moved\n"
    "  -h, --help        this text\n"
    "  -V, --version     the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "count",	required_argument,	NULL,	'n' },
	{ "quiet",	no_argument,		NULL,	'q' },
	{ "to",		required_argument,	NULL,	OPT_TO },
	{ NULL,		0,			NULL,	0 }
};

int
main(int argc, char *argv[])
{
	struct wq_spool *s;
	struct wq_queue *q;
	const char *to = NULL;
	uint64_t max = UINT64_MAX, moved;
	int ch, qflag = 0, rc;

	while ((ch = getopt_long(argc, argv, "d:hn:qV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			max = wqx_seconds("count", optarg, 1, UINT32_MAX);
			break;
		case 'q':
			qflag = 1;
			break;
		case OPT_TO:
			wqx_check_name(optarg);
			to = optarg;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		wqx_usage_exit(usage, EX_USAGE);
	wqx_sandbox("stdio rpath wpath cpath");
	s = wqx_spool(0);
	q = wqx_queue(s, argv[0]);
	if (to != NULL)
		wq_queue_close(wqx_queue(s, to));	/* 66 if missing */
	rc = wq_redrive(q, to, max, &moved);
	if (!qflag)
		printf("%" PRIu64 "\n", moved);
	if (rc == -1 && errno == EDESTADDRREQ)
		wqx_die(EINVAL, argv[0], "a message does not say which queue "
		    "it came from: give --to QUEUE");
	if (rc == -1 && errno == ENOENT)
		wqx_die(ENOENT, argv[0], "the queue a message came from is "
		    "gone (%" PRIu64 " moved; give --to QUEUE)", moved);
	if (rc == -1)
		wqx_die(errno, argv[0], "cannot redrive (%" PRIu64 " moved)",
		    moved);
	if (fflush(stdout) == EOF)
		wqx_die(errno, argv[0], "cannot write");
	wq_queue_close(q);
	wq_spool_close(s);
	return 0;
}
