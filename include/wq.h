/* SPDX-License-Identifier: MIT */
/*
 * wq.h — the public interface of libwq, a message queue that lives in a
 * directory.  Every function returns 0 (or a pointer) on success and -1
 * (or NULL) with errno set on failure; the library never prints and never
 * exits.  errno values with a wq meaning:
 *   EINVAL     invalid name, receipt or value
 *   EILSEQ     invalid attribute key or value
 *   EMSGSIZE   message larger than the queue's max-size
 *   EBADMSG    corrupt message or policy file
 *   ENOENT     no such queue (from wq_queue_open)
 *   EEXIST     queue exists (from wq_queue_create)
 *   ENOMSG     no message ready, or a receipt that is no longer held
 *   EPROTO     spool of an unknown format version
 *   EDESTADDRREQ no dead-letter queue set (or no queue to redrive to)
 *   EAGAIN     queue full (max-depth)
 * anything else is the system's own error.
 */
#ifndef WQ_H
#define WQ_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#define WQ_VERSION	"0.1.0"
#define WQ_FORMAT	1
#define WQ_NAME_MAX	80	/* longest queue name */
#define WQ_ID_MAX	128	/* buffer size for a message id */
#define WQ_RECEIPT_MAX	256	/* buffer size for a receipt */
#define WQ_GROUP_MAX	64	/* longest FIFO message group */
#define WQ_PRIORITY_MIN	(-100)	/* least urgent */
#define WQ_PRIORITY_MAX	100	/* most urgent: served first */
#define WQ_ATTR_KEY_MAX	64	/* longest attribute key */
#define WQ_ATTR_VALUE_MAX 1024	/* longest attribute value */
#define WQ_ATTR_MAX	64	/* attributes of one message */
#define WQ_FANOUT_MAX	32	/* subscribers of one topic */
#define WQ_DEDUP_ID_MAX	128	/* longest deduplication id */
/* Shorter than the 36 hours after which tmp/ leftovers are swept, so a
 * crashed first sender's message is still there for a repeat to commit. */
#define WQ_DEDUP_WINDOW_MAX (24 * 3600)
#define WQ_DELAY_MAX	(366 * 24 * 3600)	/* longest delay, seconds */
#define WQ_SEND_GROUP_MAX 1000	/* messages a sender holds before a commit */

struct wq_spool;
struct wq_queue;
struct wq_sender;
struct wq_consumer;
struct wq_msg;

enum wq_sync {
	WQ_SYNC_ALWAYS = 0,	/* fsync each message and the directory */
	WQ_SYNC_BATCH,		/* one syncfs per group of messages */
	WQ_SYNC_NONE,		/* no fsync: survives crashes, not power cuts */
};

enum wq_compress {
	WQ_COMPRESS_NEVER = 0,
	WQ_COMPRESS_AUTO,	/* bodies from 4 KiB that shrink */
	WQ_COMPRESS_ALWAYS,
};

enum wq_dedup {
	WQ_DEDUP_ID = 0,	/* only messages sent with a deduplication id */
	WQ_DEDUP_CONTENT,	/* also by the body's SHA-256 when none given */
};

/* A queue's policy: stored in QUEUE/policy. */
struct wq_policy {
	uint32_t	visibility;	/* default lease, seconds */
	uint32_t	clock_skew;	/* tolerated skew between hosts, seconds */
	uint64_t	max_size;	/* largest body, bytes */
	enum wq_sync	sync;
	uint32_t	delay;		/* default delivery delay, seconds */
	uint64_t	retention;	/* drop messages older, seconds; 0 never */
	uint32_t	max_receives;	/* dead-letter after; 0 never */
	char		dead_letter[256]; /* queue name or path; "" none */
	uint64_t	max_depth;	/* refuse sends beyond; 0 no limit */
	int		fifo;		/* strict order within message groups */
	uint32_t	dedup_window;	/* seconds a deduplication id is kept */
	enum wq_dedup	dedup;
	enum wq_compress compress;
	char		fanout[1024];	/* "Q1,Q2,...": a topic; "" none */
	uint32_t	mode;		/* directory mode; 0 from the umask */
	char		group[64];	/* owning group of the queue; "" none */
};

