/* SPDX-License-Identifier: MIT */
/*
 * t-name.c — lib/name.c: queue names, FIFO group names, receipts, entry
 * names of new/ ("RR.ID,COUNT,SIZE,GROUP") and cur/ (",DEADLINE,NONCE"
 * added), message ids, nonces and sync mode names.
 */
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wq.h"
#include "wq_priv.h"
#include "tap.h"

#define ID "0006123456789abc.1f2e.0.deadbeef.host-name_x"
#define NONCE "0123456789abcdef"

static void
test_name_valid(void)
{
	char name[WQ_NAME_MAX + 2];

	ok(wq_name_valid("a"), "\"a\" is valid");
	ok(wq_name_valid("Z"), "\"Z\" is valid");
	ok(wq_name_valid("0"), "\"0\" is valid");
	ok(wq_name_valid("a.b_c-d"), "\"a.b_c-d\" is valid");
	ok(wq_name_valid("9queue.v2"), "\"9queue.v2\" is valid");
	memset(name, 'x', WQ_NAME_MAX);
	name[WQ_NAME_MAX] = '\0';
	ok(wq_name_valid(name), "80 characters are valid");
	name[WQ_NAME_MAX - 1] = '-';
	ok(wq_name_valid(name), "80 characters ending in '-' are valid");
}

static void
test_name_invalid(void)
{
	static const char *const bad[] = {
		"", ".", "..", ".a", "-a", "_a", "a/b", "/a", "a/", "a b",
		" a", "a ", "a\tb", "a\nb", "a\x01", "\x01" "a", "a\x7f",
		"a\x1b[0m", "a\xc3\xa9", "\xc3\xa9", "\xff", "a\x80", "a:b",
		"a*", "a,b", "a~",
	};
	char name[WQ_NAME_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!wq_name_valid(bad[i]), "invalid name #%zu", i);
	memset(name, 'x', WQ_NAME_MAX + 1);
	name[WQ_NAME_MAX + 1] = '\0';
	ok(!wq_name_valid(name), "81 characters are invalid");
}

static void
test_group_valid(void)
{
	static const char *const bad[] = {
		"", ".", "..", ".g", "-g", "_g", "a b", "a,b", "a/b", "a:b",
		"g\n", "g\xc3\xa9", "a\x7f",
	};
	char g[WQ_NAME_MAX + 2];
	size_t i;

	ok(wq_group_valid("default"), "\"default\" is valid");
	ok(wq_group_valid("orders.eu_1-x"), "\"orders.eu_1-x\" is valid");
	ok(wq_group_valid("0"), "\"0\" is valid");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!wq_group_valid(bad[i]), "invalid group #%zu", i);
	memset(g, 'g', WQ_GROUP_MAX);
	g[WQ_GROUP_MAX] = '\0';
	ok(wq_group_valid(g), "64 bytes are valid");
	g[WQ_GROUP_MAX] = 'g';
	g[WQ_GROUP_MAX + 1] = '\0';
	ok(!wq_group_valid(g), "65 bytes are not");
	ok(wq_name_valid(g), "though 65 bytes make a valid queue name");
}

static void
test_receipt_valid(void)
{
	char buf[WQ_RECEIPT_MAX + 8];

	ok(wq_receipt_valid("80." ID ",1,110,,1700000000000," NONCE),
	    "a lease name is a receipt");
	ok(wq_receipt_valid("80." ID ",1,110,orders-7,1700000000000," NONCE),
	    "a lease of a FIFO group is a receipt");
	ok(wq_receipt_valid("00." ID ",4294967295,0,,0," NONCE),
	    "rank 00, largest count, size 0, deadline 0");
	ok(!wq_receipt_valid("80." ID ",1,110,"), "a new/ name is no receipt");
	ok(!wq_receipt_valid("80." ID ",1,110,,1700000000000,delayed"),
	    "a delayed entry is nobody's receipt");
	ok(wq_receipt_valid("80." ID ",1,1700000000000," NONCE),
	    "a lease of wq 0.1.0 (no SIZE, no GROUP) is still a receipt");
	ok(!wq_receipt_valid("80." ID ",1,110,a b,1700000000000," NONCE),
	    "a bad group is no receipt");
	ok(!wq_receipt_valid(""), "empty");
	ok(!wq_receipt_valid("garbage"), "garbage");
	ok(!wq_receipt_valid("80." ID ",1,110,,1700000000000," NONCE "\n"),
	    "trailing newline");
	ok(!wq_receipt_valid("80." ID ",1,110,,1700000000000,"
	    "0123456789ABCDEF"), "upper-case nonce");
	ok(!wq_receipt_valid("../80." ID ",1,110,,1700000000000," NONCE),
	    "a path");
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(buf, "80.", 3);
	ok(!wq_receipt_valid(buf), "longer than WQ_RECEIPT_MAX");
}

