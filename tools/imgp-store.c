/*
 * imgp-store — store generated images, content-addressed and crash-safe,
 * with a journal per session.  See imgp-store(1); the work is done in
 * lib/store.c and lib/storecheck.c.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "diag.h"
#include "filter.h"
#include "journal.h"
#include "out.h"
#include "store.h"

static const char synopsis[] =
    "imgp-store [-hV] [--check [--repair] [--grace time] | --export session] "
    "[-s store] [-n template] [--embed] [--keep-data] [--no-fsync] [file ...]";

enum { OPT_CHECK = 256, OPT_REPAIR, OPT_GRACE, OPT_EXPORT, OPT_EMBED, OPT_KEEP_DATA,
	OPT_NO_FSYNC };

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "store", required_argument, NULL, 's' },
	{ "name", required_argument, NULL, 'n' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "embed", no_argument, NULL, OPT_EMBED },
	{ "keep-data", no_argument, NULL, OPT_KEEP_DATA },
	{ "no-fsync", no_argument, NULL, OPT_NO_FSYNC },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct store s = { .dir = NULL, .root = -1 };
	int c, check = 0, repair = 0;
	unsigned long long grace = 0;	/* 0: not given; 1 hour */
	const char *why, *export = NULL;

	diag_init("imgp-store");
	out_init();	/* before any store file is opened */
	while ((c = getopt_long(argc, argv, "hVs:n:", options, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(synopsis, 0);
		case 'V': cli_version();
		case 's': s.dir = optarg; break;
		case 'n': s.name_template = optarg; break;
		case OPT_CHECK: check = 1; break;
		case OPT_REPAIR: repair = 1; break;
		case OPT_GRACE: grace = cli_duration("--grace", optarg); break;
		case OPT_EXPORT: export = optarg; break;
		case OPT_EMBED: s.embed = 1; break;
		case OPT_KEEP_DATA: s.keep_data = 1; break;
		case OPT_NO_FSYNC: s.no_fsync = 1; break;
		default: cli_usage(synopsis, 2);
		}
	}
	if (s.dir == NULL)
		s.dir = cli_env((const char *const[]){ "IMGP_STORE", NULL },
		    "imgp-store");
	if ((repair || grace) && !check)
		diag_errx(2, "--repair and --grace go with --check");
	if ((check || export) && (s.name_template || s.embed || s.keep_data ||
	    s.no_fsync || optind < argc || (check && export)))
		diag_errx(2, "--check and --export: one of them, and no "
		    "records, --name, --embed, --keep-data or --no-fsync");
	if (export && !journal_session_valid(export))
		diag_errx(2, "--export: '%s' is not a session name", export);
	if (check)
		return store_check(s.dir, repair, grace ? grace : 3600);
	if (export)
		return store_export(s.dir, export);
	if (s.name_template &&
	    store_template_check(s.name_template, &why) < 0)
		diag_errx(2, "--name: '%s': %s", s.name_template, why);
	return filter_run(argv + optind, argc - optind, store_record, &s);
}
