/* SPDX-License-Identifier: MIT */
/*
 * compress.c — zstd bodies.  A compressed message has the header lines
 * "encoding zstd" and "length N" (the body's real length; "size" is what
 * is stored).  Senders compress at level 3 with one context reused for
 * all their messages; readers decompress with one context per queue
 * handle and a window limit, so a hostile file cannot make a reader
 * allocate more than 128 MiB for the window.  Readers never see the
 * difference: wq_msg_body returns the real body, and wq_msg_body_fd an
 * fd of it (a memfd) for exec mode's standard input.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "wq_priv.h"

#define LEVEL		3
#define WINDOW_LOG_MAX	27	/* 128 MiB */

/* Level 3, and a checksum: a flipped bit is corruption, not a body. */
static void
set_params(ZSTD_CCtx *cctx)
{
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, LEVEL);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
}

/* A compressed copy of body into *out (malloc'd). */
int
wq_compress(void **cctx, const void *body, size_t len, void **out,
    size_t *outlen)
{
	size_t bound = ZSTD_compressBound(len), n;
	void *buf;

	*out = NULL;
	if (*cctx == NULL) {
		if ((*cctx = ZSTD_createCCtx()) == NULL)
			goto nomem;
		set_params(*cctx);
	}
	if ((buf = malloc(bound)) == NULL)
		goto nomem;
	n = ZSTD_compress2(*cctx, buf, bound, body, len);
	if (ZSTD_isError(n)) {
		free(buf);
		errno = EIO;
		return -1;
	}
	*out = buf;
	*outlen = n;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

void
wq_compress_free(void *cctx)
{
	ZSTD_freeCCtx(cctx);
}

/*
 * Decompress the stored body (stored bytes at off in fd) into out, which
 * holds exactly length bytes; anything else is a corrupt message.
 */
int
wq_decompress(struct wq_queue *q, int fd, off_t off, uint64_t stored,
    void *out, uint64_t length)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	ZSTD_outBuffer ob = { out, (size_t)length, 0 };
	char buf[65536];
	uint64_t done = 0;
	size_t r = 1;
	ssize_t n;

	if (q->dctx == NULL) {
		if ((q->dctx = ZSTD_createDCtx()) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		ZSTD_DCtx_setParameter(q->dctx, ZSTD_d_windowLogMax,
		    WINDOW_LOG_MAX);
	}
	ZSTD_DCtx_reset(q->dctx, ZSTD_reset_session_only);
	while (done < stored) {
		n = pread(fd, buf, stored - done < sizeof(buf) ?
		    (size_t)(stored - done) : sizeof(buf), off + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto bad;
		done += (uint64_t)n;
		in.src = buf;
		in.size = (size_t)n;
		in.pos = 0;
		while (in.pos < in.size) {
			r = ZSTD_decompressStream(q->dctx, &ob, &in);
			if (ZSTD_isError(r) || (ob.pos == ob.size &&
			    in.pos < in.size && r != 0))
				goto bad;
		}
	}
	if (r != 0 || ob.pos != length)
		goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

void
wq_decompress_free(struct wq_queue *q)
{
	ZSTD_freeDCtx(q->dctx);
	q->dctx = NULL;
}

/* The real body in a memfd, for a reader that wants a file descriptor. */
int
wq_body_memfd(const void *body, size_t len)
{
	int fd, saved;

	if ((fd = memfd_create("wq-body", MFD_CLOEXEC)) == -1)
		return -1;
	if (wq_write_all(fd, body, len) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Compress buf into outfd as part of one stream (end: the last part);
 * *stored counts the bytes written.
 */
int
wq_zstream_write(void **cctx, int outfd, const void *buf, size_t len,
    int end, uint64_t *stored)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	char out[65536];
	ZSTD_outBuffer ob;
	size_t r;

	if (*cctx == NULL) {
		if ((*cctx = ZSTD_createCCtx()) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		set_params(*cctx);
	}
	do {
		ob.dst = out;
		ob.size = sizeof(out);
		ob.pos = 0;
		r = ZSTD_compressStream2(*cctx, &ob, &in, end ? ZSTD_e_end :
		    ZSTD_e_continue);
		if (ZSTD_isError(r)) {
			errno = EIO;
			return -1;
		}
		if (wq_write_all(outfd, out, ob.pos) == -1)
			return -1;
		*stored += ob.pos;
	} while (end ? r != 0 : in.pos < in.size);
	return 0;
}

/* A stream given up half-way: the context is ready for the next. */
void
wq_zstream_reset(void *cctx)
{
	if (cctx != NULL)
		ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
}