static void
roundtrip(const char *name, int incur)
{
	char out[WQ_RECEIPT_MAX];
	struct wq_entry e;

	if (!ok(wq_entry_parse(name, incur, &e) == 0, "parse %s", name))
		return;
	ok(wq_entry_format(&e, incur, out, sizeof(out)) == 0, "format %s",
	    name);
	is_str(out, name, "round trip");
}

/* A group of exactly WQ_GROUP_MAX (64) bytes. */
#define G64 "g123456789012345678901234567890123456789012345678901234567890123"

static void
test_entry_new(void)
{
	struct wq_entry e;

	memset(&e, 0xa5, sizeof(e));
	if (ok(wq_entry_parse("80." ID ",0,110,", 0, &e) == 0,
	    "parse new/ name")) {
		is_int(e.rank, 0x80, "rank");
		is_str(e.id, ID, "id");
		is_int(e.count, 0, "count");
		is_int(e.size, 110, "size");
		is_str(e.group, "", "no group: empty");
		is_int(e.deadline, 0, "deadline 0 in new/");
		is_str(e.nonce, "", "no nonce in new/");
	}
	memset(&e, 0xa5, sizeof(e));
	if (ok(wq_entry_parse("1c." ID ",3,4096,orders.eu_1-x", 0, &e) == 0,
	    "parse new/ name with a group")) {
		is_int(e.rank, 0x1c, "rank 1c (priority 100)");
		is_int(e.count, 3, "count");
		is_int(e.size, 4096, "size");
		is_str(e.group, "orders.eu_1-x", "group");
		is_int(e.deadline, 0, "deadline 0 in new/");
		is_str(e.nonce, "", "no nonce in new/");
	}
	roundtrip("80." ID ",0,110,", 0);
	roundtrip("00." ID ",17,0,", 0);
	roundtrip("ff." ID ",4294967295,9223372036854775807,", 0);
	roundtrip("7f." ID ",1,52,default", 0);
	roundtrip("e4." ID ",0,52,0", 0);
	roundtrip("80." ID ",0,52," G64, 0);
}

static void
test_entry_cur(void)
{
	struct wq_entry e;

	if (ok(wq_entry_parse("3a." ID ",2,110,,1700000000123," NONCE, 1, &e)
	    == 0, "parse cur/ name")) {
		is_int(e.rank, 0x3a, "rank");
		is_str(e.id, ID, "id");
		is_int(e.count, 2, "count");
		is_int(e.size, 110, "size");
		is_str(e.group, "", "no group");
		is_int(e.deadline, 1700000000123LL, "deadline");
		is_str(e.nonce, NONCE, "nonce");
	}
	if (ok(wq_entry_parse("80." ID ",1,99,g-1,1700000000123," NONCE, 1,
	    &e) == 0, "parse cur/ name with a group")) {
		is_int(e.size, 99, "size");
		is_str(e.group, "g-1", "group");
		is_int(e.deadline, 1700000000123LL, "deadline");
		is_str(e.nonce, NONCE, "nonce");
	}
	roundtrip("80." ID ",1,110,,1700000000123," NONCE, 1);
	roundtrip("80." ID ",1,0,,0," NONCE, 1);
	roundtrip("80." ID ",1,110,,9223372036854775807," NONCE, 1);
	roundtrip("80." ID ",1,110,a,1700000000123," NONCE, 1);
	roundtrip("80." ID ",1,110," G64 ",1700000000123," NONCE, 1);
	if (ok(wq_entry_parse("80." ID ",3,110,,1700000000999,delayed", 1, &e)
	    == 0, "parse delayed cur/ name")) {
		is_str(e.nonce, WQ_DELAYED, "nonce is \"delayed\"");
		is_int(e.deadline, 1700000000999LL, "deadline of delay");
		is_int(e.count, 3, "count of delayed");
		is_int(e.size, 110, "size of delayed");
	}
	roundtrip("80." ID ",3,110,,1700000000999,delayed", 1);
	roundtrip("80." ID ",0,110,grp,1700000000999,delayed", 1);
}

