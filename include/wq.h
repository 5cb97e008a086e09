/* SPDX-License-Identifier: MIT */
/*
 * wq.h — the public interface of libwq, a message queue that lives in a
 * directory.  Every function returns 0 (or a pointer) on success and -1
 * (or NULL) with errno set on failure; the library never prints and never
 * exits.  errno values with a wq meaning:
 *   EINVAL     invalid name, receipt or value
 *   EMSGSIZE   message larger than the queue's max-size
 *   EBADMSG    corrupt message or policy file
 *   ENOENT     no such queue (from wq_queue_open)
 *   EEXIST     queue exists (from wq_queue_create)
 *   ENOMSG     no message ready, or a receipt that is no longer held
 *   EPROTO     spool of an unknown format version
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
#define WQ_RECEIPT_MAX	192	/* buffer size for a receipt */
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

/* A queue's policy: stored in QUEUE/policy. */
struct wq_policy {
	uint32_t	visibility;	/* default lease, seconds */
	uint32_t	clock_skew;	/* tolerated skew between hosts, seconds */
	uint64_t	max_size;	/* largest body, bytes */
	enum wq_sync	sync;
};

/* Which fields of a policy a create or update sets. */
#define WQ_POL_VISIBILITY	0x01u
#define WQ_POL_CLOCK_SKEW	0x02u
#define WQ_POL_MAX_SIZE		0x04u
#define WQ_POL_SYNC		0x08u

/* Flags of wq_queue_create. */
#define WQ_CREATE_EXIST_OK	0x01u	/* an existing queue is no error */
#define WQ_CREATE_UPDATE	0x02u	/* rewrite the policy of an existing one */

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
size_t	 wq_sender_pending(const struct wq_sender *);
size_t	 wq_sender_committed(const struct wq_sender *);
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

/* lib/lease.c */
int	 wq_ack(struct wq_queue *, const char *receipt);
int	 wq_release(struct wq_queue *, const char *receipt, uint32_t delay);
int	 wq_extend(struct wq_queue *, const char *receipt, uint32_t secs,
	    char newreceipt[WQ_RECEIPT_MAX]);

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
int	 wq_msg_extend(struct wq_msg *, uint32_t secs);
void	 wq_msg_free(struct wq_msg *);

/* lib/json.c */
#define WQ_JSON_NO_RECEIPT 0x01u	/* receipt: null (pop mode, peek) */
char	*wq_msg_json(struct wq_msg *, unsigned flags);

/* lib/stat.c */
int	 wq_queue_stat(struct wq_queue *, struct wq_stat *);
int	 wq_queue_sweep(struct wq_queue *);

/* lib/clock.c */
int64_t	 wq_now_ms(void);

/* lib/remove.c */
int	 wq_queue_remove(struct wq_spool *, const char *queue);
int	 wq_queue_purge(struct wq_queue *, uint64_t *removed);
int	 wq_spool_sweep(struct wq_spool *);

#endif /* WQ_H */
