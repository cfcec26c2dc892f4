// PNG decoding and encoding through libpng's classic API with our own error jump (annota_codecs.h).
#include "annota_codecs.h"
#include "annota_common.h"

#include <setjmp.h>
#include <string.h>

#include <png.h>

/// Largest ancillary chunk libpng may buffer (iCCP, zTXt, ...): guards against chunk bombs.
enum { ANNOTA_PNG_CHUNK_MAX = 16 * 1024 * 1024 };
/// Zero bytes fed after the end of a truncated file under FAIL_ON_NONE.
enum { ANNOTA_PNG_PAD_MAX = 1024 * 1024 };

typedef struct annota_png_context {
  jmp_buf jump;
  const uint8_t *data;
  size_t size;
  size_t offset;
  char *message;
  size_t message_capacity;
  annota_fail_on fail_on;
  annota_status status;
  int warnings;
  int truncated;
  int has_message;
  size_t padding;
} annota_png_context;

static void annota_png_error(png_structp png, png_const_charp text) {
  annota_png_context *ctx = (annota_png_context *)png_get_error_ptr(png);
  if (!ctx->has_message) {
    annota_set_message(ctx->message, ctx->message_capacity, "libpng: %s", text);
  }
  if (ctx->truncated) {
    annota_set_message(ctx->message, ctx->message_capacity,
                       "libpng: unexpected end of PNG data (truncated file)");
    ctx->has_message = 1;
    ctx->status = ANNOTA_TRUNCATED;
  }
  if (ctx->status == ANNOTA_OK) {
    ctx->status = ANNOTA_CORRUPT;
    if (strstr(text, "out of memory") != NULL || strstr(text, "Out of memory") != NULL) {
      ctx->status = ANNOTA_NO_MEMORY;
    } else if (strstr(text, "exceeds user limit") != NULL ||
               strstr(text, "too large") != NULL) {
      ctx->status = ANNOTA_LIMIT;
    }
  }
  longjmp(ctx->jump, 1);
}

static void annota_png_warning(png_structp png, png_const_charp text) {
  annota_png_context *ctx = (annota_png_context *)png_get_error_ptr(png);
  ctx->warnings += 1;
  if (ctx->fail_on >= ANNOTA_FAIL_ON_WARNING) {
    annota_set_message(ctx->message, ctx->message_capacity, "libpng warning: %s", text);
    ctx->has_message = 1;
    ctx->status = ANNOTA_WARNING;
    png_error(png, text);
  }
}

static void annota_png_read(png_structp png, png_bytep out, size_t length) {
  annota_png_context *ctx = (annota_png_context *)png_get_io_ptr(png);
  const size_t available = ctx->size - ctx->offset;
  if (length > available) {
    ctx->truncated = 1;
    // libpng asks for compressed data in large blocks, so failing here would lose every row
    // that the data present still holds. When truncation is accepted, pad with zeros (bounded):
    // zlib then delivers the real rows and fails on the padding, and that failure is reported
    // as the truncation.
    if (ctx->fail_on != ANNOTA_FAIL_ON_NONE || ctx->padding + (length - available) > ANNOTA_PNG_PAD_MAX) {
      png_error(png, "unexpected end of PNG data (truncated file)");
    }
    memcpy(out, ctx->data + ctx->offset, available);
    memset(out + available, 0, length - available);
    ctx->padding += length - available;
    ctx->offset = ctx->size;
    return;
  }
  memcpy(out, ctx->data + ctx->offset, length);
  ctx->offset += length;
}

/// Reads the header, sets the 8-bit output transformations and fills `info`. Runs under setjmp.
static annota_status annota_png_prepare(png_structp png, png_infop png_info,
                                        annota_png_context *ctx, const annota_limits *limits,
                                        annota_png_info *info) {
  png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
  png_set_chunk_malloc_max(png, ANNOTA_PNG_CHUNK_MAX);
  png_set_read_fn(png, ctx, annota_png_read);
  png_read_info(png, png_info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, png_info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
  const int has_trns = png_get_valid(png, png_info, PNG_INFO_tRNS) != 0;

  memset(info, 0, sizeof *info);
  info->width = width;
  info->height = height;
  info->bit_depth = (uint32_t)bit_depth;
  info->color_type = (uint32_t)color_type;
  info->interlaced = interlace != PNG_INTERLACE_NONE;
  info->has_trns = has_trns;

  const uint64_t pixels = (uint64_t)width * (uint64_t)height;
  if (limits->max_pixels != 0 && pixels > limits->max_pixels) {
    annota_set_message(ctx->message, ctx->message_capacity,
                       "image is %ux%u (%llu pixels), over the limit of %llu pixels", width,
                       height, (unsigned long long)pixels,
                       (unsigned long long)limits->max_pixels);
    return ANNOTA_LIMIT;
  }

  const int alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || has_trns;
  const int color = (color_type & PNG_COLOR_MASK_COLOR) != 0;
  info->out_layout = alpha ? ANNOTA_RGBA : (color ? ANNOTA_RGB : ANNOTA_GRAY);

  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (has_trns) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  if (alpha && !color) png_set_gray_to_rgb(png);
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, png_info);

  const size_t row_bytes = png_get_rowbytes(png, png_info);
  if (row_bytes != (size_t)width * (size_t)info->out_layout) {
    annota_set_message(ctx->message, ctx->message_capacity,
                       "internal: libpng row is %zu bytes, expected %u x %d", row_bytes, width,
                       (int)info->out_layout);
    return ANNOTA_UNSUPPORTED;
  }
  return ANNOTA_OK;
}

