/* SPDX-License-Identifier: MIT */
/*
 * share.c — queues shared between users.  A queue with a mode in its
 * policy (say 2770) and a group gets that mode on every directory it has
 * or later makes, whatever the umask of the process making it, and its
 * message files get the mode without execute bits (0660): every member of
 * the group can send, claim and ack.  The setgid bit makes new
 * directories and files inherit the group.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "wq_priv.h"

static int
group_id(const char *name, gid_t *gid)
{
	struct group gr, *res;
	char buf[4096];
	int rc;

	if ((rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res)) != 0) {
		errno = rc;
		return -1;
	}
	if (res == NULL) {
		errno = ENOENT;
		return -1;
	}
	*gid = gr.gr_gid;
	return 0;
}

struct share {
	const struct wq_policy	*p;
	gid_t			 gid;
};

static int	share_entry(int, const char *, void *);

/*
 * Give one entry the queue's group and mode: directories the mode, files
 * the mode without execute bits, symbolic links (locks, slots) only the
 * group; then the same below a directory.
 */
static int
share_one(int dirfd, const char *name, const struct share *sh)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;	/* gone meanwhile */
	if (sh->gid != (gid_t)-1 && fchownat(dirfd, name, (uid_t)-1, sh->gid,
	    AT_SYMLINK_NOFOLLOW) == -1 && errno != ENOENT)
		return -1;
	if (!S_ISLNK(st.st_mode) && sh->p->mode != 0 &&
	    fchmodat(dirfd, name, S_ISDIR(st.st_mode) ? sh->p->mode :
	    sh->p->mode & 0666, 0) == -1 && errno != ENOENT)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	rc = wq_walk_dir(fd, 1, share_entry, (void *)(uintptr_t)sh);
	close(fd);
	return rc;
}

static int
share_entry(int dirfd, const char *name, void *arg)
{
	return share_one(dirfd, name, arg);
}

/*
 * The queue directory qfd and all it holds, made when a queue is
 * created or its mode or group changed: messages and buckets that were
 * there before are shared too.
 */
int
wq_share_tree(int qfd, const struct wq_policy *p)
{
	struct share sh = { p, (gid_t)-1 };

	if (p->group[0] != '\0' && group_id(p->group, &sh.gid) == -1)
		return -1;
	return share_one(qfd, ".", &sh);
}

/* mkdirat, then the queue's mode regardless of the umask. */
int
wq_mkdir(const struct wq_queue *q, int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0777) == -1)
		return -1;
	if (q->pol.mode != 0)
		(void)fchmodat(dirfd, name, q->pol.mode, 0);
	return 0;
}

/*
 * Open the directory dirfd/name of a queue, made (with the queue's mode)
 * if it is missing and create is set; *made (if not NULL) is set to 1
 * when this call made it.  Another process may make it first, or remove
 * it as empty, in between: then again.
 */
int
wq_open_subdir(const struct wq_queue *q, int dirfd, const char *name,
    int create, int *made)
{
	int fd;

	for (;;) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd != -1 || errno != ENOENT || !create)
			return fd;
		if (wq_mkdir(q, dirfd, name) == 0) {
			if (made != NULL)
				*made = 1;
		} else if (errno != EEXIST)
			return -1;
	}
}

/* A new message file gets the queue's mode without execute bits. */
void
wq_share_file(const struct wq_queue *q, int fd)
{
	if (q->pol.mode != 0)
		(void)fchmod(fd, q->pol.mode & 0666);
}
