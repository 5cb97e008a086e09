/* SPDX-License-Identifier: MIT */
/*
 * serve.h — what the parts of wq-serve share.  http.c runs libmicrohttpd
 * and turns each request into a struct wqs_req; route.c picks the handler;
 * api-*.c answer; park.c holds long-polls and streams without a thread
 * each and wakes them by inotify; stream.c speaks Server-Sent Events;
 * auth.c and its neighbours decide who may do what.
 */
#ifndef WQ_SERVE_H
#define WQ_SERVE_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "wq.h"
#include "auth.h"

#define WQS_MAX_BATCH	1000	/* messages in one POST .../batch */
#define WQS_MAX_RECEIVE	100	/* messages in one receive or peek */
#define WQS_WAKE_BURST	4	/* long-polls woken by one event */
#define WQS_STREAM_BACKLOG (1024 * 1024) /* bytes a stream client may lag */

struct wqs_config {
	const char	*dir;		/* the spool */
	const char	*listen;	/* "ADDR:PORT" */
	unsigned	 threads;
	size_t		 max_body;
	size_t		 max_header;
	unsigned	 max_connections;
	unsigned	 timeout;	/* idle seconds of a connection */
	unsigned	 max_wait;	/* longest long-poll, seconds */
	unsigned	 heartbeat;	/* seconds between SSE comments */
	unsigned	 shutdown_timeout;
	const char	*tls_cert, *tls_key;
	const char	*port_file;
	int		 verbose;
	struct wqs_auth_opts auth;
};

/* The server: one per process. */
struct wqs_server {
	struct wqs_config cfg;
	struct wq_spool	*spool;
	struct MHD_Daemon *mhd;
	pthread_rwlock_t auth_lock;	/* SIGHUP swaps auth */
	struct wqs_auth	*auth;
	atomic_int	 stopping;
	atomic_long	 active;	/* requests begun and not completed */
	atomic_ulong	 by_class[6];	/* responses: [1] 1xx ... [5] 5xx */
	atomic_ulong	 released;	/* leases given back: undelivered */
	pthread_mutex_t	 idle_lock;
	pthread_cond_t	 idle;		/* active fell to 0 */
};

extern struct wqs_server wqs;

struct wqs_watch;

/* A long-poll waiting for its queue (park.c). */
struct wqs_waiter {
	TAILQ_ENTRY(wqs_waiter) link;
	struct wqs_watch *watch;
	struct MHD_Connection *conn;
	int64_t		 due;		/* wake then though nothing came */
	int		 parked;
};

/* One request in flight. */
struct wqs_req {
	struct MHD_Connection *conn;
	char		*method;
	char		*path;
	char		*body;
	size_t		 len, cap;
	size_t		 dropped;	/* bytes of a body over --max-body */
	int		 answered;	/* a response is queued */
	unsigned	 status;
	int		 bad_framing;	/* Content-Length and chunked */
	int		 too_big;	/* the body is over --max-body */
	int		 refuse_unread;	/* answer 413 before reading the body */
	const char	*allow;		/* the Allow header of a 405 */
	int		 token_in_query; /* ?access_token= accepted */
	struct wqs_grant *grant;
	/* receive: what a long-poll keeps while it waits */
	struct wqs_qref	*qref;
	struct wq_queue	*q;
	struct wq_consumer *consumer;
	int		 own_consumer;	/* not the kept one: close it */
	unsigned	 max;
	int64_t		 deadline;
	uint64_t	 gen;		/* events of its watch seen so far */
	struct wqs_waiter waiter;
	char		**receipts;	/* leases in the response */
	size_t		 nreceipts;
};

/* http.c */
struct sockaddr_storage;
int	 wqs_parse_listen(const char *, struct sockaddr_storage *, int *v6);
int	 wqs_http_start(int listen_fd);
void	 wqs_http_stop(void);
int	 wqs_http_port(void);
enum MHD_Result wqs_queue_response(struct wqs_req *, unsigned status,
	    struct MHD_Response *);
