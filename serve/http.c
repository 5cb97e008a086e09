/* SPDX-License-Identifier: MIT */
/*
 * http.c — libmicrohttpd underneath wq-serve: the daemon, one struct
 * wqs_req per request, its body, and the responses.
 *
 * Pitfalls of libmicrohttpd 0.9.75 handled here: a response queued on
 * the first call of the access handler closes the connection, so the
 * first call only sets the request up; the connection limit is set
 * explicitly (its default is about 1000); a request with both
 * Content-Length and Transfer-Encoding is refused (RFC 9112 6.3: a
 * request smuggling vector); suspended connections do not notice a
 * client going away, so long-polls are capped (--max-wait) and streams
 * send heartbeats (park.c).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

/* Read a whole small file (a TLS key or certificate); NULL and errno. */
static char *
slurp(const char *path)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	char chunk[4096];

	if ((fp = fopen(path, "re")) == NULL)
		return NULL;
	while ((n = (ssize_t)fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		char *b = realloc(buf, len + (size_t)n + 1);

		if (b == NULL || len + (size_t)n > 1024 * 1024) {
			free(b ? b : buf);
			fclose(fp);
			errno = b ? EFBIG : ENOMEM;
			return NULL;
		}
		buf = b;
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
		buf[len] = '\0';
	}
	fclose(fp);
	if (buf == NULL)
		errno = EINVAL;
	return buf;
}

/*
 * A body over --max-body is read and dropped up to this much, so that
 * the client, still sending, reads the 413 instead of a broken pipe.
 */
static size_t
drain_limit(void)
{
	return 16 * wqs.cfg.max_body;
}

static struct wqs_req *
req_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	struct wqs_req *r;
	const char *cl, *te, *expect;
	unsigned long long clen;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->conn = conn;
	r->waiter.conn = conn;
	if ((r->method = strdup(method)) == NULL ||
	    (r->path = strdup(url)) == NULL) {
		free(r->method);
		free(r);
		return NULL;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);
	expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);
	r->bad_framing = cl != NULL && te != NULL;
	if (cl != NULL && (clen = strtoull(cl, NULL, 10)) > wqs.cfg.max_body) {
		r->too_big = 1;
		/*
		 * A client that waits for "100 Continue" sends nothing
		 * once answered; one far over the limit is not waited for.
		 */
		r->refuse_unread = expect != NULL || clen > drain_limit();
	}
	wqs.active++;
	return r;
}

static void
req_free(struct wqs_req *r)
{
	wqs_grant_free(r->grant);
	free(r->body);
	free(r->method);
	free(r->path);
	free(r);
}

static enum MHD_Result
too_big(struct wqs_req *r)
{
	return wqs_respond_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
	    "body larger than %zu bytes (--max-body)", wqs.cfg.max_body);
}

/*
 * Keep the body.  One that is too big is answered once it has been read
 * (libmicrohttpd queues no response mid-body): the rest is read and
 * dropped, up to drain_limit(), past which the connection is closed
 * without an answer.
 */
static enum MHD_Result
take_body(struct wqs_req *r, const char *data, size_t *size)
{
	size_t need = r->len + *size;
	char *b;

	if (r->too_big || need > wqs.cfg.max_body) {
		r->too_big = 1;
		r->dropped += *size;
		*size = 0;
		return r->dropped > drain_limit() ? MHD_NO : MHD_YES;
	}
	if (need + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < need + 1)
			cap *= 2;
		if (cap > wqs.cfg.max_body + 1)
			cap = wqs.cfg.max_body + 1;
		if ((b = realloc(r->body, cap)) == NULL)
			return MHD_NO;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, *size);
	r->len = need;
	r->body[r->len] = '\0';	/* JSON parsers like a terminator */
	*size = 0;
	return MHD_YES;
}

/*
 * libmicrohttpd unescapes the path before we see it: an escaped '/'
 * (a%2Fb) would split a segment in two, and an escaped NUL (a%00b) cut
 * the path short, so that a request for no queue would act on another.
 * The path as sent is looked at here; such a request is refused.
 */
