/* SPDX-License-Identifier: MIT */
/*
 * wq_priv.h — declarations shared by the files of libwq and nobody else.
 * The structures behind the opaque handles of wq.h live here.
 */
#ifndef WQ_PRIV_H
#define WQ_PRIV_H

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>

#include "wq.h"

/*
 * A name that is gone: ENOENT, or ESTALE, which NFS and other shared
 * filesystems return for a handle of a file that another host removed or
 * renamed away.  Both mean "someone else got there first".
 */
static inline int
wq_gone(int err)
{
	return err == ENOENT || err == ESTALE;
}

#define WQ_RANK_DEFAULT	0x80	/* serving rank of every message (format 1) */
#define WQ_TMP_STALE_SEC (36 * 60 * 60)	/* qmail's rule for tmp/ leftovers */
#define WQ_HEADER_MAX	4096	/* longest message header */
#define WQ_DELAYED	"delayed"	/* NONCE of a delayed, unleased message */
#define WQ_BUCKET_LEVELS 6	/* rank and five time levels under new/ */
#define WQ_BUCKET_MAX	96	/* buffer for a bucket path (FIFO: GROUP/...) */

struct wq_spool {
	int		 fd;
	char		*path;
};

struct wq_queue {
	char		*name;		/* as given: a name or a path */
	char		 base[WQ_NAME_MAX + 1];	/* its last part, if a name */
	char		*path;
	int		 fd;		/* the queue directory */
	int		 tmpfd, newfd, curfd;
	int		 remote;	/* NFS, FUSE, ...: inotify sees nothing */
	int64_t		 clock_noted_ms; /* when wq_clock_note last looked */
	struct wq_queue	*dlq;		/* the dead-letter queue, once opened */
	void		*dctx;		/* zstd decompression, once needed */
	struct wq_policy pol;
};

/*
 * A parsed entry name of new/ ("RR.ID,COUNT,SIZE,GROUP") or of cur/
 * ("RR.ID,COUNT,SIZE,GROUP,DEADLINE,NONCE").
 */
struct wq_entry {
	unsigned	 rank;
	char		 id[WQ_ID_MAX];
	uint32_t	 count;
	uint64_t	 size;		/* of the message file */
	char		 group[WQ_GROUP_MAX + 1];	/* "" for none */
	int64_t		 deadline;	/* ms; 0 in new/ */
	char		 nonce[17];	/* "" in new/, WQ_DELAYED for delays */
};


struct wq_msg {
	struct wq_queue	*q;
	struct wq_entry	 ent;
	char		 receipt[WQ_RECEIPT_MAX];	/* name in cur/, or new/ */
	int		 fd;
	int64_t		 sent_ms;
	uint64_t	 size;
	off_t		 body_off;
	uint64_t	 stored;	/* bytes of body in the file */
	int		 zstd;		/* the stored body is compressed */
	int		 memfd;		/* the real body, for wq_msg_body_fd */
	unsigned char	*body;		/* the whole body, once read */
	int		 peeked;
	char		*hdr;		/* header copy that attrs point into */
	const char	*attr_key[WQ_ATTR_MAX];
	const char	*attr_value[WQ_ATTR_MAX];
	size_t		 nattr;
	const char	*origin;	/* "queue" header line, or NULL */
};

/* lib/name.c */
int	 wq_entry_parse(const char *, int incur, struct wq_entry *);
int	 wq_entry_format(const struct wq_entry *, int incur, char *, size_t);
int	 wq_receipt_parse(const char *, struct wq_entry *);
int	 wq_id_new(char id[WQ_ID_MAX]);
const char *wq_host_name(void);
void	 wq_nonce_new(char nonce[17]);
int	 wq_id_time_ms(const char *, int64_t *);
int64_t	 wq_id_time_us(const char *);

