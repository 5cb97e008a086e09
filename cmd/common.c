/* SPDX-License-Identifier: MIT */
/*
 * common.c — what every wq-* binary does the same way.  Exit statuses are
 * decided here and nowhere else (see EXIT STATUS in each man page).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "common.h"

const char *wqx_dir;

int
wqx_exit_status(int err)
{
	switch (err) {
	case 0:
		return 0;
	case ENOMSG:
		return EX_NEGATIVE;
	case EINVAL: case ENAMETOOLONG: case EDESTADDRREQ:
		return EX_USAGE;
	case EMSGSIZE: case EFBIG: case EBADMSG: case EPROTO: case EILSEQ:
		return EX_DATAERR;
	case ENOENT: case ENOTDIR:
		return EX_NOINPUT;
	case EEXIST:
		return EX_CANTCREAT;
	case EAGAIN: case EBUSY: case ENOBUFS:
		return EX_TEMPFAIL;
	case EACCES: case EPERM:
		return EX_NOPERM;
	default:
		return EX_IOERR;
	}
}

static const char *
describe(int err)
{
	switch (err) {
	case ENOMSG:
		return "no such lease (expired and claimed again, or acked)";
	case EMSGSIZE:
		return "message larger than the queue's max-size";
	case EBADMSG:
		return "corrupt queue or message file";
	case EPROTO:
		return "unknown spool format version";
	default:
		return strerror(err);
	}
}

static int
vline(int reason, int err, const char *queue, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", getprogname());
	if (queue != NULL)
		fprintf(stderr, "%s: ", queue);
	vfprintf(stderr, fmt, ap);
	switch (reason ? wqx_exit_status(err) : 0) {
	case EX_DATAERR: case EX_IOERR: case EX_NOPERM: case EX_TEMPFAIL:
		fprintf(stderr, ": %s", describe(err));
		break;
	}
	fputc('\n', stderr);
	return wqx_exit_status(err);
}

/* "wq-CMD: QUEUE: what happened: why"; returns err's exit status. */
int
wqx_warn(int err, const char *queue, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = vline(1, err, queue, fmt, ap);
	va_end(ap);
	return status;
}

/* "wq-CMD: QUEUE: what happened", no reason added; exit with status. */
void
wqx_fail(int status, const char *queue, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vline(0, 0, queue, fmt, ap);
	va_end(ap);
	exit(status);
}

/* The same line, then exit with err's status. */
void
wqx_die(int err, const char *queue, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = vline(1, err, queue, fmt, ap);
	va_end(ap);
	exit(status);
}

void
wqx_usage_exit(const char *usage, int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: %s %s\n",
	    getprogname(), usage);
	exit(status);
}

/* -d, -h, -V, and anything getopt refused. */
void
wqx_common_option(int ch, const char *usage)
{
	switch (ch) {
	case 'd':
		if (*optarg == '\0')
			wqx_die(EINVAL, NULL, "spool directory is empty");
		wqx_dir = optarg;
		return;
	case 'h':
		wqx_usage_exit(usage, 0);
	case 'V':
		printf("%s %s\n", getprogname(), WQ_VERSION);
		exit(0);
	default:
		wqx_usage_exit(usage, EX_USAGE);
	}
}

uint32_t
wqx_seconds(const char *what, const char *arg, uint32_t min, uint32_t max)
{
	return (uint32_t)wqx_number(what, arg, min, max);
}

int
wqx_integer(const char *what, const char *arg, int min, int max)
{
	return (int)wqx_number(what, arg, min, max);
}

/* A decimal option value in [min, max], or exit 64 saying what is wrong. */
long long
wqx_number(const char *what, const char *arg, long long min, long long max)
{
	const char *errstr;
	long long v;

	v = strtonum(arg, min, max, &errstr);
	if (errstr != NULL)
		wqx_die(EINVAL, NULL, "%s is %s: %s (want %lld to %lld)", what,
		    errstr, arg, min, max);
	return v;
}

/*
 * A point in time as milliseconds since the epoch: "@SECONDS", or ISO 8601
 * "YYYY-MM-DDTHH:MM[:SS]" (a space may stand for the T) in UTC with a "Z"
 * or an offset "+HH:MM", or in local time without either.
 */
int64_t
wqx_time(const char *what, const char *arg)
{
	static const char *const forms[] = { "%Y-%m-%dT%H:%M:%S",
	    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M" };
	const char *errstr, *end = NULL;
	struct tm tm;
	time_t t;
	size_t i;
	int sign, hh, mm, n = 0;

	if (arg[0] == '@') {
		t = (time_t)strtonum(arg + 1, 0, INT64_MAX / 1000, &errstr);
		if (errstr == NULL)
			return (int64_t)t * 1000;
		end = NULL;
	}
	for (i = 0; arg[0] != '@' && end == NULL && i < 4; i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(arg, forms[i], &tm);
	}
	if (end == NULL)
		goto bad;
	if (*end == '\0') {
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			goto bad;
		return (int64_t)t * 1000;
	}
	if (strcmp(end, "Z") == 0)
		sign = 0, hh = mm = 0;
	else if ((*end == '+' || *end == '-') &&
	    sscanf(end + 1, "%2d:%2d%n", &hh, &mm, &n) == 2 &&
	    end[1 + n] == '\0' && hh < 24 && mm < 60)
		sign = *end == '-' ? -1 : 1;
	else
		goto bad;
	if ((t = timegm(&tm)) == (time_t)-1)
		goto bad;
	return ((int64_t)t - sign * (hh * 3600 + mm * 60)) * 1000;
bad:
	wqx_die(EINVAL, NULL, "%s is invalid: %s (want @SECONDS or "
	    "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM])", what, arg);
}

struct wq_spool *
wqx_spool(int create)
{
	struct wq_spool *s;
	const char *dir = wqx_dir ? wqx_dir : wq_default_dir();

	if (dir == NULL)
		wqx_die(EINVAL, NULL,
		    "no spool: set WQ_DIR or HOME, or give -d DIR");
	if ((s = wq_spool_open(dir, create)) == NULL)
		wqx_die(errno, dir, "cannot open spool");
	return s;
}

/* A queue name or path, or exit 64 with the grammar of names. */
void
wqx_check_name(const char *name)
{
	if (strchr(name, '/') == NULL && !wq_name_valid(name))
		wqx_die(EINVAL, name, "invalid queue name (want "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,79} or a path with a /)");
}

struct wq_queue *
wqx_queue(struct wq_spool *s, const char *name)
{
	struct wq_queue *q;

	if ((q = wq_queue_open(s, name)) != NULL)
		return q;
	switch (errno) {
	case EINVAL:
		wqx_check_name(name);
		wqx_die(EINVAL, name, "cannot open queue");
	case ENOENT:
		wqx_die(ENOENT, name, "no such queue (create it with "
		    "wq-create %s)", name);
	default:
		wqx_die(errno, name, "cannot open queue");
	}
}

/*
 * Where pledge(2) exists, narrow the process to what it needs; elsewhere
 * this only documents it.  The one place to add landlock or seccomp.
 */
void
wqx_sandbox(const char *promises)
{
	(void)promises;
}
