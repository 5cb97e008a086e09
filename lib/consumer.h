/* SPDX-License-Identifier: MIT */
/* consumer.h — the consumer handle, shared by claim.c and wait.c. */
#ifndef WQ_CONSUMER_H
#define WQ_CONSUMER_H

#include "wq_priv.h"

#define WQ_POLL_MIN_MS	10	/* first polling interval on remote fs */
#define WQ_POLL_MAX_MS	1000	/* longest polling interval */

struct wq_consumer {
	struct wq_queue	*q;
	uint32_t	 vis;		/* lease length, seconds */
	char		 leaf[WQ_BUCKET_MAX];	/* bucket being worked on */
	char		 hint[WQ_BUCKET_MAX];	/* head hint as last seen */
	int		 hint_read;
	char		**batch;	/* sorted entries of the leaf */
	size_t		 n, pos;
	int64_t		 next_scan;	/* when cur/ may next have expired */
	int		 ino_fd;	/* inotify, once waiting began */
	int		 wd_new, wd_cur;
	int		 watching;	/* inotify sees new/ and cur/ */
	int		 backoff_ms;	/* polling interval on remote fs */
	int		 peeking;
	size_t		 fifo_next;	/* FIFO: the group to try first */
	DIR		*top_dir;	/* new/, to list its ranks */
	int		 top;		/* most urgent rank, as last listed */
	int		 top_trusted;	/* ... at new/'s mtime top_mtime */
	struct timespec	 top_mtime;
};

#define WQ_CLAIMED	1	/* a message is leased to the caller */
#define WQ_RETIRED	2	/* claimed, but dead-lettered or dropped */

void	 wq_consumer_invalidate(struct wq_consumer *);
int	 wq_claimed(struct wq_consumer *, const char *target,
	    const struct wq_entry *, struct wq_msg **);
int	 wq_fifo_claim(struct wq_consumer *, int64_t now, struct wq_msg **);
int	 wq_fifo_peek_leaf(struct wq_consumer *, const char *after);

#endif /* WQ_CONSUMER_H */
