/* SPDX-License-Identifier: MIT */
/*
 * wq-serve — the queues of a spool over HTTP.  This file reads the
 * options, opens the spool, loads the credentials, starts the server and
 * then waits for signals: SIGHUP reloads the credentials, SIGTERM and
 * SIGINT stop it gracefully (http.c).  See wq-serve(1).
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "serve.h"
#include "../cmd/common.h"

#define SD_LISTEN_FDS_START 3

struct wqs_server wqs;

static const char usage[] =
    "[-hvV] [-d dir] [-l addr:port] [-t threads] [--tokens file]\n"
    "       [--jwt-key alg:file] [--jwt-issuer iss] [--jwt-audience aud]\n"
    "       [--jwt-leeway secs] [--tls-cert file --tls-key file]\n"
    "       [--max-body bytes] [--max-header bytes] [--max-connections n]\n"
    "       [--timeout secs] [--max-wait secs] [--heartbeat secs]\n"
    "       [--shutdown-timeout secs] [--port-file file]\n"
    "       wq-serve --hash-token < token\n"
    "  -d, --dir DIR             spool directory\n"
    "  -l, --listen ADDR:PORT    where to listen (127.0.0.1:8080)\n"
    "  -t, --threads N           worker threads (number of CPUs, at least 2)\n"
    "      --tokens FILE         service tokens: sha256:HEX SCOPE...\n"
    "      --jwt-key ALG:FILE    JWT key pinned to HS256, RS256 or ES256\n"
    "      --jwt-issuer ISS      require this iss claim\n"
    "      --jwt-audience AUD    require this aud claim\n"
    "      --jwt-leeway SECS     clock skew allowed for exp and nbf (30)\n"
    "      --tls-cert FILE       serve HTTPS with this PEM certificate\n"
    "      --tls-key FILE        ... and this PEM private key\n"
    "      --max-body BYTES      largest request body (1048576)\n"
    "      --max-header BYTES    memory per connection for headers (32768)\n"
    "      --max-connections N   open connections at most (1000)\n"
    "      --timeout SECS        idle seconds before a connection is closed "
    "(30)\n"
    "      --max-wait SECS       longest long-poll (20)\n"
    "      --heartbeat SECS      seconds between stream heartbeats (15)\n"
    "      --shutdown-timeout SECS  wait for requests on SIGTERM (10)\n"
    "      --port-file FILE      write the port listened on to FILE\n"
    "      --hash-token          print the hash of the token on stdin\n"
    "  -v, --verbose             log each request to stderr\n"
    "  -h, --help                this text\n"
    "  -V, --version             the version";

enum {
	OPT_TOKENS = 300, OPT_JWT_KEY, OPT_JWT_ISSUER, OPT_JWT_AUDIENCE,
	OPT_JWT_LEEWAY, OPT_TLS_CERT, OPT_TLS_KEY, OPT_MAX_BODY,
	OPT_MAX_HEADER, OPT_MAX_CONNECTIONS, OPT_TIMEOUT, OPT_MAX_WAIT,
	OPT_HEARTBEAT, OPT_SHUTDOWN_TIMEOUT, OPT_PORT_FILE, OPT_HASH_TOKEN
};

static const struct option longopts[] = {
	WQX_COMMON_LONGOPTS,
	{ "listen",		required_argument, NULL, 'l' },
	{ "threads",		required_argument, NULL, 't' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "tokens",		required_argument, NULL, OPT_TOKENS },
	{ "jwt-key",		required_argument, NULL, OPT_JWT_KEY },
	{ "jwt-issuer",		required_argument, NULL, OPT_JWT_ISSUER },
	{ "jwt-audience",	required_argument, NULL, OPT_JWT_AUDIENCE },
	{ "jwt-leeway",		required_argument, NULL, OPT_JWT_LEEWAY },
	{ "tls-cert",		required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",		required_argument, NULL, OPT_TLS_KEY },
	{ "max-body",		required_argument, NULL, OPT_MAX_BODY },
	{ "max-header",		required_argument, NULL, OPT_MAX_HEADER },
	{ "max-connections",	required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "max-wait",		required_argument, NULL, OPT_MAX_WAIT },
	{ "heartbeat",		required_argument, NULL, OPT_HEARTBEAT },
	{ "shutdown-timeout",	required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "port-file",		required_argument, NULL, OPT_PORT_FILE },
	{ "hash-token",		no_argument,	   NULL, OPT_HASH_TOKEN },
	{ NULL, 0, NULL, 0 }
};

static void
bad_usage(const char *what)
{
	warnx("%s", what);
	wqx_usage_exit(usage, EX_USAGE);
}

static void
defaults(struct wqs_config *c)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	c->listen = "127.0.0.1:8080";
	c->threads = cpus > 2 ? (unsigned)cpus : 2;
	c->max_body = 1024 * 1024;
	c->max_header = 32 * 1024;
	c->max_connections = 1000;
	c->timeout = 30;
	c->max_wait = 20;
	c->heartbeat = 15;
	c->shutdown_timeout = 10;
	c->auth.leeway = 30;
}

static void
add_jwt_key(struct wqs_config *c, const char *spec)
{
	const char **v;

	v = reallocarray(c->auth.jwt_keys, c->auth.njwt_keys + 1, sizeof(*v));
	if (v == NULL)
		err(EX_OSERR, NULL);
	v[c->auth.njwt_keys++] = spec;
	c->auth.jwt_keys = v;
}

/* 1 if --hash-token was given. */
static int
parse_options(int argc, char *argv[], struct wqs_config *c)
{
	struct sockaddr_storage ss;
	int ch, hash = 0, v6;

	while ((ch = getopt_long(argc, argv, "d:hl:t:vV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			c->listen = optarg;
			break;
		case 't':
			c->threads = wqx_seconds("threads", optarg, 1, 256);
			break;
		case 'v':
			c->verbose = 1;
			break;
		case OPT_TOKENS:
			c->auth.tokens_file = optarg;
			break;
		case OPT_JWT_KEY:
			add_jwt_key(c, optarg);
			break;
		case OPT_JWT_ISSUER:
			c->auth.issuer = optarg;
			break;
		case OPT_JWT_AUDIENCE:
			c->auth.audience = optarg;
			break;
		case OPT_JWT_LEEWAY:
			c->auth.leeway = wqx_integer("jwt leeway", optarg, 0,
			    3600);
			break;
		case OPT_TLS_CERT:
			c->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			c->tls_key = optarg;
			break;
		case OPT_MAX_BODY:
			c->max_body = (size_t)wqx_number("max body", optarg, 1,
			    1LL << 32);
			break;
		case OPT_MAX_HEADER:
			c->max_header = (size_t)wqx_number("max header", optarg,
			    4096, 1 << 24);
			break;
		case OPT_MAX_CONNECTIONS:
			c->max_connections = wqx_seconds("max connections",
			    optarg, 1, 1000000);
			break;
		case OPT_TIMEOUT:
			c->timeout = wqx_seconds("timeout", optarg, 1, 86400);
			break;
		case OPT_MAX_WAIT:
			c->max_wait = wqx_seconds("max wait", optarg, 0, 3600);
			break;
		case OPT_HEARTBEAT:
			c->heartbeat = wqx_seconds("heartbeat", optarg, 1, 3600);
			break;
		case OPT_SHUTDOWN_TIMEOUT:
			c->shutdown_timeout = wqx_seconds("shutdown timeout",
			    optarg, 0, 3600);
			break;
		case OPT_PORT_FILE:
			c->port_file = optarg;
			break;
		case OPT_HASH_TOKEN:
			hash = 1;
			break;
		default:
			wqx_common_option(ch, usage);
		}
	}
	if (optind != argc)
		bad_usage("no operands expected");
	if (wqs_parse_listen(c->listen, &ss, &v6) == -1)
		bad_usage("invalid listen address (want ADDR:PORT, such as "
		    "127.0.0.1:8080 or [::1]:8080)");
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		bad_usage("--tls-cert and --tls-key go together");
	return hash;
}

/* --hash-token: one token on stdin (a trailing newline dropped). */
static int
hash_token(void)
{
	char *line = NULL, out[72];
	size_t cap = 0;
	ssize_t n;

	if ((n = getline(&line, &cap, stdin)) <= 0)
		errx(EX_DATAERR, "no token on standard input");
	if (line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n < 16)
		errx(EX_DATAERR, "token too short: %zd bytes (want 16 or "
		    "more, e.g. openssl rand -hex 32)", n);
	wqs_token_hash(line, (size_t)n, out);
	free(line);
	printf("%s\n", out);
	return 0;
}

static struct wqs_auth *
load_auth(void)
{
	struct wqs_auth *a;
	char why[256];

	if ((a = wqs_auth_load(&wqs.cfg.auth, why, sizeof(why))) == NULL)
		warnx("%s", why);
	return a;
}

/* SIGHUP: new credentials, or the old ones kept if the new are bad. */
static void
reload_auth(void)
{
	struct wqs_auth *a, *old;

	if ((a = load_auth()) == NULL) {
		warnx("SIGHUP: keeping the credentials loaded before");
		return;
	}
	pthread_rwlock_wrlock(&wqs.auth_lock);
	old = wqs.auth;
	wqs.auth = a;
	pthread_rwlock_unlock(&wqs.auth_lock);
	wqs_auth_free(old);
	warnx("SIGHUP: credentials reloaded");
}

/* The socket systemd passed (LISTEN_PID, LISTEN_FDS), or -1. */
static int
socket_from_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != getpid())
		return -1;
	if (strtol(fds, NULL, 10) < 1)
		errx(EX_USAGE, "LISTEN_FDS=%s: no socket passed", fds);
	if (strtol(fds, NULL, 10) > 1)
		warnx("LISTEN_FDS=%s: serving the first socket only", fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return SD_LISTEN_FDS_START;
}