/* Which fields of a policy a create or update sets. */
#define WQ_POL_VISIBILITY	0x01u
#define WQ_POL_CLOCK_SKEW	0x02u
#define WQ_POL_MAX_SIZE		0x04u
#define WQ_POL_SYNC		0x08u
#define WQ_POL_DELAY		0x10u
#define WQ_POL_RETENTION	0x20u
#define WQ_POL_MAX_RECEIVES	0x40u
#define WQ_POL_DEAD_LETTER	0x80u
#define WQ_POL_MAX_DEPTH	0x100u
#define WQ_POL_FIFO		0x200u
#define WQ_POL_DEDUP_WINDOW	0x400u
#define WQ_POL_DEDUP		0x800u
#define WQ_POL_COMPRESS		0x1000u
#define WQ_POL_FANOUT		0x2000u
#define WQ_POL_MODE		0x4000u
#define WQ_POL_GROUP		0x8000u

/* Flags of wq_queue_create. */
#define WQ_CREATE_EXIST_OK	0x01u	/* an existing queue is no error */
#define WQ_CREATE_UPDATE	0x02u	/* rewrite the policy of an existing one */

/* A host's clock as its newest probe in the queue's clock/ shows it. */
#define WQ_HOST_MAX	64
struct wq_host_clock {
	char		host[WQ_HOST_MAX + 1];
	int64_t		clock_ms;	/* its clock when it made the probe */
	int64_t		seen_ms;	/* the file server's then (ctime) */
	int64_t		offset_ms;	/* clock_ms - seen_ms */
	int64_t		from_median_ms;	/* offset - the median of all hosts' */
};

struct wq_stat {
	uint64_t	ready;		/* claimable now */
	uint64_t	delayed;	/* waiting for their delay to pass */
	uint64_t	inflight;	/* leased to a consumer */
	uint64_t	total;
	uint64_t	bytes;		/* size of all message files */
	int64_t		oldest_ready_ms; /* send time of the oldest ready, or -1 */
};

/* lib/name.c */
int	 wq_name_valid(const char *);
int	 wq_receipt_valid(const char *);
int	 wq_group_valid(const char *);
const char *wq_sync_name(enum wq_sync);
int	 wq_sync_parse(const char *, enum wq_sync *);

/* lib/spool.c */
const char *wq_default_dir(void);
struct wq_spool *wq_spool_open(const char *dir, int create);
void	 wq_spool_close(struct wq_spool *);
const char *wq_spool_path(const struct wq_spool *);
int	 wq_spool_list(struct wq_spool *, char ***names, size_t *count);
void	 wq_names_free(char **, size_t);

/* lib/policy.c */
void	 wq_policy_default(struct wq_policy *);
const char *wq_compress_name(enum wq_compress);
int	 wq_compress_parse(const char *, enum wq_compress *);

/* lib/create.c */
int	 wq_queue_create(struct wq_spool *, const char *queue,
	    const struct wq_policy *, unsigned setmask, unsigned flags);

/* lib/queue.c */
struct wq_queue *wq_queue_open(struct wq_spool *, const char *queue);
void	 wq_queue_close(struct wq_queue *);
const char *wq_queue_name(const struct wq_queue *);
const struct wq_policy *wq_queue_policy(const struct wq_queue *);

/* lib/send.c */
struct wq_sender *wq_sender_open(struct wq_queue *);
int	 wq_sender_add(struct wq_sender *, const void *body, size_t len);
int	 wq_sender_add_fd(struct wq_sender *, int fd);
int	 wq_sender_priority(struct wq_sender *, int);
int	 wq_sender_delay(struct wq_sender *, uint32_t secs);
int	 wq_sender_at(struct wq_sender *, int64_t ms);
int	 wq_sender_group(struct wq_sender *, const char *);
int	 wq_sender_attr(struct wq_sender *, const char *key,
	    const char *value);
int	 wq_sender_dedup(struct wq_sender *, const char *id);
struct wq_queue *wq_sender_queue(const struct wq_sender *);
size_t	 wq_sender_pending(const struct wq_sender *);
size_t	 wq_sender_committed(const struct wq_sender *);
size_t	 wq_sender_refused(const struct wq_sender *);
int	 wq_sender_commit(struct wq_sender *);
const char *wq_sender_id(const struct wq_sender *, size_t);
void	 wq_sender_close(struct wq_sender *);
int	 wq_send(struct wq_queue *, const void *body, size_t len,
	    char id[WQ_ID_MAX]);

