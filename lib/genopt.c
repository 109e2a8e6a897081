#include "genopt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "cli.h"
#include "diag.h"
#include "xalloc.h"

#define MIB (1024 * 1024)

static int word(const char *, const char *, const char *const *);
static const char *const apis[];

void
genopt_init(struct gen_config *c)
{
	const char *env;

	memset(c, 0, sizeof(*c));
	c->modalities = "image,text";
	c->retries = 3;
	c->retry_delay = 1;
	c->limits.timeout = 120;
	c->limits.connect_timeout = 10;
	c->limits.stall_seconds = 90;
	c->limits.max_bytes = 32 * MIB;
	c->jobs = 4;
	c->progress = -1;
	c->verbose = -1;
	c->budget = c->session_budget = BUDGET_NONE;
	if ((env = getenv("IMGP_API")) && *env)	/* --api overrides it */
		c->api = word("IMGP_API", env, apis);
}

/* One of the words of `list` (NULL-ended), or exit 2 naming the option. */
static int
word(const char *option, const char *arg, const char *const *list)
{
	int i;

	for (i = 0; list[i]; i++)
		if (strcmp(arg, list[i]) == 0)
			return i;
	diag_errx(2, "%s: '%s' is not one of the accepted values (see "
	    "imgp-gen(1))", option, arg);
}

static const char *const apis[] = { "openrouter", "openai", "local", NULL };
static const char *const modalities[] = { "image,text", "image", NULL };
static const char *const failures[] = { "error", "previous", "placeholder",
	NULL };

int
genopt_set(struct gen_config *c, int opt, const char *arg)
{
	switch (opt) {
	case GENOPT_API: c->api = word("--api", arg, apis); break;
	case GENOPT_BASE_URL: c->base_url = arg; break;
	case GENOPT_KEY_FILE:
		free(c->key);
		c->key = cli_read_secret("--api-key-file", arg, NULL);
		break;
	case GENOPT_MODALITIES:
		c->modalities = modalities[word("--modalities", arg,
		    modalities)];
		break;
	case GENOPT_REFERER: c->referer = arg; break;
	case GENOPT_TITLE: c->title = arg; break;
	case GENOPT_RETRIES: c->retries = cli_uint("--retries", arg, 0, 20); break;
	case GENOPT_RETRY_DELAY: c->retry_delay = cli_seconds("--retry-delay", arg); break;
	case GENOPT_TIMEOUT: c->limits.timeout = cli_seconds("--timeout", arg); break;
	case GENOPT_STALL:
		c->limits.stall_seconds = cli_uint("--stall-timeout", arg, 1,
		    86400);
		break;
	case GENOPT_FALLBACK:
		c->fallback_models = xcheck(realloc(c->fallback_models,
		    (c->nfallback + 1) * sizeof(*c->fallback_models)));
		c->fallback_models[c->nfallback++] = arg;
		break;
	case GENOPT_ON_FAILURE: c->on_failure = word("--on-failure", arg, failures); break;
	case GENOPT_MAX_BYTES:
		c->limits.max_bytes = cli_uint("--max-bytes", arg, 1,
		    (size_t)1 << 40);
		break;
	case GENOPT_PROGRESS: c->progress = 1; break;
	case GENOPT_NO_PROGRESS: c->progress = 0; break;
	case GENOPT_CACHE: c->cache = 1; break;
	case GENOPT_UNORDERED: c->unordered = 1; break;
	case GENOPT_BUDGET: c->budget = cli_amount("--budget", arg); break;
	case GENOPT_SESSION_BUDGET:
		c->session_budget = cli_amount("--session-budget", arg);
		break;
	case 'j': c->jobs = cli_uint("--jobs", arg, 1, 256); break;
	case 'm': c->model = arg; break;
	case 'n': c->dry_run = 1; break;
	case 's': c->store = arg; break;
	case 'v': c->verbose = 1; break;
	default: return -1;
	}
	return 0;
}

void
genopt_finish(struct gen_config *c)
{
	const char *env;

	if (c->base_url == NULL)
		c->base_url = cli_env((const char *const[]){ "IMGP_BASE_URL",
		    "OPENROUTER_BASE_URL", NULL }, GEN_DEFAULT_BASE_URL);
	if (c->model == NULL)
		c->model = cli_env((const char *const[]){ "IMGP_MODEL",
		    "IMAGE_MODEL", NULL }, GEN_DEFAULT_MODEL);
	if (c->store == NULL)
		c->store = cli_env((const char *const[]){ "IMGP_STORE", NULL },
		    "imgp-store");
	if (c->progress < 0)
		c->progress = isatty(STDERR_FILENO);
	if (c->verbose < 0)
		c->verbose = isatty(STDERR_FILENO);
	if (c->limits.connect_timeout > c->limits.timeout)
		c->limits.connect_timeout = c->limits.timeout;
	if (c->key == NULL && (env = cli_env((const char *const[]){
	    "IMGP_API_KEY", "OPENROUTER_API_KEY", NULL }, NULL)) != NULL &&
	    !cli_blank(env, strlen(env)))
		c->key = xstrdup(env);
	if (c->key == NULL && c->api != PROVIDER_LOCAL && !c->dry_run)
		diag_errx(2, "no API key for --api %s: set IMGP_API_KEY or "
		    "OPENROUTER_API_KEY, or use --api-key-file", apis[c->api]);
}

void
genopt_free(struct gen_config *c)
{
	if (c->key)
		explicit_bzero(c->key, strlen(c->key));
	free(c->key);
	free(c->fallback_models);
}
