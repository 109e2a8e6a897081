#include "genopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "budget.h"
#include "cli.h"
#include "diag.h"
#include "json.h"
#include "s3loc.h"
#include "xalloc.h"

#define MIB (1024 * 1024)

static int word(const char *, const char *, const char *const *);

void
genopt_init(struct gen_config *c)
{
	const char *env;

	memset(c, 0, sizeof(*c));
	c->retries = 3;
	c->retry_delay = 1;
	c->limits.timeout = 120;
	c->limits.connect_timeout = 10;
	c->limits.stall_seconds = 90;
	c->limits.max_bytes = 32 * MIB;
	c->max_reference_bytes = 20 * MIB;
	c->jobs = 4;
	c->progress = -1;
	c->verbose = -1;
	c->budget = c->session_budget = BUDGET_NONE;
	if ((env = getenv("IMGP_API")) && *env)	/* --api overrides it */
		c->api = word("IMGP_API", env, provider_api_names);
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

static const char *const modalities[] = { "image,text", "image", NULL };
static const char *const efforts[] = { "low", "medium", "high", NULL };

/* --param NAME=JSON: NAME not one imgp owns, JSON one valid value. */
static void
add_param(struct gen_config *c, const char *arg)
{
	const char *eq = strchr(arg, '='), *why;
	struct provider_param p;
	size_t where;
	char *name;

	if (eq == NULL || eq == arg)
		diag_errx(2, "--param: '%s' is not NAME=JSON", arg);
	name = xcheck(strndup(arg, (size_t)(eq - arg)));
	if (provider_protected(name))
		diag_errx(2, "--param: imgp-gen sends '%s' itself; it may not "
		    "be replaced (see imgp-gen(1))", name);
	if (json_validate(eq + 1, strlen(eq + 1), &why, &where) < 0)
		diag_errx(2, "--param %s: the value is not JSON (%s at byte "
		    "%zu); quote a string as '\"text\"'", name, why, where);
	p = (struct provider_param){ name, eq + 1, strlen(eq + 1) };
	c->params = xcheck(realloc(c->params, (c->nparams + 1) *
	    sizeof(*c->params)));
	c->params[c->nparams++] = p;
}
static const char *const failures[] = { "error", "previous", "placeholder",
	NULL };

int
genopt_set(struct gen_config *c, int opt, const char *arg)
{
	switch (opt) {
	case GENOPT_API: c->api = word("--api", arg, provider_api_names); break;
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
	case GENOPT_PROFILE: c->profile = arg; break;
	case GENOPT_REFERENCE_ROOT:
		c->reference_roots = xcheck(reallocarray(c->reference_roots,
		    c->nreference_roots + 1, sizeof(*c->reference_roots)));
		c->reference_roots[c->nreference_roots++] = arg;
		break;
	case GENOPT_MAX_REFERENCE_BYTES:
		c->max_reference_bytes = cli_uint("--max-reference-bytes", arg,
		    1, (size_t)1 << 40);
		break;
	case GENOPT_BUDGET: c->budget = cli_amount("--budget", arg); break;
	case GENOPT_SESSION_BUDGET:
		c->session_budget = cli_amount("--session-budget", arg);
		break;
	case GENOPT_REASONING:
		c->reasoning = efforts[word("--reasoning-effort", arg, efforts)];
		break;
	case GENOPT_MAX_TOKENS:
		c->max_tokens = cli_uint("--max-tokens", arg, 1, 1000000);
		break;
	case GENOPT_PARAM: add_param(c, arg); break;
	case GENOPT_LIST_MODELS: c->list_models = 1; break;
	case 'q': c->quiet = 1; break;
	case 'j': c->jobs = cli_uint("--jobs", arg, 1, 256); break;
	case 'm': c->model = arg; break;
	case 'n': c->dry_run = 1; break;
	case 's': c->store = arg; break;
	case 'v': c->verbose = 1; break;
	default: return -1;
	}
	return 0;
}

/* The first of `names` set, or NULL: the value of an env default. */
#define ENV(...) cli_env((const char *const[]){ __VA_ARGS__, NULL }, NULL)

/* The original's IMAGE_OUTPUT_SIZE: pixels (WxH) are `size`, a tier
 * (1K, 2K, 4K) is `image_size`. */
static void
output_size(struct gen_config *c)
{
	const char *env = ENV("IMAGE_OUTPUT_SIZE");
	unsigned w, h;
	char x, end;

	if (env == NULL)
		return;
	if (sscanf(env, "%u%c%u%c", &w, &x, &h, &end) == 3 && x == 'x')
		c->size = cli_size("IMAGE_OUTPUT_SIZE", env);
	else
		c->image_size = env;
}

/* The defaults that depend on the API: OpenAI's own, or OpenRouter's. */
static void
api_defaults(struct gen_config *c)
{
	int openai = c->api == PROVIDER_OPENAI;
	const char *env;

	if (c->base_url == NULL)
		c->base_url = openai ? cli_env((const char *const[]){
		    "IMGP_BASE_URL", "OPENAI_BASE_URL", NULL },
		    GEN_OPENAI_BASE_URL) : cli_env((const char *const[]){
		    "IMGP_BASE_URL", "OPENROUTER_BASE_URL", NULL },
		    GEN_DEFAULT_BASE_URL);
	/* IMAGE_MODEL names an OpenRouter model in the original. */
	if (c->model == NULL)
		c->model = openai ? cli_env((const char *const[]){
		    "IMGP_MODEL", NULL }, GEN_OPENAI_MODEL) :
		    cli_env((const char *const[]){ "IMGP_MODEL",
		    "IMAGE_MODEL", NULL }, GEN_DEFAULT_MODEL);
	if (c->key == NULL && (env = openai ? ENV("OPENAI_API_KEY",
	    "IMGP_API_KEY") : ENV("IMGP_API_KEY", "OPENROUTER_API_KEY")) &&
	    !cli_blank(env, strlen(env)))
		c->key = xstrdup(env);
	/* OpenRouter lists its models to anyone. */
	if (c->key == NULL && c->api != PROVIDER_LOCAL && !c->dry_run &&
	    !(c->list_models && !openai))
		diag_errx(2, "no API key for --api %s: set %s, or use "
		    "--api-key-file", provider_api_names[c->api], openai ?
		    "OPENAI_API_KEY or IMGP_API_KEY" :
		    "IMGP_API_KEY or OPENROUTER_API_KEY");
}

void
genopt_finish(struct gen_config *c)
{
	const char *env;

	api_defaults(c);
	if (c->modalities == NULL)
		c->modalities = (env = ENV("IMAGE_MODALITIES")) ?
		    modalities[word("IMAGE_MODALITIES", env, modalities)] :
		    "image,text";
	if ((env = ENV("IMAGE_ASPECT_RATIO")) != NULL)
		c->aspect_ratio = cli_ratio("IMAGE_ASPECT_RATIO", env);
	c->quality = ENV("IMAGE_QUALITY");
	output_size(c);
	if (c->store == NULL)
		c->store = cli_env((const char *const[]){ "IMGP_STORE", NULL },
		    "imgp-store");
	/* Its costs would be the journal's, which records write (§4.4). */
	if (c->session_budget >= 0 && s3loc_is_uri(c->store))
		diag_errx(2, "--session-budget: an s3:// store keeps no spend "
		    "ledger yet; use a store directory");
	if (c->profile == NULL)	/* imgp-enrich's, in a shared environment */
		c->profile = cli_env((const char *const[]){ "IMGP_PROFILE",
		    NULL }, NULL);
	if (c->progress < 0)
		c->progress = isatty(STDERR_FILENO);
	if (c->verbose < 0)
		c->verbose = isatty(STDERR_FILENO);
	if (c->limits.connect_timeout > c->limits.timeout)
		c->limits.connect_timeout = c->limits.timeout;
}

void
genopt_free(struct gen_config *c)
{
	if (c->key)
		explicit_bzero(c->key, strlen(c->key));
	free(c->key);
	free(c->fallback_models);
	free(c->reference_roots);
	for (size_t i = 0; i < c->nparams; i++)
		free((char *)c->params[i].name);
	free(c->params);
}
