/* SPDX-License-Identifier: MIT */
/*
 * policy.c — a queue's policy file: "wq-format 1" on the first line, then
 * one "key value" per line.  It is replaced atomically (write a temporary
 * file in tmp/, rename over policy), so a reader sees the old policy or the
 * new one, never a mix.  Unknown keys are refused: a reader that ignored a
 * setting it does not understand would break its promise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

#define POLICY_MAX 4096
#define MAX_SIZE_LIMIT ((uint64_t)1 << 40)

void
wq_policy_default(struct wq_policy *p)
{
	p->visibility = 30;
	p->clock_skew = 1;
	p->max_size = 1024 * 1024;
	p->sync = WQ_SYNC_ALWAYS;
}

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	const char *errstr;
	long long v;

	v = strtonum(s, 0, (long long)max, &errstr);
	if (errstr != NULL)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int
policy_line(struct wq_policy *p, char *line)
{
	char *val;
	uint64_t v;

	if ((val = strchr(line, ' ')) == NULL)
		return -1;
	*val++ = '\0';
	if (strcmp(line, "visibility") == 0) {
		if (parse_u64(val, 12 * 3600, &v) == -1)
			return -1;
		p->visibility = (uint32_t)v;
	} else if (strcmp(line, "clock-skew") == 0) {
		if (parse_u64(val, 3600, &v) == -1)
			return -1;
		p->clock_skew = (uint32_t)v;
	} else if (strcmp(line, "max-size") == 0) {
		if (parse_u64(val, MAX_SIZE_LIMIT, &v) == -1)
			return -1;
		p->max_size = v;
	} else if (strcmp(line, "sync") == 0) {
		if (wq_sync_parse(val, &p->sync) == -1)
			return -1;
	} else
		return -1;
	return 0;
}

int
wq_policy_read(int dirfd, struct wq_policy *p)
{
	char buf[POLICY_MAX + 1], *line, *next, *end;
	long version;
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, "policy", O_RDONLY | O_NOFOLLOW | O_CLOEXEC))
	    == -1)
		return -1;
	n = read(fd, buf, POLICY_MAX);
	close(fd);
	if (n == -1)
		return -1;
	buf[n] = '\0';
	wq_policy_default(p);
	if (strncmp(buf, "wq-format ", 10) != 0 ||
	    (version = strtol(buf + 10, &end, 10)) < 0 || *end != '\n')
		goto bad;
	if (version != WQ_FORMAT) {
		errno = EPROTO;
		return -1;
	}
	line = strchr(buf, '\n');
	while (line != NULL && *++line != '\0') {
		if ((next = strchr(line, '\n')) == NULL)
			goto bad;
		*next = '\0';
		if (policy_line(p, line) == -1)
			goto bad;
		line = next;
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

int
wq_policy_write(int dirfd, const struct wq_policy *p, int sync)
{
	char buf[POLICY_MAX], tmp[64];
	int fd, n, saved;

	n = snprintf(buf, sizeof(buf),
	    "wq-format %d\nvisibility %" PRIu32 "\nclock-skew %" PRIu32
	    "\nmax-size %" PRIu64 "\nsync %s\n", WQ_FORMAT, p->visibility,
	    p->clock_skew, p->max_size, wq_sync_name(p->sync));
	snprintf(tmp, sizeof(tmp), "tmp/.policy.%ld.%08x", (long)getpid(),
	    arc4random());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1)
		return -1;
	if (wq_write_all(fd, buf, (size_t)n) == -1 ||
	    (sync && fsync(fd) == -1))
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, "policy") == -1)
		goto fail;
	return sync ? wq_fsync_dir(dirfd) : 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}
