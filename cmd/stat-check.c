/* SPDX-License-Identifier: MIT */
/*
 * stat-check.c — wq-stat --warn and --crit: thresholds such as ready>1000
 * checked against a snapshot, and the one status line of a monitoring
 * plugin ("WQ WARNING - q ready=1200 (ready>1000) | perfdata") whose
 * state is the exit status.  --warn or --crit anywhere on the command
 * line makes every failure UNKNOWN (3), usage errors included, so the
 * failures here exit with it directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "stat.h"

static const char *const state_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

static const char *const field_names[NFIELDS] = {
	"ready", "delayed", "inflight", "total", "bytes", "age"
};

enum op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ };
#define NOPS	(OP_EQ + 1)
static const char *const op_names[NOPS] = { ">", ">=", "<", "<=", "=" };

struct threshold {
	enum field	 field;
	enum op		 op;
	uint64_t	 value;
	enum state	 state;		/* ST_WARNING or ST_CRITICAL */
};

/* A queue name for the status line: no control character and no "|",
 * which would start the performance data. */
static void
put_clean(FILE *fp, const char *s, int perf)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '|')
			putc('_', fp);
		else if (perf && *s == '\'')
			fputs("''", fp);
		else
			putc(*s, fp);
	}
}

/* A failure to read the spool, as an UNKNOWN status line on standard
 * output. */
void
stat_unknown(int err, const char *name, const char *what)
{
	printf("WQ UNKNOWN - ");
	if (name != NULL) {
		put_clean(stdout, name, 0);
		printf(": ");
	}
	printf("%s: %s\n", what, strerror(err));
	exit(ST_UNKNOWN);
}

