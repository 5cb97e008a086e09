/* SPDX-License-Identifier: MIT */
/*
 * wq-fsck — check queues against wq(5) and repair them, safely beside
 * running producers and consumers: one line per problem on standard
 * output, `QUEUE: ENTRY: what is wrong[: what was done]', with control
 * characters and backslashes of names as \ooo, so that every problem
 * stays on one line whatever was planted in the spool.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common.h"

static const char usage[] =
    "[-nqhV] [-d dir] [queue ...]\n"
    "  -d, --dir DIR     spool directory\n"
    "  -n, --dry-run     report problems, change nothing\n"
    "  -q, --quiet       do not print the problems\n"
    "  -h, --help        this text\n"
    "  -V, --version     the version";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "dry-run",	no_argument,		NULL,	'n' },
	{ "quiet",	no_argument,		NULL,	'q' },
	{ NULL,		0,			NULL,	0 }
};

/* Print s with control characters and backslashes as octal escapes. */
static void
print_safe(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\%03o", *p);
		else
			putchar(*p);
}

static void
print_problem(void *arg, const char *queue, const char *entry,
    const char *what, const char *done)
{
	if (*(int *)arg)
		return;
	print_safe(queue);
	fputs(": ", stdout);
	print_safe(entry);
	printf(": %s%s%s\n", what, done ? ": " : "", done ? done : "");
}

int
main(int argc, char *argv[])
{
	struct wq_spool *s;
	struct wq_fsck res;
	char **names = NULL;
	size_t n = 0, i;
	unsigned flags = WQ_FSCK_REPAIR;
	int ch, qflag = 0, status = 0, rc;

	while ((ch = getopt_long(argc, argv, "d:hnqV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			flags &= ~WQ_FSCK_REPAIR;
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
	for (i = 0; i < (size_t)argc; i++)
		wqx_check_name(argv[i]);
	wqx_sandbox("stdio rpath wpath cpath");
	s = wqx_spool(0);
	if (argc == 0) {
		if (wq_spool_list(s, &names, &n) == -1)
			wqx_die(errno, wq_spool_path(s), "cannot list the spool");
	}
	memset(&res, 0, sizeof(res));
	for (i = 0; i < (argc ? (size_t)argc : n); i++) {
		const char *q = argc ? argv[i] : names[i];

		if (wq_fsck(s, q, flags, print_problem, &qflag, &res) == 0)
			continue;
		if (errno == ENOENT)
			rc = wqx_warn(ENOENT, q, "no such queue (create it "
			    "with wq-create %s)", q);
		else
			rc = wqx_warn(errno, q, "cannot check queue");
		if (rc > status)
			status = rc;
	}
	if (fflush(stdout) == EOF)
		wqx_die(errno, NULL, "cannot write");
	if (res.failed > 0 && status == 0)
		status = wqx_warn(res.err, NULL, "%u repairs failed",
		    res.failed);
	if (status == 0 && res.found > 0)
		status = 1;
	wq_names_free(names, n);
	wq_spool_close(s);
	return status;
}
