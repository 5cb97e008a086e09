/* SPDX-License-Identifier: MIT */
/*
 * sender.h — the sender handle, shared by send.c (settings and commits)
 * and write.c (writing message files into tmp/).
 */
#ifndef WQ_SENDER_H
#define WQ_SENDER_H

#include "wq_priv.h"

struct pending {
	char		 id[WQ_ID_MAX];
	uint64_t	 size;		/* of the file: header and body */
	int		 keyed;		/* has a deduplication key */
	unsigned char	 key[WQ_DEDUP_KEY];
	char		 dup_of[WQ_ID_MAX];	/* a repeat: the first's id */
	int		 placed;	/* by this commit: 1, or 2 by a repeat's
					   sender (lib/dedup.c) */
};

struct wq_sender {
	struct wq_queue	*q;
	struct pending	*pending;
	size_t		 npending;
	size_t		 cap;		/* of pending and done */
	char		(*done)[WQ_ID_MAX];
	size_t		 ndone;
	size_t		 refused;	/* by the last commit, for max-depth */
	unsigned	 rank;
	char		 group[WQ_GROUP_MAX + 1];
	int64_t		 delay_ms;	/* -1: the queue's default delay */
	int64_t		 at_ms;		/* ready at this time, if at_set */
	int		 at_set;
	size_t		 nattrs;
	char		*attrs;		/* "attr KEY VALUE\n" lines */
	void		*cctx;		/* zstd, once needed */
	int		 dedup_next;	/* the next message has this key: */
	unsigned char	 dedup_key[WQ_DEDUP_KEY];
	size_t		 attrs_len;
};

int	 wq_sender_room(struct wq_sender *);

#endif /* WQ_SENDER_H */