/* Formatting writes the fields of struct wq_entry in the grammar's order. */
static void
test_entry_format(void)
{
	struct wq_entry e;
	char out[WQ_RECEIPT_MAX];

	memset(&e, 0, sizeof(e));
	e.rank = 0x7b;
	strlcpy(e.id, ID, sizeof(e.id));
	e.count = 4;
	e.size = 123;
	if (ok(wq_entry_format(&e, 0, out, sizeof(out)) == 0, "format new/"))
		is_str(out, "7b." ID ",4,123,", "RR.ID,COUNT,SIZE, (no group)");
	strlcpy(e.group, "g1", sizeof(e.group));
	if (ok(wq_entry_format(&e, 0, out, sizeof(out)) == 0,
	    "format new/ with a group"))
		is_str(out, "7b." ID ",4,123,g1", "RR.ID,COUNT,SIZE,GROUP");
	e.deadline = 1700000000000LL;
	strlcpy(e.nonce, NONCE, sizeof(e.nonce));
	if (ok(wq_entry_format(&e, 1, out, sizeof(out)) == 0, "format cur/"))
		is_str(out, "7b." ID ",4,123,g1,1700000000000," NONCE,
		    "RR.ID,COUNT,SIZE,GROUP,DEADLINE,NONCE");
	e.group[0] = '\0';
	if (ok(wq_entry_format(&e, 1, out, sizeof(out)) == 0,
	    "format cur/ without a group"))
		is_str(out, "7b." ID ",4,123,,1700000000000," NONCE,
		    "an empty GROUP between two commas");
	ok(wq_receipt_valid(out), "and it is a receipt");
}

static void
test_entry_format_short(void)
{
	struct wq_entry e;
	char out[16];

	if (!ok(wq_entry_parse("80." ID ",0,110,", 0, &e) == 0, "parse"))
		return;
	is_err(wq_entry_format(&e, 0, out, sizeof(out)), ENAMETOOLONG,
	    "format into a short buffer");
}

