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
			cli_usage(synopsis, 0);
		if (c == 'V')
			cli_version();
		if (genopt_set(&cfg, c, optarg) < 0)
			cli_usage(synopsis, 2);
	}
	genopt_finish(&cfg);
	status = cfg.list_models ? models_list(&cfg) :
	    gen_run(&cfg, argv + optind, argc - optind);
	genopt_free(&cfg);
	return status;
}
