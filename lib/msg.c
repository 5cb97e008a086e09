/* SPDX-License-Identifier: MIT */
/*
 * msg.c — reading a message file: its header ("wq 1", id, sent, size,
 * an empty line) and its body.  The size field is checked against the
 * file, so a torn or truncated file is never taken for a message.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq_priv.h"

static int
header_number(const char *line, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p;
	uint64_t v = 0;

	if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
		return 0;
	p = line + klen + 1;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\n')
		return -1;
	*out = v;
	return 1;
}

/* Parse the header in buf; *hdrlen is where the body starts. */
int
wq_msg_parse_header(const char *buf, size_t len, int64_t *sent,
    uint64_t *size, size_t *hdrlen)
{
	const char *line = buf, *nl, *end = buf + len;
	uint64_t v;
	int have_size = 0, r;

	if (len < 5 || memcmp(buf, "wq 1\n", 5) != 0)
		goto bad;
	*sent = 0;
	for (line = buf + 5; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			goto bad;
		if (nl == line) {
			if (!have_size)
				goto bad;
			*hdrlen = (size_t)(nl + 1 - buf);
			return 0;
		}
		if ((r = header_number(line, "size", size)) == -1)
			goto bad;
		have_size |= r;
		if ((r = header_number(line, "sent", &v)) == -1)
			goto bad;
		if (r == 1) {
			if (v > INT64_MAX)
				goto bad;
			*sent = (int64_t)v;
		}
	}
bad:
	errno = EBADMSG;
	return -1;
}

/* A small body came with the header's read: keep it, saving a read. */
static int
keep_body(struct wq_msg *m, const char *body)
{
	if ((m->body = malloc((size_t)m->size + 1)) == NULL)
		return -1;
	memcpy(m->body, body, (size_t)m->size);
	m->body[m->size] = '\0';
	return 0;
}

/*
 * The size of a message file whose first n bytes were read into a buffer
 * of bufsize.  A read that stopped short reached the end of the file: on
 * a local filesystem that is its size, and no fstat is needed (one of the
 * few syscalls a claim costs).  A FUSE or NFS read may stop short for
 * other reasons, and a read that filled the buffer may be a device's:
 * those are asked with fstat, which also refuses what is not a file.
 */
