/* SPDX-License-Identifier: MIT */
/*
 * transfer.c — making a message ready in a queue: after a release or an
 * expired lease (a rename within the queue), when it is dead-lettered or
 * redriven (a rename into another queue), and for each subscriber of a
 * topic (a hard link).  Where a rename or link cannot cross filesystems
 * the file is copied into the target's tmp/, flushed as its policy says,
 * and renamed in; a move then removes the source only after that.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

/* Open the queue a policy names: a name beside q, or a path. */
struct wq_queue *
wq_queue_open_beside(struct wq_queue *q, const char *ref)
{
	struct wq_spool s = { -1, NULL };
	struct wq_queue *r;
	int saved;

	if (strchr(ref, '/') != NULL)
		return wq_queue_open(&s, ref);
	if ((s.fd = openat(q->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    == -1)
		return NULL;
	r = wq_queue_open(&s, ref);
	saved = errno;
	close(s.fd);
	errno = saved;
	return r;
}

/*
 * Put fromfd/from into q as the ready entry e: into the bucket of the
 * time it became ready (at_us, 0 for now), or in a FIFO queue into its
 * group's tree at its send time.
 */
static int
put_ready(struct wq_queue *q, int fromfd, const char *from,
    const struct wq_entry *e, int link, int sync, int64_t at_us,
    char *placed, size_t len)
{
	char bucket[WQ_BUCKET_MAX], name[WQ_RECEIPT_MAX];
	int made = WQ_BUCKET_LEVELS, saved;

	if (q->pol.fifo)
		return wq_fifo_put(q, fromfd, from, e, link, sync, placed,
		    len);
	if (wq_entry_format(e, 0, name, sizeof(name)) == -1 ||
	    wq_bucket_path(e->rank, at_us > 0 ? at_us : wq_now_us(), bucket,
	    sizeof(bucket)) == -1)
		return -1;
	if ((link ? wq_bucket_link(q, fromfd, from, bucket, name, &made) :
	    wq_bucket_put(q, fromfd, from, bucket, name, &made)) == -1)
		return -1;
	if (sync && q->pol.sync != WQ_SYNC_NONE &&
	    wq_bucket_sync(q, bucket, made) == -1) {
		/* A send that fails leaves nothing visible: take it back. */
		saved = errno;
		(void)wq_bucket_unput(q, fromfd, from, bucket, name, link);
		errno = saved;
		return -1;
	}
	if (placed != NULL)
		snprintf(placed, len, "%s/%s", bucket, name);
	wq_doorbell(q);
	return 0;
}

/*
 * Copy all of in to out: copy_file_range where the kernel can (it cannot
 * between filesystems of different kinds), else read and write.
 * 0 done, -1 error.
 */
static ssize_t
copy_all(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
	    errno != EOPNOTSUPP)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || wq_write_all(out, buf, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/* Copy fromfd/from into to's tmp/, as the new file tmp. */
static int
copy_in(struct wq_queue *to, int fromfd, const char *from, const char *tmp)
{
	struct stat st;
	int in, out, saved;
	ssize_t n;

	/* Only a regular file is copied: never wait on a FIFO. */
	if ((in = openat(fromfd, from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(in, &st) == -1 || !S_ISREG(st.st_mode)) {
		saved = errno;
		if (fstat(in, &st) == 0)
			saved = EBADMSG;
		close(in);
		errno = saved;
		return -1;
	}
	out = openat(to->tmpfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0666);
	if (out == -1) {
		saved = errno;
		close(in);
		errno = saved;
		return -1;
	}
	wq_share_file(to, out);
	n = copy_all(in, out);
	if (n == 0 && to->pol.sync != WQ_SYNC_NONE && fdatasync(out) == -1)
		n = -1;
	saved = errno;
	close(in);
	if (close(out) == -1 && n == 0) {
		saved = errno;
		n = -1;
	}
	if (n == -1) {
		unlinkat(to->tmpfd, tmp, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * Make fromfd/from ready in `to` as entry e.  how is WQ_MOVE (the source
 * is gone afterwards) or WQ_LINK (it stays), and WQ_DURABLE for a send.
 * A rename or link is fsynced only for a send, as every state change
 * within a queue is not; a copy is new data and is made durable as the
 * target's sync policy says.
 */
int
wq_transfer(struct wq_queue *to, int fromfd, const char *from,
    const struct wq_entry *e, int how)
{
	return wq_transfer_at(to, fromfd, from, e, how, 0);
}

/* wq_transfer_at, and where the entry went into placed if not NULL. */
static int
transfer(struct wq_queue *to, int fromfd, const char *from,
    const struct wq_entry *e, int how, int64_t at_us, char *placed,
    size_t len)
{
	char tmp[WQ_ID_MAX + 32];
	int link = (how & WQ_LINK) != 0, saved;

	if (put_ready(to, fromfd, from, e, link, how & WQ_DURABLE, at_us,
	    placed, len) == 0)
		return 0;
	if (errno != EXDEV && !(link && (errno == EPERM || errno == EMLINK)))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.copy.%08x", e->id, arc4random());
	if (copy_in(to, fromfd, from, tmp) == -1)
		return -1;
	if (put_ready(to, to->tmpfd, tmp, e, 0, 1, at_us, placed, len) == -1) {
		saved = errno;
		unlinkat(to->tmpfd, tmp, 0);
		errno = saved;
		return -1;
	}
	if (!link && unlinkat(fromfd, from, 0) == -1 && !wq_gone(errno))
		return -1;
	return 0;
}

/*
 * wq_transfer, into the bucket of the time the message became ready
 * (at_us; 0 for now): messages that fell due together keep their order.
 */
int
wq_transfer_at(struct wq_queue *to, int fromfd, const char *from,
    const struct wq_entry *e, int how, int64_t at_us)
{
	return transfer(to, fromfd, from, e, how, at_us, NULL, 0);
}

/*
 * wq_transfer, telling where the entry went: its path below new/ into
 * placed, so that a topic can take back the copies it delivered when a
 * later subscriber fails (lib/fanout.c).
 */
int
wq_transfer_placed(struct wq_queue *to, int fromfd, const char *from,
    const struct wq_entry *e, int how, char *placed, size_t len)
{
	return transfer(to, fromfd, from, e, how, 0, placed, len);
}

/*
 * Put a hard link to fromfd/from (a copy where a link cannot be made)
 * into to's tmp/, named after id into name: invisible to consumers until
 * renamed in, so a topic can stage every copy before any is delivered.
 */
int
wq_stage(struct wq_queue *to, int fromfd, const char *from, const char *id,
    char *name, size_t len)
{
	snprintf(name, len, "%s.fan.%08x", id, arc4random());
	if (linkat(fromfd, from, to->tmpfd, name, 0) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM && errno != EMLINK)
		return -1;
	return copy_in(to, fromfd, from, name);
}