static int annota_png_signature_ok(const uint8_t *data, size_t size, char *message,
                                   size_t message_capacity) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    annota_set_message(message, message_capacity, size < 8 ? "file too short to be a PNG"
                                                           : "not a PNG signature");
    return 0;
  }
  return 1;
}

annota_status annota_png_read_info(const uint8_t *_Nonnull data, size_t size,
                                   const annota_limits *_Nonnull limits,
                                   annota_png_info *_Nonnull info,
                                   char *_Nonnull message, size_t message_capacity) {
  annota_clear_message(message, message_capacity);
  if (!annota_png_signature_ok(data, size, message, message_capacity)) return ANNOTA_CORRUPT;
  annota_png_context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data = data;
  ctx.size = size;
  ctx.message = message;
  ctx.message_capacity = message_capacity;
  ctx.fail_on = ANNOTA_FAIL_ON_TRUNCATED;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, annota_png_error,
                                           annota_png_warning);
  if (png == NULL) {
    annota_set_message(message, message_capacity, "libpng: cannot create read struct");
    return ANNOTA_NO_MEMORY;
  }
  png_infop png_info = png_create_info_struct(png);
  if (png_info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    annota_set_message(message, message_capacity, "libpng: cannot create info struct");
    return ANNOTA_NO_MEMORY;
  }
  if (setjmp(ctx.jump)) {
    png_destroy_read_struct(&png, &png_info, NULL);
    return ctx.status;
  }
  const annota_status status = annota_png_prepare(png, png_info, &ctx, limits, info);
  png_destroy_read_struct(&png, &png_info, NULL);
  return status;
}

annota_status annota_png_decode_into(const uint8_t *_Nonnull data, size_t size,
                                     const annota_limits *_Nonnull limits, annota_fail_on fail_on,
                                     uint8_t *_Nonnull buffer, size_t stride, size_t capacity,
                                     annota_png_info *_Nonnull info,
                                     char *_Nonnull message, size_t message_capacity) {
  annota_clear_message(message, message_capacity);
  if (!annota_png_signature_ok(data, size, message, message_capacity)) return ANNOTA_CORRUPT;
  annota_png_context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data = data;
  ctx.size = size;
  ctx.message = message;
  ctx.message_capacity = message_capacity;
  ctx.fail_on = fail_on;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, annota_png_error,
                                           annota_png_warning);
  if (png == NULL) {
    annota_set_message(message, message_capacity, "libpng: cannot create read struct");
    return ANNOTA_NO_MEMORY;
  }
  png_infop png_info = png_create_info_struct(png);
  if (png_info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    annota_set_message(message, message_capacity, "libpng: cannot create info struct");
    return ANNOTA_NO_MEMORY;
  }
  // Rows fully written so far (non-interlaced) and whether the pixel phase started; volatile
  // because they are read after a longjmp.
  volatile uint32_t rows_done = 0;
  volatile int reading_pixels = 0;
  if (setjmp(ctx.jump)) {
    png_destroy_read_struct(&png, &png_info, NULL);
    if (ctx.status == ANNOTA_TRUNCATED && fail_on == ANNOTA_FAIL_ON_NONE && reading_pixels) {
      // Accept what was decoded; rows never reached are zero (interlaced buffers were cleared).
      if (!info->interlaced) {
        const size_t row_bytes = (size_t)info->width * (size_t)info->out_layout;
        for (uint32_t y = rows_done; y < info->height; ++y) {
          memset(buffer + (size_t)y * stride, 0, row_bytes);
        }
      }
      info->truncated = 1;
      info->warnings = ctx.warnings;
      return ANNOTA_OK;
    }
    return ctx.status;
  }
  annota_status status = annota_png_prepare(png, png_info, &ctx, limits, info);
  if (status == ANNOTA_OK) {
    status = annota_check_capacity(info->width, info->height, (size_t)info->out_layout, stride,
                                   capacity, message, message_capacity);
  }
  if (status != ANNOTA_OK) {
    png_destroy_read_struct(&png, &png_info, NULL);
    return status;
  }
  const int passes = info->interlaced ? 7 : 1;
  if (info->interlaced) {
    // Each Adam7 pass fills some pixels of a row in place; start from zero so that a row a
    // truncated stream never reaches has defined contents.
    const size_t row_bytes = (size_t)info->width * (size_t)info->out_layout;
    for (uint32_t y = 0; y < info->height; ++y) memset(buffer + (size_t)y * stride, 0, row_bytes);
  }
  reading_pixels = 1;
  for (int pass = 0; pass < passes; ++pass) {
    for (uint32_t y = 0; y < info->height; ++y) {
      png_read_row(png, buffer + (size_t)y * stride, NULL);
      if (pass == 0) rows_done = y + 1;
    }
  }
  info->warnings = ctx.warnings;
  info->truncated = 0;
  png_destroy_read_struct(&png, &png_info, NULL);
  return ANNOTA_OK;
}

