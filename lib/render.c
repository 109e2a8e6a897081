#include "render.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "png.h"

/*
 * All drawing uses integer arithmetic only, so that the bytes do not depend
 * on the libm or on floating-point contraction of the machine: the same
 * inputs give the same PNG everywhere, and stored images keep their hash.
 */

enum {
	LAYER_COUNT = 3,
	WAVE_COUNT = 3,
	/* A "turn" is a full circle; angles are in 1/TURN of it. */
	TURN = 65536,
	/* Fixed-point one for wave values. */
	UNIT = 4096,
	/* Fixed-point one for colour mixing. */
	OPAQUE = 256,
	DEFLATE_LEVEL = 3,
	PNG_FILTER_SUB = 1,
};

/* ---- deterministic choices ---- */

/* splitmix64, keyed by SHA-256: cheap, well mixed, and portable. */
struct hash_stream {
	uint64_t state;
};

static uint64_t
hash_stream_next(struct hash_stream *s)
{
	uint64_t z = (s->state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A number in lo..hi inclusive. */
static int
pick(struct hash_stream *s, int lo, int hi)
{
	return lo + (int)(hash_stream_next(s) % (uint64_t)(hi - lo + 1));
}

/* A length of lo..hi thousandths of `side`. */
static int
pick_share(struct hash_stream *s, unsigned side, int lo, int hi)
{
	return (int)((int64_t)side * pick(s, lo, hi) / 1000);
}

/*
 * The domain string keeps the palette stream (seed only) and the scene
 * stream (seed and prompt) independent even for an empty prompt.
 */
static int
hash_stream_init(struct hash_stream *s, const char *domain, uint64_t seed,
    const char *prompt, size_t prompt_len)
{
	unsigned char seed_bytes[8], digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	for (i = 0; i < sizeof(seed_bytes); i++)
		seed_bytes[i] = (unsigned char)(seed >> (8 * i));
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, domain, strlen(domain) + 1) &&
	    EVP_DigestUpdate(ctx, seed_bytes, sizeof(seed_bytes)) &&
	    (!prompt_len || EVP_DigestUpdate(ctx, prompt, prompt_len)) &&
	    EVP_DigestFinal_ex(ctx, digest, &digest_len);
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		errno = ENOMEM;
		return -1;
	}
	s->state = 0;
	for (i = 0; i < digest_len; i++)
		s->state = (s->state << 8 | s->state >> 56) ^ digest[i];
	return 0;
}

/* ---- colour ---- */

struct rgb {
	unsigned char r, g, b;
};

static unsigned char
mix_channel(unsigned char a, unsigned char b, int amount)
{
	return (unsigned char)(a + (b - a) * amount / OPAQUE);
}

/* `amount` of OPAQUE is how much of `b` replaces `a`. */
static struct rgb
mix(struct rgb a, struct rgb b, int amount)
{
	struct rgb out = {
		mix_channel(a.r, b.r, amount),
		mix_channel(a.g, b.g, amount),
		mix_channel(a.b, b.b, amount),
	};
	return out;
}

/* Hue in degrees (any value, taken modulo 360); saturation and value 0..255. */
static struct rgb
hsv(int hue, int sat, int val)
{
	int h = ((hue % 360) + 360) % 360, rising = (h % 60) * 255 / 59;
	unsigned char v = (unsigned char)val;
	unsigned char low = (unsigned char)(val * (255 - sat) / 255);
	unsigned char down =
	    (unsigned char)(val * (255 - sat * rising / 255) / 255);
	unsigned char up =
	    (unsigned char)(val * (255 - sat * (255 - rising) / 255) / 255);
	struct rgb sextants[6] = {
		{ v, up, low },
		{ down, v, low },
		{ low, v, up },
		{ low, down, v },
		{ up, low, v },
		{ v, low, down },
	};
	return sextants[h / 60];
}

/*
 * Skies people recognise: a random hue pair too often gives a green or
 * muddy sky, so the seed picks one of these and only nudges its hues.
 */
static const struct sky_family {
	int top_hue, horizon_hue, horizon_saturation, night;
} sky_families[] = {
	{ 220, 25, 150, 0 },  /* blue over orange sunset */
	{ 255, 330, 120, 0 },	/* indigo over pink dusk */
	{ 200, 45, 140, 0 },  /* teal over gold */
	{ 280, 20, 110, 0 },  /* violet over peach morning */
	{ 212, 190, 70, 0 },  /* clear day */
	{ 345, 38, 170, 0 },  /* ember over amber desert */
	{ 228, 250, 90, 1 },  /* blue night */
	{ 270, 190, 110, 1 },	/* violet night, teal afterglow */
};