static int
lookup(const char *const names[], int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* FIELD OP NUMBER, blanks allowed around OP; 0, or -1 if malformed. */
static int
parse_threshold(const char *s, struct threshold *t)
{
	char name[16], op[3];
	const char *errstr;
	int f, o, n = 0;

	if (sscanf(s, " %15[a-z] %2[<>=] %n", name, op, &n) != 2 || n == 0)
		return -1;
	if ((f = lookup(field_names, NFIELDS, name)) == -1 ||
	    (o = lookup(op_names, NOPS, op)) == -1)
		return -1;
	t->value = (uint64_t)strtonum(s + n, 0, LLONG_MAX, &errstr);
	if (errstr != NULL)
		return -1;
	t->field = (enum field)f;
	t->op = (enum op)o;
	return 0;
}

/* --warn or --crit EXPR[,EXPR...], added to th with state st. */
void
stat_add_thresholds(struct thresholds *th, const char *arg, enum state st)
{
	char *copy, *p, *item;
	struct threshold *t;

	if ((p = copy = strdup(arg)) == NULL)
		stat_unknown(errno, NULL, "cannot read thresholds");
	while ((item = strsep(&p, ",")) != NULL) {
		t = reallocarray(th->list, th->n + 1, sizeof(*t));
		if (t == NULL)
			stat_unknown(errno, NULL, "cannot read thresholds");
		th->list = t;
		t = &th->list[th->n++];
		if (parse_threshold(item, t) == -1)
			wqx_fail(ST_UNKNOWN, NULL, "invalid threshold (want "
			    "FIELD OP NUMBER, FIELD ready, delayed, inflight, "
			    "total, bytes or age, OP >, >=, <, <= or =): %s",
			    item);
		t->state = st;
	}
	free(copy);
}

static int
fires(const struct threshold *t, uint64_t v)
{
	switch (t->op) {
	case OP_GT:
		return v > t->value;
	case OP_GE:
		return v >= t->value;
	case OP_LT:
		return v < t->value;
	case OP_LE:
		return v <= t->value;
	case OP_EQ:
		return v == t->value;
	}
	return 0;
}

/* The threshold on field f that v breaks with the worst state, or NULL. */
static const struct threshold *
worst_broken(const struct thresholds *th, enum field f, uint64_t v)
{
	const struct threshold *t, *hit = NULL;

	for (t = th->list; t < th->list + th->n; t++)
		if (t->field == f && fires(t, v) &&
		    (hit == NULL || t->state > hit->state))
			hit = t;
	return hit;
}

/* The first threshold on field f of state st, for the perfdata. */
static const struct threshold *
first_of(const struct thresholds *th, enum field f, enum state st)
{
	const struct threshold *t;

	for (t = th->list; t < th->list + th->n; t++)
		if (t->field == f && t->state == st)
			return t;
	return NULL;
}

/* A threshold as a perfdata range, which alerts when v is outside it, or
 * with "@" inside it. */
static void
put_range(FILE *fp, const struct threshold *t)
{
	uint64_t v;

	if (t == NULL)
		return;
	v = t->value;
	switch (t->op) {
	case OP_GT:
		fprintf(fp, "%" PRIu64, v);
		break;
	case OP_GE:
		fprintf(fp, "@%" PRIu64 ":", v);
		break;
	case OP_LT:
		fprintf(fp, "%" PRIu64 ":", v);
		break;
	case OP_LE:
		fprintf(fp, "@~:%" PRIu64, v);
		break;
	case OP_EQ:
		fprintf(fp, "@%" PRIu64 ":%" PRIu64, v, v);
		break;
	}
}

/* " 'FIELD_QUEUE'=VALUE[UOM][;WARN[;CRIT]]", quoted only if need be. */
static void
put_perf(FILE *fp, const struct thresholds *th, const struct row *r,
    enum field f, uint64_t v)
{
	const struct threshold *w = first_of(th, f, ST_WARNING);
	const struct threshold *c = first_of(th, f, ST_CRITICAL);
	const char *q = strpbrk(r->name, " '=") != NULL ? "'" : "";

	fprintf(fp, " %s%s_", q, field_names[f]);
	put_clean(fp, r->name, 1);
	fprintf(fp, "%s=%" PRIu64 "%s", q, v,
	    f == F_BYTES ? "B" : f == F_AGE ? "s" : "");
	if (w != NULL || c != NULL) {
		putc(';', fp);
		put_range(fp, w);
	}
	if (c != NULL) {
		putc(';', fp);
		put_range(fp, c);
	}
}

/*
 * Hosts whose clocks differ by more than the queue's clock-skew can take
 * each other's leases early, whatever the counts: a WARNING of its own,
 * as wq-stat's warning on standard error is outside plugin mode.
 */
static int
clock_warning(const struct row *r, FILE *text)
{
	char spread[32];

	if (!stat_clocks_off(r))
		return 0;
	if (ftell(text) > 0)
		fputs(", ", text);
	stat_seconds(spread, sizeof(spread), r->clock_spread_ms);
	put_clean(text, r->name, 0);
	fprintf(text, " clocks differ by %s (clock-skew %" PRIu32 " s)",
	    spread + 1, r->pol.clock_skew);
	return 1;
}

/* Check one queue: its problems to text, its perfdata to perf. */
static enum state
check_row(const struct thresholds *th, const struct row *r, int64_t now,
    FILE *text, FILE *perf)
{
	const struct threshold *t;
	enum state worst = ST_OK;
	enum field f;
	uint64_t v;

	for (f = 0; f < NFIELDS; f++) {
		v = stat_row_value(r, f, now);
		if ((t = worst_broken(th, f, v)) != NULL) {
			if (ftell(text) > 0)
				fputs(", ", text);
			put_clean(text, r->name, 0);
			fprintf(text, " %s=%" PRIu64 " (%s%s%" PRIu64 ")",
			    field_names[f], v, field_names[f],
			    op_names[t->op], t->value);
			if (t->state > worst)
				worst = t->state;
		}
		put_perf(perf, th, r, f, v);
	}
	if (clock_warning(r, text) && worst < ST_WARNING)
		worst = ST_WARNING;
	return worst;
}

/* The one line of a monitoring plugin; returns the worst state. */
enum state
stat_print_status(const struct snapshot *sn, const struct thresholds *th)
{
	char *text = NULL, *perf = NULL;
	size_t tlen, plen, i;
	FILE *tf, *pf;
	enum state st, worst = ST_OK;

	if ((tf = open_memstream(&text, &tlen)) == NULL ||
	    (pf = open_memstream(&perf, &plen)) == NULL)
		stat_unknown(errno, NULL, "cannot write the status line");
	for (i = 0; i < sn->n; i++)
		if ((st = check_row(th, &sn->rows[i], sn->now, tf, pf)) > worst)
			worst = st;
	if (fclose(tf) == EOF || fclose(pf) == EOF)
		stat_unknown(errno, NULL, "cannot write the status line");
	if (worst == ST_OK)
		printf("WQ OK - %zu queue%s", sn->n, sn->n == 1 ? "" : "s");
	else
		printf("WQ %s - %s", state_names[worst], text);
	printf("%s%s\n", plen > 0 ? " |" : "", perf);
	free(text);
	free(perf);
	return worst;
}
