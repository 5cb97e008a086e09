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
#include <sys/stat.h>
#include <unistd.h>

#include "wq_priv.h"

#define POLICY_MAX 4096
#define POLICY_RETRIES 4	/* reads of a policy replaced meanwhile */
#define OLD_POLICY_KEEP_MS 60000	/* replaced policies kept for readers */
#define MAX_SIZE_LIMIT ((uint64_t)1 << 40)

void
wq_policy_default(struct wq_policy *p)
{
	p->visibility = 30;
	p->clock_skew = 1;
	p->max_size = 1024 * 1024;
	p->sync = WQ_SYNC_ALWAYS;
	p->delay = 0;
	p->retention = 0;
	p->max_receives = 0;
	p->dead_letter[0] = '\0';
	p->max_depth = 0;
	p->fifo = 0;
	p->dedup_window = 300;
	p->dedup = WQ_DEDUP_ID;
	p->compress = WQ_COMPRESS_NEVER;
	p->fanout[0] = '\0';
	p->mode = 0;
	p->group[0] = '\0';
}

static const char *const compress_names[] = { "never", "auto", "always" };
static const char *const dedup_names[] = { "id", "content" };

static int
parse_enum(const char *s, const char *const *names, size_t n, int *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

const char *
wq_compress_name(enum wq_compress c)
{
	return (size_t)c < 3 ? compress_names[c] : "unknown";
}

int
wq_compress_parse(const char *s, enum wq_compress *out)
{
	int v;

	if (parse_enum(s, compress_names, 3, &v) == -1)
		return -1;
	*out = (enum wq_compress)v;
	return 0;
}

/* A queue named in a policy: a name, or a path with a slash. */
static int
queue_ref_valid(const char *s)
{
	return s[0] != '\0' && strlen(s) < 256 && strchr(s, '\n') == NULL &&
	    (strchr(s, '/') != NULL || wq_name_valid(s));
}

/* "Q1,Q2,...": up to WQ_FANOUT_MAX queue names or paths. */
int
wq_fanout_valid(const char *list)
{
	char buf[1024], *q, *save;
	size_t n = 0;

	if (strlcpy(buf, list, sizeof(buf)) >= sizeof(buf))
		return 0;
	for (q = strtok_r(buf, ",", &save); q != NULL;
	    q = strtok_r(NULL, ",", &save))
		if (!queue_ref_valid(q) || ++n > WQ_FANOUT_MAX)
			return 0;
	return n > 0 && list[strlen(list) - 1] != ',' && list[0] != ',' &&
	    strstr(list, ",,") == NULL;
}

/* A policy's fields make sense together (and each on its own). */
int
wq_policy_valid(const struct wq_policy *p)
{
	if ((p->dead_letter[0] != '\0' && !queue_ref_valid(p->dead_letter)) ||
	    (p->fanout[0] != '\0' && !wq_fanout_valid(p->fanout)) ||
	    (p->max_receives > 0 && p->dead_letter[0] == '\0') ||
	    (p->fanout[0] != '\0' && (p->fifo || p->delay > 0)) ||
	    (p->group[0] != '\0' && !wq_name_valid(p->group)) ||
	    p->mode > 07777 || p->visibility == 0 || p->max_size == 0) {
		errno = EINVAL;
		return 0;
	}
	return 1;
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

/* The keys of the semantics: delays, limits, dead letters, and more. */
static int
policy_line2(struct wq_policy *p, const char *key, const char *val)
{
	uint64_t v;
	int e;

	if (strcmp(key, "dead-letter") == 0)
		return strlcpy(p->dead_letter, val, sizeof(p->dead_letter)) <
		    sizeof(p->dead_letter) ? 0 : -1;
	if (strcmp(key, "fanout") == 0)
		return strlcpy(p->fanout, val, sizeof(p->fanout)) <
		    sizeof(p->fanout) ? 0 : -1;
	if (strcmp(key, "group") == 0)
		return strlcpy(p->group, val, sizeof(p->group)) <
		    sizeof(p->group) ? 0 : -1;
	if (strcmp(key, "compress") == 0)
		return wq_compress_parse(val, &p->compress);
	if (strcmp(key, "dedup") == 0) {
		if (parse_enum(val, dedup_names, 2, &e) == -1)
			return -1;
		p->dedup = (enum wq_dedup)e;
		return 0;
	}
	if (strcmp(key, "mode") == 0) {
		char *end;

		v = strtoul(val, &end, 8);
		if (*val == '\0' || *end != '\0' || v > 07777)
			return -1;
		p->mode = (uint32_t)v;
		return 0;
	}
	if (strcmp(key, "delay") == 0 && parse_u64(val, WQ_DELAY_MAX, &v) == 0)
		p->delay = (uint32_t)v;
	else if (strcmp(key, "retention") == 0 &&
	    parse_u64(val, (uint64_t)100 * 366 * 86400, &v) == 0)
		p->retention = v;
	else if (strcmp(key, "max-receives") == 0 &&
	    parse_u64(val, 1000000, &v) == 0)
		p->max_receives = (uint32_t)v;
	else if (strcmp(key, "max-depth") == 0 &&
	    parse_u64(val, (uint64_t)1 << 48, &v) == 0)
		p->max_depth = v;
	else if (strcmp(key, "fifo") == 0 && parse_u64(val, 1, &v) == 0)
		p->fifo = (int)v;
	else if (strcmp(key, "dedup-window") == 0 &&
	    parse_u64(val, WQ_DEDUP_WINDOW_MAX, &v) == 0)
		p->dedup_window = (uint32_t)v;
	else
		return -1;
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
		return policy_line2(p, line, val);
	return 0;
}

/* The policy file's bytes into buf (POLICY_MAX + 1 long), NUL-ended. */
static ssize_t
policy_load(int dirfd, char *buf)
{
	struct stat st;
	ssize_t n;
	int fd, saved;

	/* O_NONBLOCK: a FIFO planted as the policy must not hang us. */
	if ((fd = openat(dirfd, "policy", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			errno = EBADMSG;	/* a symbolic link: not ours */
		return -1;
	}
	n = -1;
	if (fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode))
			n = read(fd, buf, POLICY_MAX);
		else
			errno = EBADMSG;	/* a FIFO, a directory, ... */
	}
	saved = errno;
	close(fd);
	errno = saved;
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int
wq_policy_read(int dirfd, struct wq_policy *p)
{
	char buf[POLICY_MAX + 1], *line, *next, *end;
	long version;
	ssize_t n;
	int tries;

	/* ESTALE: another host replaced the policy as we opened or read the
	 * old one; the name now leads to the new one. */
	for (tries = 0; (n = policy_load(dirfd, buf)) == -1 &&
	    errno == ESTALE && tries < POLICY_RETRIES; tries++)
		continue;
	if (n == -1)
		return -1;
	wq_policy_default(p);
	if (strncmp(buf, "wq-format ", 10) != 0 ||
	    (version = strtol(buf + 10, &end, 10)) < 0 || *end != '\n')
		goto bad;
	if (version != WQ_FORMAT) {
		errno = EPROTO;
		return -1;
	}
	if (memchr(buf, '\0', (size_t)n) != NULL)
		goto bad;
	line = strchr(buf, '\n');
	while (line != NULL && *++line != '\0') {
		if ((next = strchr(line, '\n')) == NULL)
			goto bad;
		*next = '\0';
		if (policy_line(p, line) == -1)
			goto bad;
		line = next;
	}
	if (!wq_policy_valid(p))
		goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* Links to replaced policies older than a minute: no reader is left. */
static int
prune_old_policy(int dirfd, const char *name, void *arg)
{
	const int64_t *now = arg;
	long long made;

	if (sscanf(name, ".policy.old.%lld.", &made) == 1 &&
	    made < *now - OLD_POLICY_KEEP_MS)
		(void)unlinkat(dirfd, name, 0);
	return 0;
}

/*
 * Before the policy is replaced, a second link to the old file in tmp/:
 * a reader on another host that already resolved the name to the old
 * file can still open and read it (on NFS and GlusterFS it would get
 * ESTALE if the file were gone).  The next update removes the link.
 * Best effort: without it a reader only retries.
 */
static void
keep_old_policy(int dirfd)
{
	char old[64];
	int64_t now = wq_now_ms();
	int tmpfd;

	if ((tmpfd = openat(dirfd, "tmp", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	snprintf(old, sizeof(old), ".policy.old.%lld.%08x", (long long)now,
	    arc4random());
	/* No policy yet (a queue being made): nothing to keep or prune. */
	if (linkat(dirfd, "policy", tmpfd, old, 0) == 0)
		(void)wq_walk_dir(tmpfd, 1, prune_old_policy, &now);
	close(tmpfd);
}

int
wq_policy_write(int dirfd, const struct wq_policy *p, int sync)
{
	char buf[POLICY_MAX], tmp[64];
	int fd, n, saved;

	n = snprintf(buf, sizeof(buf),
	    "wq-format %d\nvisibility %" PRIu32 "\nclock-skew %" PRIu32
	    "\nmax-size %" PRIu64 "\nsync %s\ndelay %" PRIu32 "\nretention %"
	    PRIu64 "\nmax-receives %" PRIu32 "\nmax-depth %" PRIu64 "\nfifo %d"
	    "\ndedup-window %" PRIu32 "\ndedup %s\ncompress %s\nmode %o\n"
	    "%s%s%s%s%s%s%s%s%s", WQ_FORMAT, p->visibility,
	    p->clock_skew, p->max_size, wq_sync_name(p->sync), p->delay,
	    p->retention, p->max_receives, p->max_depth, p->fifo,
	    p->dedup_window, dedup_names[p->dedup],
	    wq_compress_name(p->compress), (unsigned)p->mode,
	    p->dead_letter[0] ? "dead-letter " : "", p->dead_letter,
	    p->dead_letter[0] ? "\n" : "",
	    p->fanout[0] ? "fanout " : "", p->fanout, p->fanout[0] ? "\n" : "",
	    p->group[0] ? "group " : "", p->group, p->group[0] ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "tmp/.policy.%ld.%08x", (long)getpid(),
	    arc4random());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1)
		return -1;
	/* Readable by every user of a shared queue, whatever the umask. */
	if ((p->mode != 0 && fchmod(fd, (p->mode & 0666) | 0444) == -1) ||
	    wq_write_all(fd, buf, (size_t)n) == -1 ||
	    (sync && fsync(fd) == -1))
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	keep_old_policy(dirfd);
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