/*
 * The seed's palette. Land layers fade from the haze colour (far) to the
 * ground colour (near), which is what reads as depth.
 */
struct palette {
	struct rgb sky_top, sky_horizon, light, layers[LAYER_COUNT];
	int night;
};

static void
plan_palette(struct palette *p, struct hash_stream *s)
{
	const struct sky_family *family = &sky_families[pick(s, 0,
	    (int)(sizeof(sky_families) / sizeof(*sky_families)) - 1)];
	int top_hue = family->top_hue + pick(s, -12, 12);
	int horizon_hue = family->horizon_hue + pick(s, -10, 10);
	int bright = pick(s, 0, 60), i;
	struct rgb ground, haze;

	p->night = family->night;
	p->sky_top = hsv(top_hue, 150, p->night ? 40 : 120 + bright);
	p->sky_horizon =
	    hsv(horizon_hue, family->horizon_saturation, p->night ? 95 : 240);
	p->light = hsv(horizon_hue, p->night ? 15 : 50, 255);
	ground = hsv(top_hue + 15, 140, p->night ? 12 : 30 + bright / 3);
	haze = mix(p->sky_horizon, p->sky_top, OPAQUE / 3);
	for (i = 0; i < LAYER_COUNT; i++)
		p->layers[i] =
		    mix(haze, ground, OPAQUE * (i + 1) / LAYER_COUNT);
}

/* ---- canvas: PNG scanlines, each a filter byte then RGB pixels ---- */

struct canvas {
	unsigned char *rows;
	int width, height;
	size_t stride;
	/*
	 * What sizes and heights of things are shares of: the height, but no
	 * more than a landscape 4:3 picture of this width would have, so that
	 * tall pictures do not get needle mountains and giant trees.
	 */
	int scale;
};

static void
put_pixel(const struct canvas *c, int x, int y, struct rgb colour)
{
	unsigned char *p;

	if (x < 0 || y < 0 || x >= c->width || y >= c->height)
		return;
	p = c->rows + (size_t)y * c->stride + 1 + 3 * (size_t)x;
	p[0] = colour.r;
	p[1] = colour.g;
	p[2] = colour.b;
}

static struct rgb
get_pixel(const struct canvas *c, int x, int y)
{
	const unsigned char *p =
	    c->rows + (size_t)y * c->stride + 1 + 3 * (size_t)x;
	struct rgb colour = { p[0], p[1], p[2] };

	return colour;
}

static void
fill_span(const struct canvas *c, int y, int x0, int x1, struct rgb colour)
{
	for (; x0 <= x1; x0++)
		put_pixel(c, x0, y, colour);
}

static void
fill_rect(const struct canvas *c, int x0, int y0, int x1, int y1,
    struct rgb colour)
{
	for (; y0 <= y1; y0++)
		fill_span(c, y0, x0, x1, colour);
}

/* Blends `colour` into an axis-aligned ellipse (a disc when rx == ry). */
static void
blend_ellipse(const struct canvas *c, int cx, int cy, int rx, int ry,
    struct rgb colour, int amount)
{
	int64_t limit = (int64_t)rx * rx * ry * ry;
	int x, y;

	if (rx < 1 || ry < 1)
		return;
	for (y = cy - ry; y <= cy + ry; y++)
		for (x = cx - rx; x <= cx + rx; x++) {
			int64_t dx = (int64_t)(x - cx) * ry;
			int64_t dy = (int64_t)(y - cy) * rx;

			if (x >= 0 && y >= 0 && x < c->width && y < c->height &&
			    dx * dx + dy * dy <= limit)
				put_pixel(c, x, y,
				    mix(get_pixel(c, x, y), colour, amount));
		}
}

/* ---- composition ---- */

struct sun {
	int x, y, radius;
};

/* A horizon line: a sum of periodic waves around base_y. */
struct wave {
	int cycles, phase, weight;
};

struct ridge {
	int base_y, amplitude, jagged;
	struct wave waves[WAVE_COUNT];
};

/* Bhaskara's approximation, in UNIT: smooth enough for hills. */
static int
sine(int angle)
{
	int64_t half = TURN / 2, a = angle % half;
	int64_t product = a * (half - a);
	int value = (int)(16 * (int64_t)UNIT * product /
	    (5 * half * half - 4 * product));

	return angle < half ? value : -value;
}

