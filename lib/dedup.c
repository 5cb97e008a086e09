/* SPDX-License-Identifier: MIT */
/*
 * dedup.c — deduplication.  A message sent with a deduplication id (or,
 * on a queue with content dedup, any message: its body is the id) takes
 * a slot, dedup/KEY, KEY being the SHA-256 of the id in hex: a symbolic
 * link to "EXPIRES,DUE,ENTRY" made with symlinkat, so of two senders
 * exactly one gets it.  A later send with the same id before EXPIRES is
 * accepted and not enqueued: it answers with the first message's id,
 * also when that message was long acked, because the slot lives apart
 * from the message.
 *
 * The slot is taken after the message is written and flushed in tmp/
 * and before it is renamed into the queue.  A sender that crashes in
 * between leaves the slot and its message in tmp/: the next sender of
 * the same id finds the message there and commits it on the crashed
 * sender's behalf (ENTRY and DUE say where it goes), so a repeat that
 * is answered with the first id never points at a lost message.
 * Slots past their time are removed by the sweep of wq-recv and wq-stat,
 * at most once a minute.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sha2.h>

#include "wq_priv.h"

#define SLOT_MAX	512
#define SWEEP_EVERY	60	/* seconds between sweeps of dedup/ */

/*
 * The key of a deduplication id given by the sender, or (body) of a
 * message body: a prefix keeps an id from ever matching a body.
 */
int
wq_dedup_key(const void *data, size_t len, int body,
    unsigned char key[WQ_DEDUP_KEY])
{
	struct wq_digest *d;

	if ((d = wq_digest_start()) == NULL)
		return -1;
	if (wq_digest_add(d, body ? "body\n" : "id\n", body ? 5 : 3) == -1 ||
	    wq_digest_add(d, data, len) == -1) {
		(void)wq_digest_end(d, NULL);
		return -1;
	}
	return wq_digest_end(d, key);
}

/*
 * Content dedup: the digest of a body read in pieces.  SHA-256 comes
 * from libmd, which libbsd loads anyway: linking libcrypto would cost
 * every command milliseconds of start-up.
 */
struct wq_digest {
	SHA2_CTX	ctx;
};

struct wq_digest *
wq_digest_start(void)
{
	struct wq_digest *d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return NULL;
	SHA256Init(&d->ctx);
	return d;
}

int
wq_digest_add(struct wq_digest *d, const void *buf, size_t len)
{
	SHA256Update(&d->ctx, buf, len);
	return 0;
}

/* The digest into key, and the context freed (also when key is NULL). */
int
wq_digest_end(struct wq_digest *d, unsigned char key[WQ_DEDUP_KEY])
{
	unsigned char sink[SHA256_DIGEST_LENGTH];

	SHA256Final(key != NULL ? key : sink, &d->ctx);
	free(d);
	return 0;
}

static int
dedup_dir(struct wq_queue *q)
{
	return wq_open_subdir(q, q->fd, "dedup", 1, NULL);
}

