/* SPDX-License-Identifier: MIT */
/*
 * stat.h — what the parts of wq-stat share: one round's counts of the
 * queues asked for, and the fields a queue is measured by.  wq-stat.c
 * takes the snapshot and prints the table and JSON, stat-prom.c prints
 * Prometheus text, stat-check.c the status line of a monitoring plugin.
 * Not part of libwq.
 */
#ifndef WQ_CMD_STAT_H
#define WQ_CMD_STAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include <jansson.h>

#include "wq.h"

/* Monitoring-plugin states: the exit statuses under --warn and --crit. */
enum state { ST_OK, ST_WARNING, ST_CRITICAL, ST_UNKNOWN };

/* What a queue is measured by: thresholds take the fields up to F_AGE. */
enum field {
	F_READY, F_DELAYED, F_INFLIGHT, F_TOTAL, F_BYTES, F_AGE,
	F_VISIBILITY, F_MAX_SIZE
};
#define NFIELDS	(F_AGE + 1)

struct row {
	const char		*name;
	struct wq_stat		 st;
	struct wq_policy	 pol;
	struct wq_host_clock	*clocks;	/* by offset; wq-stat only */
	size_t			 nclocks;
	int64_t			 clock_spread_ms;
};

/* One round's counts of every queue asked for. */
struct snapshot {
	struct row	*rows;
	size_t		 n;
	char		**listed;	/* from wq_spool_list, if no queue named */
	size_t		 nlisted;
	int		 all;		/* no queue named: every queue */
	int64_t		 now;
};

/* The --warn and --crit thresholds in the order given; each is private
 * to stat-check.c. */
struct threshold;
struct thresholds {
	struct threshold	*list;
	size_t			 n;
};

/* stat-row.c */
int64_t	 stat_age_seconds(const struct wq_stat *, int64_t now);
uint64_t stat_row_value(const struct row *, enum field, int64_t now);
json_t	*stat_row_json(const struct row *, int64_t now);

/* stat-clock.c */
void	 stat_clocks_load(struct row *, struct wq_queue *);
void	 stat_clocks_free(struct row *);
int	 stat_clocks_off(const struct row *);
void	 stat_seconds(char *, size_t, int64_t);
void	 stat_clocks_warn(const struct snapshot *);
json_t	*stat_clocks_json(const struct row *);

/* stat-prom.c */
int	 stat_print_prom(FILE *, const struct snapshot *);

/* stat-check.c */
void	 stat_add_thresholds(struct thresholds *, const char *arg,
	    enum state);
enum state stat_print_status(const struct snapshot *,
	    const struct thresholds *);
noreturn void stat_unknown(int err, const char *name, const char *what);

#endif /* WQ_CMD_STAT_H */