/* Peaks as sharp as the valleys: reads as rock rather than grass. */
static int
triangle(int angle)
{
	int from_peak = angle < TURN / 2 ? angle : TURN - angle;

	return UNIT - from_peak * 2 * UNIT / (TURN / 2);
}

static int
ridge_y(const struct ridge *r, int x, int width)
{
	int64_t sum = 0, weights = 0;
	int i;

	for (i = 0; i < WAVE_COUNT; i++) {
		const struct wave *w = &r->waves[i];
		int64_t along = (int64_t)x * w->cycles * TURN / width;
		int angle = (int)((w->phase + along) % TURN);

		sum += (int64_t)w->weight *
		    (r->jagged ? triangle(angle) : sine(angle));
		weights += w->weight;
	}
	return r->base_y - (int)(r->amplitude * sum / (weights * UNIT));
}

/*
 * Layer 0 is the far range, the last one the near ground; farther layers
 * sit higher, swing more and have more detail.
 */
static void
plan_ridge(struct ridge *r, int layer, const struct canvas *c,
    struct hash_stream *s)
{
	static const int base[LAYER_COUNT][2] = {
		{ 470, 580 }, { 640, 720 }, { 800, 880 }
	};
	static const int swing[LAYER_COUNT][2] = {
		{ 110, 220 }, { 50, 110 }, { 25, 60 }
	};
	static const int cycles[WAVE_COUNT][2] = {
		{ 1, 3 }, { 3, 6 }, { 6, 13 }
	};
	int i;

	r->base_y =
	    pick_share(s, (unsigned)c->height, base[layer][0], base[layer][1]);
	r->amplitude =
	    pick_share(s, (unsigned)c->scale, swing[layer][0], swing[layer][1]);
	r->jagged = layer == 0 && pick(s, 0, 2) != 0;
	for (i = 0; i < WAVE_COUNT; i++) {
		r->waves[i].cycles = pick(s, cycles[i][0], cycles[i][1]);
		r->waves[i].phase = pick(s, 0, TURN - 1);
		r->waves[i].weight = pick(s, 4, 8) >> i;
	}
}

static void
paint_ridge(const struct canvas *c, const struct ridge *r, struct rgb colour)
{
	int x, y;

	for (x = 0; x < c->width; x++)
		for (y = ridge_y(r, x, c->width); y < c->height; y++)
			put_pixel(c, x, y, colour);
}

/* Vertical gradient down to the horizon, brightened by the sun's glow. */
static void
paint_sky(const struct canvas *c, const struct palette *p,
    const struct sun *sun, int horizon)
{
	int64_t glow = (int64_t)(3 * sun->radius + 1) * (3 * sun->radius + 1);
	int peak = p->night ? OPAQUE / 4 : OPAQUE * 5 / 8;
	int x, y;

	if (horizon < 1)
		horizon = 1;
	for (y = 0; y < c->height; y++) {
		int depth = y < horizon ? y * OPAQUE / horizon : OPAQUE;
		struct rgb base = mix(p->sky_top, p->sky_horizon, depth);

		for (x = 0; x < c->width; x++) {
			int64_t dx = x - sun->x, dy = y - sun->y;
			int amount =
			    (int)(peak * glow / (dx * dx + dy * dy + glow));

			put_pixel(c, x, y, mix(base, p->light, amount));
		}
	}
}

static void
paint_stars(const struct canvas *c, const struct palette *p, int horizon,
    struct hash_stream *s)
{
	int count = (int)((int64_t)c->width * c->height / 900), i;
	struct rgb white = { 255, 255, 255 };

	for (i = 0; i < count; i++) {
		int x = pick(s, 0, c->width - 1),
		    y = pick(s, 0, horizon > 0 ? horizon : 0);

		if (y < c->height)
			put_pixel(c, x, y,
			    mix(get_pixel(c, x, y),
				mix(p->light, white, OPAQUE / 2),
				pick(s, OPAQUE / 4, OPAQUE)));
	}
}

/* Long thin streaks lit by the low sun. */
static void
paint_clouds(const struct canvas *c, const struct palette *p,
    struct hash_stream *s)
{
	int count = pick(s, 1, 4), i;