static void
test_entry_reject(void)
{
	static const struct {
		const char	*name;
		int		 incur;
	} bad[] = {
		{ "", 0 },
		{ "", 1 },
		{ "8", 0 },
		{ "80", 0 },
		{ "80.", 0 },
		{ "80." ID, 0 },			/* no count */
		{ "80." ID ",", 0 },			/* empty count */
		{ "80." ID ",0,", 0 },			/* empty size */
		{ "80." ID ",0,110", 0 },		/* no group field */
		{ "80." ID ",0,,", 0 },			/* empty size */
		{ "80." ID ",x,110,", 0 },
		{ "80." ID ",-1,110,", 0 },
		{ "80." ID ",+1,110,", 0 },
		{ "80." ID ", 1,110,", 0 },
		{ "80." ID ",1 ,110,", 0 },
		{ "80." ID ",0,x,", 0 },		/* bad size */
		{ "80." ID ",0,-1,", 0 },
		{ "80." ID ",0,+1,", 0 },
		{ "80." ID ",0, 1,", 0 },
		{ "80." ID ",0,1 ,", 0 },
		{ "80." ID ",0,0x10,", 0 },
		{ "80." ID ",0,9223372036854775808,", 0 },	/* size overflows */
		{ "80." ID ",0,110,a b", 0 },		/* bad group bytes */
		{ "80." ID ",0,110,.g", 0 },
		{ "80." ID ",0,110,-g", 0 },
		{ "80." ID ",0,110,_g", 0 },
		{ "80." ID ",0,110,g:1", 0 },
		{ "80." ID ",0,110,g\xc3\xa9", 0 },
		{ "80." ID ",0,110,g\n", 0 },
		{ "80." ID ",0,110,g ", 0 },
		{ "80." ID ",0,110,a,b", 0 },		/* a comma in the group */
		{ "80." ID ",0,110," G64 "x", 0 },	/* group of 65 bytes */
		{ "80." ID ",1,110,,1700000000000," NONCE, 0 },	/* cur/ form */
		{ "80." ID ",1,110,g,1700000000000,delayed", 0 },
		{ "8G." ID ",0,110,", 0 },		/* bad rank hex */
		{ "G0." ID ",0,110,", 0 },
		{ "8A." ID ",0,110,", 0 },		/* upper-case hex */
		{ "-1." ID ",0,110,", 0 },
		{ "800." ID ",0,110,", 0 },		/* three digits */
		{ "8." ID ",0,110,", 0 },
		{ "80-" ID ",0,110,", 0 },
		{ "80.,0,110,", 0 },			/* empty id */
		{ "80.short,0,110,", 0 },		/* id too short */
		{ "80.0006123456789abc/x,0,110,", 0 },	/* bad id byte */
		{ "80.0006123456789abc x,0,110,", 0 },
		{ ".80." ID ",0,110,", 0 },
		{ "80." ID ",4294967296,110,", 0 },	/* count overflows */
		{ "80." ID ",99999999999999999999999,110,", 0 },
		{ "80." ID ",1", 1 },			/* old new/ form in cur/ */
		{ "80." ID ",1,110,", 1 },		/* new/ form in cur/ */
		{ "80." ID ",1,110,g", 1 },
		{ "80." ID ",1,110,,", 1 },
		{ "80." ID ",1,1700000000000,", 1 },	/* 0.1.0, no nonce */
		{ "80." ID ",1,x,delayed", 1 },		/* 0.1.0, bad deadline */
		{ "80." ID ",x,1700000000000,delayed", 1 },
		{ "80." ID ",1,,,1700000000000," NONCE, 1 },	/* empty size */
		{ "80." ID ",1,x,,1700000000000," NONCE, 1 },
		{ "80." ID ",1,-1,,1700000000000," NONCE, 1 },
		{ "80." ID ",1,9223372036854775808,,1700000000000," NONCE, 1 },
		{ "80." ID ",1,110,a b,1700000000000," NONCE, 1 },	/* group */
		{ "80." ID ",1,110,.g,1700000000000," NONCE, 1 },
		{ "80." ID ",1,110," G64 "x,1700000000000," NONCE, 1 },
		{ "80." ID ",1,110,,1700000000000", 1 },	/* no nonce */
		{ "80." ID ",1,110,,1700000000000,", 1 },	/* empty nonce */
		{ "80." ID ",1,110,,," NONCE, 1 },	/* empty deadline */
		{ "80." ID ",1,110,,-5," NONCE, 1 },
		{ "80." ID ",1,110,,x," NONCE, 1 },
		{ "80." ID ",1,110,,9223372036854775808," NONCE, 1 },
		{ "80." ID ",4294967296,110,,1700000000000," NONCE, 1 },
		{ "80." ID ",1,110,,1700000000000,0123456789abcde", 1 },
		{ "80." ID ",1,110,,1700000000000,0123456789abcdef0", 1 },
		{ "80." ID ",1,110,,1700000000000,0123456789ABCDEF", 1 },
		{ "80." ID ",1,110,,1700000000000,0123456789abcdeg", 1 },
		{ "80." ID ",1,110,,1700000000000,delayedx", 1 },
		{ "80." ID ",1,110,,1700000000000,Delayed", 1 },
		{ "80." ID ",1,110,,1700000000000," NONCE ",", 1 },
		{ "80." ID ",1,110,g,h,1700000000000," NONCE, 1 },
	};
	struct wq_entry e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		is_err(wq_entry_parse(bad[i].name, bad[i].incur, &e), EINVAL,
		    bad[i].name);
	}
	/* An id of WQ_ID_MAX bytes or more does not fit. */
	{
		char name[WQ_ID_MAX + 32];

		memcpy(name, "80.", 3);
		memset(name + 3, 'a', WQ_ID_MAX);
		strcpy(name + 3 + WQ_ID_MAX, ",0,1,");
		is_err(wq_entry_parse(name, 0, &e), EINVAL, "id too long");
		memset(name + 3, 'a', WQ_ID_MAX - 1);
		strcpy(name + 3 + WQ_ID_MAX - 1, ",0,1,");
		ok(wq_entry_parse(name, 0, &e) == 0,
		    "id of WQ_ID_MAX - 1 bytes");
	}
}

