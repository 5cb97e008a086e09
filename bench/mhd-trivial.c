/* SPDX-License-Identifier: MIT */
/*
 * mhd-trivial — the floor of the HTTP benchmark (bench/http/run.py): a
 * libmicrohttpd server that does no work.  It runs libmicrohttpd as
 * wq-serve does (serve/http.c wqs_http_start: an internal polling
 * thread, epoll, suspend/resume allowed, a pool of -t threads, and the
 * same connection limit, idle timeout and per-connection memory), reads
 * and throws away any request body, and answers every request with one
 * fixed small JSON body, 200 OK, or 204 and no body to a DELETE (as
 * wq-serve answers an ack, so that one wrk script drives both).  The
 * body carries a "receipt" member for the receive+ack script.
 *
 * usage: mhd-trivial [-t THREADS] [-l PORT] [-p PORTFILE]
 *   -t  threads of the pool (default: as wq-serve, the CPUs, at least 2)
 *   -l  TCP port on 127.0.0.1 (default 0: any free port)
 *   -p  write the port to PORTFILE once listening
 * Runs until SIGTERM or SIGINT.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <err.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static const char BODY[] =
    "{\"messages\":[{\"id\":\"trivial\",\"receipt\":\"80.trivial,1,116,,0,0\"}]}";

/* Any non-NULL pointer: the request has been seen once. */
static int seen;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ctx)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;

	(void)cls;
	(void)url;
	(void)version;
	(void)data;
	if (*ctx == NULL) {
		/* As in wq-serve: a response queued now would close. */
		*ctx = &seen;
		return MHD_YES;
	}
	if (*size != 0) {
		*size = 0;	/* consume the body */
		return MHD_YES;
	}
	if (strcmp(method, "DELETE") == 0) {
		status = MHD_HTTP_NO_CONTENT;
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else
		resp = MHD_create_response_from_buffer(sizeof(BODY) - 1,
		    (void *)(uintptr_t)BODY, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(resp, "Content-Type",
		    "application/json");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	*ctx = NULL;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	socklen_t len = sizeof(sin);
	const char *portfile = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cpus > 2 ? (unsigned)cpus : 2, port = 0;
	sigset_t set;
	FILE *fp;
	int ch, sig;

	while ((ch = getopt(argc, argv, "l:p:t:")) != -1) {
		switch (ch) {
		case 'l':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			portfile = optarg;
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: mhd-trivial [-t THREADS] "
			    "[-l PORT] [-p PORTFILE]\n");
			return 64;
		}
	}
	if (threads < 1 || threads > 256 || port > 65535)
		errx(64, "bad -t or -l");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* before the threads */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, 1000,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL)
		errx(1, "cannot listen on 127.0.0.1:%u", port);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL || getsockname(info->listen_fd,
	    (struct sockaddr *)&sin, &len) == -1)
		err(1, "getsockname");
	port = ntohs(sin.sin_port);
	if (portfile != NULL) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((fp = fopen(tmp, "w")) == NULL ||
		    fprintf(fp, "%u\n", port) < 0 || fclose(fp) != 0 ||
		    rename(tmp, portfile) == -1)
			err(1, "%s", portfile);
	}
	fprintf(stderr, "mhd-trivial: listening on http://127.0.0.1:%u "
	    "(%u threads)\n", port, threads);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