static char bad_escape;

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	size_t i, n = strcspn(uri, "?");

	(void)cls;
	(void)conn;
	for (i = 0; i + 2 < n; i++)
		if (uri[i] == '%' && ((uri[i + 1] == '0' && uri[i + 2] == '0') ||
		    (uri[i + 1] == '2' && (uri[i + 2] | 0x20) == 'f')))
			return &bad_escape;
	return NULL;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct wqs_req *r = *ctx;
	int escaped = r == (void *)&bad_escape;

	(void)cls;
	(void)version;
	if (r == NULL || escaped) {
		if ((r = req_new(conn, url, method)) == NULL)
			return MHD_NO;
		*ctx = r;
		if (escaped)
			return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
			    "an escaped '/' or NUL in the path (no queue name "
			    "or receipt holds one)");
		/*
		 * A response queued now skips the body and closes the
		 * connection after it: right for these, wrong for the rest.
		 */
		if (r->bad_framing)
			return wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
			    "Content-Length and Transfer-Encoding together");
		if (r->refuse_unread)
			return too_big(r);
		return MHD_YES;
	}
	if (r->answered) {
		*size = 0;
		return MHD_YES;
	}
	if (*size != 0)
		return take_body(r, data, size);
	if (r->too_big)		/* found out while reading: answer now */
		return too_big(r);
	if (r->waiter.watch != NULL)
		return wqs_receive_again(r);	/* a long-poll woken */
	if (wqs.stopping)
		return wqs_respond_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "shutting down");
	return wqs_route(r);
}

static void
log_request(const struct wqs_req *r, int delivered)
{
	fprintf(stderr, "%s: %s %s %u%s%s%s\n", getprogname(), r->method,
	    r->path, r->status, r->grant ? " " : "",
	    r->grant ? wqs_grant_name(r->grant) : "",
	    delivered ? "" : " (not delivered)");
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct wqs_req *r = *ctx;
	int delivered = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

	(void)cls;
	(void)conn;
	if (r == NULL || (void *)r == &bad_escape)
		return;
	*ctx = NULL;
	wqs_receive_done(r, delivered);
	if (r->status >= 100 && r->status < 600)
		wqs.by_class[r->status / 100]++;
	if (wqs.cfg.verbose)
		log_request(r, delivered);
	req_free(r);
	pthread_mutex_lock(&wqs.idle_lock);
	if (--wqs.active == 0)
		pthread_cond_broadcast(&wqs.idle);
	pthread_mutex_unlock(&wqs.idle_lock);
}

static void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "%s: ", getprogname());
	vfprintf(stderr, fmt, ap);	/* libmicrohttpd's lines end in \n */
}

/* "ADDR:PORT", "[V6ADDR]:PORT" into a socket address; -1 if invalid. */
int
wqs_parse_listen(const char *spec, struct sockaddr_storage *ss, int *v6)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec, *errstr;
	size_t hlen;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	/* getaddrinfo(3) takes port 70000, and it wraps round to 4464. */
	(void)strtonum(colon + 1, 0, 65535, &errstr);
	if (errstr != NULL)
		return -1;
	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
		h = spec + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

/* The PEM of --tls-cert and --tls-key, read by the daemon until it stops. */
static char *cert, *key;

static void
tls_free(void)
{
	free(cert);
	free(key);
	cert = key = NULL;
}

/*
 * Start serving on listen_fd (from systemd) or on -l's address; 0, or -1
 * with a line on stderr.
 */
int
wqs_http_start(int listen_fd)
{
	static struct sockaddr_storage ss;
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	size_t n = 0;
	int v6 = 0;

#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ (o), (v), (p) }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, NULL);
	if (listen_fd != -1)
		OPT(MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL);
	else {
		if (wqs_parse_listen(wqs.cfg.listen, &ss, &v6) == -1)
			return -1;	/* checked by main: cannot happen */
		OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
		OPT(MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
		if (v6)
			flags |= MHD_USE_IPv6;
	}
	if (wqs.cfg.tls_cert != NULL) {
		if ((cert = slurp(wqs.cfg.tls_cert)) == NULL ||
		    (key = slurp(wqs.cfg.tls_key)) == NULL) {
			warn("cannot read %s", cert ? wqs.cfg.tls_key :
			    wqs.cfg.tls_cert);
			tls_free();
			return -1;
		}
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key);
	}
	OPT(MHD_OPTION_THREAD_POOL_SIZE, wqs.cfg.threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, wqs.cfg.max_connections, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, wqs.cfg.timeout, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)wqs.cfg.max_header,
	    NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL);
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	wqs.mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (wqs.mhd == NULL) {
		warnx("cannot listen on %s", listen_fd != -1 ?
		    "the socket from systemd" : wqs.cfg.listen);
		tls_free();
		return -1;
	}
	return 0;
}

