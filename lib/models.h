/*
 * models — imgp-gen --list-models: the models of the API that can make
 * images, one JSON object a line on standard output.
 *
 * OpenRouter (openrouter and openrouter-images):
 * GET <base>/models?output_modalities=image, and of its `data` the models
 * whose architecture.output_modalities holds "image" (checked here too,
 * should a proxy drop the parameter).  OpenAI: GET <base>/models, the
 * models whose id starts with "gpt-image" or "dall-e" (its list says
 * nothing of modalities).  Each line is {"id", "name", "input_modalities",
 * "output_modalities"} with those the API gave.
 */
#ifndef IMGP_MODELS_H
#define IMGP_MODELS_H

#include "gen.h"

/* List the models; the exit status: 0, or 1 (with a message) when the
 * API could not be asked or did not answer a list. */
int models_list(const struct gen_config *c);

#endif
