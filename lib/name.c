/* SPDX-License-Identifier: MIT */
/*
 * name.c — the grammar of queue names, message ids and entry names.
 *
 * An id is TTTTTTTTTTTTTTTT.PID.SEQ.RRRRRRRR.HOST: send time in
 * microseconds (16 hex digits, so ids sort by time), pid and a per-process
 * counter in hex, 32 random bits, and the sanitised host name.  Two hosts
 * never clash because of HOST; two processes on one host because of PID,
 * SEQ and the random part (pid namespaces can repeat pids).
 * An entry of new/ is "RR.ID,COUNT,SIZE,GROUP" (GROUP may be empty); one
 * of cur/ adds ",DEADLINE,NONCE".  SIZE is the message file's size, so
 * counting bytes needs no stat; GROUP is the FIFO message group, so a
 * consumer can tell which group an entry belongs to from its name alone.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wq_priv.h"


int
wq_name_valid(const char *name)
{
	size_t i;

	if (!isalnum((unsigned char)name[0]))
		return 0;
	for (i = 1; name[i] != '\0'; i++) {
		unsigned char c = name[i];

		if (i >= WQ_NAME_MAX)
			return 0;
		if (!isascii(c) || !(isalnum(c) || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/* A FIFO message group: the grammar of queue names, up to 64 bytes. */
int
wq_group_valid(const char *g)
{
	return strlen(g) <= WQ_GROUP_MAX && wq_name_valid(g);
}

static int
id_char(int c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-');
}

static int
id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!id_char((unsigned char)id[i]))
			return 0;
	return i >= 16 && i < WQ_ID_MAX;
}

static char host[WQ_HOST_MAX + 1];

static void
host_lookup(void)
{
	size_t i;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		strlcpy(host, "localhost", sizeof(host));
	host[WQ_HOST_MAX] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!(isascii((unsigned char)host[i]) &&
		    (isalnum((unsigned char)host[i]) || host[i] == '-')))
			host[i] = '_';
}

/* This host's name as ids and clock probes carry it.  Threads of one
 * process (wq-serve's) may send at once. */
const char *
wq_host_name(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, host_lookup);
	return host;
}

/*
 * This process's id and the random part of its ids, looked up once and
 * again after a fork: with the sequence number they keep ids apart, and
 * a getpid or a random draw per id would cost a syscall per message.
 */
static _Atomic pid_t	id_pid;		/* set last: then the salt is there */
static _Atomic uint32_t	id_salt;

static void
id_forget(void)
{
	id_pid = 0;
}

static void
id_process(void)
{
	static _Atomic int registered;

	if (id_pid != 0)
		return;
	if (registered == 0)
		registered = pthread_atfork(NULL, NULL, id_forget) == 0 ? 1 : -1;
	id_salt = arc4random();
	id_pid = getpid();
	if (registered == -1)
		id_forget();	/* a fork would go unseen: no cache */
}

