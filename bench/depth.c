/* SPDX-License-Identifier: MIT */
/*
 * depth — does a claim cost more when the queue is deeper?  For each
 * depth (10 up to 1,000,000 ready messages) this fills a queue through
 * libwq, then measures in each round, the depths one after the other so
 * that a noisy moment hits them alike, at that depth held constant (a
 * message is sent for each one taken, outside the timed part):
 *   claim-stream   claim + ack in one process (a consumer in a loop)
 *   claim-oneshot  one `wq-recv QUEUE` process per message, as a cron
 *                  job or a shell loop would run it
 *   stat           one `wq-stat QUEUE` (it must stay well under 1 s)
 * and prints rows in the columns of ../shared/peers (round job system
 * config phase n seconds ops_per_s us_per_op), then the ratios of each
 * phase at each depth to the same phase at the smallest depth.
 *
 * With -t TAG it prints RESULT lines instead (config TAG:depth=N, no
 * header, no ratios), for bench/run.py, and a queue kept from an earlier
 * run is topped up rather than filled again.
 *
 * usage: depth [-r rounds] [-k claims] [-o oneshots] [-t tag] DIR BINDIR
 *        DEPTH...
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wq.h"
#include "bench.h"

#define MAX_DEPTHS	16
#define PHASES		3

extern char **environ;

static const char *const phase_names[PHASES] = { "claim-stream",
    "claim-oneshot", "stat" };

/* Bring the queue to `depth` ready messages of 100 bytes. */
static void
fill(struct wq_queue *q, uint64_t have, uint64_t depth)
{
	static const char body[100] = "a message of one hundred bytes";
	struct wq_sender *s;

	if ((s = wq_sender_open(q)) == NULL)
		err(1, "wq_sender_open");
	for (; have < depth; have++) {
		if (wq_sender_pending(s) == WQ_SEND_GROUP_MAX &&
		    wq_sender_commit(s) == -1)
			err(1, "commit");
		if (wq_sender_add(s, body, sizeof(body)) == -1)
			err(1, "add");
	}
	if (wq_sender_commit(s) == -1)
		err(1, "commit");
	wq_sender_close(s);
}

static void
send_one(struct wq_queue *q)
{
	char id[WQ_ID_MAX];

	if (wq_send(q, "refill", 6, id) == -1)
		err(1, "wq_send");
}

/* Run a binary with arguments, output to /dev/null; its exit status. */
static int
run(const char *bin, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, bin, &fa, NULL, argv, environ) != 0)
		err(1, "spawn %s", bin);
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static double
stream(struct wq_queue *q, int k)
{
	struct wq_consumer *c;
	struct wq_msg *m;
	double t, total = 0;
	int i;

	if ((c = wq_consumer_open(q, 60)) == NULL)
		err(1, "wq_consumer_open");
	for (i = 0; i < k; i++) {
		t = now_s();
		if (wq_claim(c, &m) == -1 || wq_msg_ack(m) == -1)
			err(1, "claim");
		total += now_s() - t;
		wq_msg_free(m);
		send_one(q);
	}
	wq_consumer_close(c);
	return total;
}

static double
oneshot(struct wq_queue *q, const char *bindir, const char *dir,
    const char *name, int k)
{
	char bin[4096];
	char *argv[] = { "wq-recv", "-d", (char *)dir, (char *)name, NULL };
	double t, total = 0;
	int i;

	snprintf(bin, sizeof(bin), "%s/wq-recv", bindir);
	for (i = 0; i < k; i++) {
		t = now_s();
		if (run(bin, argv) != 0)
			errx(1, "wq-recv failed");
		total += now_s() - t;
		send_one(q);
	}
	return total;
}

static double
stat_once(const char *bindir, const char *dir, const char *name)
{
	char bin[4096];
	char *argv[] = { "wq-stat", "-d", (char *)dir, (char *)name, NULL };
	double t;

	snprintf(bin, sizeof(bin), "%s/wq-stat", bindir);
	t = now_s();
	if (run(bin, argv) != 0)
		errx(1, "wq-stat failed");
	return now_s() - t;
}

static const char *tag;	/* -t: RESULT lines for bench/run.py */

static void
row(int round, const char *config, int phase, int n, double secs)
{
	if (tag != NULL)
		printf("RESULT\twq\t%s:%s\t%s\t%d\t%.6f\t%.1f\t%.2f\n", tag,
		    config, phase_names[phase], n, secs, n / secs,
		    secs * 1e6 / n);
	else
		printf("%d\twq-depth\twq\t%s\t%s\t%d\t%.6f\t%.1f\t%.2f\n",
		    round, config, phase_names[phase], n, secs, n / secs,
		    secs * 1e6 / n);
	fflush(stdout);
}