/* Parked long-polls hold descriptors: allow as many as the system does. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
write_port_file(int port)
{
	char tmp[4096];
	FILE *fp;

	if (wqs.cfg.port_file == NULL)
		return;
	/* Written whole then renamed: a reader never sees half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", wqs.cfg.port_file);
	if ((fp = fopen(tmp, "we")) == NULL ||
	    fprintf(fp, "%d\n", port) < 0 || fclose(fp) != 0 ||
	    rename(tmp, wqs.cfg.port_file) == -1)
		err(EX_CANTCREAT, "%s", wqs.cfg.port_file);
}

static int
loopback(const char *listen)
{
	return strncmp(listen, "127.", 4) == 0 ||
	    strncmp(listen, "[::1]:", 6) == 0 ||
	    strncmp(listen, "localhost:", 10) == 0;
}

/* "wq-serve: listening on http://127.0.0.1:8080 (spool DIR)" */
static void
announce(int fd)
{
	const char *scheme = wqs.cfg.tls_cert ? "https" : "http";
	const char *colon = strrchr(wqs.cfg.listen, ':');
	int port = wqs_http_port();

	write_port_file(port);
	if (fd != -1)
		fprintf(stderr, "%s: listening on the socket from systemd, "
		    "port %d, %s (spool %s)\n", getprogname(), port, scheme,
		    wq_spool_path(wqs.spool));
	else
		fprintf(stderr, "%s: listening on %s://%.*s:%d (spool %s)\n",
		    getprogname(), scheme, (int)(colon - wqs.cfg.listen),
		    wqs.cfg.listen, port, wq_spool_path(wqs.spool));
	if (!wqs_auth_enabled(wqs.auth) && (fd != -1 ||
	    !loopback(wqs.cfg.listen)))
		warnx("warning: no --tokens or --jwt-key: anybody who can "
		    "reach this server may read, send and delete");
}

