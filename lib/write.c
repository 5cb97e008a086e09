/* SPDX-License-Identifier: MIT */
/*
 * write.c — writing a message into tmp/: a fresh name (O_EXCL), the
 * header, the body (compressed when the queue's policy says so; its
 * digest taken for content dedup), flushed as the sync mode says.  The
 * file waits in tmp/ until wq_sender_commit (send.c) renames it in.
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
#include "sender.h"


#define SIZE_FIELD_WIDTH 20

/* Create tmp/ID for a new message; a clash of ids only costs a retry. */
static int
open_tmp(struct wq_sender *s, char id[WQ_ID_MAX])
{
	int fd, tries;

	if (wq_sender_room(s) == -1)
		return -1;
	for (tries = 0; tries < 8; tries++) {
		if (wq_id_new(id) == -1)
			return -1;
		fd = openat(s->q->tmpfd, id, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd != -1)
			wq_share_file(s->q, fd);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/*
 * The header of a message; length (of a compressed body) and size are
 * the last lines, fixed-width, so that a body of unknown length can have
 * them filled in afterwards.  -1 with EMSGSIZE if the attributes make it
 * too long.
 */
static int
header(const struct wq_sender *s, char *buf, size_t len, const char *id,
    uint64_t size, int zstd, uint64_t length)
{
	char enc[64] = "";
	int64_t sent;
	int n;

	if (wq_id_time_ms(id, &sent) == -1)
		sent = wq_now_ms();
	if (zstd)
		snprintf(enc, sizeof(enc), "encoding zstd\nlength %0*" PRIu64
		    "\n", SIZE_FIELD_WIDTH, length);
	n = snprintf(buf, len, "wq %d\nid %s\nsent %" PRId64 "\n%s%s%s"
	    "%.*s%ssize %0*" PRIu64 "\n\n", WQ_FORMAT, id, sent,
	    s->q->base[0] ? "queue " : "", s->q->base, s->q->base[0] ? "\n" : "",
	    (int)s->attrs_len, s->attrs ? s->attrs : "", enc, SIZE_FIELD_WIDTH,
	    size);
	if (n < 0 || (size_t)n >= len) {
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

/* Flush and close a written tmp/ file and queue it for the next commit. */
static int
finish_tmp(struct wq_sender *s, int fd, const char *id, uint64_t size,
    const unsigned char *key)
{
	struct pending *p;
	int saved;

	if (s->q->pol.sync == WQ_SYNC_ALWAYS && fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	p = &s->pending[s->npending++];
	strlcpy(p->id, id, WQ_ID_MAX);
	p->size = size;
	p->dup_of[0] = '\0';
	p->placed = 0;
	p->keyed = key != NULL;
	if (key != NULL)
		memcpy(p->key, key, WQ_DEDUP_KEY);
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

/*
 * The deduplication key of the message being added, into key: the id
 * given with wq_sender_dedup, else with content dedup the body's digest
 * (body NULL: being computed by the caller).  NULL when it has none.
 */
static const unsigned char *
message_key(struct wq_sender *s, const void *body, size_t len,
    unsigned char key[WQ_DEDUP_KEY])
{
	if (s->dedup_next) {
		s->dedup_next = 0;
		memcpy(key, s->dedup_key, WQ_DEDUP_KEY);
		return key;
	}
	if (s->q->pol.dedup != WQ_DEDUP_CONTENT || body == NULL)
		return NULL;
	return wq_dedup_key(body, len, 1, key) == 0 ? key : NULL;
}

/*
 * Compress a body if the queue's policy says so: always, or (auto) from
 * 4 KiB when it shrinks.  Then *body and *len are the compressed copy,
 * *z it (to free), *raw the real length.
 */
static int
compressed(struct wq_sender *s, const void **body, size_t *len, void **z,
    size_t *raw)
{
	enum wq_compress c = s->q->pol.compress;
	size_t zlen;

	*z = NULL;
	*raw = *len;
	if (c == WQ_COMPRESS_NEVER ||
	    (c == WQ_COMPRESS_AUTO && *len < WQ_COMPRESS_MIN))
		return 0;
	if (wq_compress(&s->cctx, *body, *len, z, &zlen) == -1)
		return -1;
	if (c == WQ_COMPRESS_AUTO && zlen >= *len) {
		free(*z);
		*z = NULL;
		return 0;
	}
	*body = *z;
	*len = zlen;
	return 0;
}

int
wq_sender_add(struct wq_sender *s, const void *body, size_t len)
{
	char id[WQ_ID_MAX], hdr[WQ_HEADER_MAX];
	unsigned char keybuf[WQ_DEDUP_KEY];
	const unsigned char *key;
	struct iovec iov[2];
	void *z = NULL;
	size_t raw = len;
	int fd = -1, n, saved;
	ssize_t w;

	if (len > s->q->pol.max_size) {
		errno = EMSGSIZE;
		s->dedup_next = 0;
		return -1;
	}
	key = message_key(s, body, len, keybuf);
	if (compressed(s, &body, &len, &z, &raw) == -1)
		return -1;
	if ((fd = open_tmp(s, id)) == -1 ||
	    (n = header(s, hdr, sizeof(hdr), id, len, z != NULL, raw)) == -1)
		goto fail;
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = len;
	if ((w = writev(fd, iov, 2)) >= 0 && (size_t)w < (size_t)n + len)
		w = finish_short_write(fd, hdr, (size_t)n, body, len, (size_t)w);
	if (w == -1)
		goto fail;
	free(z);
	return finish_tmp(s, fd, id, (uint64_t)n + len, key);
fail:
	saved = errno;
	if (fd != -1) {
		close(fd);
		unlinkat(s->q->tmpfd, id, 0);
	}
	free(z);
	errno = saved;
	return -1;
}

/* Read up to len bytes (less only at the end of the input). */
static ssize_t
read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if ((n = read(fd, buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

struct body_copy {
	uint64_t		 total;		/* real bytes */
	uint64_t		 stored;	/* bytes written */
	struct wq_digest	*dg;		/* content dedup, or NULL */
	int			 zstd;
};

/* One piece of a body read from an fd: counted, digested, written. */
static int
copy_piece(struct wq_sender *s, int out, const char *buf, size_t n,
    struct body_copy *bc)
{
	bc->total += n;
	if (bc->total > s->q->pol.max_size) {
		errno = EMSGSIZE;
		return -1;
	}
	if (bc->dg != NULL && wq_digest_add(bc->dg, buf, n) == -1)
		return -1;
	if (bc->zstd)
		return wq_zstream_write(&s->cctx, out, buf, n, 0, &bc->stored);
	bc->stored += n;
	return wq_write_all(out, buf, n);
}

/*
 * Copy the rest of fd to the message body after its first pre bytes,
 * refusing anything beyond max-size.
 */
static int
copy_body(struct wq_sender *s, int out, int in, const char *pre,
    size_t prelen, struct body_copy *bc)
{
	char buf[65536];
	ssize_t n;

	if (prelen > 0 && copy_piece(s, out, pre, prelen, bc) == -1)
		return -1;
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		if (copy_piece(s, out, buf, (size_t)n, bc) == -1)
			return -1;
	}
	return bc->zstd ? wq_zstream_write(&s->cctx, out, NULL, 0, 1,
	    &bc->stored) : 0;
}

/*
 * Whether to compress a body read from an fd, from its first pre bytes
 * (up to 64 KiB): always, or (auto) when it is 4 KiB or more and that
 * first part shrinks.
 */
static int
stream_compressed(struct wq_sender *s, const char *pre, size_t prelen)
{
	void *z;
	size_t zlen;
	int shrinks;

	if (s->q->pol.compress == WQ_COMPRESS_ALWAYS)
		return 1;
	if (s->q->pol.compress == WQ_COMPRESS_NEVER ||
	    prelen < WQ_COMPRESS_MIN ||
	    wq_compress(&s->cctx, pre, prelen, &z, &zlen) == -1)
		return 0;
	shrinks = zlen < prelen;
	free(z);
	return shrinks;
}

/* Fill a fixed-width number field of a written header. */
static int
fill_field(int fd, off_t off, uint64_t v)
{
	char num[SIZE_FIELD_WIDTH + 1];

	snprintf(num, sizeof(num), "%0*" PRIu64, SIZE_FIELD_WIDTH, v);
	return pwrite(fd, num, SIZE_FIELD_WIDTH, off) == SIZE_FIELD_WIDTH ?
	    0 : -1;
}

int
wq_sender_add_fd(struct wq_sender *s, int in)
{
	char id[WQ_ID_MAX], hdr[WQ_HEADER_MAX], *pre = NULL;
	unsigned char keybuf[WQ_DEDUP_KEY];
	const unsigned char *key;
	struct body_copy bc = { 0, 0, NULL, 0 };
	ssize_t prelen = 0;
	int fd = -1, n, saved;
	off_t size_off;

	key = message_key(s, NULL, 0, keybuf);
	if (key == NULL && s->q->pol.dedup == WQ_DEDUP_CONTENT &&
	    ((bc.dg = wq_digest_start()) == NULL ||
	    wq_digest_add(bc.dg, "body\n", 5) == -1))
		goto fail;
	if (s->q->pol.compress != WQ_COMPRESS_NEVER) {
		if ((pre = malloc(65536)) == NULL ||
		    (prelen = read_full(in, pre, 65536)) == -1)
			goto fail;
		bc.zstd = stream_compressed(s, pre, (size_t)prelen);
	}
	if ((fd = open_tmp(s, id)) == -1 ||
	    (n = header(s, hdr, sizeof(hdr), id, 0, bc.zstd, 0)) == -1)
		goto fail;
	/* The sizes are written last, into their fixed-width fields. */
	size_off = n - 2 - SIZE_FIELD_WIDTH;
	if (wq_write_all(fd, hdr, (size_t)n) == -1 ||
	    copy_body(s, fd, in, pre, (size_t)prelen, &bc) == -1 ||
	    fill_field(fd, size_off, bc.stored) == -1 ||
	    (bc.zstd && fill_field(fd, size_off - (off_t)strlen("\nsize ") -
	    SIZE_FIELD_WIDTH, bc.total) == -1))
		goto fail;
	if (bc.dg != NULL) {
		key = wq_digest_end(bc.dg, keybuf) == 0 ? keybuf : NULL;
		bc.dg = NULL;
	}
	free(pre);
	return finish_tmp(s, fd, id, (uint64_t)n + bc.stored, key);
fail:
	saved = errno;
	if (fd != -1) {
		close(fd);
		unlinkat(s->q->tmpfd, id, 0);
	}
	if (bc.dg != NULL)
		(void)wq_digest_end(bc.dg, NULL);
	if (bc.zstd)
		wq_zstream_reset(s->cctx);
	free(pre);
	errno = saved;
	return -1;
}