/* Open (making it if need be) the queue of one depth, filled up to it:
 * a queue kept from an earlier run is topped up, not filled again. */
static struct wq_queue *
open_depth(struct wq_spool *sp, const char *name, uint64_t depth)
{
	struct wq_policy pol;
	struct wq_queue *q;
	struct wq_stat st;

	/* No fsync: what is measured is the cost of finding a message. */
	wq_policy_default(&pol);
	pol.sync = WQ_SYNC_NONE;
	if (wq_queue_create(sp, name, &pol, WQ_POL_SYNC, WQ_CREATE_EXIST_OK)
	    == -1)
		err(1, "%s", name);
	if ((q = wq_queue_open(sp, name)) == NULL ||
	    wq_queue_stat(q, &st) == -1)
		err(1, "%s", name);
	fill(q, st.ready, depth);
	return q;
}

int
main(int argc, char *argv[])
{
	static double us[MAX_DEPTHS][PHASES][32];
	struct wq_queue *q[MAX_DEPTHS];
	struct wq_spool *sp;
	uint64_t depths[MAX_DEPTHS];
	const char *errstr, *dir, *bindir;
	char config[MAX_DEPTHS][64], name[MAX_DEPTHS][32];
	int rounds = 3, k = 2000, o = 100, nd, d, r, ch, p;
	double base[PHASES], t;

	while ((ch = getopt(argc, argv, "k:o:r:t:")) != -1) {
		switch (ch) {
		case 'k':
			k = (int)strtonum(optarg, 1, 1000000, &errstr);
			break;
		case 'o':
			o = (int)strtonum(optarg, 1, 100000, &errstr);
			break;
		case 'r':
			rounds = (int)strtonum(optarg, 1, 32, &errstr);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			errx(64, "usage: depth [-r rounds] [-k claims] "
			    "[-o oneshots] [-t tag] DIR BINDIR DEPTH...");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || argc - 2 > MAX_DEPTHS)
		errx(64, "usage: depth [-r rounds] [-k claims] [-o oneshots] "
		    "[-t tag] DIR BINDIR DEPTH...");
	dir = argv[0];
	bindir = argv[1];
	nd = argc - 2;
	if ((sp = wq_spool_open(dir, 1)) == NULL)
		err(1, "%s", dir);
	for (d = 0; d < nd; d++) {
		depths[d] = (uint64_t)strtonum(argv[2 + d], 1, 100000000,
		    &errstr);
		if (errstr != NULL)
			errx(64, "depth %s: %s", argv[2 + d], errstr);
		snprintf(name[d], sizeof(name[d]), "d%" PRIu64, depths[d]);
		snprintf(config[d], sizeof(config[d]), "depth=%" PRIu64,
		    depths[d]);
		q[d] = open_depth(sp, name[d], depths[d]);
	}
	if (tag == NULL)
		printf("round\tjob\tsystem\tconfig\tphase\tn\tseconds\tops_per_s\t"
	    "us_per_op\n");
	for (r = 0; r < rounds; r++)
		for (d = 0; d < nd; d++) {
			t = stream(q[d], k);
			row(r + 1, config[d], 0, k, t);
			us[d][0][r] = t * 1e6 / k;
			t = oneshot(q[d], bindir, dir, name[d], o);
			row(r + 1, config[d], 1, o, t);
			us[d][1][r] = t * 1e6 / o;
			t = stat_once(bindir, dir, name[d]);
			row(r + 1, config[d], 2, 1, t);
			us[d][2][r] = t * 1e6;
		}
	if (tag != NULL)
		goto out;
	printf("\n# median us per operation, and the ratio to depth %" PRIu64
	    "\n# %-14s %10s %12s %8s\n", depths[0], "phase", "depth",
	    "us_per_op", "ratio");
	for (p = 0; p < PHASES; p++)
		base[p] = median(us[0][p], rounds);
	for (d = 0; d < nd; d++)
		for (p = 0; p < PHASES; p++) {
			double m = median(us[d][p], rounds);

			printf("# %-14s %10" PRIu64 " %12.1f %8.2f\n",
			    phase_names[p], depths[d], m, m / base[p]);
		}
out:
	for (d = 0; d < nd; d++)
		wq_queue_close(q[d]);
	wq_spool_close(sp);
	return 0;
}
