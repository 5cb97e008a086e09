/* SPDX-License-Identifier: MIT */
/*
 * queue.c — opening a queue: its directory, the fds of tmp/, new/ and cur/
 * (every later operation is relative to these, so a queue renamed away
 * under us is never confused with a new one of the same name) and its
 * policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

static int
open_sub(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* WQ_POLL=1: poll even where inotify would do, for shared filesystems
 * that statfs does not reveal (a local disk exported to other hosts). */
static int
wq_force_poll(void)
{
	const char *s = getenv("WQ_POLL");

	return s != NULL && strcmp(s, "1") == 0;
}

/* The last part of a queue path, if it is a valid name; else "". */
static void
base_name(const char *queue, char base[WQ_NAME_MAX + 1])
{
	char buf[4096], *slash;

	base[0] = '\0';
	if (strlcpy(buf, queue, sizeof(buf)) >= sizeof(buf))
		return;
	while ((slash = strrchr(buf, '/')) != NULL && slash[1] == '\0' &&
	    slash != buf)
		*slash = '\0';
	slash = strrchr(buf, '/');
	if (wq_name_valid(slash ? slash + 1 : buf))
		strlcpy(base, slash ? slash + 1 : buf, WQ_NAME_MAX + 1);
}

struct wq_queue *
wq_queue_open(struct wq_spool *s, const char *queue)
{
	struct wq_queue *q;
	int saved;

	if (strchr(queue, '/') == NULL && !wq_name_valid(queue)) {
		errno = EINVAL;
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->fd = q->tmpfd = q->newfd = q->curfd = -1;
	if ((q->name = strdup(queue)) == NULL)
		goto fail;
	base_name(queue, q->base);
	if (strchr(queue, '/') != NULL)
		q->fd = open(queue, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (s->fd == -1)
		errno = ENOENT;
	else
		q->fd = openat(s->fd, queue, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
	if (q->fd == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			errno = ENOENT;
		goto fail;
	}
	if (wq_policy_read(q->fd, &q->pol) == -1)
		goto fail;
	if ((q->tmpfd = open_sub(q->fd, "tmp")) == -1 ||
	    (q->newfd = open_sub(q->fd, "new")) == -1 ||
	    (q->curfd = open_sub(q->fd, "cur")) == -1) {
		/* Missing, or not a directory of the queue (a link): broken. */
		if (wq_gone(errno) || errno == ENOTDIR || errno == ELOOP)
			errno = EBADMSG;
		goto fail;
	}
	q->remote = wq_fs_is_remote(q->fd) || wq_force_poll();
	return q;
fail:
	saved = errno;
	wq_queue_close(q);
	errno = saved;
	return NULL;
}

void
wq_queue_close(struct wq_queue *q)
{
	if (q == NULL)
		return;
	if (q->fd != -1)
		close(q->fd);
	if (q->tmpfd != -1)
		close(q->tmpfd);
	if (q->newfd != -1)
		close(q->newfd);
	if (q->curfd != -1)
		close(q->curfd);
	wq_queue_close(q->dlq);
	wq_decompress_free(q);
	free(q->name);
	free(q);
}

const char *
wq_queue_name(const struct wq_queue *q)
{
	return q->name;
}

const struct wq_policy *
wq_queue_policy(const struct wq_queue *q)
{
	return &q->pol;
}
