/* SPDX-License-Identifier: MIT */
/*
 * common.h — helpers the wq-* binaries share (and tests may borrow): the
 * one mapping from errors to exit statuses, the one error-line format,
 * and the options every binary spells the same way.  Not part of libwq.
 */
#ifndef WQ_CMD_COMMON_H
#define WQ_CMD_COMMON_H

#include <stdint.h>
#include <stdnoreturn.h>

#include <jansson.h>

#include "wq.h"

#define EX_NEGATIVE	1	/* no message; stale receipt */

/* Long-only options, numbered past any short option character. */
enum {
	OPT_JSON = 256, OPT_PEEK, OPT_RETRY_DELAY, OPT_VISIBILITY, OPT_SYNC,
	OPT_RELEASE, OPT_DELAY, OPT_EXTEND, OPT_AT, OPT_GROUP, OPT_DEDUP,
	OPT_DEAD, OPT_RETENTION, OPT_MAX_RECEIVES, OPT_DEAD_LETTER,
	OPT_MAX_SIZE, OPT_MAX_DEPTH, OPT_FIFO, OPT_DEDUP_WINDOW,
	OPT_CONTENT_DEDUP, OPT_COMPRESS, OPT_FANOUT, OPT_MODE, OPT_CLOCK_SKEW,
	OPT_TO, OPT_PROM, OPT_WARN, OPT_CRIT
};


#define WQX_COMMON_LONGOPTS \
	{ "dir",	required_argument,	NULL,	'd' }, \
	{ "help",	no_argument,		NULL,	'h' }, \
	{ "version",	no_argument,		NULL,	'V' }

int	 wqx_exit_status(int err);
int	 wqx_warn(int err, const char *queue, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
noreturn void wqx_die(int err, const char *queue, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
noreturn void wqx_fail(int status, const char *queue, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
noreturn void wqx_usage_exit(const char *usage, int status);
void	 wqx_common_option(int ch, const char *usage);
uint32_t wqx_seconds(const char *what, const char *arg, uint32_t min,
	    uint32_t max);
int	 wqx_integer(const char *what, const char *arg, int min, int max);
long long wqx_number(const char *what, const char *arg, long long min,
	    long long max);
int64_t	 wqx_time(const char *what, const char *arg);
struct wq_spool *wqx_spool(int create);
void	 wqx_check_name(const char *);
struct wq_queue *wqx_queue(struct wq_spool *, const char *name);
void	 wqx_sandbox(const char *promises);
void	 wqx_policy_flags(const struct wq_policy *, char *, size_t);
json_t	*wqx_policy_json(const struct wq_policy *);

extern const char *wqx_dir;	/* -d DIR, or NULL */

#endif /* WQ_CMD_COMMON_H */
