/* SPDX-License-Identifier: MIT */
/*
 * wq-rm — delete queues, or with --purge delete their messages and keep
 * the queues.  Every name is checked before anything is touched; a queue
 * that fails is reported and the others are still handled.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-fhPvV] [-d dir] queue ...\n"
    "  -d, --dir DIR    spool directory\n"
    "  -f, --force      no error if a queue does not exist\n"
    "  -P, --purge      delete the messages, keep the queues\n"
    "  -v, --verbose    print what was removed\n"
    "  -h, --help       this text\n"
    "  -V, --version    the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "force",	no_argument,		NULL,	'f' },
	{ "purge",	no_argument,		NULL,	'P' },
	{ "verbose",	no_argument,		NULL,	'v' },
	{ NULL,		0,			NULL,	0 }
};

static int fflag, vflag;

static int
missing(const char *name)
{
	if (fflag)
		return 0;
	return wqx_warn(ENOENT, name, "no such queue (-f to accept)");
}

static int
remove_queue(struct wq_spool *s, const char *name)
{
	if (wq_queue_remove(s, name) == 0) {
		if (vflag)
			printf("removed queue %s\n", name);
		return 0;
	}
	switch (errno) {
	case ENOENT:
		return missing(name);
	case ENOTDIR:
		return wqx_warn(ENOTDIR, name, "not a queue directory "
		    "(it has no policy file): not removed");
	case EINVAL:
		return wqx_warn(EINVAL, name, "invalid queue path");
	default:
		return wqx_warn(errno, name, "cannot remove queue");
	}
}

static int
purge_queue(struct wq_spool *s, const char *name)
{
	struct wq_queue *q;
	uint64_t n = 0;
	int rc, saved;

	if ((q = wq_queue_open(s, name)) == NULL) {
		if (errno == ENOENT)
			return missing(name);
		return wqx_warn(errno, name, "cannot open queue");
	}
	rc = wq_queue_purge(q, &n);
	saved = errno;
	wq_queue_close(q);
	if (vflag)
		printf("purged %" PRIu64 " messages from %s\n", n, name);
	if (rc == -1)
		return wqx_warn(saved, name, "cannot purge queue");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct wq_spool *s;
	int ch, i, pflag = 0, status = 0, st;

	while ((ch = getopt_long(argc, argv, "d:fhPvV", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'f':
			fflag = 1;
			break;
		case 'P':
			pflag = 1;
			break;
		case 'v':
			vflag = 1;
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
	/* Check every name before removing anything. */
	for (i = 0; i < argc; i++)
		wqx_check_name(argv[i]);
	s = wqx_spool(0);
	/* Finish removals that an earlier wq-rm left half-done. */
	if (!pflag && wq_spool_sweep(s) == -1)
		status = wqx_warn(errno, wq_spool_path(s), "cannot remove the "
		    "remains of an interrupted removal");
	for (i = 0; i < argc; i++) {
		st = pflag ? purge_queue(s, argv[i]) : remove_queue(s, argv[i]);
		if (st != 0 && status == 0)
			status = st;
	}
	if (fflush(stdout) == EOF && status == 0)
		status = wqx_warn(errno, NULL, "cannot write output");
	wq_spool_close(s);
	return status;
}
