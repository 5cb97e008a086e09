/* SPDX-License-Identifier: MIT */
/*
 * attr.c — message attributes: "attr KEY VALUE" lines of the message
 * header.  Keys are shell-variable names, so that exec mode can export
 * each as WQ_ATTR_KEY; values are UTF-8 text without control characters,
 * so that they fit on one header line and in a JSON string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wq_priv.h"

int
wq_attr_key_valid(const char *key)
{
	size_t i;

	if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') ||
	    (key[0] >= 'a' && key[0] <= 'z')))
		return 0;
	for (i = 1; key[i] != '\0'; i++)
		if (i >= WQ_ATTR_KEY_MAX || !(key[i] == '_' ||
		    (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= 'a' && key[i] <= 'z') ||
		    (key[i] >= '0' && key[i] <= '9')))
			return 0;
	return 1;
}

int
wq_attr_value_valid(const char *value)
{
	size_t i, len = strlen(value);
	json_t *s;

	if (len > WQ_ATTR_VALUE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return 0;
	/* jansson refuses what is not UTF-8. */
	if ((s = json_stringn(value, len)) == NULL)
		return 0;
	json_decref(s);
	return 1;
}

/*
 * Collect the "attr", "queue", "encoding" and "length" lines of a header
 * (a private, NUL-free copy that this may cut into strings) into m.  An
 * encoding other than zstd, one without its length, or a length without
 * an encoding, is EBADMSG.
 */
int
wq_msg_parse_attrs(struct wq_msg *m, char *hdr, size_t len)
{
	char *line, *nl, *sp, *end = hdr + len, *e;
	size_t n = 0;
	int have_length = 0;

	for (line = hdr; line < end && *line != '\n'; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			break;
		*nl = '\0';
		if (strncmp(line, "attr ", 5) == 0 && n < WQ_ATTR_MAX &&
		    (sp = strchr(line + 5, ' ')) != NULL) {
			*sp = '\0';
			m->attr_key[n] = line + 5;
			m->attr_value[n++] = sp + 1;
		} else if (strncmp(line, "queue ", 6) == 0)
			m->origin = line + 6;
		else if (strncmp(line, "encoding ", 9) == 0) {
			if (strcmp(line + 9, "zstd") != 0)
				goto bad;
			m->zstd = 1;
		} else if (strncmp(line, "length ", 7) == 0) {
			m->size = strtoull(line + 7, &e, 10);
			if (*e != '\0' || line[7] < '0' || line[7] > '9')
				goto bad;
			have_length = 1;
		}
	}
	m->nattr = n;
	/* A length says how long a compressed body is: with no encoding,
	 * it would cut the body short (or run past the file). */
	if (m->zstd != have_length)
		goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

size_t
wq_msg_attr_count(const struct wq_msg *m)
{
	return m->nattr;
}

int
wq_msg_attr(const struct wq_msg *m, size_t i, const char **key,
    const char **value)
{
	if (i >= m->nattr) {
		errno = EINVAL;
		return -1;
	}
	*key = m->attr_key[i];
	*value = m->attr_value[i];
	return 0;
}

/* The queue a message was sent to (its name), or NULL if not recorded. */
const char *
wq_msg_origin(const struct wq_msg *m)
{
	return m->origin;
}

const char *
wq_msg_group(const struct wq_msg *m)
{
	return m->ent.group[0] != '\0' ? m->ent.group : NULL;
}
