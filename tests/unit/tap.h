/* SPDX-License-Identifier: MIT */
/*
 * tap.h — a tiny TAP producer for the unit tests of libwq, in the manner of
 * beanstalkd's ct: every test case runs in its own forked process with its
 * own mkdtemp(3) spool under $TMPDIR (else /tmp), removed afterwards, and
 * yields one TAP line.  Inside a case, ok(), is_int(), is_str() and
 * is_err() print a "#" diagnostic when they fail and mark the case failed;
 * outside a case each of them is a TAP line of its own.
 *
 *	static void
 *	test_foo(void)
 *	{
 *		is_int(1 + 1, 2, "sum");
 *	}
 *
 *	int
 *	main(void)
 *	{
 *		plan(1);
 *		TEST(test_foo, "one and one");
 *		return done();
 *	}
 *
 * TEST_TODO(fn, desc, why) runs a case that shows a known bug: it is
 * reported with a "# TODO why" directive, so the suite still passes.
 * A case that takes longer than TAP_TIMEOUT seconds is killed and fails.
 *
 * When wq.h was included before this file, a few helpers for libwq tests
 * are defined at the end (t_spool, t_queue, t_path, t_count, ...); the
 * helpers for the bucket tree of new/ (t_new_count, t_new_list, t_new_find,
 * t_new_find_id, t_leaf) need wq_priv.h included before this file too.
 */
#ifndef TAP_H
#define TAP_H

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef TAP_TIMEOUT
#define TAP_TIMEOUT 60
#endif

#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int	tap_planned = -1;
static int	tap_count;		/* TAP lines printed */
static int	tap_failed;		/* of them, failures not marked TODO */
static int	tap_incase;		/* in the forked process of a case */
static int	tap_casefail;		/* an assertion of this case failed */
static char	tap_dir[4096];		/* the case's own directory */

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void TAP_PRINTF(1, 2)
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Record one result: a diagnostic inside a case, a TAP line outside. */
static inline int
tap_result(int pass, const char *file, int line, const char *desc)
{
	if (tap_incase) {
		if (!pass) {
			tap_casefail = 1;
			printf("#   failed: %s (%s:%d)\n", desc, file, line);
		}
	} else {
		if (!pass)
			tap_failed++;
		printf("%s %d - %s\n", pass ? "ok" : "not ok", ++tap_count,
		    desc);
		if (!pass)
			printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static inline int TAP_PRINTF(4, 5)
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	char desc[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	return tap_result(pass, file, line, desc);
}

static inline int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *desc)
{
	if (tap_result(got == want, file, line, desc))
		return 1;
	printf("#          got: %lld\n#     expected: %lld\n", got, want);
	fflush(stdout);
	return 0;
}

static inline int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *desc)
{
	int pass;

	if (got == NULL || want == NULL)
		pass = got == want;
	else
		pass = strcmp(got, want) == 0;
	if (tap_result(pass, file, line, desc))
		return 1;
	printf("#          got: %s%s%s\n#     expected: %s%s%s\n",
	    got ? "'" : "", got ? got : "NULL", got ? "'" : "",
	    want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	fflush(stdout);
	return 0;
}

/* errno right after expr of is_err() was evaluated. */
static int	tap_errno;

static inline long long
tap_errsave(long long rc)
{
	tap_errno = errno;
	return rc;
}

/* rc must be -1 with errno want. */
static inline int
tap_is_err(long long rc, int want, const char *file, int line,
    const char *desc)
{
	int err = tap_errno;

	if (tap_result(rc == -1 && err == want, file, line, desc))
		return 1;
	printf("#          got: %lld, errno %d (%s)\n"
	    "#     expected: -1, errno %d (%s)\n", rc, rc == -1 ? err : 0,
	    rc == -1 ? strerror(err) : "none", want, strerror(want));
	fflush(stdout);
	return 0;
}

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, desc) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    (desc))
#define is_str(got, want, desc) \
	tap_is_str((got), (want), __FILE__, __LINE__, (desc))
#define is_err(expr, want, desc) \
	tap_is_err(tap_errsave((long long)(expr)), (want), __FILE__, \
	    __LINE__, (desc))

/* Give up on the current case (or the whole program outside a case). */
#define bail(...) do {							\
	diag("bail out at %s:%d", __FILE__, __LINE__);			\
	diag(__VA_ARGS__);						\
	if (tap_incase) {						\
		fflush(stdout);						\
		exit(1);						\
	}								\
	printf("Bail out!\n");						\
	exit(2);							\
} while (0)

/* Check a precondition: on failure the case cannot go on. */
#define need(cond, ...) do {						\
	if (!(cond)) {							\
		tap_ok(0, __FILE__, __LINE__, __VA_ARGS__);		\
		diag("errno %d (%s)", errno, strerror(errno));		\
		fflush(stdout);						\
		exit(1);						\
	}								\
} while (0)

