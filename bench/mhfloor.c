/* SPDX-License-Identifier: MIT */
/*
 * mhfloor — the raw-filesystem floor of a spool shared by several hosts,
 * for bench/multihost.sh: what wq does, without wq.  On DIR, which holds
 * tmp/, new/ and cur/ (made here if missing):
 *
 *   mhfloor produce DIR N SIZE TAG
 *	N times: openat(tmp/TAG.I, O_CREAT|O_EXCL) + write SIZE bytes +
 *	close + renameat(tmp/ -> new/); no sync (as fsbench -d none).
 *   mhfloor consume DIR N [MIN_MS MAX_MS] [-v]
 *	until N files were claimed (N 0: forever): list new/ (opened
 *	afresh, as wq does on a network filesystem), and for each name
 *	renameat(new/ -> cur/NAME.PID) (ENOENT: another consumer won it),
 *	open + read + close, unlinkat.  A listing that yields nothing is
 *	followed by a sleep that backs off from MIN_MS to MAX_MS (10 and
 *	1000, as wq's consumers poll) and starts again at MIN_MS after a
 *	claim.  -v: print "NAME EPOCH_SECONDS" for each claim, flushed.
 *
 * Exit 0, or 2 with a message on a system error.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int tmpfd, newfd, curfd;

static int
subdir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0755) == -1 && errno != EEXIST)
		err(2, "mkdir %s", name);
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY)) == -1)
		err(2, "open %s", name);
	return fd;
}

static void
open_dirs(const char *dir)
{
	int fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		err(2, "mkdir %s", dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		err(2, "open %s", dir);
	tmpfd = subdir(fd, "tmp");
	newfd = subdir(fd, "new");
	curfd = subdir(fd, "cur");
	close(fd);
}

static void
produce(long n, long size, const char *tag)
{
	char name[256], *buf;
	long i;
	int fd;

	if ((buf = malloc((size_t)size + 1)) == NULL)
		err(2, "malloc");
	memset(buf, 'm', (size_t)size);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.%ld", tag, i);
		if ((fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644)) == -1)
			err(2, "create tmp/%s", name);
		if (write(fd, buf, (size_t)size) != (ssize_t)size)
			err(2, "write tmp/%s", name);
		if (close(fd) == -1)
			err(2, "close tmp/%s", name);
		if (renameat(tmpfd, name, newfd, name) == -1)
			err(2, "rename tmp/%s", name);
	}
	free(buf);
}

/* 1 if claimed, read and acked; 0 if another consumer had it. */
static int
take(const char *name)
{
	char lease[300], buf[65536];
	ssize_t r;
	int fd;

	snprintf(lease, sizeof(lease), "%s.%ld", name, (long)getpid());
	if (renameat(newfd, name, curfd, lease) == -1) {
		if (errno == ENOENT || errno == ESTALE)
			return 0;
		err(2, "claim new/%s", name);
	}
	if ((fd = openat(curfd, lease, O_RDONLY | O_CLOEXEC)) == -1)
		err(2, "open cur/%s", lease);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		;
	if (r == -1)
		err(2, "read cur/%s", lease);
	close(fd);
	if (unlinkat(curfd, lease, 0) == -1)
		err(2, "ack cur/%s", lease);
	return 1;
}

static void
consume(long n, long min_ms, long max_ms, int verbose)
{
	struct timespec ts;
	struct dirent *de;
	long got = 0, backoff = min_ms, pass;
	DIR *d;
	int fd;

	for (;;) {
		if ((fd = openat(newfd, ".", O_RDONLY | O_DIRECTORY)) == -1 ||
		    (d = fdopendir(fd)) == NULL)
			err(2, "list new/");
		pass = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || !take(de->d_name))
				continue;
			pass++;
			if (verbose) {
				clock_gettime(CLOCK_REALTIME, &ts);
				printf("%s %lld.%06ld\n", de->d_name,
				    (long long)ts.tv_sec, ts.tv_nsec / 1000);
				fflush(stdout);
			}
			if (++got == n) {
				closedir(d);
				return;
			}
		}
		closedir(d);
		if (pass > 0) {
			backoff = min_ms;
			continue;
		}
		ts.tv_sec = backoff / 1000;
		ts.tv_nsec = backoff % 1000 * 1000000;
		nanosleep(&ts, NULL);
		if ((backoff *= 2) > max_ms)
			backoff = max_ms;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: mhfloor produce DIR N SIZE TAG\n"
	    "       mhfloor consume DIR N [MIN_MS MAX_MS] [-v]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	int verbose = 0;

	if (argc > 1 && strcmp(argv[argc - 1], "-v") == 0) {
		verbose = 1;
		argc--;
	}
	if (argc == 6 && strcmp(argv[1], "produce") == 0) {
		open_dirs(argv[2]);
		produce(atol(argv[3]), atol(argv[4]), argv[5]);
	} else if ((argc == 4 || argc == 6) &&
	    strcmp(argv[1], "consume") == 0) {
		open_dirs(argv[2]);
		consume(atol(argv[3]), argc == 6 ? atol(argv[4]) : 10,
		    argc == 6 ? atol(argv[5]) : 1000, verbose);
	} else
		usage();
	return 0;
}