/* lib/spool.c */
int	 wq_is_queue_dir(int parent, const char *name);
int	 wq_open_parent(struct wq_spool *, const char *queue, char *base,
	    size_t len);

/* lib/policy.c */
int	 wq_policy_read(int dirfd, struct wq_policy *);
int	 wq_policy_valid(const struct wq_policy *);
int	 wq_fanout_valid(const char *);
int	 wq_policy_write(int dirfd, const struct wq_policy *, int sync);

/* lib/share.c */
int	 wq_share_tree(int qfd, const struct wq_policy *);
int	 wq_mkdir(const struct wq_queue *, int dirfd, const char *);
int	 wq_open_subdir(const struct wq_queue *, int dirfd, const char *,
	    int create, int *made);
void	 wq_share_file(const struct wq_queue *, int fd);

/* lib/bucket.c */
int	 wq_bucket_path(unsigned rank, int64_t us, char *, size_t);
int	 wq_bucket_valid(const char *);
int	 wq_bucket_level_valid(const char *, int level);
unsigned wq_bucket_rank(const char *);
int	 wq_bucket_put(struct wq_queue *, int fromfd, const char *from,
	    const char *bucket, const char *name, int *made);
int	 wq_bucket_link(struct wq_queue *, int fromfd, const char *from,
	    const char *bucket, const char *name, int *made);
int	 wq_bucket_sync(struct wq_queue *, const char *bucket, int made);
int	 wq_bucket_unput(struct wq_queue *, int fromfd, const char *from,
	    const char *bucket, const char *name, int link);
void	 wq_doorbell(struct wq_queue *);
int	 wq_bucket_first(struct wq_queue *, const char *after, int prune,
	    char leaf[WQ_BUCKET_MAX], char ***names, size_t *n);
int	 wq_bucket_list(struct wq_queue *, const char *leaf, char ***names,
	    size_t *n);
int	 wq_bucket_top_rank(DIR *newdir, int *rank);
void	 wq_head_read(struct wq_queue *, char leaf[WQ_BUCKET_MAX]);
void	 wq_head_write(struct wq_queue *, const char *leaf);
int64_t	 wq_now_us(void);

/* lib/fsutil.c */
int	 wq_write_all(int fd, const void *, size_t);
int	 wq_fsync_dir(int fd);
int	 wq_fs_is_remote(int fd);
int	 wq_list_dir(int dirfd, char ***names, size_t *count);
int	 wq_is_temp_name(const char *);
int	 wq_symlink_replace(const struct wq_queue *, int dirfd,
	    const char *name, const char *target);
int	 wq_walk_dir(int dirfd, int dots,
	    int (*)(int dirfd, const char *name, void *arg), void *arg);

/* lib/msg.c */
struct wq_msg *wq_msg_load(struct wq_queue *, int dirfd, const char *name,
	    const struct wq_entry *);
int	 wq_msg_parse_attrs(struct wq_msg *, char *hdr, size_t len);
int	 wq_msg_parse_header(const char *, size_t, int64_t *sent,
	    uint64_t *size, size_t *hdrlen);

/* lib/stat.c */
int	 wq_queue_depth(struct wq_queue *, uint64_t limit, uint64_t *);

/* lib/transfer.c */
#define WQ_MOVE		0
#define WQ_LINK		1	/* the source stays */
#define WQ_DURABLE	2	/* fsync as the target's policy says */
struct wq_queue *wq_queue_open_beside(struct wq_queue *, const char *ref);
int	 wq_transfer(struct wq_queue *to, int fromfd, const char *from,
	    const struct wq_entry *, int how);
int	 wq_transfer_at(struct wq_queue *to, int fromfd, const char *from,
	    const struct wq_entry *, int how, int64_t at_us);
#define WQ_PLACED_MAX	(WQ_BUCKET_MAX + WQ_RECEIPT_MAX)
int	 wq_transfer_placed(struct wq_queue *to, int fromfd, const char *from,
	    const struct wq_entry *, int how, char *placed, size_t len);
