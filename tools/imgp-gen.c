/*
 * imgp-gen — generate the image of each request, with retries, fallbacks
 * and many requests in flight.  See imgp-gen(1); the work is done in
 * lib/gen.c, lib/genjob.c, lib/provider.c and lib/http.c (--list-models:
 * lib/models.c).
 */
#include <getopt.h>

#include "cli.h"
#include "curlx.h"
#include "diag.h"
#include "gen.h"
#include "genopt.h"
#include "models.h"
#include "out.h"

static const char synopsis[] =
    "imgp-gen [-hnqVv] [-j jobs] [-m model] [-s store] [--api api] "
    "[--base-url url] [--api-key-file file] [--modalities list] "
    "[--referer url] [--title title] [--retries n] [--retry-delay seconds] "
    "[--timeout seconds] [--stall-timeout seconds] [--fallback-model model] "
    "[--on-failure action] [--max-bytes n] [--profile file] "
    "[--reference-root dir] [--max-reference-bytes n] [--cache] "
    "[--budget amount] [--session-budget amount] "
    "[--reasoning-effort effort] [--max-tokens n] [--param name=json] "
    "[--list-models] [--unordered] "
    "[--progress | --no-progress] [file ...]";

/* One line per option, headed as in the man page. */
static const char *const help[] = {
	"-h, --help\tprint this help and exit",
	"-V, --version\tprint the version and exit",
	"-n, --dry-run\tsend nothing: add each record's first request as "
	    "dry_run",
	"-q, --quiet\tno line on stderr per failed record, no totals after "
	    "a failure",
	"-v, --verbose\tprint the run's totals on stderr",
	"-j jobs, --jobs jobs\trequests in flight at once (default 4)",
	"-m model, --model model\tthe model when the request names none",
	"-s store, --store store\tthe store of --cache, --on-failure "
	    "previous, --session-budget",
	"--api api\topenrouter, openrouter-images, openai or local",
	"--base-url url\tthe API's base URL (each API has its own default)",
	"--api-key-file file\tread the API key from file",
	"--modalities list\timage,text (default) or image",
	"--reasoning-effort effort\tlow, medium or high (chat completions)",
	"--max-tokens n\tsend max_tokens n (chat completions)",
	"--param name=json\tadd a member to every request body (repeatable)",
	"--list-models\tread no records: list the API's image models",
	"--referer url, --title title\tOpenRouter's attribution headers",
	"--retries n\tretries of a transient failure (default 3)",
	"--retry-delay seconds\tthe backoff base (default 1)",
	"--timeout seconds\tthe limit of one attempt (default 120)",
	"--stall-timeout seconds\tabort an attempt stalled this long "
	    "(default 90)",
	"--fallback-model model\ta model to try when the others failed "
	    "(repeatable)",
	"--on-failure action\terror (default), previous or placeholder",
	"--max-bytes n\trefuse larger answers (default 33554432)",
	"--profile file\tthe profile imgp-enrich used: references may lie "
	    "beside it",
	"--reference-root dir\treferences may also lie beneath dir "
	    "(repeatable)",
	"--max-reference-bytes n\trefuse larger reference files (default "
	    "20971520)",
	"--cache\tanswer known requests from the store's request cache",
	"--budget amount\tsend no more requests once the run spent amount",
	"--session-budget amount\tthe same for each session, its journal "
	    "counted",
	"--unordered\twrite each record when done, a session's in order",
	"--progress, --no-progress\tshow a progress line on stderr, or not",
	NULL
};

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "dry-run", no_argument, NULL, 'n' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "model", required_argument, NULL, 'm' },
	{ "store", required_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "api", required_argument, NULL, GENOPT_API },
	{ "base-url", required_argument, NULL, GENOPT_BASE_URL },
	{ "api-key-file", required_argument, NULL, GENOPT_KEY_FILE },
	{ "modalities", required_argument, NULL, GENOPT_MODALITIES },
	{ "referer", required_argument, NULL, GENOPT_REFERER },
	{ "title", required_argument, NULL, GENOPT_TITLE },
	{ "retries", required_argument, NULL, GENOPT_RETRIES },
	{ "retry-delay", required_argument, NULL, GENOPT_RETRY_DELAY },
	{ "timeout", required_argument, NULL, GENOPT_TIMEOUT },
	{ "stall-timeout", required_argument, NULL, GENOPT_STALL },
	{ "fallback-model", required_argument, NULL, GENOPT_FALLBACK },
	{ "on-failure", required_argument, NULL, GENOPT_ON_FAILURE },
	{ "max-bytes", required_argument, NULL, GENOPT_MAX_BYTES },
	{ "cache", no_argument, NULL, GENOPT_CACHE },
	{ "budget", required_argument, NULL, GENOPT_BUDGET },
	{ "session-budget", required_argument, NULL, GENOPT_SESSION_BUDGET },
	{ "reasoning-effort", required_argument, NULL, GENOPT_REASONING },
	{ "max-tokens", required_argument, NULL, GENOPT_MAX_TOKENS },
	{ "param", required_argument, NULL, GENOPT_PARAM },
	{ "list-models", no_argument, NULL, GENOPT_LIST_MODELS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "unordered", no_argument, NULL, GENOPT_UNORDERED },
	{ "profile", required_argument, NULL, GENOPT_PROFILE },
	{ "reference-root", required_argument, NULL, GENOPT_REFERENCE_ROOT },
	{ "max-reference-bytes", required_argument, NULL,
	    GENOPT_MAX_REFERENCE_BYTES },
	{ "progress", no_argument, NULL, GENOPT_PROGRESS },
	{ "no-progress", no_argument, NULL, GENOPT_NO_PROGRESS },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	struct gen_config cfg;
	int c, status;

	curlx_init();
	diag_init("imgp-gen");
	out_init();
	genopt_init(&cfg);
	while ((c = getopt_long(argc, argv, "hnqVvj:m:s:", options, NULL)) != -1) {
		if (c == 'h')
			cli_usage(synopsis, help, 0);
		if (c == 'V')
			cli_version();
		if (genopt_set(&cfg, c, optarg) < 0)
			cli_usage(synopsis, help, 2);
	}
	genopt_finish(&cfg);
	status = cfg.list_models ? models_list(&cfg) :
	    gen_run(&cfg, argv + optind, argc - optind);
	genopt_free(&cfg);
	return status;
}
