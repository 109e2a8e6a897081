/*
 * imgp-enrich — turn a judge's image prompts into continuity requests.
 * See imgp-enrich(1); the work is done in lib/enrich.c.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "enrich.h"
#include "filter.h"
#include "jqx.h"
#include "out.h"

static const char synopsis[] =
    "imgp-enrich [-hqV] [-p profile] [-s store] [--reference previous] "
    "[--seed n] [--aspect-ratio ratio] [--size WxH] [--model model] "
    "[--quality quality] [file ...]";

/* One line per option, headed as in the man page. */
static const char *const help[] = {
	"-h, --help\tprint this help and exit",
	"-V, --version\tprint the version and exit",
	"-q, --quiet\tno line on stderr for each record that becomes an error "
	    "record",
	"-p profile, --profile profile\tthe world's profile "
	    "(default $IMGP_PROFILE)",
	"-s store, --store store\tthe store whose journals give history "
	    "and the previous frame (default $IMGP_STORE, else ./imgp-store)",
	"--reference previous\tsend the session's previous frame as a "
	    "reference image",
	"--seed n\tthe seed of every request",
	"--aspect-ratio ratio\tthe requests' aspect ratio (W:H)",
	"--size WxH\tthe requests' size in pixels",
	"--model model\tthe requests' model",
	"--quality quality\tthe requests' quality",
	NULL
};

enum { OPT_REFERENCE = 256, OPT_SEED, OPT_ASPECT, OPT_SIZE, OPT_MODEL,
    OPT_QUALITY };

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "profile", required_argument, NULL, 'p' },
	{ "store", required_argument, NULL, 's' },
	{ "reference", required_argument, NULL, OPT_REFERENCE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "aspect-ratio", required_argument, NULL, OPT_ASPECT },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "quality", required_argument, NULL, OPT_QUALITY },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct enrich e = { .store = NULL };
	const char *profile = getenv("IMGP_PROFILE");
	struct buf err = BUF_INIT;
	int c;

	diag_init("imgp-enrich");
	out_init();
	while ((c = getopt_long(argc, argv, "hqVp:s:", options, NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(synopsis, help, 0);
		case 'V': cli_version();
		case 'q': filter_set_quiet(1); break;
		case 'p': profile = optarg; break;
		case 's': e.store = optarg; break;
		case OPT_REFERENCE:
			if (strcmp(optarg, "previous") != 0)
				diag_errx(2, "--reference: '%s' is not "
				    "'previous'", optarg);
			e.reference_previous = 1;
			break;
		case OPT_SEED:
			e.has_seed = 1;
			e.seed = cli_uint("--seed", optarg, 0,
			    (unsigned long long)JQX_MAX_EXACT);
			break;
		case OPT_ASPECT: e.aspect_ratio = cli_ratio("--aspect-ratio", optarg); break;
		case OPT_SIZE: e.size = cli_size("--size", optarg); break;
		case OPT_MODEL: e.model = optarg; break;
		case OPT_QUALITY: e.quality = optarg; break;
		default: cli_usage(synopsis, help, 2);
		}
	}
	if (e.store == NULL)
		e.store = cli_env((const char *const[]){ "IMGP_STORE", NULL },
		    "imgp-store");
	profile_init(&e.profile);
	if (profile && *profile && profile_load(&e.profile, profile, &err) < 0)
		diag_errx(2, "%s: %s", profile, err.data);
	c = filter_run(argv + optind, argc - optind, enrich_record, &e);
	enrich_free(&e);
	return c;
}
