/* SPDX-License-Identifier: MIT */
/*
 * wq-stat — how full the queues are: a table, JSON, Prometheus text, or
 * the one status line of a monitoring plugin (--warn, --crit); once, or
 * every -i seconds; on standard output, or replacing a file atomically
 * (-o).  Counts come from directory listings; no message body is read.
 * This file takes the snapshot and prints the table and JSON; Prometheus
 * text is in stat-prom.c, the thresholds and status line in stat-check.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "stat.h"

static const char usage[] =
    "[-hV] [-d dir] [--json | --prom] [-i secs] [-o file]\n"
    "       [--warn expr] [--crit expr] [queue ...]\n"
    "  -d, --dir DIR         spool directory\n"
    "      --json            JSON instead of a table\n"
    "      --prom            Prometheus text format instead of a table\n"
    "  -i, --interval SECS   repeat every SECS seconds\n"
    "  -o, --output FILE     replace FILE atomically instead of stdout\n"
    "      --warn EXPR       WARNING when EXPR holds, such as ready>1000\n"
    "      --crit EXPR       CRITICAL when EXPR holds, such as age>=600\n"
    "  -h, --help            this text\n"
    "  -V, --version         the version";

/* Long-only options of wq-stat alone, numbered past those of common.h. */

static const char shortopts[] = "d:hi:o:V";

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "crit",	required_argument,	NULL,	OPT_CRIT },
	{ "interval",	required_argument,	NULL,	'i' },
	{ "json",	no_argument,		NULL,	OPT_JSON },
	{ "output",	required_argument,	NULL,	'o' },
	{ "prom",	no_argument,		NULL,	OPT_PROM },
	{ "warn",	required_argument,	NULL,	OPT_WARN },
	{ NULL,		0,			NULL,	0 }
};

enum format { FMT_TABLE, FMT_JSON, FMT_PROM, FMT_PLUGIN };

static enum format	 fmt = FMT_TABLE;
static int		 usage_status = EX_USAGE;
static struct thresholds thresholds;	/* --warn and --crit */
static uint32_t		 every;		/* -i SECS, or 0: once */
static const char	*output;	/* -o FILE, or NULL: stdout */
static mode_t		 file_mode;	/* of FILE: 0666 less the umask */

/* The temporary file that becomes FILE, removed if a signal comes first. */
static char			 tmp_path[PATH_MAX];
static volatile sig_atomic_t	 tmp_live;

/* A usage error: one line, then 64, or UNKNOWN (3) under --warn/--crit. */
static noreturn void
bad_usage(const char *what)
{
	wqx_warn(EINVAL, NULL, "%s", what);
	exit(usage_status);
}

/* A failure to read the spool: the usual line and exit status, or under
 * --warn/--crit an UNKNOWN status line on standard output. */
static noreturn void
fail(int err, const char *name, const char *what)
{
	if (fmt != FMT_PLUGIN)
		wqx_die(err, name, "%s", what);
	stat_unknown(err, name, what);
}

/*
 * Whether --warn or --crit is anywhere on the command line, even without
 * its argument: then every usage error is UNKNOWN (3), as monitoring
 * plugins must report it, and that has to be known before the first one.
 */
static int
threshold_mode(int argc, char *argv[])
{
	int ch, found = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1)
		if (ch == OPT_WARN || ch == OPT_CRIT || (ch == '?' &&
		    (optopt == OPT_WARN || optopt == OPT_CRIT)))
			found = 1;
	opterr = 1;
	optind = 0;	/* glibc: start over */
	return found;
}

static void
check_options(int jflag, int pflag, const char *iarg)
{
	if (fmt == FMT_PLUGIN && (jflag || pflag || iarg || output))
		bad_usage("--warn and --crit print one status line: "
		    "no --json, --prom, -i or -o with them");
	if (jflag && pflag)
		bad_usage("--json and --prom exclude each other");
	if (output != NULL && *output == '\0')
		bad_usage("output file name is empty");
	if (iarg != NULL)
		every = wqx_seconds("interval", iarg, 1, 86400);
	if (jflag)
		fmt = FMT_JSON;
	else if (pflag)
		fmt = FMT_PROM;
}