static void
test_entry_limits(void)
{
	struct wq_entry e;

	ok(wq_entry_parse("80." ID ",4294967295,1,", 0, &e) == 0 &&
	    e.count == UINT32_MAX, "largest count");
	ok(wq_entry_parse("80." ID ",00000000000000000000001,1,", 0, &e) ==
	    0 && e.count == 1, "leading zeros in count");
	ok(wq_entry_parse("80." ID ",0,9223372036854775807,", 0, &e) == 0 &&
	    e.size == INT64_MAX, "largest size");
	ok(wq_entry_parse("80." ID ",0,000000000000000000000000110,", 0, &e)
	    == 0 && e.size == 110, "leading zeros in size");
	ok(wq_entry_parse("80." ID ",0,0,", 0, &e) == 0 && e.size == 0,
	    "size 0");
	ok(wq_entry_parse("80." ID ",0,1," G64, 0, &e) == 0 &&
	    strcmp(e.group, G64) == 0, "a group of WQ_GROUP_MAX bytes");
	ok(wq_entry_parse("80." ID ",1,1,,9223372036854775807," NONCE, 1, &e)
	    == 0 && e.deadline == INT64_MAX, "largest deadline");
}

/*
 * The longest entry name the library makes: the longest id wq_id_new can
 * make (the largest pid, a 64-byte host part), the longest group and the
 * largest numbers still fits a receipt buffer and a file name (NAME_MAX).
 */
static void
test_entry_longest(void)
{
	struct wq_entry e, back;
	char out[WQ_RECEIPT_MAX];

	memset(&e, 0, sizeof(e));
	e.rank = 0xe4;
	snprintf(e.id, sizeof(e.id), "%016" PRIx64 ".%lx.%08lx.%08x.%s",
	    (uint64_t)INT64_MAX, 0xffffffffUL, 0xffffffffUL, 0xffffffffU,
	    "h123456789012345678901234567890123456789012345678901234567890123");
	e.count = UINT32_MAX;
	e.size = INT64_MAX;
	strlcpy(e.group, G64, sizeof(e.group));
	e.deadline = INT64_MAX;
	strlcpy(e.nonce, NONCE, sizeof(e.nonce));
	diag("id of %zu bytes", strlen(e.id));
	if (!ok(wq_entry_format(&e, 1, out, sizeof(out)) == 0,
	    "the longest cur/ name formats"))
		return;
	diag("%zu bytes: %s", strlen(out), out);
	ok(strlen(out) <= 255, "and fits NAME_MAX");
	ok(wq_receipt_valid(out), "a valid receipt");
	ok(wq_entry_parse(out, 1, &back) == 0 && back.count == e.count &&
	    back.size == e.size && strcmp(back.group, e.group) == 0 &&
	    back.deadline == e.deadline && strcmp(back.id, e.id) == 0,
	    "that parses back");
}

/* Sanitise a host name the way the design says. */
static void
host_part(char *out, size_t len)
{
	size_t i;

	if (gethostname(out, len) == -1 || out[0] == '\0')
		snprintf(out, len, "localhost");
	out[len - 1] = '\0';
	if (strlen(out) > 64)
		out[64] = '\0';
	for (i = 0; out[i] != '\0'; i++)
		if (!(isascii((unsigned char)out[i]) &&
		    (isalnum((unsigned char)out[i]) || out[i] == '-')))
			out[i] = '_';
}