// MARK: Encoding

typedef struct annota_png_sink {
  uint8_t *output;
  size_t capacity;
  size_t size;
} annota_png_sink;

typedef struct annota_png_write_context {
  jmp_buf jump;
  annota_png_sink sink;
  char *message;
  size_t message_capacity;
  annota_status status;
} annota_png_write_context;

static void annota_png_write_error(png_structp png, png_const_charp text) {
  annota_png_write_context *ctx = (annota_png_write_context *)png_get_error_ptr(png);
  if (ctx->status == ANNOTA_OK) {
    annota_set_message(ctx->message, ctx->message_capacity, "libpng: %s", text);
    ctx->status = ANNOTA_CORRUPT;
  }
  longjmp(ctx->jump, 1);
}

static void annota_png_write_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

static void annota_png_write(png_structp png, png_bytep data, size_t length) {
  annota_png_write_context *ctx = (annota_png_write_context *)png_get_io_ptr(png);
  if (length > ctx->sink.capacity - ctx->sink.size) {
    annota_set_message(ctx->message, ctx->message_capacity,
                       "PNG output exceeds the %zu-byte buffer", ctx->sink.capacity);
    ctx->status = ANNOTA_CAPACITY;
    png_error(png, "output buffer full");
  }
  memcpy(ctx->sink.output + ctx->sink.size, data, length);
  ctx->sink.size += length;
}

static void annota_png_flush(png_structp png) { (void)png; }

size_t annota_png_encode_bound(uint32_t width, uint32_t height, annota_layout layout) {
  size_t row = 0, raw = 0;
  if (__builtin_mul_overflow((size_t)width, (size_t)layout, &row) ||
      __builtin_add_overflow(row, (size_t)1, &row) ||
      __builtin_mul_overflow(row, (size_t)height, &raw)) {
    return 0;
  }
  // zlib's compressBound, then 12 bytes of chunk framing per IDAT (libpng writes IDATs of at
  // most 8 KiB by default), plus signature, IHDR and IEND and some slack.
  const size_t deflated = raw + (raw >> 12) + (raw >> 14) + (raw >> 25) + 13;
  const size_t framing = 12 * (deflated / 8192 + 1);
  size_t total = 0;
  if (__builtin_add_overflow(deflated, framing + 8 + 25 + 12 + 256, &total)) return 0;
  return total;
}

annota_status annota_png_encode(const uint8_t *_Nonnull pixels, uint32_t width, uint32_t height,
                                size_t stride, annota_layout layout, int32_t compression_level,
                                uint8_t *_Nonnull output, size_t output_capacity,
                                size_t *_Nonnull output_size,
                                char *_Nonnull message, size_t message_capacity) {
  annota_clear_message(message, message_capacity);
  *output_size = 0;
  if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) {
    annota_set_message(message, message_capacity, "cannot encode a %ux%u PNG", width, height);
    return ANNOTA_ARGUMENT;
  }
  if (stride < (size_t)width * (size_t)layout) {
    annota_set_message(message, message_capacity, "stride %zu is smaller than a row", stride);
    return ANNOTA_ARGUMENT;
  }
  int color_type = PNG_COLOR_TYPE_GRAY;
  switch (layout) {
    case ANNOTA_GRAY: color_type = PNG_COLOR_TYPE_GRAY; break;
    case ANNOTA_RGB: color_type = PNG_COLOR_TYPE_RGB; break;
    case ANNOTA_RGBA: color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
    default:
      annota_set_message(message, message_capacity, "unknown layout %d", (int)layout);
      return ANNOTA_ARGUMENT;
  }
  annota_png_write_context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.sink.output = output;
  ctx.sink.capacity = output_capacity;
  ctx.message = message;
  ctx.message_capacity = message_capacity;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, annota_png_write_error,
                                            annota_png_write_warning);
  if (png == NULL) {
    annota_set_message(message, message_capacity, "libpng: cannot create write struct");
    return ANNOTA_NO_MEMORY;
  }
  png_infop png_info = png_create_info_struct(png);
  if (png_info == NULL) {
    png_destroy_write_struct(&png, NULL);
    annota_set_message(message, message_capacity, "libpng: cannot create info struct");
    return ANNOTA_NO_MEMORY;
  }
  if (setjmp(ctx.jump)) {
    png_destroy_write_struct(&png, &png_info);
    return ctx.status;
  }
  png_set_write_fn(png, &ctx, annota_png_write, annota_png_flush);
  if (compression_level >= 0 && compression_level <= 9) {
    png_set_compression_level(png, compression_level);
  }
  png_set_IHDR(png, png_info, width, height, 8, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, png_info);
  for (uint32_t y = 0; y < height; ++y) {
    png_write_row(png, pixels + (size_t)y * stride);
  }
  png_write_end(png, png_info);
  png_destroy_write_struct(&png, &png_info);
  *output_size = ctx.sink.size;
  return ANNOTA_OK;
}
