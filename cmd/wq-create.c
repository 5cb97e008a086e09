/* SPDX-License-Identifier: MIT */
/* wq-create — create queues, or change their policy. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-puhV] [-d dir] [--visibility secs] [--sync always|batch|none] "
    "queue ...\n"
    "  -d, --dir DIR          spool directory\n"
    "  -p, --parents          no error if a queue exists\n"
    "  -u, --update           change the policy of existing queues\n"
    "      --visibility SECS  default lease (30)\n"
    "      --sync MODE        durability: always, batch or none\n"
    "  -h, --help             this text\n"
    "  -V, --version          the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "parents",	no_argument,		NULL,	'p' },
	{ "sync",	required_argument,	NULL,	OPT_SYNC },
	{ "update",	no_argument,		NULL,	'u' },
	{ "visibility",	required_argument,	NULL,	OPT_VISIBILITY },
	{ NULL,		0,			NULL,	0 }
};

int
main(int argc, char *argv[])
{
	struct wq_policy pol;
	struct wq_spool *s;
	unsigned setmask = 0, flags = 0;
	int ch, i;

	wq_policy_default(&pol);
	while ((ch = getopt_long(argc, argv, "d:hpuV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			flags |= WQ_CREATE_EXIST_OK;
			break;
		case 'u':
			flags |= WQ_CREATE_UPDATE;
			break;
		case OPT_SYNC:
			if (wq_sync_parse(optarg, &pol.sync) == -1)
				wqx_die(EINVAL, NULL, "sync is invalid: %s "
				    "(want always, batch or none)", optarg);
			setmask |= WQ_POL_SYNC;
			break;
		case OPT_VISIBILITY:
			pol.visibility = wqx_seconds("visibility", optarg, 1,
			    12 * 3600);
			setmask |= WQ_POL_VISIBILITY;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		wqx_usage_exit(usage, EX_USAGE);
	wqx_sandbox("stdio rpath wpath cpath");
	/* Check every name before creating anything. */
	for (i = 0; i < argc; i++)
		wqx_check_name(argv[i]);
	s = wqx_spool(1);
	for (i = 0; i < argc; i++) {
		if (wq_queue_create(s, argv[i], &pol, setmask, flags) == 0)
			continue;
		if (errno == EEXIST)
			wqx_die(EEXIST, argv[i], "queue exists (-p to accept, "
			    "-u to change its policy)");
		wqx_die(errno, argv[i], "cannot create queue");
	}
	wq_spool_close(s);
	return 0;
}