static int
file_size(const struct wq_msg *m, size_t n, size_t bufsize, uint64_t *size)
{
	struct stat st;

	if (n < bufsize && !m->q->remote) {
		*size = n;
		return 0;
	}
	if (fstat(m->fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/*
 * After an open failed: is dirfd/name there but no regular file (a
 * symbolic link, which O_NOFOLLOW refuses with ELOOP, or a device
 * without a driver, ENXIO)?  Such an entry is no message, not an error
 * of the reader, so that the claim sets it aside and goes on.
 */
static int
not_a_file(int dirfd, const char *name)
{
	struct stat st;
	int saved = errno, r;

	r = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode);
	errno = saved;
	return r;
}

struct wq_msg *
wq_msg_load(struct wq_queue *q, int dirfd, const char *name,
    const struct wq_entry *e)
{
	char buf[WQ_HEADER_MAX];
	struct wq_msg *m;
	uint64_t fsize;
	size_t hdrlen;
	ssize_t n;
	int saved;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->q = q;
	m->ent = *e;
	m->memfd = -1;
	strlcpy(m->receipt, name, sizeof(m->receipt));
	m->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (m->fd == -1) {
		if (not_a_file(dirfd, name))
			goto bad;
		goto fail;
	}
	if ((n = pread(m->fd, buf, sizeof(buf), 0)) == -1) {
		if (errno == ESPIPE || errno == EISDIR || errno == EINVAL ||
		    errno == EAGAIN)
			goto bad;	/* a FIFO, a directory, a device */
		goto fail;
	}
	if (file_size(m, (size_t)n, sizeof(buf), &fsize) == -1)
		goto fail;
	if (wq_msg_parse_header(buf, (size_t)n, &m->sent_ms, &m->size,
	    &hdrlen) == -1)
		goto fail;
	if (fsize != hdrlen + m->size)
		goto bad;
	m->body_off = (off_t)hdrlen;
	m->stored = m->size;
	if ((m->hdr = malloc(hdrlen)) == NULL)
		goto fail;
	memcpy(m->hdr, buf, hdrlen);
	if (memchr(m->hdr, '\0', hdrlen) != NULL ||
	    wq_msg_parse_attrs(m, m->hdr + 5, hdrlen - 5) == -1)
		goto bad;
	/* A hostile length must not make a reader allocate without end. */
	if (m->zstd && m->size > q->pol.max_size && m->size > WQ_LENGTH_MAX)
		goto bad;
	if (!m->zstd && (size_t)n == hdrlen + m->size && keep_body(m, buf +
	    hdrlen) == -1)
		goto fail;
	return m;
bad:
	errno = EBADMSG;
fail:
	saved = errno;
	wq_msg_free(m);
	errno = saved;
	return NULL;
}

const char *
wq_msg_id(const struct wq_msg *m)
{
	return m->ent.id;
}

const char *
wq_msg_receipt(const struct wq_msg *m)
{
	return m->receipt;
}

uint32_t
wq_msg_receive_count(const struct wq_msg *m)
{
	return m->ent.count;
}

int64_t
wq_msg_sent_ms(const struct wq_msg *m)
{
	return m->sent_ms;
}

int64_t
wq_msg_deadline_ms(const struct wq_msg *m)
{
	return m->ent.deadline;
}

/* The priority a message was sent with, from the rank of its name. */
int
wq_msg_priority(const struct wq_msg *m)
{
	return (int)WQ_RANK_DEFAULT - (int)m->ent.rank;
}

uint64_t
wq_msg_size(const struct wq_msg *m)
{
	return m->size;
}

/*
 * A body that cannot be read back (a compressed body that does not
 * decode, or a file shorter than its header says) is no message: a
 * lease on it goes to corrupt/, as a bad header does at claim time, so
 * it is not handed out again and again.  -1 with errno kept.
 */
static int
body_failed(struct wq_msg *m)
{
	int saved = errno;

	if (saved == EBADMSG && !m->peeked && m->receipt[0] != '\0' &&
	    wq_quarantine(m->q, m->q->curfd, m->receipt) == 0)
		wq_fifo_unlock(m->q, &m->ent);
	errno = saved;
	return -1;
}

/* The whole body in memory (NUL-terminated for convenience). */
int
wq_msg_body(struct wq_msg *m, const void **body, size_t *len)
{
	size_t got = 0;
	ssize_t n;

	if (m->body == NULL) {
		if (m->size > SIZE_MAX - 1) {
			errno = EFBIG;
			return -1;
		}
		if ((m->body = malloc((size_t)m->size + 1)) == NULL)
			return -1;
		if (m->zstd && wq_decompress(m->q, m->fd, m->body_off,
		    m->stored, m->body, m->size) == -1) {
			free(m->body);
			m->body = NULL;
			return body_failed(m);
		}
		got = m->zstd ? m->size : 0;
		while (got < m->size) {
			n = pread(m->fd, m->body + got, (size_t)m->size - got,
			    m->body_off + (off_t)got);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				free(m->body);
				m->body = NULL;
				if (n == 0)
					errno = EBADMSG;
				return body_failed(m);
			}
			got += (size_t)n;
		}
		m->body[m->size] = '\0';
	}
	*body = m->body;
	*len = (size_t)m->size;
	return 0;
}

/*
 * The open message file and the offset of its body, for zero-copy use;
 * for a compressed body, a memfd of the real body (offset 0).
 */
int
wq_msg_body_fd(struct wq_msg *m, off_t *off)
{
	const void *body;
	size_t len;

	if (!m->zstd) {
		*off = m->body_off;
		return m->fd;
	}
	*off = 0;
	if (m->memfd == -1 && wq_msg_body(m, &body, &len) == 0)
		m->memfd = wq_body_memfd(body, len);
	return m->memfd;
}

void
wq_msg_free(struct wq_msg *m)
{
	if (m == NULL)
		return;
	if (m->fd != -1)
		close(m->fd);
	if (m->memfd != -1)
		close(m->memfd);
	free(m->body);
	free(m->hdr);
	free(m);
}