static void
test_id_grammar(void)
{
	char id[WQ_ID_MAX], want_pid[32], host[256], *f[6], *p, *save;
	int64_t before, after, ms;
	struct wq_entry e;
	char name[WQ_RECEIPT_MAX];
	size_t n = 0, i;

	before = wq_now_ms();
	need(wq_id_new(id) == 0, "wq_id_new");
	after = wq_now_ms();
	diag("id %s", id);
	ok(strlen(id) < WQ_ID_MAX, "fits WQ_ID_MAX");
	for (p = strtok_r(id, ".", &save); p != NULL && n < 6;
	    p = strtok_r(NULL, ".", &save))
		f[n++] = p;
	/* the host part has no dots, so exactly five fields */
	if (!is_int(n, 5, "five dot-separated fields"))
		return;
	is_int(strlen(f[0]), 16, "time field is 16 digits");
	is_int(strspn(f[0], "0123456789abcdef"), 16, "time field is hex");
	snprintf(want_pid, sizeof(want_pid), "%lx", (unsigned long)getpid());
	is_str(f[1], want_pid, "pid field");
	ok(strspn(f[2], "0123456789abcdef") == strlen(f[2]) && f[2][0],
	    "seq field is hex");
	is_int(strlen(f[3]), 8, "random field is 8 digits");
	is_int(strspn(f[3], "0123456789abcdef"), 8, "random field is hex");
	host_part(host, sizeof(host));
	is_str(f[4], host, "host field");
	for (i = 0; f[4][i] != '\0'; i++)
		if (!isalnum((unsigned char)f[4][i]) && f[4][i] != '-' &&
		    f[4][i] != '_')
			break;
	ok(f[4][i] == '\0' && i <= 64, "host is [A-Za-z0-9_-]{1,64}");

	before = wq_now_ms();
	need(wq_id_new(id) == 0, "wq_id_new");
	after = wq_now_ms();
	ok(wq_id_time_ms(id, &ms) == 0, "wq_id_time_ms");
	ok(ms >= before && ms <= after, "time of id is now");
	is_int(wq_id_time_ms("xyz.1", &ms), -1, "wq_id_time_ms on garbage");
	is_int(wq_id_time_ms("00061234567890ab", &ms), -1,
	    "wq_id_time_ms without a dot");

	/* Every new id makes a valid entry name. */
	memset(&e, 0, sizeof(e));
	e.rank = WQ_RANK_DEFAULT;
	need(wq_id_new(e.id) == 0, "wq_id_new");
	ok(wq_entry_format(&e, 0, name, sizeof(name)) == 0, "format");
	roundtrip(name, 0);
}

#define NIDS 100000

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_id_unique(void)
{
	char (*ids)[WQ_ID_MAX];
	size_t i, dups = 0;

	need((ids = calloc(NIDS, sizeof(*ids))) != NULL, "calloc");
	for (i = 0; i < NIDS; i++)
		need(wq_id_new(ids[i]) == 0, "wq_id_new #%zu", i);
	qsort(ids, NIDS, sizeof(*ids), cmp_ids);
	for (i = 1; i < NIDS; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0 && dups++ < 5)
			diag("duplicate id %s", ids[i]);
	is_int(dups, 0, "100000 ids, no duplicate");
	free(ids);
}

/* The PID field of an id, as a number. */
static unsigned long
id_pid_field(const char *id)
{
	const char *p = strchr(id, '.');

	return p != NULL ? strtoul(p + 1, NULL, 16) : 0;
}

/*
 * The pid and the random part of ids are looked up once per process
 * (name.c): a child forked after its parent made ids must still put its
 * own pid in its ids, or parent and child could make the same id.
 */