static void
key_hex(const unsigned char key[WQ_DEDUP_KEY], char hex[2 * WQ_DEDUP_KEY + 1])
{
	size_t i;

	for (i = 0; i < WQ_DEDUP_KEY; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
}

struct slot {
	int64_t		 expires, due;
	char		 entry[WQ_RECEIPT_MAX];
};

/* 1 read, 0 no such slot, -1 error (a garbled slot reads as expired). */
static int
slot_read(int dfd, const char *name, struct slot *sl)
{
	char buf[SLOT_MAX];
	long long e, d;
	ssize_t n;
	int used = 0;

	if ((n = readlinkat(dfd, name, buf, sizeof(buf) - 1)) == -1) {
		if (errno != EINVAL)
			return wq_gone(errno) ? 0 : -1;
		n = 0;		/* not a symbolic link: garbled */
	}
	buf[n] = '\0';
	memset(sl, 0, sizeof(*sl));
	if (sscanf(buf, "%lld,%lld,%n", &e, &d, &used) != 2 || used == 0 ||
	    strlcpy(sl->entry, buf + used, sizeof(sl->entry)) >=
	    sizeof(sl->entry))
		return 1;	/* expires 0: stale */
	sl->expires = e;
	sl->due = d;
	return 1;
}

/*
 * Commit the first message of a slot on its sender's behalf, if it is
 * still in tmp/: its sender crashed, or is about to do it itself (then
 * one of the two renames finds the file gone, and that is fine).
 */
static int
help_commit(struct wq_queue *q, const struct slot *sl)
{
	struct wq_entry e;
	char name[WQ_RECEIPT_MAX];
	struct stat st;

	if (wq_entry_parse(sl->entry, 0, &e) == -1)
		return 0;
	if (fstatat(q->tmpfd, e.id, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return wq_gone(errno) ? 0 : -1;
	if (sl->due > wq_now_ms()) {
		e.deadline = sl->due;
		strlcpy(e.nonce, WQ_DELAYED, sizeof(e.nonce));
		if (wq_entry_format(&e, 1, name, sizeof(name)) == -1)
			return -1;
		if (renameat(q->tmpfd, e.id, q->curfd, name) == -1)
			return wq_gone(errno) ? 0 : -1;
		return q->pol.sync != WQ_SYNC_NONE ? wq_fsync_dir(q->curfd) : 0;
	}
	if ((q->pol.fanout[0] != '\0' ? wq_fanout_deliver(q, q->tmpfd, e.id,
	    &e, WQ_MOVE | WQ_DURABLE) : wq_transfer(q, q->tmpfd, e.id, &e,
	    WQ_MOVE | WQ_DURABLE)) == -1)
		return wq_gone(errno) ? 0 : -1;
	return 0;
}

/*
 * Take the slot of key for the message about to be committed as the
 * new/ entry `entry`, ready at `due`.  0: taken, commit it.  1: a repeat
 * within the window; first gets the first message's id, which is
 * committed now if its sender did not get to it.
 */
int
wq_dedup_claim(struct wq_queue *q, const unsigned char key[WQ_DEDUP_KEY],
    const char *entry, int64_t due, char first[WQ_ID_MAX])
{
	char name[2 * WQ_DEDUP_KEY + 1], target[SLOT_MAX];
	struct wq_entry e;
	struct slot sl;
	int64_t now = wq_now_ms();
	int dfd, tries, r, rc = -1;

	if ((dfd = dedup_dir(q)) == -1)
		return -1;
	key_hex(key, name);
	snprintf(target, sizeof(target), "%" PRId64 ",%" PRId64 ",%s",
	    now + (int64_t)q->pol.dedup_window * 1000, due, entry);
	for (tries = 0; tries < 4 && rc == -1; tries++) {
		if (symlinkat(target, dfd, name) == 0) {
			rc = 0;
			break;
		}
		if (errno != EEXIST || (r = slot_read(dfd, name, &sl)) == -1)
			break;
		if (r == 0)
			continue;	/* removed meanwhile */
		if (sl.expires <= now) {
			/* Expired: ours replaces it. */
			if (wq_symlink_replace(q, dfd, name, target) == 0)
				rc = 0;
			break;
		}
		if (wq_entry_parse(sl.entry, 0, &e) == -1) {
			errno = EBADMSG;
			break;
		}
		strlcpy(first, e.id, WQ_ID_MAX);
		if (help_commit(q, &sl) == -1)
			break;
		rc = 1;
	}
	close(dfd);
	return rc;
}

/* Give back a slot whose message could not be committed. */
void
wq_dedup_release(struct wq_queue *q, const unsigned char key[WQ_DEDUP_KEY])
{
	char name[2 * WQ_DEDUP_KEY + 1];
	int dfd;

	if ((dfd = dedup_dir(q)) == -1)
		return;
	key_hex(key, name);
	(void)unlinkat(dfd, name, 0);
	close(dfd);
}

static int
sweep_slot(int dfd, const char *name, void *arg)
{
	const int64_t *now = arg;
	struct slot sl;

	if (strlen(name) == 2 * WQ_DEDUP_KEY && slot_read(dfd, name, &sl) == 1
	    && sl.expires <= *now)
		(void)unlinkat(dfd, name, 0);
	return 0;
}

/* Remove slots past their window, at most once a minute per queue. */
int
wq_dedup_sweep(struct wq_queue *q)
{
	struct stat st;
	int64_t now = wq_now_ms();
	int dfd, fd, rc;

	dfd = openat(q->fd, "dedup", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd == -1)
		return wq_gone(errno) ? 0 : -1;
	if (fstatat(dfd, ".swept", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_mtime + SWEEP_EVERY > now / 1000) {
		close(dfd);
		return 0;
	}
	/* O_NONBLOCK: a FIFO in its place must not hang the sweep. */
	if ((fd = openat(dfd, ".swept", O_WRONLY | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666)) != -1) {
		wq_share_file(q, fd);
		(void)futimens(fd, NULL);
		close(fd);
	}
	rc = wq_walk_dir(dfd, 0, sweep_slot, &now);
	close(dfd);
	return rc;
}
