/* SPDX-License-Identifier: MIT */
/*
 * park.h — what park.c shares with stream.c: the watch of one queue, with
 * its parked long-polls and its stream hub, all under wqs_park_mtx.
 */
#ifndef WQ_SERVE_PARK_H
#define WQ_SERVE_PARK_H

#include "serve.h"

struct wqs_watch {
	LIST_ENTRY(wqs_watch) link;
	char		 name[WQ_NAME_MAX + 1];
	int		 wd_new, wd_cur;	/* -1: not watched (yet, again) */
	uint64_t	 gen;			/* events so far */
	int		 pump;			/* the hub should look */
	TAILQ_HEAD(, wqs_waiter) waiters;
	struct wqs_hub	*hub;			/* stream clients, or NULL */
};

/* Connections to resume once the lock is let go. */
struct conns {
	struct MHD_Connection **v;
	size_t		 n, cap;
};

extern pthread_mutex_t wqs_park_mtx;

void	 wqs_park_poke(void);
void	 wqs_conns_add(struct conns *, struct MHD_Connection *);
void	 wqs_conns_resume(struct conns *);

/* stream.c, for park.c's thread */
int	 wqs_hub_pump(struct wqs_hub *);
int64_t	 wqs_hub_due(struct wqs_hub *);
void	 wqs_hub_heartbeat(struct wqs_hub *);
void	 wqs_hub_end(struct wqs_hub *, struct conns *);
void	 wqs_hub_free(struct wqs_hub *);

#endif /* WQ_SERVE_PARK_H */