int	 wq_stage(struct wq_queue *to, int fromfd, const char *from,
	    const char *id, char *name, size_t len);

/* lib/fifo.c */
#define WQ_GROUP_DEFAULT "default"	/* group of FIFO sends without one */
int	 wq_fifo_put(struct wq_queue *, int fromfd, const char *from,
	    const struct wq_entry *, int link, int sync, char *placed,
	    size_t len);
void	 wq_fifo_unlock(struct wq_queue *, const struct wq_entry *);
int	 wq_fifo_lock_stale(struct wq_queue *, int lfd, const char *group,
	    int64_t now, int repair);
int	 wq_fifo_extend(struct wq_queue *, const struct wq_entry *);
int	 wq_fifo_hold(struct wq_queue *, const char *name,
	    const struct wq_entry *, uint32_t delay);

/* lib/fanout.c */
int	 wq_fanout_open(struct wq_queue *topic, struct wq_queue **subs,
	    size_t *n, char *bad, size_t badlen);
void	 wq_fanout_close(struct wq_queue **subs, size_t n);
int	 wq_fanout_deliver(struct wq_queue *topic, int fromfd,
	    const char *from, const struct wq_entry *, int how);

/* lib/dead.c */
#define WQ_RETIRE_DEAD		1
#define WQ_RETIRE_EXPIRED	2
int	 wq_retire_reason(const struct wq_queue *, const struct wq_entry *,
	    int64_t now);
int	 wq_retire(struct wq_queue *, const char *name,
	    const struct wq_entry *, int reason);

/* lib/compress.c */
#define WQ_COMPRESS_MIN	4096	/* auto: smaller bodies stay as they are */
#define WQ_LENGTH_MAX	((uint64_t)1 << 30)	/* trusted without max-size */
int	 wq_compress(void **cctx, const void *, size_t, void **out,
	    size_t *outlen);
void	 wq_compress_free(void *cctx);
int	 wq_decompress(struct wq_queue *, int fd, off_t, uint64_t stored,
	    void *out, uint64_t length);
void	 wq_decompress_free(struct wq_queue *);
int	 wq_body_memfd(const void *, size_t);
int	 wq_zstream_write(void **cctx, int outfd, const void *, size_t,
	    int end, uint64_t *stored);
void	 wq_zstream_reset(void *cctx);

/* lib/dedup.c */
#define WQ_DEDUP_KEY	32	/* SHA-256 */
struct wq_digest;
struct wq_digest *wq_digest_start(void);
int	 wq_digest_add(struct wq_digest *, const void *, size_t);
int	 wq_digest_end(struct wq_digest *, unsigned char key[WQ_DEDUP_KEY]);
int	 wq_dedup_key(const void *, size_t, int body,
	    unsigned char key[WQ_DEDUP_KEY]);
int	 wq_dedup_claim(struct wq_queue *, const unsigned char key[WQ_DEDUP_KEY],
	    const char *entry, int64_t due, char first[WQ_ID_MAX]);
void	 wq_dedup_release(struct wq_queue *,
	    const unsigned char key[WQ_DEDUP_KEY]);
int	 wq_dedup_sweep(struct wq_queue *);

/* lib/lease.c */
typedef int wq_lease_op(struct wq_queue *, const char *name,
	    const struct wq_entry *, void *);
int	 wq_with_lease(struct wq_queue *, const char *receipt, wq_lease_op *,
	    void *);
int	 wq_quarantine(struct wq_queue *, int dirfd, const char *name);
int	 wq_promote_expired(struct wq_queue *, int64_t now, int64_t *next);

/* lib/stat.c */
int	 wq_tmp_stale(const char *name, const struct stat *, time_t cutoff);

/* lib/hostclock.c */
void	 wq_clock_note(struct wq_queue *, int64_t now);

#endif /* WQ_PRIV_H */