enum MHD_Result wqs_respond(struct wqs_req *, unsigned status,
	    const char *ctype, void *body, size_t len);
enum MHD_Result wqs_respond_json(struct wqs_req *, unsigned status,
	    json_t *);
enum MHD_Result wqs_respond_error(struct wqs_req *, unsigned status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result wqs_respond_errno(struct wqs_req *, int err,
	    const char *queue, const char *what);
enum MHD_Result wqs_respond_errno_ids(struct wqs_req *, int err,
	    const char *queue, const char *what, json_t *ids);
enum MHD_Result wqs_respond_static(struct wqs_req *, const char *ctype,
	    const void *body, size_t len);
const char *wqs_arg(struct wqs_req *, const char *name, const char *header);
int	 wqs_arg_uint(struct wqs_req *, const char *name, const char *header,
	    unsigned long long max, unsigned long long *out);
int	 wqs_allowed(struct wqs_req *, enum wqs_verb, const char *queue);
int	 wqs_may(struct wqs_req *, enum wqs_verb, const char *queue);

/* route.c */
enum MHD_Result wqs_route(struct wqs_req *);

/* api-queue.c */
enum MHD_Result wqs_queue_list(struct wqs_req *);
enum MHD_Result wqs_queue_get(struct wqs_req *, const char *queue);
enum MHD_Result wqs_queue_put(struct wqs_req *, const char *queue);
enum MHD_Result wqs_queue_delete(struct wqs_req *, const char *queue);
enum MHD_Result wqs_queue_purge(struct wqs_req *, const char *queue);
struct wqs_qref *wqs_open_queue(struct wqs_req *, const char *queue,
	    enum MHD_Result *);

/* qcache.c */
struct wqs_qref;
struct wqs_qref *wqs_qref_get(const char *name);
struct wq_queue *wqs_qref_queue(const struct wqs_qref *);
struct wq_consumer *wqs_qref_consumer(struct wqs_qref *);
void	 wqs_qref_put(struct wqs_qref *);

/* api-send.c */
enum MHD_Result wqs_send(struct wqs_req *, const char *queue);
enum MHD_Result wqs_send_batch(struct wqs_req *, const char *queue);

/* api-parse.c */
int	 wqs_policy_parse(const char *body, size_t len, struct wq_policy *,
	    unsigned *mask, char *why, size_t whylen);
json_t	*wqs_batch_parse(const char *body, size_t len, char *why,
	    size_t whylen);
char	*wqs_batch_key(json_t *);
int	 wqs_batch_options(struct wq_sender *, json_t *);
int	 wqs_batch_body(json_t *, char **buf, size_t *len);

/* api-receive.c */
enum MHD_Result wqs_receive(struct wqs_req *, const char *queue);
enum MHD_Result wqs_receive_again(struct wqs_req *);
enum MHD_Result wqs_peek(struct wqs_req *, const char *queue);
enum MHD_Result wqs_lease(struct wqs_req *, const char *queue,
	    const char *receipt, const char *action);
void	 wqs_receive_done(struct wqs_req *, int delivered);

/* api-misc.c */
enum MHD_Result wqs_metrics(struct wqs_req *);
enum MHD_Result wqs_healthz(struct wqs_req *);
enum MHD_Result wqs_dashboard(struct wqs_req *);
enum MHD_Result wqs_openapi(struct wqs_req *);

/* stream.c */
enum MHD_Result wqs_stream(struct wqs_req *, const char *queue);

/* park.c */
int	 wqs_park_start(void);
void	 wqs_park_stop(void);
struct wqs_watch *wqs_watch_get(const char *queue, uint64_t *gen);
int	 wqs_park(struct wqs_waiter *, struct wqs_watch *, uint64_t gen,
	    int64_t due);
void	 wqs_park_pass(struct wqs_watch *);
void	 wqs_park_wake_all(void);
unsigned long wqs_park_count(void);

unsigned long wqs_stream_count(void);

#endif /* WQ_SERVE_H */