int
wq_id_new(char id[WQ_ID_MAX])
{
	/* Atomic: two threads in one microsecond must not share a SEQ. */
	static atomic_ulong seq;
	struct timespec ts;
	uint64_t us;
	int n;

	id_process();
	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	/* SEQ is fixed-width so that one process's ids sort in send order
	 * even within one microsecond. */
	n = snprintf(id, WQ_ID_MAX, "%016" PRIx64 ".%lx.%08lx.%08" PRIx32
	    ".%s", us, (unsigned long)(id_pid ? id_pid : getpid()),
	    atomic_fetch_add(&seq, 1) & 0xffffffffUL, id_salt, wq_host_name());
	if (n < 0 || n >= WQ_ID_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
wq_id_time_ms(const char *id, int64_t *ms)
{
	char *end;
	unsigned long long us;

	us = strtoull(id, &end, 16);
	if (end != id + 16 || *end != '.')
		return -1;
	*ms = (int64_t)(us / 1000);
	return 0;
}

/* The send time of an id in microseconds; 0 if it has none. */
int64_t
wq_id_time_us(const char *id)
{
	char *end;
	unsigned long long us;

	us = strtoull(id, &end, 16);
	if (end != id + 16 || *end != '.' || us > INT64_MAX)
		return 0;
	return (int64_t)us;
}

/*
 * A fresh nonce for a lease.  Random bytes are drawn 32 nonces at a time
 * (each draw costs a syscall); the pool is per thread.  A pool shared by
 * a parent and a child after fork can repeat a nonce, but never for one
 * message at one deadline, so receipts stay unique.
 */
void
wq_nonce_new(char nonce[17])
{
	static _Thread_local uint64_t pool[32];
	static _Thread_local size_t left;

	if (left == 0) {
		arc4random_buf(pool, sizeof(pool));
		left = sizeof(pool) / sizeof(pool[0]);
	}
	snprintf(nonce, 17, "%016" PRIx64, pool[--left]);
}

/* Parse a decimal field that ends at one of the bytes in stop. */
static int
parse_dec(const char **p, int64_t max, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copy the field of p up to the next comma (or the end) into out. */
static int
parse_field(const char **p, char *out, size_t len, int last)
{
	const char *end = last ? *p + strlen(*p) : strchr(*p, ',');
	size_t n;

	if (end == NULL || (n = (size_t)(end - *p)) >= len)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = end;
	return 0;
}

/*
 * An entry name of wq 0.1.0, before SIZE and GROUP: "RR.ID,COUNT" in new/
 * and "RR.ID,COUNT,DEADLINE,NONCE" in cur/ (one comma less than now, in
 * each, and one more). Spools of that version are read as they are.
 */
static int
legacy_entry(const char *name, int incur)
{
	size_t commas = 0;

	for (; *name != '\0'; name++)
		commas += *name == ',';
	return commas == (incur ? 3u : 1u);
}

int
wq_entry_parse(const char *name, int incur, struct wq_entry *e)
{
	const char *p;
	int64_t v;
	int legacy = legacy_entry(name, incur);

	memset(e, 0, sizeof(*e));
	if (hexval(name[0]) < 0 || hexval(name[1]) < 0 || name[2] != '.')
		goto bad;
	e->rank = hexval(name[0]) * 16 + hexval(name[1]);
	p = name + 3;
	if (parse_field(&p, e->id, sizeof(e->id), 0) == -1 || !id_valid(e->id))
		goto bad;
	p++;
	if (parse_dec(&p, UINT32_MAX, &v) == -1)
		goto bad;
	e->count = (uint32_t)v;
	if (legacy && !incur)
		return *p == '\0' ? 0 : (errno = EINVAL, -1);
	if (*p++ != ',')
		goto bad;
	if (!legacy) {
		if (parse_dec(&p, INT64_MAX, &v) == -1 || *p++ != ',')
			goto bad;
		e->size = (uint64_t)v;
		if (parse_field(&p, e->group, sizeof(e->group), !incur) == -1 ||
		    (e->group[0] != '\0' && !wq_group_valid(e->group)))
			goto bad;
		if (!incur)
			return 0;
		p++;
	}
	if (parse_dec(&p, INT64_MAX, &e->deadline) == -1 || *p++ != ',')
		goto bad;
	if (strcmp(p, WQ_DELAYED) != 0 &&
	    (strlen(p) != 16 || strspn(p, "0123456789abcdef") != 16))
		goto bad;
	strlcpy(e->nonce, p, sizeof(e->nonce));
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
wq_entry_format(const struct wq_entry *e, int incur, char *buf, size_t len)
{
	int n;

	if (incur)
		n = snprintf(buf, len, "%02x.%s,%" PRIu32 ",%" PRIu64 ",%s,%"
		    PRId64 ",%s", e->rank, e->id, e->count, e->size, e->group,
		    e->deadline, e->nonce);
	else
		n = snprintf(buf, len, "%02x.%s,%" PRIu32 ",%" PRIu64 ",%s",
		    e->rank, e->id, e->count, e->size, e->group);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A receipt is the cur/ name of a lease: not of a delayed message. */
int
wq_receipt_parse(const char *receipt, struct wq_entry *e)
{
	if (strlen(receipt) >= WQ_RECEIPT_MAX ||
	    wq_entry_parse(receipt, 1, e) == -1 ||
	    strcmp(e->nonce, WQ_DELAYED) == 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
wq_receipt_valid(const char *receipt)
{
	struct wq_entry e;

	return wq_receipt_parse(receipt, &e) == 0;
}

static const char *const sync_names[] = { "always", "batch", "none" };

const char *
wq_sync_name(enum wq_sync s)
{
	if ((size_t)s >= sizeof(sync_names) / sizeof(sync_names[0]))
		return "unknown";
	return sync_names[s];
}

int
wq_sync_parse(const char *s, enum wq_sync *out)
{
	size_t i;

	for (i = 0; i < sizeof(sync_names) / sizeof(sync_names[0]); i++)
		if (strcmp(s, sync_names[i]) == 0) {
			*out = (enum wq_sync)i;
			return 0;
		}
	errno = EINVAL;
	return -1;
}
