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

/* Give one directory (or, for files, the policy file) the queue's mode. */
static int
share_one(int dirfd, const char *name, const struct wq_policy *p, gid_t gid,
    int file)
{
	mode_t mode = file ? p->mode & 0666 : p->mode;

	if (gid != (gid_t)-1 &&
	    fchownat(dirfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (p->mode != 0 && fchmodat(dirfd, name, mode, 0) == -1)
		return -1;
	return 0;
}

/* The queue directory qfd, its tmp/, new/ and cur/ and its policy. */
int
wq_share_tree(int qfd, const struct wq_policy *p)
{
	static const char *const dirs[] = { ".", "tmp", "new", "cur" };
	gid_t gid = (gid_t)-1;
	size_t i;

	if (p->group[0] != '\0' && group_id(p->group, &gid) == -1)
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (share_one(qfd, dirs[i], p, gid, 0) == -1)
			return -1;
	if (share_one(qfd, "policy", p, gid, 1) == -1 && errno != ENOENT)
		return -1;
	return 0;
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

/* A new message file gets the queue's mode without execute bits. */
void
wq_share_file(const struct wq_queue *q, int fd)
{
	if (q->pol.mode != 0)
		(void)fchmod(fd, q->pol.mode & 0666);
}