static void
test_id_after_fork(void)
{
	char parent[WQ_ID_MAX], child[WQ_ID_MAX];
	int fds[2], status;
	pid_t pid;

	need(wq_id_new(parent) == 0, "wq_id_new in the parent");
	is_int(id_pid_field(parent), getpid(), "the parent's pid");
	need(pipe(fds) == 0, "pipe");
	need((pid = fork()) != -1, "fork");
	if (pid == 0) {
		if (wq_id_new(child) != 0 ||
		    write(fds[1], child, sizeof(child)) != sizeof(child))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	need(read(fds[0], child, sizeof(child)) == sizeof(child),
	    "the child's id");
	close(fds[0]);
	need(waitpid(pid, &status, 0) == pid, "waitpid");
	is_int(id_pid_field(child), pid, "the child's id has the child's pid");
	ok(strcmp(parent + 17, child + 17) != 0, "and differs after the time");
}

#define NTHREADS	4
#define PER_THREAD	20000

static void *
make_ids(void *arg)
{
	char (*ids)[WQ_ID_MAX] = arg;
	size_t i;

	for (i = 0; i < PER_THREAD; i++)
		if (wq_id_new(ids[i]) != 0)
			return arg;
	return NULL;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* wq-serve sends from several threads: their ids must never collide. */
static void
test_id_threads(void)
{
	char (*ids)[WQ_ID_MAX];
	pthread_t t[NTHREADS];
	size_t i, dup = 0, n = NTHREADS * PER_THREAD;
	void *failed;

	need((ids = calloc(n, sizeof(*ids))) != NULL, "calloc");
	for (i = 0; i < NTHREADS; i++)
		need(pthread_create(&t[i], NULL, make_ids,
		    ids + i * PER_THREAD) == 0, "pthread_create");
	for (i = 0; i < NTHREADS; i++) {
		need(pthread_join(t[i], &failed) == 0, "pthread_join");
		need(failed == NULL, "wq_id_new in thread %zu", i);
	}
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (i = 1; i < n; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0 && dup++ < 5)
			diag("twice: %s", ids[i]);
	ok(dup == 0, "%zu ids from %d threads, all different", n, NTHREADS);
	free(ids);
}

static void
test_id_time_order(void)
{
	char (*ids)[WQ_ID_MAX];
	size_t i, bad = 0;

	need((ids = calloc(NIDS, sizeof(*ids))) != NULL, "calloc");
	for (i = 0; i < NIDS; i++) {
		need(wq_id_new(ids[i]) == 0, "wq_id_new #%zu", i);
		if (i % 20000 == 19999)
			tap_sleep_ms(2);
	}
	for (i = 1; i < NIDS; i++)
		if (strncmp(ids[i - 1], ids[i], 16) > 0 && bad++ < 5)
			diag("time prefix goes back: %s then %s",
			    ids[i - 1], ids[i]);
	is_int(bad, 0, "the time prefix never decreases");
	ok(strcmp(ids[0], ids[NIDS - 1]) < 0, "the last id sorts last");
	ok(strncmp(ids[19999], ids[20000], 16) < 0,
	    "an id made 2 ms later has a larger time prefix");
	for (i = 1; i < NIDS; i++)
		if (ids[i][16] != '.')
			break;
	is_int(i, NIDS, "every id has a dot after 16 time digits");
	free(ids);
}

/* The SEQ field of an id (between the second and the third dot). */
static void
seq_field(const char *id, char *out, size_t len)
{
	const char *p = strchr(strchr(id, '.') + 1, '.') + 1;

	snprintf(out, len, "%.*s", (int)(strchr(p, '.') - p), p);
}

/*
 * Ids of one process, made one after another, should sort in the order
 * they were made even within one microsecond, or claim order is not send
 * order.  SEQ is variable-width hex, so the id with SEQ "10" sorts before
 * the one with SEQ "f" when both carry the same time.  On a slow clock the
 * same microsecond never happens twice, so the test gives the second id
 * the time of the first, as a fast machine would.
 */
static void
test_id_strict_order(void)
{
	char a[WQ_ID_MAX], b[WQ_ID_MAX], seq[32];
	int i;

	for (i = 0; i < 100; i++) {
		need(wq_id_new(a) == 0, "wq_id_new");
		seq_field(a, seq, sizeof(seq));
		if (strtoul(seq, NULL, 16) == 0xf)
			break;
	}
	need(strtoul(seq, NULL, 16) == 0xf, "reached SEQ f");
	need(wq_id_new(b) == 0, "wq_id_new");
	seq_field(b, seq, sizeof(seq));
	is_int((long)strtoul(seq, NULL, 16), 0x10, "the next SEQ is 10");
	memcpy(b, a, 16);	/* made in the same microsecond */
	diag("%s then %s", a, b);
	ok(strcmp(a, b) < 0, "the id made later sorts later");
}

static void
test_nonce(void)
{
	char a[17], b[17];

	memset(a, 'x', sizeof(a));
	wq_nonce_new(a);
	wq_nonce_new(b);
	is_int(strlen(a), 16, "16 digits");
	is_int(strspn(a, "0123456789abcdef"), 16, "lower-case hex");
	ok(strcmp(a, b) != 0, "two nonces differ");
}

static void
test_sync(void)
{
	static const char *const names[] = { "always", "batch", "none" };
	enum wq_sync s;
	size_t i;

	is_int(WQ_SYNC_ALWAYS, 0, "WQ_SYNC_ALWAYS is 0 (the default)");
	for (i = 0; i < 3; i++) {
		s = (enum wq_sync)99;
		ok(wq_sync_parse(names[i], &s) == 0, "parse %s", names[i]);
		is_int(s, i, names[i]);
		is_str(wq_sync_name(s), names[i], "name round trip");
	}
	is_str(wq_sync_name(WQ_SYNC_BATCH), "batch", "name of batch");
	s = WQ_SYNC_BATCH;
	is_err(wq_sync_parse("", &s), EINVAL, "empty");
	is_err(wq_sync_parse("ALWAYS", &s), EINVAL, "upper case");
	is_err(wq_sync_parse("never", &s), EINVAL, "unknown");
	is_err(wq_sync_parse("always ", &s), EINVAL, "trailing blank");
	is_err(wq_sync_parse("non", &s), EINVAL, "prefix");
	is_int(s, WQ_SYNC_BATCH, "untouched on error");
}

/* Spools written by wq 0.1.0 stay readable: SIZE 0, no GROUP. */
static void
test_legacy_names(void)
{
	struct wq_entry e;

	ok(wq_entry_parse("80." ID ",3", 0, &e) == 0 && e.count == 3 &&
	    e.size == 0 && e.group[0] == '\0' && e.rank == 0x80 &&
	    strcmp(e.id, ID) == 0, "a 0.1.0 new/ entry: count, no size");
	ok(wq_entry_parse("7f." ID ",2,1700000000000," NONCE, 1, &e) == 0 &&
	    e.count == 2 && e.size == 0 && e.deadline == 1700000000000 &&
	    strcmp(e.nonce, NONCE) == 0 && e.rank == 0x7f,
	    "a 0.1.0 lease: deadline and nonce");
	ok(wq_entry_parse("80." ID ",0,1700000000000,delayed", 1, &e) == 0 &&
	    strcmp(e.nonce, "delayed") == 0, "a 0.1.0 delayed entry");
	is_err(wq_entry_parse("80." ID ",3", 1, &e), EINVAL,
	    "a 0.1.0 new/ entry is no cur/ entry");
}

int
main(void)
{
	plan(20);
	TEST(test_name_valid, "wq_name_valid accepts good names");
	TEST(test_name_invalid, "wq_name_valid refuses bad names");
	TEST(test_group_valid, "wq_group_valid: queue-name grammar, 64 bytes");
	TEST(test_receipt_valid, "wq_receipt_valid");
	TEST(test_entry_new, "wq_entry_parse/format: new/ names");
	TEST(test_entry_cur, "wq_entry_parse/format: cur/ names, delayed");
	TEST(test_entry_format, "wq_entry_format: the order of the fields");
	TEST(test_entry_format_short, "wq_entry_format: short buffer");
	TEST(test_entry_reject, "wq_entry_parse refuses malformed names");
	TEST(test_entry_limits, "wq_entry_parse: largest numbers");
	TEST(test_legacy_names, "entry names of wq 0.1.0 are read as they are");
	TEST(test_entry_longest,
	    "the longest entry name fits a receipt and NAME_MAX");
	TEST(test_id_grammar, "wq_id_new: the id grammar");
	TEST(test_id_unique, "wq_id_new: 100000 unique ids");
	TEST(test_id_after_fork, "wq_id_new: a forked child has ids of its own");
	TEST(test_id_threads, "wq_id_new: threads never share an id");
	TEST(test_id_time_order, "wq_id_new: fixed-width time prefix order");
	TEST(test_id_strict_order,
	    "wq_id_new: ids sort in creation order within a microsecond");
	TEST(test_nonce, "wq_nonce_new");
	TEST(test_sync, "wq_sync_parse/wq_sync_name");
	return done();
}