static void
parse_options(int argc, char *argv[])
{
	const char *iarg = NULL;
	int ch, jflag = 0, pflag = 0;

	if (threshold_mode(argc, argv)) {
		fmt = FMT_PLUGIN;
		usage_status = ST_UNKNOWN;
	}
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (*optarg == '\0')
				bad_usage("spool directory is empty");
			wqx_common_option(ch, usage);
			break;
		case 'h': case 'V':
			wqx_common_option(ch, usage);
			break;
		case 'i':
			iarg = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_CRIT:
			stat_add_thresholds(&thresholds, optarg, ST_CRITICAL);
			break;
		case OPT_JSON:
			jflag = 1;
			break;
		case OPT_PROM:
			pflag = 1;
			break;
		case OPT_WARN:
			stat_add_thresholds(&thresholds, optarg, ST_WARNING);
			break;
		default:
			wqx_usage_exit(usage, usage_status);
		}
	}
	check_options(jflag, pflag, iarg);
}

static struct wq_spool *
open_spool(void)
{
	const char *dir = wqx_dir ? wqx_dir : wq_default_dir();
	struct wq_spool *s;

	if (fmt != FMT_PLUGIN)
		return wqx_spool(0);
	if (dir == NULL)
		fail(EINVAL, NULL, "no spool: set WQ_DIR or HOME, or give -d DIR");
	if ((s = wq_spool_open(dir, 0)) == NULL)
		fail(errno, dir, "cannot open spool");
	return s;
}

/* Stat one queue into r: 0, or 1 if it vanished after it was listed. */
static int
stat_queue(struct wq_spool *s, const char *name, int listed, struct row *r)
{
	struct wq_queue *q;

	if ((q = wq_queue_open(s, name)) == NULL) {
		if (listed && errno == ENOENT)
			return 1;
		if (fmt == FMT_PLUGIN)
			fail(errno, name, "cannot open queue");
		q = wqx_queue(s, name);	/* exits with its usual line */
	}
	r->name = name;
	r->pol = *wq_queue_policy(q);
	(void)wq_queue_sweep(q);
	if (wq_queue_stat(q, &r->st) == -1)
		fail(errno, name, "cannot count messages");
	stat_clocks_load(r, q);
	wq_queue_close(q);
	return 0;
}

/* A queue named twice is shown once (Prometheus refuses twin series). */
static int
named_before(char **names, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(names[j], names[i]) == 0)
			return 1;
	return 0;
}

static void
snap_take(struct snapshot *sn, struct wq_spool *s, char **names, size_t n)
{
	size_t i;

	memset(sn, 0, sizeof(*sn));
	if ((sn->all = n == 0)) {
		if (wq_spool_list(s, &sn->listed, &sn->nlisted) == -1)
			fail(errno, wq_spool_path(s), "cannot list queues");
		names = sn->listed;
		n = sn->nlisted;
	}
	if ((sn->rows = calloc(n ? n : 1, sizeof(*sn->rows))) == NULL)
		fail(errno, NULL, "cannot list queues");
	for (i = 0; i < n; i++) {
		if (!sn->all && named_before(names, i))
			continue;
		if (stat_queue(s, names[i], sn->all, &sn->rows[sn->n]) == 0)
			sn->n++;
	}
	sn->now = wq_now_ms();
}

static void
snap_free(struct snapshot *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		stat_clocks_free(&sn->rows[i]);
	free(sn->rows);
	if (sn->all)
		wq_names_free(sn->listed, sn->nlisted);
}

static int
print_table(FILE *fp, const struct snapshot *sn)
{
	char age[32], flags[2048];
	size_t i;

	fprintf(fp, "%-24s %8s %8s %8s %8s %8s %12s  %s\n", "QUEUE", "READY",
	    "DELAYED", "INFLIGHT", "TOTAL", "AGE", "BYTES", "POLICY");
	for (i = 0; i < sn->n; i++) {
		const struct row *r = &sn->rows[i];
		int64_t a = stat_age_seconds(&r->st, sn->now);

		if (a < 0)
			strlcpy(age, "-", sizeof(age));
		else
			snprintf(age, sizeof(age), "%" PRId64 "s", a);
		wqx_policy_flags(&r->pol, flags, sizeof(flags));
		fprintf(fp, "%-24s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8"
		    PRIu64 " %8s %12" PRIu64 "  %s\n", r->name, r->st.ready,
		    r->st.delayed, r->st.inflight, r->st.total, age,
		    r->st.bytes, flags);
	}
	return ferror(fp) ? -1 : 0;
}

/* One array on one line. */
static int
print_json(FILE *fp, const struct snapshot *sn)
{
	json_t *arr = json_array();
	size_t i;
	int rc;

	for (i = 0; i < sn->n; i++)
		json_array_append_new(arr, stat_row_json(&sn->rows[i], sn->now));
	rc = json_dumpf(arr, fp, JSON_COMPACT);
	json_decref(arr);
	if (rc == -1 || putc('\n', fp) == EOF)
		return -1;
	return 0;
}

