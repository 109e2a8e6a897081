/*
 * imgp-url — the public URL of each stored image, signed when asked; and
 * the checking of signed URLs.  See imgp-url(1); the work is done in
 * lib/url.c and lib/sign.c.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "diag.h"
#include "filter.h"
#include "out.h"
#include "url.h"

static const char synopsis[] =
    "imgp-url [-hqV] [--verify] [-b base] [-t template] "
    "[-S hmac | nginx | s3] [-k key-file] [-s store] "
    "[-e duration | --expires-at time] [file ...]";

/* One line per option, headed as in the man page. */
static const char *const help[] = {
	"-h, --help\tprint this help and exit",
	"-V, --version\tprint the version and exit",
	"-q, --quiet\tno line on stderr for each record that becomes an error "
	    "record",
	"--verify\tcheck signed URLs instead of making them",
	"-b base, --base base\tthe public URL of the store "
	    "(default $IMGP_PUBLIC_BASE_URL, else /assets/)",
	"-t template, --template template\tthe URL's path from the "
	    "record ({path}, {session}, {turn}, ...)",
	"-S hmac | nginx | s3, --sign hmac | nginx | s3\tsign the URLs, "
	    "with an HMAC, as nginx secure_link checks them, or presigned "
	    "for S3",
	"-k key-file, --key-file key-file\tthe signing key (or keys, "
	    "one ID:SECRET a line)",
	"-s store, --store store\tthe s3://BUCKET/PREFIX store of --sign "
	    "s3 and --verify (default $IMGP_STORE)",
	"-e duration, --expires duration\tsigned URLs expire after "
	    "duration (3600, 90m, 7d)",
	"--expires-at time\tsigned URLs expire at this Unix time",
	NULL
};

enum { OPT_EXPIRES_AT = 256, OPT_VERIFY };

static const struct option options[] = {
	CLI_COMMON_OPTIONS,
	{ "quiet", no_argument, NULL, 'q' },
	{ "base", required_argument, NULL, 'b' },
	{ "template", required_argument, NULL, 't' },
	{ "sign", required_argument, NULL, 'S' },
	{ "key-file", required_argument, NULL, 'k' },
	{ "store", required_argument, NULL, 's' },
	{ "expires", required_argument, NULL, 'e' },
	{ "expires-at", required_argument, NULL, OPT_EXPIRES_AT },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ NULL, 0, NULL, 0 }
};

/* Unix times up to the end of the year 9999. */
#define MAX_TIME 253402300799ULL

int
main(int argc, char *argv[])
{
	struct url u = { .base = NULL };
	int c;

	diag_init("imgp-url");
	out_init();
	while ((c = getopt_long(argc, argv, "hqVb:t:S:k:s:e:", options,
	    NULL)) != -1) {
		switch (c) {
		case 'h': cli_usage(synopsis, help, 0);
		case 'V': cli_version();
		case 'q': filter_set_quiet(1); break;
		case 'b': u.base = optarg; break;
		case 't': u.template = optarg; break;
		case 'S': u.scheme = sign_parse_scheme("--sign", optarg); break;
		case 'k': u.key_file = optarg; break;
		case 's': u.store = optarg; break;
		case 'e':
			u.expires_in = (long long)cli_duration("--expires",
			    optarg);
			break;
		case OPT_EXPIRES_AT:
			u.expires_at = (long long)cli_uint("--expires-at",
			    optarg, 1, MAX_TIME);
			break;
		case OPT_VERIFY: u.verify = 1; break;
		default: cli_usage(synopsis, help, 2);
		}
	}
	/* A presigned S3 URL has no base: only an explicit -b is refused. */
	if (u.base == NULL && u.scheme != SIGN_S3)
		u.base = cli_env((const char *const[]){ "IMGP_PUBLIC_BASE_URL",
		    "PUBLIC_ASSETS_BASE_URL", NULL }, "/assets/");
	url_setup(&u);
	c = u.verify ? filter_run_lines(argv + optind, argc - optind,
	    url_verify_record, url_verify_line, &u) :
	    filter_run(argv + optind, argc - optind, url_record, &u);
	url_free(&u);
	return c;
}
