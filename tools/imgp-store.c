/*
 * imgp-store — store generated images, content-addressed and crash-safe,
 * with a journal per session; and look after a store.  See imgp-store(1);
 * the work is done in lib/store.c, storecheck.c, storeexport.c,
 * storegc.c and storereport.c.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "diag.h"
#include "filter.h"
#include "journal.h"
#include "out.h"
#include "s3loc.h"
#include "store.h"
#include "storegc.h"
#include "storereport.h"

static const char synopsis[] =
    "imgp-store [-hqV] [--check [--repair] [--grace duration] | "
    "--export session | "
    "--report [session] | --delete-session session | --prune --older-than "
    "duration | --gc [--grace duration]] [--dry-run] [-s store] "
    "[-N template] [--embed] [--keep-data] [--no-fsync] [file ...]";

/* One line per option, headed as in the man page. */
static const char *const help[] = {
	"-h, --help\tprint this help and exit",
	"-V, --version\tprint the version and exit",
	"-q, --quiet\tno line on stderr for each record that becomes an error "
	    "record",
	"-s store, --store store\tthe store (default $IMGP_STORE, else "
	    "./imgp-store)",
	"-N template, --name template\tstore under a readable name "
	    "({session}, {turn:03}, {sha8}, {ext}, ...)",
	"--embed\twrite the image's provenance into its PNG chunks",
	"--keep-data\tkeep image.data in the output records",
	"--no-fsync\tdo not flush to disk (tests, scratch stores)",
	"--check\tread no records: check the store",
	"--repair\twith --check: mend what can be mended",
	"--export session\tread no records: the session's records again, "
	    "to re-render",
	"--report [session]\tread no records: frames, cost, fallbacks and "
	    "failures per session",
	"--delete-session session\tread no records: remove a session's "
	    "journal and images",
	"--prune\tread no records: remove sessions older than --older-than",
	"--older-than duration\tthe age --prune removes (7d, 12h, ...)",
	"--gc\tread no records: remove images and request files no journal "
	    "references",
	"--grace duration\tleave what changed more recently alone (default "
	    "1h)",
	"--dry-run\tprint what --delete-session, --prune or --gc would "
	    "remove, remove nothing",
	NULL
};

enum { OPT_CHECK = 256, OPT_EXPORT, OPT_REPORT, OPT_DELETE, OPT_PRUNE, OPT_GC,
	OPT_REPAIR, OPT_OLDER_THAN, OPT_GRACE, OPT_DRY_RUN, OPT_EMBED,
	OPT_KEEP_DATA, OPT_NO_FSYNC };

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "store", required_argument, NULL, 's' },
	{ "name", required_argument, NULL, 'N' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "report", no_argument, NULL, OPT_REPORT },
	{ "delete-session", required_argument, NULL, OPT_DELETE },
	{ "prune", no_argument, NULL, OPT_PRUNE },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "gc", no_argument, NULL, OPT_GC },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "embed", no_argument, NULL, OPT_EMBED },
	{ "keep-data", no_argument, NULL, OPT_KEEP_DATA },
	{ "no-fsync", no_argument, NULL, OPT_NO_FSYNC },
	{ NULL, 0, NULL, 0 }
};

/* What looking after a store (any mode but storing) runs. */
static int
look_after(int mode, const char *session, int repair, struct storegc *g)
{
	switch (mode) {
	case OPT_CHECK: return store_check(g->dir, repair, g->grace);
	case OPT_EXPORT: return store_export(g->dir, session);
	case OPT_REPORT: return store_report(g->dir, session);
	case OPT_DELETE: return storegc_delete(g, session);
	case OPT_PRUNE: return storegc_prune(g);
	default: return storegc_collect(g);
	}
}

int
main(int argc, char *argv[])
{
	struct store s = { .dir = NULL, .root = -1 };
	struct storegc g = { .grace = STOREGC_DEFAULT_GRACE };
	struct buf failed = BUF_INIT;
	int c, mode = 0, repair = 0, grace = 0, status;
	const char *why, *session = NULL;

	diag_init("imgp-store");
	out_init();	/* before any store file is opened */
	while ((c = getopt_long(argc, argv, "hqVs:N:", options, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(synopsis, help, 0);
		case 'V': cli_version();
		case 'q': filter_set_quiet(1); break;
		case 's': s.dir = optarg; break;
		case 'N': s.name_template = optarg; break;
		case OPT_EXPORT: case OPT_DELETE: session = optarg; /* FALLTHROUGH */
		case OPT_CHECK: case OPT_REPORT: case OPT_PRUNE: case OPT_GC:
			if (mode && mode != c)
				diag_errx(2, "--check, --export, --report, "
				    "--delete-session, --prune, --gc: one of them");
			mode = c;
			break;
		case OPT_REPAIR: repair = 1; break;
		case OPT_OLDER_THAN:
			g.older_than = (long long)cli_duration("--older-than",
			    optarg);
			break;
		case OPT_GRACE:
			g.grace = (long long)cli_duration("--grace", optarg);
			grace = 1;
			break;
		case OPT_DRY_RUN: g.dry_run = 1; break;
		case OPT_EMBED: s.embed = 1; break;
		case OPT_KEEP_DATA: s.keep_data = 1; break;
		case OPT_NO_FSYNC: s.no_fsync = 1; break;
		default: cli_usage(synopsis, help, 2);
		}
	}
	g.dir = s.dir = s.dir ? s.dir : cli_env((const char *const[]){
	    "IMGP_STORE", NULL }, "imgp-store");
	if (mode == OPT_REPORT && optind < argc)
		session = argv[optind++];
	if ((repair && mode != OPT_CHECK) ||
	    (grace && mode != OPT_GC && mode != OPT_CHECK) ||
	    (g.dry_run && mode != OPT_DELETE && mode != OPT_PRUNE &&
	    mode != OPT_GC) || (!g.older_than != (mode != OPT_PRUNE)))
		diag_errx(2, "--repair goes with --check, --grace with --check "
		    "or --gc, "
		    "--dry-run with --delete-session, --prune or --gc, "
		    "--older-than with --prune (which needs it)");
	if (mode && (s.name_template || s.embed || s.keep_data || s.no_fsync ||
	    optind < argc))
		diag_errx(2, "looking after a store takes no records, --name, "
		    "--embed, --keep-data or --no-fsync");
	if (session && !journal_session_valid(session))
		diag_errx(2, "'%s' is not a session name", session);
	if (mode && mode != OPT_CHECK && mode != OPT_EXPORT &&
	    s3loc_is_uri(s.dir))
		diag_errx(2, "an s3:// store takes --check and --export; "
		    "--report, --delete-session, --prune and --gc read a "
		    "directory");
	if (mode == OPT_CHECK && !grace)
		g.grace = STORE_CHECK_DEFAULT_GRACE;
	if (mode)
		return look_after(mode, session, repair, &g);
	if (s.name_template &&
	    store_template_check(s.name_template, &why) < 0)
		diag_errx(2, "--name: '%s': %s", s.name_template, why);
	if (store_open(&s, &failed) < 0)
		diag_errx(2, "%s", failed.data);
	status = filter_run(argv + optind, argc - optind, store_record, &s);
	store_close(&s);
	return status;
}
