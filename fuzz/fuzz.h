/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h — what the libFuzzer targets of fuzz/ share: the input as a C
 * string, a temporary directory of this process (made once, removed at
 * exit) for the parsers that read files, a spool with one queue in it,
 * and a check that aborts, so that a broken property is a crash.
 */
#ifndef WQ_FUZZ_H
#define WQ_FUZZ_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A property that must hold: a report and abort() if not. */
#define FUZZ_CHECK(c) do { if (!(c)) { fprintf(stderr, \
	"%s:%d: property broken: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

/* The input as a NUL-terminated copy (bytes after a NUL are hidden). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char fuzz_dirname[4096];

static inline int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_dirname[0] != '\0')
		nftw(fuzz_dirname, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The temporary directory of this process: its path, made once, in
 * $TMPDIR, else in /dev/shm (a file written per input costs a hundred
 * times less in memory than on a disk), else in /tmp.
 */
static inline const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fuzz_dirname[0] != '\0')
		return fuzz_dirname;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fuzz_dirname, sizeof(fuzz_dirname), "%s/wq-fuzz.XXXXXX", tmp);
	if (mkdtemp(fuzz_dirname) == NULL) {
		perror(fuzz_dirname);
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_dirname;
}

/* A path in the temporary directory. */
static inline const char *
fuzz_path(const char *name)
{
	static char path[4096 + 64];

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	return path;
}

/* Write the input into the file path (made or truncated). */
static inline void
fuzz_write(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) == -1) {
		perror(path);
		abort();
	}
}

/*
 * The queue "q" of a spool in the temporary directory, created once
 * with policy (NULL: the defaults).
 */
static inline struct wq_queue *
fuzz_queue(const struct wq_policy *pol, unsigned setmask)
{
	static struct wq_spool *sp;
	static struct wq_queue *q;
	struct wq_policy def;

	if (q != NULL)
		return q;
	if (pol == NULL) {
		wq_policy_default(&def);
		pol = &def;
	}
	if ((sp = wq_spool_open(fuzz_path("spool"), 1)) == NULL ||
	    wq_queue_create(sp, "q", pol, setmask, 0) == -1 ||
	    (q = wq_queue_open(sp, "q")) == NULL) {
		perror("spool");
		abort();
	}
	return q;
}

#endif /* WQ_FUZZ_H */
