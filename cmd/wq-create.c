/* SPDX-License-Identifier: MIT */
/* wq-create — create queues, or change their policy. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-puhV] [-d dir] [policy options] queue ...\n"
    "  -d, --dir DIR             spool directory\n"
    "  -p, --parents             no error if a queue exists\n"
    "  -u, --update              change the policy of existing queues\n"
    "      --visibility SECS     default lease (30)\n"
    "      --delay SECS          default delivery delay (0)\n"
    "      --retention SECS      drop messages older than this (0: never)\n"
    "      --max-receives N      dead-letter after N receives (0: never)\n"
    "      --dead-letter QUEUE   where dead letters go\n"
    "      --max-size BYTES      largest message (1048576)\n"
    "      --max-depth N         refuse sends beyond N messages (0: no limit)\n"
    "      --fifo                strict order within message groups\n"
    "      --dedup-window SECS   how long deduplication ids count (300)\n"
    "      --content-dedup       deduplicate by body when no id is given\n"
    "      --compress MODE       zstd: never, auto or always\n"
    "      --sync MODE           durability: always, batch or none\n"
    "      --fanout Q1,Q2,...    a topic: deliver to each listed queue\n"
    "      --clock-skew SECS     tolerated clock skew between hosts (1)\n"
    "      --mode OCTAL          directory mode, e.g. 2770, to share\n"
    "      --group GROUP         owning group, to share\n"
    "  -h, --help                this text\n"
    "  -V, --version             the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "clock-skew",	required_argument,	NULL,	OPT_CLOCK_SKEW },
	{ "compress",	required_argument,	NULL,	OPT_COMPRESS },
	{ "content-dedup", no_argument,		NULL,	OPT_CONTENT_DEDUP },
	{ "dead-letter", required_argument,	NULL,	OPT_DEAD_LETTER },
	{ "dedup-window", required_argument,	NULL,	OPT_DEDUP_WINDOW },
	{ "delay",	required_argument,	NULL,	OPT_DELAY },
	{ "fanout",	required_argument,	NULL,	OPT_FANOUT },
	{ "fifo",	no_argument,		NULL,	OPT_FIFO },
	{ "group",	required_argument,	NULL,	OPT_GROUP },
	{ "max-depth",	required_argument,	NULL,	OPT_MAX_DEPTH },
	{ "max-receives", required_argument,	NULL,	OPT_MAX_RECEIVES },
	{ "max-size",	required_argument,	NULL,	OPT_MAX_SIZE },
	{ "mode",	required_argument,	NULL,	OPT_MODE },
	{ "parents",	no_argument,		NULL,	'p' },
	{ "retention",	required_argument,	NULL,	OPT_RETENTION },
	{ "sync",	required_argument,	NULL,	OPT_SYNC },
	{ "update",	no_argument,		NULL,	'u' },
	{ "visibility",	required_argument,	NULL,	OPT_VISIBILITY },
	{ NULL,		0,			NULL,	0 }
};

static void
copy_ref(char *dst, size_t len, const char *what, const char *arg)
{
	if (strlcpy(dst, arg, len) >= len)
		wqx_die(EINVAL, NULL, "%s is too long: %s", what, arg);
}

static uint32_t
octal_mode(const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 8);

	if (*arg == '\0' || *end != '\0' || v > 07777 || (v & 0700) != 0700)
		wqx_die(EINVAL, NULL, "mode is invalid: %s (want octal, such "
		    "as 2770, with rwx for the owner)", arg);
	return (uint32_t)v;
}

/* One policy option into pol; returns the WQ_POL_ bit it sets, or 0. */
static unsigned
policy_option(int ch, struct wq_policy *pol)
{
	switch (ch) {
	case OPT_VISIBILITY:
		pol->visibility = wqx_seconds("visibility", optarg, 1, 12 * 3600);
		return WQ_POL_VISIBILITY;
	case OPT_CLOCK_SKEW:
		pol->clock_skew = wqx_seconds("clock skew", optarg, 0, 3600);
		return WQ_POL_CLOCK_SKEW;
	case OPT_DELAY:
		pol->delay = wqx_seconds("delay", optarg, 0, WQ_DELAY_MAX);
		return WQ_POL_DELAY;
	case OPT_RETENTION:
		pol->retention = (uint64_t)wqx_number("retention", optarg, 0,
		    100LL * 366 * 86400);
		return WQ_POL_RETENTION;
	case OPT_MAX_RECEIVES:
		pol->max_receives = (uint32_t)wqx_number("max-receives", optarg,
		    0, 1000000);
		return WQ_POL_MAX_RECEIVES;
	case OPT_DEAD_LETTER:
		copy_ref(pol->dead_letter, sizeof(pol->dead_letter),
		    "dead-letter queue", optarg);
		return WQ_POL_DEAD_LETTER;
	case OPT_MAX_SIZE:
		pol->max_size = (uint64_t)wqx_number("max-size", optarg, 1,
		    1LL << 40);
		return WQ_POL_MAX_SIZE;
	case OPT_MAX_DEPTH:
		pol->max_depth = (uint64_t)wqx_number("max-depth", optarg, 0,
		    1LL << 48);
		return WQ_POL_MAX_DEPTH;
	case OPT_FIFO:
		pol->fifo = 1;
		return WQ_POL_FIFO;
	case OPT_DEDUP_WINDOW:
		pol->dedup_window = wqx_seconds("dedup window", optarg, 0,
		    WQ_DEDUP_WINDOW_MAX);
		return WQ_POL_DEDUP_WINDOW;
	case OPT_CONTENT_DEDUP:
		pol->dedup = WQ_DEDUP_CONTENT;
		return WQ_POL_DEDUP;
	case OPT_COMPRESS:
		if (wq_compress_parse(optarg, &pol->compress) == -1)
			wqx_die(EINVAL, NULL, "compress is invalid: %s (want "
			    "never, auto or always)", optarg);
		return WQ_POL_COMPRESS;
	case OPT_SYNC:
		if (wq_sync_parse(optarg, &pol->sync) == -1)
			wqx_die(EINVAL, NULL, "sync is invalid: %s "
			    "(want always, batch or none)", optarg);
		return WQ_POL_SYNC;
	case OPT_FANOUT:
		copy_ref(pol->fanout, sizeof(pol->fanout), "fanout", optarg);
		return WQ_POL_FANOUT;
	case OPT_MODE:
		pol->mode = octal_mode(optarg);
		return WQ_POL_MODE;
	case OPT_GROUP:
		copy_ref(pol->group, sizeof(pol->group), "group", optarg);
		return WQ_POL_GROUP;
	}
	return 0;
}