/* The port listened on, for the start-up line and --port-file. */
int
wqs_http_port(void)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	info = MHD_get_daemon_info(wqs.mhd, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL || getsockname(info->listen_fd,
	    (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Stop taking connections, let the requests in flight finish (long-polls
 * answer at once), and stop; after the timeout the rest are cut.
 */
void
wqs_http_stop(void)
{
	struct timespec until;
	MHD_socket fd;

	wqs.stopping = 1;
	/*
	 * Stop listening now, but close the socket only once the daemon is
	 * stopped: its worker threads may still be taking it out of their
	 * epoll sets, and a descriptor closed under them could be reused.
	 */
	if ((fd = MHD_quiesce_daemon(wqs.mhd)) != MHD_INVALID_SOCKET)
		(void)shutdown(fd, SHUT_RDWR);
	wqs_park_wake_all();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wqs.cfg.shutdown_timeout;
	pthread_mutex_lock(&wqs.idle_lock);
	while (wqs.active > 0 &&
	    pthread_cond_timedwait(&wqs.idle, &wqs.idle_lock, &until) == 0)
		;
	pthread_mutex_unlock(&wqs.idle_lock);
	if (wqs.active > 0)
		warnx("%ld requests still open after %u s: closing them",
		    (long)wqs.active, wqs.cfg.shutdown_timeout);
	MHD_stop_daemon(wqs.mhd);
	wqs.mhd = NULL;
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	tls_free();
}

/* Queue resp as the answer to r; the one place answers go out. */
enum MHD_Result
wqs_queue_response(struct wqs_req *r, unsigned status,
    struct MHD_Response *resp)
{
	enum MHD_Result ret;

	r->status = status;
	r->answered = 1;
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result
wqs_respond(struct wqs_req *r, unsigned status, const char *ctype,
    void *body, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	if (ctype != NULL)
		MHD_add_response_header(resp, "Content-Type", ctype);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Bearer realm=\"wq\"");
	if (r->allow != NULL)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, "Retry-After", "1");
	if (wqs.stopping || status == MHD_HTTP_CONTENT_TOO_LARGE ||
	    r->bad_framing)
		MHD_add_response_header(resp, "Connection", "close");
	return wqs_queue_response(r, status, resp);
}

/* A body that is not ours to free: the embedded page and document. */
enum MHD_Result
wqs_respond_static(struct wqs_req *r, const char *ctype, const void *body,
    size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (strncmp(ctype, "text/html", 9) == 0) {
		MHD_add_response_header(resp, "Content-Security-Policy",
		    "default-src 'self'; script-src 'unsafe-inline'; "
		    "style-src 'unsafe-inline'");
		MHD_add_response_header(resp, "X-Content-Type-Options",
		    "nosniff");
	}
	return wqs_queue_response(r, MHD_HTTP_OK, resp);
}

enum MHD_Result
wqs_respond_json(struct wqs_req *r, unsigned status, json_t *o)
{
	char *s;

	if (o == NULL)
		return wqs_respond_errno(r, ENOMEM, NULL, "cannot answer");
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		return wqs_respond_errno(r, ENOMEM, NULL, "cannot answer");
	return wqs_respond(r, status, "application/json", s, strlen(s));
}

enum MHD_Result
wqs_respond_error(struct wqs_req *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status >= 500)
		warnx("%s %s: %s", r->method, r->path, msg);
	return wqs_respond_json(r, status, json_pack("{s:s, s:i}", "error",
	    msg, "status", (int)status));
}

/* libwq's errno as an HTTP status and a line for a person. */
static unsigned
errno_answer(int err, const char *queue, const char *what, char *msg,
    size_t len)
{
	const char *q = queue ? queue : "", *sep = queue ? ": " : "";

	switch (err) {
	case ENOENT:
		snprintf(msg, len, "%s%sno such queue", q, sep);
		return MHD_HTTP_NOT_FOUND;
	case EINVAL:
		snprintf(msg, len, "%s%s%s", q, sep, what);
		return MHD_HTTP_BAD_REQUEST;
	case EILSEQ:
		snprintf(msg, len, "%s%sinvalid attribute key or value", q, sep);
		return MHD_HTTP_BAD_REQUEST;
	case EMSGSIZE: case EFBIG:
		snprintf(msg, len, "%s%smessage larger than the queue's "
		    "max-size", q, sep);
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case ENOMSG:
		snprintf(msg, len, "%s%sno such lease (expired and claimed "
		    "again, or acked)", q, sep);
		return MHD_HTTP_CONFLICT;
	case EEXIST:
		snprintf(msg, len, "%s%salready exists", q, sep);
		return MHD_HTTP_CONFLICT;
	case EDESTADDRREQ:
		snprintf(msg, len, "%s%sno dead-letter queue set", q, sep);
		return MHD_HTTP_CONFLICT;
	case EAGAIN:
		snprintf(msg, len, "%s%squeue full (max-depth)", q, sep);
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case ENOSPC: case EDQUOT:
		snprintf(msg, len, "%s%s%s: %s", q, sep, what, strerror(err));
		return MHD_HTTP_INSUFFICIENT_STORAGE;
	case EBADMSG:
		snprintf(msg, len, "%s%s%s: corrupt queue or message file", q,
		    sep, what);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default:
		snprintf(msg, len, "%s%s%s: %s", q, sep, what, strerror(err));
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* libwq's errno as an HTTP answer; see ERRORS in wq-serve(1). */
enum MHD_Result
wqs_respond_errno(struct wqs_req *r, int err, const char *queue,
    const char *what)
{
	char msg[512];
	unsigned status = errno_answer(err, queue, what, msg, sizeof(msg));

	return wqs_respond_error(r, status, "%s", msg);
}

/* The same, saying which messages were sent before the error. */
enum MHD_Result
wqs_respond_errno_ids(struct wqs_req *r, int err, const char *queue,
    const char *what, json_t *ids)
{
	char msg[512];
	unsigned status = errno_answer(err, queue, what, msg, sizeof(msg));

	if (status >= 500)
		warnx("%s %s: %s", r->method, r->path, msg);
	return wqs_respond_json(r, status, json_pack("{s:s, s:i, s:O}",
	    "error", msg, "status", (int)status, "ids", ids));
}

/* A query parameter, else a header, else NULL. */
const char *
wqs_arg(struct wqs_req *r, const char *name, const char *header)
{
	const char *v;

	v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (v == NULL && header != NULL)
		v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		    header);
	return v;
}

/*
 * An unsigned decimal parameter in [0, max]: 1 and *out if given, 0 if
 * absent, -1 after answering 400.
 */
int
wqs_arg_uint(struct wqs_req *r, const char *name, const char *header,
    unsigned long long max, unsigned long long *out)
{
	const char *v = wqs_arg(r, name, header), *errstr;

	if (v == NULL)
		return 0;
	*out = (unsigned long long)strtonum(v, 0, (long long)max, &errstr);
	if (errstr != NULL) {
		wqs_respond_error(r, MHD_HTTP_BAD_REQUEST,
		    "%s is %s: %s (want 0 to %llu)", name, errstr, v, max);
		return -1;
	}
	return 1;
}

/* Who is asking: 1, or 0 after answering 401. */
static int
authenticated(struct wqs_req *r)
{
	const char *hdr, *tok, *why = "unknown token";
	char bearer[8192];
	int rc;

	if (r->grant != NULL)
		return 1;
	hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	/* EventSource cannot send headers: RFC 6750 2.3, streams only. */
	if (hdr == NULL && r->token_in_query && (tok = wqs_arg(r,
	    "access_token", NULL)) != NULL) {
		snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
		hdr = bearer;
	}
	pthread_rwlock_rdlock(&wqs.auth_lock);
	rc = wqs_authenticate(wqs.auth, hdr, wq_now_ms() / 1000, &r->grant,
	    &why);
	pthread_rwlock_unlock(&wqs.auth_lock);
	if (rc == 0)
		return 1;
	wqs_respond_error(r, MHD_HTTP_UNAUTHORIZED, "%s", why);
	return 0;
}

/* May the request do verb on queue?  1, or 0 after answering 401/403. */
int
wqs_allowed(struct wqs_req *r, enum wqs_verb verb, const char *queue)
{
	if (!authenticated(r))
		return 0;
	if (wqs_grant_allows(r->grant, verb, queue))
		return 1;
	wqs_respond_error(r, MHD_HTTP_FORBIDDEN, "not allowed to %s %s",
	    wqs_verb_name(verb), queue);
	return 0;
}

/* The same, for listings: no answer, and queue NULL asks only "who". */
int
wqs_may(struct wqs_req *r, enum wqs_verb verb, const char *queue)
{
	if (queue == NULL)
		return authenticated(r);
	return wqs_grant_allows(r->grant, verb, queue);
}
