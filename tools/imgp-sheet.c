/*
 * imgp-sheet — the HTML contact sheet of sessions, from a store's journals
 * or from a pipeline's records.  See imgp-sheet(1); the work is done in
 * lib/sheet.c, the links by lib/url.c as imgp-url makes them.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "diag.h"
#include "out.h"
#include "sheet.h"
#include "storelayout.h"

static const char synopsis[] =
    "imgp-sheet [-hV] [-b base] [-t template] [-T title] [-s store] [-r] "
    "[session ... | file ...]";

/* One line per option, headed as in the man page. */
static const char *const help[] = {
	"-h, --help\tprint this help and exit",
	"-V, --version\tprint the version and exit",
	"-b base, --base base\tthe public URL of the store, as imgp-url's",
	"-t template, --template template\tthe links' paths, as imgp-url's",
	"-T title, --title title\tthe sheet's title",
	"-s store, --store store\tread the sessions' journals from this "
	    "store (default $IMGP_STORE, else ./imgp-store)",
	"-r, --records\tread records (files or stdin) instead of journals",
	NULL
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "base", required_argument, NULL, 'b' },
	{ "template", required_argument, NULL, 't' },
	{ "title", required_argument, NULL, 'T' },
	{ "store", required_argument, NULL, 's' },
	{ "records", no_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct sheet s = { .store = NULL };
	int c, records = 0;

	diag_init("imgp-sheet");
	out_init();
	while ((c = getopt_long(argc, argv, "hVb:t:T:s:r", options,
	    NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(synopsis, help, 0);
		case 'V': cli_version();
		case 'b': s.url.base = optarg; s.relink = 1; break;
		case 't': s.url.template = optarg; s.relink = 1; break;
		case 'T': s.title = optarg; break;
		case 's': s.store = optarg; break;
		case 'r': records = 1; break;
		default: cli_usage(synopsis, help, 2);
		}
	}
	if (records && s.store)
		diag_errx(2, "-r reads records; -s reads a store's journals");
	if (s.url.base == NULL)
		s.url.base = cli_env((const char *const[]){
		    "IMGP_PUBLIC_BASE_URL", "PUBLIC_ASSETS_BASE_URL", NULL },
		    "/assets/");
	if (s.store == NULL)
		s.store = cli_env((const char *const[]){ "IMGP_STORE", NULL },
		    "imgp-store");
	url_setup(&s.url);
	if (!records && storelayout_dir_usable(s.store))
		return 2;
	if (records)
		sheet_read_records(&s, argv + optind, argc - optind);
	else
		sheet_read_journals(&s, argv + optind, argc - optind);
	c = sheet_write(&s);
	url_free(&s.url);
	return c;
}