	for (i = 0; i < count; i++) {
		int cx = pick_share(s, (unsigned)c->width, 0, 1000);
		int cy = pick_share(s, (unsigned)c->height, 80, 380);
		int rx = pick_share(s, (unsigned)c->width, 60, 200);
		int ry = pick_share(s, (unsigned)c->scale, 8, 25);

		blend_ellipse(c, cx, cy, rx, ry + 1, p->light, OPAQUE * 2 / 5);
		blend_ellipse(c, cx + rx / 4, cy - ry, rx / 2, ry + 1, p->light,
		    OPAQUE / 4);
	}
}

static void
paint_pine(const struct canvas *c, int x, int ground_y, int size,
    struct rgb colour)
{
	int row;

	int tier_height = size / 3 + 1;

	for (row = 0; row <= size; row++) {
		/* Three stacked tiers, each starting narrower than the last
		 * one ended. */
		int tier = row / tier_height, tier_row = row % tier_height;
		int half_width = (tier_row + tier * tier_height / 2) * 3 / 8;

		fill_span(c, ground_y - size + row, x - half_width,
		    x + half_width, colour);
	}
	fill_rect(c, x - size / 24, ground_y, x + size / 24,
	    ground_y + size / 4, colour);
}

/* A slim tower with a pointed roof and one lit window. */
static void
paint_tower(const struct canvas *c, int x, int ground_y, int size,
    struct rgb colour, struct rgb window)
{
	int half_width = size / 10 + 1, top = ground_y - size, row;

	fill_rect(c, x - half_width, top, x + half_width, ground_y + size / 4,
	    colour);
	for (row = 0; row <= 2 * half_width; row++)
		fill_span(c, top - 2 * half_width + row, x - row / 2,
		    x + row / 2, colour);
	fill_rect(c, x - half_width / 3, top + size / 8, x + half_width / 3,
	    top + size / 8 + half_width, window);
}

static void
paint_landmarks(const struct canvas *c, const struct ridge *ground,
    const struct palette *p, struct hash_stream *s)
{
	enum { BARE, PINES, TOWERS } kind = pick(s, BARE, TOWERS);
	struct rgb colour = p->layers[LAYER_COUNT - 1];
	int count = kind == PINES ? pick(s, 2, 8) :
	    kind == TOWERS ? pick(s, 1, 2) : 0;
	int i;

	for (i = 0; i < count; i++) {
		int x = pick_share(s, (unsigned)c->width, 30, 970);
		int ground_y = ridge_y(ground, x, c->width);

		if (kind == PINES)
			paint_pine(c, x, ground_y,
			    pick_share(s, (unsigned)c->scale, 70, 180), colour);
		else
			paint_tower(c, x, ground_y,
			    pick_share(s, (unsigned)c->scale, 150, 320), colour,
			    p->light);
	}
}

static void
paint_scene(const struct canvas *c, const struct palette *p,
    struct hash_stream *s)
{
	struct sun sun;
	struct ridge ridges[LAYER_COUNT];
	int i;

	sun.x = pick_share(s, (unsigned)c->width, 120, 880);
	sun.y = pick_share(s, (unsigned)c->height, 150, 450);
	sun.radius = pick_share(s, (unsigned)c->scale, p->night ? 40 : 60,
	    p->night ? 70 : 110);
	for (i = 0; i < LAYER_COUNT; i++)
		plan_ridge(&ridges[i], i, c, s);

	paint_sky(c, p, &sun, ridges[0].base_y);
	if (p->night)
		paint_stars(c, p, ridges[0].base_y, s);
	blend_ellipse(c, sun.x, sun.y, sun.radius, sun.radius, p->light,
	    OPAQUE);
	if (!p->night)
		paint_clouds(c, p, s);
	for (i = 0; i < LAYER_COUNT; i++)
		paint_ridge(c, &ridges[i], p->layers[i]);
	paint_landmarks(c, &ridges[LAYER_COUNT - 1], p, s);
}

/*
 * The "sub" filter, in place from the right: the picture is made of
 * horizontal bands of one colour, which it turns into runs of zeros that
 * deflate both small and fast.
 */
static void
filter_sub(const struct canvas *c)
{
	size_t i;
	int y;

	for (y = 0; y < c->height; y++) {
		unsigned char *row = c->rows + (size_t)y * c->stride;

		row[0] = PNG_FILTER_SUB;
		for (i = c->stride - 1; i > 3; i--)
			row[i] = (unsigned char)(row[i] - row[i - 3]);
	}
}

/* ---- PNG chunks ---- */

