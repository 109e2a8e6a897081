/*
 * sheet — imgp-sheet: the HTML contact sheet of sessions, from a store's
 * journals or from the records of a pipeline.
 *
 * A frame is what the sheet shows of one turn: the image (linked as
 * imgp-url links it: url.h's base or template, expanded by url.c), the
 * judge's prompt, the enriched prompt, seed, model, fallback, cost, the
 * history the prompt was built with and the reference images (naming the
 * frame of the session a reference is, by its SHA-256), or the error of a
 * record that has one.  Frames are grouped by session (sessions in name
 * order) and shown in turn order; when a turn comes more than once, the
 * last one read is shown.
 *
 * Every text of a record or a journal line is HTML-escaped: the prompts
 * are written by a language model.  Links are only made of http:, https:
 * and file: URLs and relative ones, and the page forbids scripts (its
 * Content-Security-Policy), so a prompt or a URL cannot run code in the
 * browser that opens the page.
 */
#ifndef IMGP_SHEET_H
#define IMGP_SHEET_H

#include "url.h"

struct sheet {
	const char *store;	/* journal mode */
	const char *title;	/* NULL: "imgp contact sheet" */
	struct url url;		/* how links are made (url_setup done) */
	int relink;		/* records: make links even when they have url */
	/* the frames read (sheet.c's) */
	struct sheet_frame *frames;
	size_t n, cap;
	int status;
};

/* Read the journals of sessions[0..n) of s->store (every session when n
 * is 0).  A session without a journal, or one that cannot be read, is
 * reported and makes the exit status 1. */
void sheet_read_journals(struct sheet *s, char *const *sessions, int n);

/* Read records from the files paths[0..n) (standard input when n is 0),
 * as imgp-url (or any later stage) writes them.  A line that is not a
 * JSON object is reported and makes the exit status 1. */
void sheet_read_records(struct sheet *s, char *const *paths, int n);

/* Write the page on standard output and free the frames; returns the exit
 * status: 0, or 1 after a problem reading or writing. */
int sheet_write(struct sheet *s);

#endif
