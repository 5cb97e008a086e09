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
		return wq_gone(errno) ? 0 : -1;	/* gone meanwhile */
	if (sh->gid != (gid_t)-1 && fchownat(dirfd, name, (uid_t)-1, sh->gid,
	    AT_SYMLINK_NOFOLLOW) == -1 && !wq_gone(errno))
		return -1;
	if (!S_ISLNK(st.st_mode) && sh->p->mode != 0 &&
	    fchmodat(dirfd, name, S_ISDIR(st.st_mode) ? sh->p->mode :
	    sh->p->mode & 0666, 0) == -1 && !wq_gone(errno))
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return wq_gone(errno) ? 0 : -1;
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