/* lib/claim.c */
struct wq_consumer *wq_consumer_open(struct wq_queue *, uint32_t visibility);
void	 wq_consumer_close(struct wq_consumer *);
struct wq_queue *wq_consumer_queue(const struct wq_consumer *);
int	 wq_claim(struct wq_consumer *, struct wq_msg **);
int	 wq_peek(struct wq_consumer *, struct wq_msg **);

/* lib/wait.c */
int	 wq_consumer_wait(struct wq_consumer *, int64_t until_ms,
	    const sigset_t *);
void	 wq_consumer_watched(struct wq_consumer *);
void	 wq_consumer_rescan(struct wq_consumer *);
int64_t	 wq_consumer_due_ms(struct wq_consumer *, int64_t now);
int	 wq_queue_watchable(const struct wq_queue *);

/* lib/lease.c */
int	 wq_ack(struct wq_queue *, const char *receipt);
int	 wq_release(struct wq_queue *, const char *receipt, uint32_t delay);
int	 wq_retry(struct wq_queue *, const char *receipt, uint32_t delay);
int	 wq_extend(struct wq_queue *, const char *receipt, uint32_t secs,
	    char newreceipt[WQ_RECEIPT_MAX]);

/* lib/fanout.c */
int	 wq_topic_check(struct wq_queue *, char *bad, size_t badlen);

/* lib/dead.c */
int	 wq_dead(struct wq_queue *, const char *receipt);
int	 wq_msg_dead(struct wq_msg *);
int	 wq_redrive(struct wq_queue *dlq, const char *to, uint64_t max,
	    uint64_t *moved);

/* lib/msg.c */
const char *wq_msg_id(const struct wq_msg *);
const char *wq_msg_receipt(const struct wq_msg *);
uint32_t wq_msg_receive_count(const struct wq_msg *);
int64_t	 wq_msg_sent_ms(const struct wq_msg *);
int64_t	 wq_msg_deadline_ms(const struct wq_msg *);
int	 wq_msg_priority(const struct wq_msg *);
uint64_t wq_msg_size(const struct wq_msg *);
int	 wq_msg_body(struct wq_msg *, const void **, size_t *);
int	 wq_msg_body_fd(struct wq_msg *, off_t *);
int	 wq_msg_ack(struct wq_msg *);
int	 wq_msg_release(struct wq_msg *, uint32_t delay);
int	 wq_msg_retry(struct wq_msg *, uint32_t delay);
int	 wq_msg_extend(struct wq_msg *, uint32_t secs);
void	 wq_msg_free(struct wq_msg *);

/* lib/attr.c */
int	 wq_attr_key_valid(const char *);
int	 wq_attr_value_valid(const char *);
size_t	 wq_msg_attr_count(const struct wq_msg *);
int	 wq_msg_attr(const struct wq_msg *, size_t, const char **key,
	    const char **value);
const char *wq_msg_origin(const struct wq_msg *);
const char *wq_msg_group(const struct wq_msg *);

/* lib/json.c */
#define WQ_JSON_NO_RECEIPT 0x01u	/* receipt: null (pop mode, peek) */
char	*wq_msg_json(struct wq_msg *, unsigned flags);

/* lib/hostclock.c */
int	 wq_queue_clocks(struct wq_queue *, struct wq_host_clock **, size_t *,
	    int64_t *spread_ms);

/* lib/stat.c */
int	 wq_queue_stat(struct wq_queue *, struct wq_stat *);
int	 wq_queue_sweep(struct wq_queue *);

/* lib/clock.c */
int64_t	 wq_now_ms(void);

/* lib/fsck.c */
#define WQ_FSCK_REPAIR	0x01u	/* repair, not only report */
struct wq_fsck {
	unsigned	 found;		/* problems found */
	unsigned	 repaired;	/* of them, repaired */
	unsigned	 failed;	/* repairs that failed (errno in err) */
	int		 err;
};
/* One problem: the entry (relative to the queue directory, raw bytes),
 * what is wrong, and what was done (NULL: nothing). */
typedef void wq_fsck_report(void *arg, const char *queue, const char *entry,
    const char *problem, const char *done);
int	 wq_fsck(struct wq_spool *, const char *queue, unsigned flags,
	    wq_fsck_report *, void *arg, struct wq_fsck *);

/* lib/remove.c */
int	 wq_queue_remove(struct wq_spool *, const char *queue);
int	 wq_queue_purge(struct wq_queue *, uint64_t *removed);
int	 wq_spool_sweep(struct wq_spool *);

#endif /* WQ_H */
