/*
 * profile — a world's continuity profile (design.md §3), loaded once.
 *
 * The file is either the imgp format (lists `anchors`, `style`, `rules`,
 * `avoid`; texts `previous_hint`, `no_previous`; `directives`; `references`;
 * `image`; `seed`; `reference_previous`; `limits`) or an original game's
 * world pack (a top-level `prompt` object whose `persistentAnchors`,
 * `style`, `continuityRules` and `negativeConstraints` are the lists).  A
 * string where a list is expected is a list of one.
 *
 * Everything is checked at load: a member of the wrong type, a directive
 * whose `when` does not compile, a reference that cannot be read.  The
 * error text names the member, for an exit 2 before any record is read.
 * imgp-profile(5) is the user's statement of this format.
 */
#ifndef IMGP_PROFILE_H
#define IMGP_PROFILE_H

#include <stddef.h>

#include "buf.h"
#include "digest.h"

struct whens;

struct profile_list {
	char **items;
	size_t n;
};

struct profile_directive {
	long when;	/* its test in profile.whens, -1: always matches */
	char *text;
};

struct profile_reference {
	char *path;		/* as the caller can open it */
	char sha256[DIGEST_HEX_LEN + 1];
};

/* An image option: a key and its value as JSON text. */
struct profile_option {
	char *key;
	char *json;
};

/* The numbers of design.md §3; a profile's `limits` may change each. */
struct profile_limits {
	size_t prompt_chars;		/* 460 */
	size_t item_chars;		/* 80: each list item */
	size_t anchors_items, anchors_chars;	/* 3, 180 */
	size_t style_items, style_chars;	/* 2, 140 */
	size_t hint_chars;		/* 120 */
	size_t history_chars;		/* 260 */
	size_t history_turns;		/* 6: journal entries */
	size_t history_prompt_chars;	/* 64: each journal entry */
	size_t rules_items, rules_chars;	/* 2, 140 */
	size_t avoid_items, avoid_chars;	/* 2, 140 */
	size_t when_ms, when_mb;	/* 200, 64: each `when` on each record */
};

struct profile {
	struct profile_list anchors, style, rules, avoid;
	char *previous_hint;	/* NULL: the default text */
	char *no_previous;	/* NULL: the default text */
	struct profile_directive *directives;
	size_t ndirectives;
	struct whens *whens;	/* the directives' `when`s, NULL: none */
	struct profile_reference *references;
	size_t nreferences;
	struct profile_option *image;
	size_t nimage;
	int has_seed;
	unsigned long long seed;
	int reference_previous;
	struct profile_limits limits;
};

/* Set `p` to the empty profile: default texts, no lists, default limits. */
void profile_init(struct profile *p);

/* Load `path` into `p` (which profile_init set).  0, or -1 with the reason
 * in `err` ("anchors[2]: not a string", …). */
int profile_load(struct profile *p, const char *path, struct buf *err);

void profile_free(struct profile *p);

#endif
