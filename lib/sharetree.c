/* SPDX-License-Identifier: MIT */
/*
 * sharetree.c — giving a whole queue its group and mode, when it is
 * created or its sharing changed (see share.c).  Apart from share.c
 * because the group name is looked up through NSS, which a statically
 * linked command can only do with the very libc it was linked with:
 * only wq-create needs it, and only wq-create is linked dynamically.
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
 * Open dirfd/name as what fstatat said it was, never through a link: a
 * group member may have put one in its place meanwhile, and a chmod by
 * name would then change whatever the link points to (say, as root, a
 * file of /etc).  -1 with ELOOP, ENOTDIR or EBADF (not a regular file)
 * when it was replaced.
 */
static int
open_as(int dirfd, const char *name, const struct stat *st)
{
	struct stat now;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0)))
	    == -1)
		return -1;
	if (fstat(fd, &now) == -1 || (now.st_mode & S_IFMT) !=
	    (st->st_mode & S_IFMT)) {
		close(fd);
		errno = EBADF;
		return -1;
	}
	return fd;
}

/* Whether an open_as failure means the entry went or was replaced. */
static int
replaced(int err)
{
	return wq_gone(err) || err == ELOOP || err == ENOTDIR || err == EBADF;
}

/*
 * Give one entry the queue's group and mode: directories the mode,
 * regular files the mode without execute bits, symbolic links (locks,
 * slots) only the group, anything else (no wq program makes it) nothing;
 * then the same below a directory.
 */
static int
share_one(int dirfd, const char *name, const struct share *sh)
{
	struct stat st;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return wq_gone(errno) ? 0 : -1;	/* gone meanwhile */
	if (sh->gid != (gid_t)-1 && fchownat(dirfd, name, (uid_t)-1, sh->gid,
	    AT_SYMLINK_NOFOLLOW) == -1 && !wq_gone(errno))
		return -1;
	if (!S_ISDIR(st.st_mode) && (!S_ISREG(st.st_mode) ||
	    sh->p->mode == 0))
		return 0;
	if ((fd = open_as(dirfd, name, &st)) == -1)
		return replaced(errno) ? 0 : -1;
	if (sh->p->mode != 0 && fchmod(fd, S_ISDIR(st.st_mode) ?
	    sh->p->mode : sh->p->mode & 0666) == -1)
		rc = -1;
	else if (S_ISDIR(st.st_mode))
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