static inline int
tap_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1)
		diag("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

static inline void
tap_rmtree(const char *dir)
{
	nftw(dir, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Run fn in a child process with its own empty directory tap_dir, and
 * print one TAP line for it.  The child's exit status decides: 0 passes.
 * exit(3) (not _exit) in the child, so sanitizers' leak checks run.
 */
static inline void
tap_case(void (*fn)(void), const char *desc, const char *todo)
{
	const char *tmp = getenv("TMPDIR");
	char dir[sizeof(tap_dir)];
	int status = 0, pass;
	pid_t pid;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/wq-unit.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		diag("mkdtemp %s: %s", dir, strerror(errno));
		pass = 0;
		goto report;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		diag("fork: %s", strerror(errno));
		pass = 0;
		tap_rmtree(dir);
		goto report;
	}
	if (pid == 0) {
		memcpy(tap_dir, dir, sizeof(tap_dir));
		tap_incase = 1;
		alarm(TAP_TIMEOUT);
		fn();
		fflush(stdout);
		exit(tap_casefail ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	pass = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFSIGNALED(status))
		diag("killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    WEXITSTATUS(status) != 1)
		diag("exit status %d", WEXITSTATUS(status));
	tap_rmtree(dir);
report:
	if (!pass && todo == NULL)
		tap_failed++;
	printf("%s %d - %s", pass ? "ok" : "not ok", ++tap_count, desc);
	if (todo != NULL)
		printf(" # TODO %s", todo);
	putchar('\n');
	fflush(stdout);
}

#define TEST(fn, desc)			tap_case((fn), (desc), NULL)
#define TEST_TODO(fn, desc, why)	tap_case((fn), (desc), (why))

/* The exit status of the program: 0 when all passed as planned. */
static inline int
done(void)
{
	if (tap_planned >= 0 && tap_count != tap_planned) {
		diag("planned %d tests but ran %d", tap_planned, tap_count);
		return 1;
	}
	if (tap_failed > 0)
		diag("failed %d of %d", tap_failed, tap_count);
	return tap_failed > 0 ? 1 : 0;
}

/* Milliseconds of CLOCK_MONOTONIC, for measuring waits. */
static inline long long
tap_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void
tap_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

#ifdef WQ_H
/* ---- helpers for libwq --------------------------------------------- */

/* A path under the case's directory. */
static inline const char * TAP_PRINTF(2, 3)
t_path(char buf[4096], const char *fmt, ...)
{
	char rel[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (snprintf(buf, 4096, "%s/%s", tap_dir, rel) >= 4096)
		bail("path too long: %s/%s", tap_dir, rel);
	return buf;
}

/* The case's spool, created. */
static inline struct wq_spool *
t_spool(void)
{
	struct wq_spool *s;

	need((s = wq_spool_open(tap_dir, 1)) != NULL, "wq_spool_open %s",
	    tap_dir);
	return s;
}

/* Create queue name (with pol for the fields of mask) and open it. */
static inline struct wq_queue *
t_queue(struct wq_spool *s, const char *name, const struct wq_policy *pol,
    unsigned mask)
{
	struct wq_queue *q;

	need(wq_queue_create(s, name, pol, mask, 0) == 0,
	    "wq_queue_create %s", name);
	need((q = wq_queue_open(s, name)) != NULL, "wq_queue_open %s", name);
	return q;
}

/* The body of a message is exactly the string want. */
static inline int
t_body_is(struct wq_msg *m, const char *want)
{
	const void *b;
	size_t len;

	if (wq_msg_body(m, &b, &len) == -1)
		return 0;
	return len == strlen(want) && memcmp(b, want, len) == 0;
}

/* Sorted names of a directory under tap_dir (no dot names). */
static inline size_t
t_list(const char *rel, char names[][256], size_t max)
{
	char path[4096], tmp[256];
	struct dirent *de;
	size_t n = 0, i, j;
	DIR *d;

	need((d = opendir(t_path(path, "%s", rel))) != NULL, "opendir %s",
	    path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n < max)
			snprintf(names[n], 256, "%s", de->d_name);
		n++;
	}
	closedir(d);
	for (i = 1; i < n && i < max; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0;
		    j--) {
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	return n;
}

/* How many names a directory under tap_dir holds that start with prefix
 * (dot names too). */
static inline size_t
t_count_prefix(const char *rel, const char *prefix)
{
	char path[4096];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(t_path(path, "%s", rel))) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* How many names a directory under tap_dir holds (dot names too). */
static inline size_t
t_count(const char *rel)
{
	return t_count_prefix(rel, "");
}

/* Write a whole file under tap_dir. */
static inline void
t_write(const char *rel, const void *buf, size_t len)
{
	char path[4096];
	int fd;

	need((fd = open(t_path(path, "%s", rel), O_WRONLY | O_CREAT |
	    O_TRUNC, 0666)) != -1, "create %s", path);
	need(write(fd, buf, len) == (ssize_t)len, "write %s", path);
	close(fd);
}

/* Read a whole file under tap_dir into buf (NUL-terminated); its size. */
static inline ssize_t
t_read(const char *rel, char *buf, size_t len)
{
	char path[4096];
	ssize_t n, got = 0;
	int fd;

	if ((fd = open(t_path(path, "%s", rel), O_RDONLY)) == -1)
		return -1;
	while ((size_t)got < len - 1 &&
	    (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

/* The size of a file under tap_dir, or -1. */
static inline long long
t_size(const char *rel)
{
	char path[4096];
	struct stat st;

	if (lstat(t_path(path, "%s", rel), &st) == -1)
		return -1;
	return (long long)st.st_size;
}
#endif /* WQ_H */

#ifdef WQ_PRIV_H
/* ---- the bucket tree of new/ ---------------------------------------- */

struct t_tree {
	char		(*paths)[256];	/* relative to the top, or NULL */
	size_t		 max, n;
};

static inline void
t_tree_walk(const char *top, const char *sub, struct t_tree *t)
{
	char path[4096], rel[256];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", top, *sub ? "/" : "", sub);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(rel, sizeof(rel), "%s%s%s", sub, *sub ? "/" : "",
		    de->d_name) >= (int)sizeof(rel))
			bail("path too long under %s: %s", top, rel);
		snprintf(path, sizeof(path), "%s/%s", top, rel);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			t_tree_walk(top, rel, t);
		else {
			if (t->paths != NULL && t->n < t->max)
				memcpy(t->paths[t->n], rel, sizeof(rel));
			t->n++;
		}
	}
	closedir(d);
}

/*
 * The files (anything but directories, dot names too) anywhere below the
 * directory rel under tap_dir, as paths relative to it, sorted: for new/
 * that is serving order.  Their number, which may exceed max.
 */
static inline size_t
t_new_list(const char *rel, char paths[][256], size_t max)
{
	struct t_tree t = { paths, max, 0 };
	char top[4096], tmp[256];
	size_t i, j;

	t_tree_walk(t_path(top, "%s", rel), "", &t);
	for (i = 1; i < t.n && i < max; i++)
		for (j = i; j > 0 && strcmp(paths[j - 1], paths[j]) > 0; j--) {
			memcpy(tmp, paths[j], sizeof(tmp));
			memcpy(paths[j], paths[j - 1], sizeof(tmp));
			memcpy(paths[j - 1], tmp, sizeof(tmp));
		}
	return t.n;
}

/* How many files are anywhere below the directory rel under tap_dir. */
static inline size_t
t_new_count(const char *rel)
{
	struct t_tree t = { NULL, 0, 0 };
	char top[4096];

	t_tree_walk(t_path(top, "%s", rel), "", &t);
	return t.n;
}

/* The last component of a path. */
static inline const char *
t_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * Find the file called name anywhere below the directory dir under
 * tap_dir; its path relative to tap_dir into rel.  0 found, -1 not.
 */
static inline int
t_new_find(const char *dir, const char *name, char rel[512])
{
	static char paths[4096][256];
	size_t n, i;

	n = t_new_list(dir, paths, 4096);
	for (i = 0; i < n && i < 4096; i++)
		if (strcmp(t_base(paths[i]), name) == 0) {
			snprintf(rel, 512, "%s/%s", dir, paths[i]);
			return 0;
		}
	rel[0] = '\0';
	return -1;
}

/*
 * Find the entry of message id anywhere below the directory dir under
 * tap_dir, whatever its rank, count, size and group: its path relative to
 * tap_dir into rel and its parsed name into *e (if not NULL).  0 found,
 * -1 not.
 */
static inline int
t_new_find_id(const char *dir, const char *id, char rel[512],
    struct wq_entry *e)
{
	static char paths[4096][256];
	struct wq_entry ent;
	size_t n, i;

	n = t_new_list(dir, paths, 4096);
	for (i = 0; i < n && i < 4096; i++)
		if (wq_entry_parse(t_base(paths[i]), 0, &ent) == 0 &&
		    strcmp(ent.id, id) == 0) {
			snprintf(rel, 512, "%s/%s", dir, paths[i]);
			if (e != NULL)
				*e = ent;
			return 0;
		}
	rel[0] = '\0';
	return -1;
}

/*
 * Make the leaf bucket of rank and time us (microseconds) below
 * queue/new, as wq_bucket_path names it, with every directory above it;
 * its path relative to tap_dir ("QUEUE/new/RR/TTTTTT/TT/TT/TT/T") into
 * rel, for hand-written messages.  us < 0 means now.
 */
static inline const char *
t_leaf(char rel[512], const char *queue, unsigned rank, int64_t us)
{
	char bucket[WQ_BUCKET_MAX], path[4096], *p;
	size_t base;

	need(wq_bucket_path(rank, us < 0 ? wq_now_us() : us, bucket,
	    sizeof(bucket)) == 0, "wq_bucket_path");
	need(wq_bucket_valid(bucket), "a valid bucket %s", bucket);
	snprintf(rel, 512, "%s/new/%s", queue, bucket);
	t_path(path, "%s", rel);
	base = strlen(path) - strlen(bucket);
	for (p = path + base;; p++) {
		p = strchr(p, '/');
		if (p != NULL)
			*p = '\0';
		need(mkdir(path, 0777) == 0 || errno == EEXIST, "mkdir %s",
		    path);
		if (p == NULL)
			break;
		*p = '/';
	}
	return rel;
}
#endif /* WQ_PRIV_H */

#endif /* TAP_H */