/* Wait for signals until told to stop. */
static void
signal_loop(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			reload_auth();
		else
			break;
	}
	warnx("%s: stopping", strsignal(sig));
}

int
main(int argc, char *argv[])
{
	sigset_t set;
	int fd;

	defaults(&wqs.cfg);
	if (parse_options(argc, argv, &wqs.cfg))
		return hash_token();
	wqs.cfg.dir = wqx_dir;
	/* Every thread inherits the mask; signals are taken by sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	json_object_seed(0);
	raise_fd_limit();
	wqs.spool = wqx_spool(1);
	if ((wqs.auth = load_auth()) == NULL)
		return EX_CONFIG;
	pthread_rwlock_init(&wqs.auth_lock, NULL);
	pthread_mutex_init(&wqs.idle_lock, NULL);
	pthread_cond_init(&wqs.idle, NULL);
	fd = socket_from_systemd();
	if (wqs_park_start() == -1)
		err(EX_OSERR, "cannot watch the spool");
	if (wqs_http_start(fd) == -1)
		return EX_UNAVAILABLE;
	announce(fd);
	signal_loop(&set);
	wqs_http_stop();
	wqs_park_stop();
	wqs_auth_free(wqs.auth);
	wq_spool_close(wqs.spool);
	free(wqs.cfg.auth.jwt_keys);
	return 0;
}