static unsigned char *
put_ihdr(unsigned char *dst, unsigned width, unsigned height)
{
	/* Bit depth 8, colour type 2 (RGB), then default compression,
	 * filter, interlace. */
	unsigned char data[PNG_IHDR_LEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0
	};
	struct png_span part = { data, sizeof(data) };

	png_put_be32(png_put_be32(data, width), height);
	return png_put_chunk(dst, "IHDR", &part, 1);
}

/*
 * One deflate stream for the process, reset for each picture: zlib's
 * quarter megabyte of state, allocated and freed for every picture, made
 * malloc hand memory back to the system and fault it in again (about
 * twenty page faults a picture in a long-lived imgp-gen).  The output is
 * compress2's: a reset stream is a new one with the same parameters.
 */
static z_stream deflater;
static int deflater_ready;

static void
deflater_end(void)
{
	deflateEnd(&deflater);
	deflater_ready = 0;
}

static int
deflate_rows(const struct canvas *c, unsigned char **idat, size_t *idat_len)
{
	uLong raw_len = (uLong)(c->stride * (size_t)c->height), len;
	int status;

	if (raw_len > UINT_MAX)
		goto fail;
	if (!deflater_ready) {
		if (deflateInit(&deflater, DEFLATE_LEVEL) != Z_OK)
			goto fail;
		deflater_ready = 1;
		atexit(deflater_end);
	} else if (deflateReset(&deflater) != Z_OK) {
		goto fail;
	}
	len = deflateBound(&deflater, raw_len);
	if (len > UINT_MAX || (*idat = malloc(len)) == NULL)
		goto fail;
	deflater.next_in = c->rows;
	deflater.avail_in = (uInt)raw_len;
	deflater.next_out = *idat;
	deflater.avail_out = (uInt)len;
	status = deflate(&deflater, Z_FINISH);
	if (status != Z_STREAM_END) {
		free(*idat);
		goto fail;
	}
	*idat_len = len - deflater.avail_out;
	return 0;
fail:
	errno = ENOMEM;
	return -1;
}

/* `text_len` is what png_text_len() found for `meta`. */
static int
encode_png(const struct canvas *c, const struct png_text *meta, size_t text_len,
    unsigned char **png, size_t *png_len)
{
	unsigned char *idat, *buf, *end;
	size_t idat_len, len;
	struct png_span idat_part;

	if (deflate_rows(c, &idat, &idat_len))
		return -1;
	len = PNG_HEAD_LEN + text_len + PNG_CHUNK_OVERHEAD + idat_len +
	    PNG_CHUNK_OVERHEAD;
	buf = malloc(len);
	if (!buf) {
		free(idat);
		return -1;
	}
	idat_part.data = idat;
	idat_part.len = idat_len;
	memcpy(buf, png_signature, PNG_SIGNATURE_LEN);
	end = put_ihdr(buf + PNG_SIGNATURE_LEN, (unsigned)c->width,
	    (unsigned)c->height);
	end = png_put_text(end, meta);
	end = png_put_chunk(end, "IDAT", &idat_part, 1);
	png_put_chunk(end, "IEND", NULL, 0);
	free(idat);
	*png = buf;
	*png_len = len;
	return 0;
}

int
render_png(const char *prompt, size_t prompt_len, uint64_t seed, unsigned width,
    unsigned height, const struct png_text *meta, unsigned char **png,
    size_t *png_len)
{
	struct hash_stream palette_stream, scene_stream;
	struct palette palette;
	struct canvas canvas;
	size_t text_len;
	int status;

	if (width < 1 || width > RENDER_MAX_SIDE || height < 1 ||
	    height > RENDER_MAX_SIDE) {
		errno = EINVAL;
		return -1;
	}
	if (png_text_len(meta, &text_len) ||
	    hash_stream_init(&palette_stream, "imgp-render palette", seed,
	    NULL, 0) ||
	    hash_stream_init(&scene_stream, "imgp-render scene", seed,
	    prompt, prompt_len))
		return -1;
	canvas.width = (int)width;
	canvas.height = (int)height;
	canvas.stride = 1 + 3 * (size_t)width;
	canvas.scale = canvas.height < canvas.width * 3 / 4 ?
	    canvas.height : canvas.width * 3 / 4;
	canvas.rows = malloc(canvas.stride * height);
	if (!canvas.rows)
		return -1;
	plan_palette(&palette, &palette_stream);
	paint_scene(&canvas, &palette, &scene_stream);
	filter_sub(&canvas);
	status = encode_png(&canvas, meta, text_len, png, png_len);
	free(canvas.rows);
	return status;
}
