/*
 * storereport — imgp-store --report: what each session of a store holds
 * and has cost, one JSON line per session in name order, from its journal:
 *
 *	{"session":"s","frames":10,"images":12,"cost":0.42,"unpriced":1,
 *	 "fallbacks":2,"failures":1,"first":"…Z","last":"…Z"}
 *
 * frames counts distinct turns, images journal lines (a re-generated turn
 * is one frame, two images); cost adds the lines' costs that are numbers
 * (a cached answer's is 0), unpriced counts those that are null; fallbacks
 * counts lines whose image came from a fallback of imgp-gen's ladder (any
 * `fallback` that is not null), failures those where every attempt failed
 * and a stand-in was stored (fallback "previous" or "placeholder"); first
 * and last are the first and last lines' stored_at (null when absent).
 */
#ifndef IMGP_STOREREPORT_H
#define IMGP_STOREREPORT_H

/* Report `session`, or every session of the store when NULL.  Returns the
 * exit status: 0; 1 when a journal cannot be read, the session has none,
 * or output failed; 2 when the store cannot be read. */
int store_report(const char *dir, const char *session);

#endif
