/* SPDX-License-Identifier: MIT */
/*
 * send.c — the maildir write recipe.  Each message is written whole into
 * tmp/ID (O_EXCL), flushed as the queue's sync mode says, and renamed into
 * a bucket of new/ by wq_sender_commit(), which then fsyncs that bucket
 * once for the group (and the directories above it, if it made them).
 * Only after that does the caller learn the ids, so an id that was
 * reported is a message that survives a crash (and, unless sync is none, a
 * power cut).  A group that fails half-way reports the messages that did
 * make it and removes the rest from tmp/.
 */
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

#define SIZE_FIELD_WIDTH 20

struct wq_sender {
	struct wq_queue	*q;
	char		(*pending)[WQ_ID_MAX];
	size_t		 npending;
	char		(*done)[WQ_ID_MAX];
	size_t		 ndone;
};

struct wq_sender *
wq_sender_open(struct wq_queue *q)
{
	struct wq_sender *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->q = q;
	if ((s->pending = calloc(WQ_SEND_GROUP_MAX, sizeof(*s->pending))) == NULL ||
	    (s->done = calloc(WQ_SEND_GROUP_MAX, sizeof(*s->done))) == NULL) {
		wq_sender_close(s);
		return NULL;
	}
	return s;
}

/* Create tmp/ID for a new message; a clash of ids only costs a retry. */
static int
open_tmp(struct wq_sender *s, char id[WQ_ID_MAX])
{
	int fd, tries;

	if (s->npending == WQ_SEND_GROUP_MAX) {
		errno = ENOBUFS;	/* the caller commits every group */
		return -1;
	}
	for (tries = 0; tries < 8; tries++) {
		if (wq_id_new(id) == -1)
			return -1;
		fd = openat(s->q->tmpfd, id, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int
header(char *buf, size_t len, const char *id, uint64_t size)
{
	int64_t sent;

	if (wq_id_time_ms(id, &sent) == -1)
		sent = wq_now_ms();
	return snprintf(buf, len, "wq %d\nid %s\nsent %" PRId64
	    "\nsize %0*" PRIu64 "\n\n", WQ_FORMAT, id, sent, SIZE_FIELD_WIDTH,
	    size);
}

/* Flush and close a written tmp/ file and queue it for the next commit. */
static int
finish_tmp(struct wq_sender *s, int fd, const char *id)
{
	int saved;

	if (s->q->pol.sync == WQ_SYNC_ALWAYS && fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	strlcpy(s->pending[s->npending++], id, WQ_ID_MAX);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(s->q->tmpfd, id, 0);
	errno = saved;
	return -1;
}

/* writev wrote only the first done bytes of header and body: the rest. */
static int
finish_short_write(int fd, const char *hdr, size_t hlen, const char *body,
    size_t len, size_t done)
{
	if (done < hlen) {
		if (wq_write_all(fd, hdr + done, hlen - done) == -1)
			return -1;
		done = hlen;
	}
	return wq_write_all(fd, body + (done - hlen), len - (done - hlen));
}

int
wq_sender_add(struct wq_sender *s, const void *body, size_t len)
{
	char id[WQ_ID_MAX], hdr[WQ_HEADER_MAX];
	struct iovec iov[2];
	int fd, n, saved;
	ssize_t w;

	if (len > s->q->pol.max_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((fd = open_tmp(s, id)) == -1)
		return -1;
	n = header(hdr, sizeof(hdr), id, len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = len;
	if ((w = writev(fd, iov, 2)) >= 0 && (size_t)w < (size_t)n + len)
		w = finish_short_write(fd, hdr, (size_t)n, body, len, (size_t)w);
	if (w == -1) {
		saved = errno;
		close(fd);
		unlinkat(s->q->tmpfd, id, 0);
		errno = saved;
		return -1;
	}
	return finish_tmp(s, fd, id);
}

/* Copy fd to the message body, refusing anything beyond max-size. */
static int
copy_body(struct wq_sender *s, int out, int in, uint64_t *total)
{
	char buf[65536];
	ssize_t n;

	*total = 0;
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		*total += (uint64_t)n;
		if (*total > s->q->pol.max_size) {
			errno = EMSGSIZE;
			return -1;
		}
		if (wq_write_all(out, buf, (size_t)n) == -1)
			return -1;
	}
}

int
wq_sender_add_fd(struct wq_sender *s, int in)
{
	char id[WQ_ID_MAX], hdr[WQ_HEADER_MAX], size[SIZE_FIELD_WIDTH + 1];
	uint64_t total;
	int fd, n, saved;
	off_t size_off;

	if ((fd = open_tmp(s, id)) == -1)
		return -1;
	n = header(hdr, sizeof(hdr), id, 0);
	/* The size is written last, into its fixed-width field. */
	size_off = n - 2 - SIZE_FIELD_WIDTH;
	if (wq_write_all(fd, hdr, (size_t)n) == -1 ||
	    copy_body(s, fd, in, &total) == -1)
		goto fail;
	snprintf(size, sizeof(size), "%0*" PRIu64, SIZE_FIELD_WIDTH, total);
	if (pwrite(fd, size, SIZE_FIELD_WIDTH, size_off) != SIZE_FIELD_WIDTH)
		goto fail;
	return finish_tmp(s, fd, id);
fail:
	saved = errno;
	close(fd);
	unlinkat(s->q->tmpfd, id, 0);
	errno = saved;
	return -1;
}

size_t
wq_sender_pending(const struct wq_sender *s)
{
	return s->npending;
}

size_t
wq_sender_committed(const struct wq_sender *s)
{
	return s->ndone;
}

const char *
wq_sender_id(const struct wq_sender *s, size_t i)
{
	return i < s->ndone ? s->done[i] : NULL;
}

static void
drop_pending(struct wq_sender *s, size_t from)
{
	size_t i;

	for (i = from; i < s->npending; i++)
		unlinkat(s->q->tmpfd, s->pending[i], 0);
	s->npending = 0;
}

/*
 * Make the pending messages visible and durable.  Afterwards
 * wq_sender_id(s, 0 .. wq_sender_committed(s) - 1) are the ids of this
 * commit, in order of wq_sender_add, also when it fails part-way.
 */
int
wq_sender_commit(struct wq_sender *s)
{
	struct wq_entry e;
	char name[WQ_RECEIPT_MAX];
	char bucket[WQ_BUCKET_MAX];
	size_t i = 0;
	int saved = 0, made = WQ_BUCKET_LEVELS;

	s->ndone = 0;
	if (s->npending == 0)
		return 0;
	if (s->q->pol.sync == WQ_SYNC_BATCH && syncfs(s->q->tmpfd) == -1)
		saved = errno;
	memset(&e, 0, sizeof(e));
	e.rank = WQ_RANK_DEFAULT;
	/* The whole group becomes ready now, into one bucket. */
	if (wq_bucket_path(e.rank, wq_now_us(), bucket, sizeof(bucket)) == -1)
		saved = errno;
	for (; saved == 0 && i < s->npending; i++) {
		strlcpy(e.id, s->pending[i], sizeof(e.id));
		if (wq_entry_format(&e, 0, name, sizeof(name)) == -1 ||
		    wq_bucket_put(s->q, s->q->tmpfd, e.id, bucket, name,
		    &made) == -1) {
			saved = errno;
			break;
		}
		strlcpy(s->done[s->ndone++], e.id, WQ_ID_MAX);
	}
	if (s->q->pol.sync != WQ_SYNC_NONE && s->ndone > 0 &&
	    wq_bucket_sync(s->q, bucket, made) == -1) {
		/* Visible, but not known to be durable: do not report them. */
		if (saved == 0)
			saved = errno;
		s->ndone = 0;
	}
	if (s->ndone > 0)
		wq_doorbell(s->q);
	if (saved != 0) {
		drop_pending(s, i);
		errno = saved;
		return -1;
	}
	s->npending = 0;
	return 0;
}

void
wq_sender_close(struct wq_sender *s)
{
	if (s == NULL)
		return;
	drop_pending(s, 0);
	free(s->pending);
	free(s->done);
	free(s);
}

int
wq_send(struct wq_queue *q, const void *body, size_t len, char id[WQ_ID_MAX])
{
	struct wq_sender *s;
	int rc = -1, saved;

	if ((s = wq_sender_open(q)) == NULL)
		return -1;
	if (wq_sender_add(s, body, len) == 0 && wq_sender_commit(s) == 0) {
		strlcpy(id, wq_sender_id(s, 0), WQ_ID_MAX);
		rc = 0;
	}
	saved = errno;
	wq_sender_close(s);
	errno = saved;
	return rc;
}
