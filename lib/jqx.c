#include "jqx.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "diag.h"
#include "json.h"

/*
 * Shadowing definitions put before every user expression: definitions and
 * bindings made first are in scope for all that follows, and `import` or
 * `include` are only allowed at the very start of a program, so after this
 * prefix they fail to compile instead of reading files.
 */
static const char sandbox[] =
    "def env: error(\"env is not available in profile expressions\");\n"
    "def input: error(\"input is not available in profile expressions\");\n"
    "def inputs: error(\"inputs is not available in profile expressions\");\n"
    "def input_filename: null;\n"
    "def stderr: .;\n"
    "def debug: .;\n"
    "null as $ENV |\n";

struct jqx_prog {
	jq_state *jq;
};

/*
 * libjq's parser is slow on multi-megabyte strings (base64 images), grows
 * its token buffer to several times their size, and costs more than the
 * rest of a stage's work for a record of a few kilobytes.  So objects are
 * built member by member from json.h's spans and strings without escapes
 * go straight to jv_string_sized; libjq's parser reads only numbers,
 * literals, arrays and strings with escapes.  `skip` (a NULL-ended path
 * of member names, or NULL) names a member to leave out.
 */
static jv parse_value(const char *text, size_t len, const char *const *skip);

static jv
parse_object(const char *text, size_t len, const char *const *skip)
{
	struct json_members members = JSON_MEMBERS_INIT;
	struct buf key = BUF_INIT;
	size_t i;
	jv obj;

	json_members_of(text, len, &members);
	obj = jv_object();
	for (i = 0; i < members.n; i++) {
		const char *const *inner = NULL;
		jv value;

		if (skip && json_key_is(&members.v[i], skip[0])) {
			if (skip[1] == NULL)
				continue;
			inner = skip + 1;
		}
		value = parse_value(members.v[i].value, members.v[i].value_len,
		    inner);
		if (!jv_is_valid(value)) {
			jv_free(obj);
			obj = jv_invalid();
			break;
		}
		buf_reset(&key);
		json_key_decode(&members.v[i], &key);
		obj = jv_object_set(obj, jv_string_sized(key.data ? key.data :
		    "", (int)key.len), value);
	}
	buf_free(&key);
	json_members_free(&members);
	return obj;
}

