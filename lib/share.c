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
#include <unistd.h>

#include "wq_priv.h"

/*
 * mkdirat, then the queue's mode regardless of the umask.  The mode is
 * set through a descriptor that does not follow links: by name, a link
 * that another member of the group put in place of the new directory
 * would be followed.  Replaced or gone meanwhile, it is left alone.
 */
int
wq_mkdir(const struct wq_queue *q, int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0777) == -1)
		return -1;
	if (q->pol.mode == 0)
		return 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	(void)fchmod(fd, q->pol.mode);
	close(fd);
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
		if (fd != -1 || !wq_gone(errno) || !create)
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