static void
remove_tmp(void)
{
	if (tmp_live) {
		tmp_live = 0;
		(void)unlink(tmp_path);
	}
}

static void
on_signal(int sig)
{
	remove_tmp();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Writing to standard output fails as every command does; failing to
 * replace -o FILE is an I/O error (74) whatever errno says, and leaves
 * FILE as it was.
 */
static noreturn void
out_fail(const char *what)
{
	int err = errno ? errno : EIO;

	if (output == NULL)
		wqx_die(err, NULL, "%s", what);
	remove_tmp();
	wqx_warn(0, output, "%s: %s", what, strerror(err));
	exit(EX_IOERR);
}

/* Standard output, or a new temporary file beside FILE. */
static FILE *
out_open(void)
{
	FILE *fp;
	int fd;

	if (output == NULL)
		return stdout;
	if ((size_t)snprintf(tmp_path, sizeof(tmp_path), "%s.tmp.XXXXXX",
	    output) >= sizeof(tmp_path)) {
		errno = ENAMETOOLONG;
		out_fail("cannot create a temporary file");
	}
	if ((fd = mkostemp(tmp_path, O_CLOEXEC)) == -1)
		out_fail("cannot create a temporary file");
	tmp_live = 1;
	if (fchmod(fd, file_mode) == -1 || (fp = fdopen(fd, "w")) == NULL)
		out_fail("cannot write a temporary file");
	return fp;
}

/* fsync the directory of path, so that a rename in it is durable. */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	if (rc == -1 && errno == EINVAL)	/* cannot be synced: fine */
		rc = 0;
	close(fd);
	return rc;
}

/* Flush standard output, or put the temporary file in place of FILE. */
static void
out_commit(FILE *fp)
{
	if (fp == stdout) {
		if (fflush(stdout) == EOF)
			wqx_die(errno, NULL, "cannot write");
		return;
	}
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1 || fclose(fp) == EOF)
		out_fail("cannot write a temporary file");
	if (rename(tmp_path, output) == -1)
		out_fail("cannot rename a temporary file over it");
	tmp_live = 0;
	if (sync_dir(output) == -1)
		out_fail("cannot sync its directory");
}

static void
one_round(struct wq_spool *s, char **names, size_t n, int first)
{
	struct snapshot sn;
	FILE *fp;
	int rc;

	snap_take(&sn, s, names, n);
	if (first)
		stat_clocks_warn(&sn);
	fp = out_open();
	if (!first && output == NULL && fmt != FMT_JSON)
		putc('\n', fp);
	if (fmt == FMT_JSON)
		rc = print_json(fp, &sn);
	else if (fmt == FMT_PROM)
		rc = stat_print_prom(fp, &sn);
	else
		rc = print_table(fp, &sn);
	if (rc == -1)
		out_fail("cannot write");
	out_commit(fp);
	snap_free(&sn);
}

/* The next multiple of the interval after now: never drifts, and a round
 * that overran skips the ticks it missed rather than bunching up. */
static void
next_tick(struct timespec *next)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	do
		next->tv_sec += every;
	while (next->tv_sec < now.tv_sec ||
	    (next->tv_sec == now.tv_sec && next->tv_nsec <= now.tv_nsec));
}

static noreturn void
repeat(struct wq_spool *s, char **names, size_t n)
{
	struct timespec next;
	int first = 1;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		one_round(s, names, n, first);
		first = 0;
		next_tick(&next);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
	}
}

static enum state
check(struct wq_spool *s, char **names, size_t n)
{
	struct snapshot sn;
	enum state st;

	snap_take(&sn, s, names, n);
	st = stat_print_status(&sn, &thresholds);
	snap_free(&sn);
	wq_spool_close(s);
	if (fflush(stdout) == EOF)
		return ST_UNKNOWN;
	return st;
}

int
main(int argc, char *argv[])
{
	struct wq_spool *s;
	mode_t mask;

	parse_options(argc, argv);
	argc -= optind;
	argv += optind;
	wqx_sandbox("stdio rpath wpath cpath");
	mask = umask(022);
	umask(mask);
	file_mode = 0666 & ~mask;
	if (output != NULL) {
		signal(SIGHUP, on_signal);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	s = open_spool();
	if (fmt == FMT_PLUGIN)
		return check(s, argv, (size_t)argc);
	if (every > 0)
		repeat(s, argv, (size_t)argc);
	one_round(s, argv, (size_t)argc, 1);
	wq_spool_close(s);
	return 0;
}