static void
create_failed(const char *queue, const struct wq_policy *pol, unsigned flags)
{
	if (errno == EEXIST)
		wqx_die(EEXIST, queue, "queue exists (-p to accept, -u to "
		    "change its policy)");
	if (errno == EINVAL && (flags & WQ_CREATE_UPDATE))
		wqx_die(EINVAL, queue, "policy refused: max-receives needs "
		    "a dead-letter queue, --fifo cannot change on an existing "
		    "queue, and a topic cannot be FIFO or have a delay");
	if (errno == EINVAL && pol->max_receives > 0 &&
	    pol->dead_letter[0] == '\0')
		wqx_die(EINVAL, queue, "--max-receives needs --dead-letter");
	if (errno == EINVAL && pol->fanout[0] != '\0' &&
	    (pol->fifo || pol->delay > 0))
		wqx_die(EINVAL, queue, "a topic (--fanout) cannot be FIFO or "
		    "have a delay");
	if (errno == EINVAL)
		wqx_die(EINVAL, queue, "policy refused: a queue name in "
		    "--dead-letter or --fanout is invalid");
	if (errno == ENOENT && pol->group[0] != '\0')
		wqx_die(EINVAL, queue, "no such group: %s", pol->group);
	wqx_die(errno, queue, "cannot create queue");
}

int
main(int argc, char *argv[])
{
	struct wq_policy pol;
	struct wq_spool *s;
	unsigned setmask = 0, flags = 0, bit;
	int ch, i;

	wq_policy_default(&pol);
	while ((ch = getopt_long(argc, argv, "d:hpuV", longopts, NULL)) != -1) {
		if ((bit = policy_option(ch, &pol)) != 0) {
			setmask |= bit;
			continue;
		}
		switch (ch) {
		case 'p':
			flags |= WQ_CREATE_EXIST_OK;
			break;
		case 'u':
			flags |= WQ_CREATE_UPDATE;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		wqx_usage_exit(usage, EX_USAGE);
	wqx_sandbox("stdio rpath wpath cpath fattr chown getpw");
	/* Check every name before creating anything. */
	for (i = 0; i < argc; i++)
		wqx_check_name(argv[i]);
	s = wqx_spool(1);
	for (i = 0; i < argc; i++)
		if (wq_queue_create(s, argv[i], &pol, setmask, flags) == -1)
			create_failed(argv[i], &pol, flags);
	wq_spool_close(s);
	return 0;
}