static jv
parse_value(const char *text, size_t len, const char *const *skip)
{
	jv v;

	while (len > 0 && strchr(" \t\r\n", *text) && *text) {
		text++;
		len--;
	}
	while (len > 0 && strchr(" \t\r\n", text[len - 1]) && text[len - 1])
		len--;
	if (len == 0 || len >= INT_MAX)
		return jv_invalid();
	if (*text == '{')
		return parse_object(text, len, skip);
	if (len >= 2 && *text == '"' && text[len - 1] == '"' &&
	    !memchr(text, '\\', len))
		return jv_string_sized(text + 1, (int)len - 2);
	v = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

jv
jqx_parse(const char *text, size_t len)
{
	return parse_value(text, len, NULL);
}

jv
jqx_parse_except(const char *text, size_t len, const char *const *skip)
{
	return parse_value(text, len, skip);
}

void
jqx_free(jv v)
{
	jv_free(v);
}

int
jqx_accepts(const char *text, size_t len)
{
	jv v;
	int ok;

	if (len > INT_MAX)
		return 0;
	v = jv_parse_sized(text, (int)len);
	ok = jv_is_valid(v);
	jv_free(v);
	return ok;
}

/* Values fetched from a container are also referenced by it: dropping
 * our reference at once lends them for the container's lifetime. */
static jv
borrow(jv v)
{
	jv_free(v);
	return v;
}

jv
jqx_get(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return borrow(jv_object_get(jv_copy(obj), jv_string(key)));
}

size_t
jqx_len(jv v)
{
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return (size_t)jv_object_length(jv_copy(v));
	if (jv_get_kind(v) == JV_KIND_ARRAY)
		return (size_t)jv_array_length(jv_copy(v));
	return 0;
}

jv
jqx_at(jv arr, size_t i)
{
	/* jv_array_get asserts (aborts) on an object: {"data":{…}} from a
	 * provider is not a list. */
	if (jv_get_kind(arr) != JV_KIND_ARRAY || i >= jqx_len(arr))
		return jv_invalid();
	return borrow(jv_array_get(jv_copy(arr), (int)i));
}

const char *
jqx_str(jv v, size_t *len)
{
	size_t n;

	if (jv_get_kind(v) != JV_KIND_STRING)
		return NULL;
	n = (size_t)jv_string_length_bytes(jv_copy(v));
	if (len)
		*len = n;
	/* A caller without the length reads a C string: "x\u0000y" would be
	 * cut to "x" (a session name, a path) instead of refused. */
	else if (strlen(jv_string_value(v)) != n)
		return NULL;
	return jv_string_value(v);
}

int
jqx_int(jv v, double min, double max, long long *out)
{
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return 0;
	d = jv_number_value(v);
	/* Range first: converting 1e20 (or NaN) to long long is undefined. */
	if (!(d >= min && d <= max) || d != (double)(long long)d)
		return 0;
	*out = (long long)d;
	return 1;
}

int
jqx_present(jv v)
{
	return jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL;
}

void
jqx_dump(jv v, struct buf *out)
{
	jv s = jv_dump_string(jv_copy(v), 0);

	buf_add(out, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

void
jqx_each(jv obj, void (*fn)(const char *key, jv value, void *arg), void *arg)
{
	jv keys;
	size_t i, n;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return;
	keys = jv_keys_unsorted(jv_copy(obj));
	n = (size_t)jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		jv key = jv_array_get(jv_copy(keys), (int)i);

		fn(jv_string_value(key), jqx_get(obj, jv_string_value(key)), arg);
		jv_free(key);
	}
	jv_free(keys);
}

static void
nomem(void *unused)
{
	(void)unused;
	diag_errx(1, "out of memory in libjq");
}

static void
collect_error(void *data, jv msg)
{
	struct buf *err = data;

	if (err == NULL) {
		jv_free(msg);
		return;
	}
	if (err->len)
		buf_putc(err, '\n');
	if (jv_get_kind(msg) == JV_KIND_STRING)
		buf_puts(err, jv_string_value(msg));
	else
		jqx_dump(msg, err);
	jv_free(msg);
}

static jv
no_more_input(jq_state *jq, void *unused)
{
	(void)jq;
	(void)unused;
	return jv_invalid();
}

static void
discard_debug(void *unused, jv msg)
{
	(void)unused;
	jv_free(msg);
}

/* A jq_state running `program`, or NULL with jq's message in `err`. */
static struct jqx_prog *
compile_program(const char *program, struct buf *err)
{
	struct jqx_prog *p = calloc(1, sizeof(*p));
	int ok;

	if (p == NULL || (p->jq = jq_init()) == NULL)
		diag_errx(1, "out of memory");
	/* libjq 1.6 leaves these unset: set them before anything runs. */
	jq_set_nomem_handler(p->jq, nomem, NULL);
	jq_set_input_cb(p->jq, no_more_input, NULL);
	jq_set_debug_cb(p->jq, discard_debug, NULL);
	jq_set_error_cb(p->jq, collect_error, err);
	ok = jq_compile_args(p->jq, program, jv_object());
	/* Errors at run time are "false", not messages. */
	jq_set_error_cb(p->jq, collect_error, NULL);
	if (!ok) {
		jqx_prog_free(p);
		return NULL;
	}
	return p;
}

struct jqx_prog *
jqx_compile(const char *const *exprs, size_t n, size_t *bad,
    struct buf *err)
{
	struct buf program = BUF_INIT, whole = BUF_INIT;
	struct jqx_prog *p;
	size_t i;

	/* Each expression becomes a function; the input [i, value] runs
	 * function i on value. */
	buf_puts(&program, sandbox);
	for (i = 0; i < n; i++)
		buf_printf(&program, "def imgp_test%zu: (%s\n);\n", i, exprs[i]);
	buf_puts(&program, ".[0] as $imgp_test | .[1] | ");
	for (i = 0; i < n; i++)
		buf_printf(&program, "%sif $imgp_test == %zu then imgp_test%zu ",
		    i ? "el" : "", i, i);
	buf_puts(&program, n ? "else empty end" : "empty");
	p = compile_program(program.data, &whole);
	buf_free(&program);
	*bad = 0;
	/* Name the culprit with its own message: the first that does not
	 * compile alone (should all of them, the message of the whole). */
	for (i = 0; p == NULL && n > 1 && i < n; i++) {
		struct jqx_prog *one;

		buf_reset(err);
		if ((one = jqx_compile(&exprs[i], 1, bad, err)) == NULL) {
			*bad = i;
			buf_free(&whole);
			return NULL;
		}
		jqx_prog_free(one);
	}
	buf_reset(err);
	if (whole.len)
		buf_add(err, whole.data, whole.len);
	buf_free(&whole);
	return p;
}

int
jqx_test(struct jqx_prog *p, size_t i, jv input)
{
	jv result;
	int truthy;

	jq_start(p->jq, jv_array_append(jv_array_append(jv_array(),
	    jv_number((double)i)), jv_copy(input)), 0);
	result = jq_next(p->jq);
	truthy = jv_is_valid(result) &&
	    jv_get_kind(result) != JV_KIND_FALSE &&
	    jv_get_kind(result) != JV_KIND_NULL && !jq_halted(p->jq);
	jv_free(result);	/* an invalid's message is freed with it */
	return truthy;
}

void
jqx_prog_free(struct jqx_prog *p)
{
	if (p == NULL)
		return;
	jq_teardown(&p->jq);
	free(p);
}
