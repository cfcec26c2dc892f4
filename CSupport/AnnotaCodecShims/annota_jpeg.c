// JPEG decoding through libjpeg-turbo with setjmp/longjmp error handling (see annota_codecs.h).
#include "annota_codecs.h"
#include "annota_common.h"
#include "annota_jpeg_dc.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// Extra columns decoded on each side of a horizontal crop so that the requested columns never sit
/// on the crop's edge, where libjpeg's fancy upsampling has no neighbour and would differ from a
/// full decode.
enum { ANNOTA_CROP_MARGIN = 16 };

typedef struct annota_jpeg_error {
  struct jpeg_error_mgr pub;  // must be first: libjpeg casts cinfo->err to this
  jmp_buf jump;
  char *message;
  size_t message_capacity;
  annota_fail_on fail_on;
  annota_status status;
  int warnings;
  int truncated;
} annota_jpeg_error;

static annota_status annota_jpeg_status_for_error(int code) {
  switch (code) {
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
    case JERR_TFILE_CREATE:
      return ANNOTA_NO_MEMORY;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
      return ANNOTA_TRUNCATED;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
      return ANNOTA_LIMIT;
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_NOTIMPL:
      return ANNOTA_UNSUPPORTED;
    default:
      return ANNOTA_CORRUPT;
  }
}

static void annota_jpeg_error_exit(j_common_ptr cinfo) {
  annota_jpeg_error *err = (annota_jpeg_error *)cinfo->err;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  // After the data ran out, libjpeg reads its inserted EOI bytes as marker parameters and fails
  // on them: that failure is the truncation, not corruption.
  annota_set_message(err->message, err->message_capacity, "libjpeg: %s%s", text,
                     err->truncated ? " (after premature end of data: truncated file)" : "");
  err->status = err->truncated ? ANNOTA_TRUNCATED
                               : annota_jpeg_status_for_error(cinfo->err->msg_code);
  longjmp(err->jump, 1);
}

static void annota_jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output
  annota_jpeg_error *err = (annota_jpeg_error *)cinfo->err;
  err->warnings += 1;
  const int truncation = cinfo->err->msg_code == JWRN_JPEG_EOF;
  if (truncation) err->truncated = 1;
  const int fail = (truncation && err->fail_on >= ANNOTA_FAIL_ON_TRUNCATED) ||
                   err->fail_on >= ANNOTA_FAIL_ON_WARNING;
  if (!fail) return;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  annota_set_message(err->message, err->message_capacity, "libjpeg: %s%s", text,
                     truncation ? " (truncated data; use fail-on none to accept it)" : "");
  err->status = truncation ? ANNOTA_TRUNCATED : ANNOTA_WARNING;
  longjmp(err->jump, 1);
}

static annota_jpeg_colorspace annota_jpeg_map_colorspace(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_GRAYSCALE: return ANNOTA_JCS_GRAY;
    case JCS_RGB: return ANNOTA_JCS_RGB;
    case JCS_YCbCr: return ANNOTA_JCS_YCBCR;
    case JCS_CMYK: return ANNOTA_JCS_CMYK;
    case JCS_YCCK: return ANNOTA_JCS_YCCK;
    default: return ANNOTA_JCS_UNKNOWN;
  }
}

/// Reads the header, applies limits and the request; fills `info`. Runs inside the caller's setjmp.
static annota_status annota_jpeg_prepare(struct jpeg_decompress_struct *cinfo,
                                         annota_jpeg_error *err,
                                         const annota_jpeg_request *request,
                                         annota_jpeg_info *info) {
  if (request->scale_denom != 1 && request->scale_denom != 2 && request->scale_denom != 4 &&
      request->scale_denom != 8) {
    annota_set_message(err->message, err->message_capacity,
                       "scale denominator must be 1, 2, 4 or 8 (got %u)", request->scale_denom);
    return ANNOTA_ARGUMENT;
  }
  if (request->limits.max_memory != 0) {
    cinfo->mem->max_memory_to_use = (long)request->limits.max_memory;
  }
  (void)jpeg_read_header(cinfo, TRUE);

  memset(info, 0, sizeof *info);
  info->width = cinfo->image_width;
  info->height = cinfo->image_height;
  info->components = (uint32_t)cinfo->num_components;
  info->colorspace = annota_jpeg_map_colorspace(cinfo->jpeg_color_space);
  info->progressive = cinfo->progressive_mode ? 1 : 0;

  const uint64_t pixels = (uint64_t)cinfo->image_width * (uint64_t)cinfo->image_height;
  if (request->limits.max_pixels != 0 && pixels > request->limits.max_pixels) {
    annota_set_message(err->message, err->message_capacity,
                       "image is %ux%u (%llu pixels), over the limit of %llu pixels",
                       cinfo->image_width, cinfo->image_height, (unsigned long long)pixels,
                       (unsigned long long)request->limits.max_pixels);
    return ANNOTA_LIMIT;
  }

  switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo->out_color_space = JCS_GRAYSCALE;
      info->out_layout = ANNOTA_GRAY;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo->out_color_space = request->gray ? JCS_GRAYSCALE : JCS_RGB;
      info->out_layout = request->gray ? ANNOTA_GRAY : ANNOTA_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo->out_color_space = JCS_CMYK;  // converted to RGB (or grey) row by row below
      info->out_layout = request->gray ? ANNOTA_GRAY : ANNOTA_RGB;
      break;
    default:
      annota_set_message(err->message, err->message_capacity,
                         "unsupported JPEG colour space %d with %d components",
                         (int)cinfo->jpeg_color_space, cinfo->num_components);
      return ANNOTA_UNSUPPORTED;
  }
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->scale_num = 1;
  cinfo->scale_denom = request->scale_denom;
  jpeg_calc_output_dimensions(cinfo);
  info->scaled_width = cinfo->output_width;
  info->scaled_height = cinfo->output_height;

  if (request->region_w == 0) {
    if (request->region_x != 0 || request->region_y != 0 || request->region_h != 0) {
      annota_set_message(err->message, err->message_capacity,
                         "region has zero width but a non-zero origin or height");
      return ANNOTA_ARGUMENT;
    }
    info->out_width = cinfo->output_width;
    info->out_height = cinfo->output_height;
  } else {
    const uint64_t right = (uint64_t)request->region_x + request->region_w;
    const uint64_t bottom = (uint64_t)request->region_y + request->region_h;
    if (request->region_h == 0 || right > cinfo->output_width || bottom > cinfo->output_height) {
      annota_set_message(err->message, err->message_capacity,
                         "region %u,%u %ux%u is outside the %ux%u image (at scale 1/%u)",
                         request->region_x, request->region_y, request->region_w,
                         request->region_h, cinfo->output_width, cinfo->output_height,
                         request->scale_denom);
      return ANNOTA_ARGUMENT;
    }
    info->out_width = request->region_w;
    info->out_height = request->region_h;
  }
  return ANNOTA_OK;
}

annota_status annota_jpeg_read_info(const uint8_t *_Nonnull data, size_t size,
                                    const annota_jpeg_request *_Nonnull request,
                                    annota_jpeg_info *_Nonnull info,
                                    char *_Nonnull message, size_t message_capacity) {
  annota_clear_message(message, message_capacity);
  struct jpeg_decompress_struct cinfo;
  annota_jpeg_error err;
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = annota_jpeg_error_exit;
  err.pub.emit_message = annota_jpeg_emit_message;
  err.message = message;
  err.message_capacity = message_capacity;
  err.fail_on = request->fail_on;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.status;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  const annota_status status = annota_jpeg_prepare(&cinfo, &err, request, info);
  jpeg_destroy_decompress(&cinfo);
  return status;
}

/// Converts one row of CMYK samples (as stored; Adobe files store them inverted) to RGB or grey.
/// The RGB values follow Pillow's CMYK to RGB conversion, R = (255 - C)(255 - K) / 255, rounded.
static void annota_cmyk_row(const JSAMPLE *in, uint8_t *out, uint32_t width, int inverted,
                            int gray) {
  for (uint32_t x = 0; x < width; ++x) {
    unsigned c = in[4 * x], m = in[4 * x + 1], y = in[4 * x + 2], k = in[4 * x + 3];
    if (!inverted) {
      c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
    }
    const unsigned r = annota_muldiv255(c, k), g = annota_muldiv255(m, k),
                   b = annota_muldiv255(y, k);
    if (gray) {
      out[x] = annota_luma(r, g, b);
    } else {
      out[3 * x] = (uint8_t)r;
      out[3 * x + 1] = (uint8_t)g;
      out[3 * x + 2] = (uint8_t)b;
    }
  }
}

/// One decode attempt. With `try_dc_scan`, a whole-image grey decode at scale 1/8 first tries
/// the DC-only scan (annota_jpeg_dc.h); if that declines the file, sets `*declined` and returns
/// without a result, and the caller decodes again with libjpeg alone.
static annota_status annota_jpeg_decode(const uint8_t *data, size_t size,
                                        const annota_jpeg_request *request, uint8_t *buffer,
                                        size_t stride, size_t capacity, annota_jpeg_info *info,
                                        char *message, size_t message_capacity, int try_dc_scan,
                                        int *declined) {
  annota_clear_message(message, message_capacity);
  struct jpeg_decompress_struct cinfo;
  annota_jpeg_error err;
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = annota_jpeg_error_exit;
  err.pub.emit_message = annota_jpeg_emit_message;
  err.message = message;
  err.message_capacity = message_capacity;
  err.fail_on = request->fail_on;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.status;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  annota_status status = annota_jpeg_prepare(&cinfo, &err, request, info);
  if (status != ANNOTA_OK) {
    jpeg_destroy_decompress(&cinfo);
    return status;
  }
  const size_t channels = (size_t)info->out_layout;
  status = annota_check_capacity(info->out_width, info->out_height, channels, stride, capacity,
                                 message, message_capacity);
  if (status != ANNOTA_OK) {
    jpeg_destroy_decompress(&cinfo);
    return status;
  }

  if (try_dc_scan && request->scale_denom == 8 && request->region_w == 0 &&
      cinfo.out_color_space == JCS_GRAYSCALE) {
    if (!annota_jpeg_dc_scan(&cinfo, buffer, stride, info->out_width, info->out_height)) {
      *declined = 1;
      jpeg_destroy_decompress(&cinfo);
      return ANNOTA_OK;
    }
    info->warnings = err.warnings;
    info->truncated = err.truncated;
    jpeg_destroy_decompress(&cinfo);
    return ANNOTA_OK;
  }

  const int cmyk = cinfo.out_color_space == JCS_CMYK;
  const int inverted = cmyk && cinfo.saw_Adobe_marker;
  const int full = request->region_w == 0;
  (void)jpeg_start_decompress(&cinfo);

  // Columns: crop horizontally with a margin, then copy the requested columns out of a scratch row.
  JDIMENSION crop_x = 0, crop_w = cinfo.output_width;
  if (!full && info->out_width < cinfo.output_width) {
    const JDIMENSION left = request->region_x > ANNOTA_CROP_MARGIN
                                ? request->region_x - ANNOTA_CROP_MARGIN : 0;
    JDIMENSION right = request->region_x + request->region_w + ANNOTA_CROP_MARGIN;
    if (right > cinfo.output_width) right = cinfo.output_width;
    crop_x = left;
    crop_w = right - left;
    jpeg_crop_scanline(&cinfo, &crop_x, &crop_w);
  }
  const JDIMENSION skip_x = full ? 0 : request->region_x - crop_x;
  const int direct = !cmyk && skip_x == 0 && cinfo.output_width == info->out_width;

  if (!full && request->region_y > 0) {
    (void)jpeg_skip_scanlines(&cinfo, request->region_y);
  }

  const uint32_t out_height = info->out_height;
  uint32_t row = 0;
  if (direct) {
    enum { BATCH = 16 };
    JSAMPROW rows[BATCH];
    while (row < out_height) {
      const uint32_t want = out_height - row < BATCH ? out_height - row : BATCH;
      for (uint32_t i = 0; i < want; ++i) rows[i] = buffer + (size_t)(row + i) * stride;
      const JDIMENSION got = jpeg_read_scanlines(&cinfo, rows, want);
      if (got == 0) break;  // suspended source cannot happen with a memory source
      row += got;
    }
  } else {
    // Scratch rows (as many as libjpeg emits per call), freed with the decompressor.
    const JDIMENSION scratch_stride = cinfo.output_width * (JDIMENSION)cinfo.output_components;
    const JDIMENSION batch = cinfo.rec_outbuf_height > 0 ? (JDIMENSION)cinfo.rec_outbuf_height : 1;
    JSAMPARRAY scratch = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE,
                                                    scratch_stride, batch);
    const size_t in_channels = (size_t)cinfo.output_components;
    while (row < out_height) {
      const JDIMENSION want = out_height - row < batch ? out_height - row : batch;
      const JDIMENSION got = jpeg_read_scanlines(&cinfo, scratch, want);
      if (got == 0) break;
      for (JDIMENSION i = 0; i < got; ++i) {
        uint8_t *out = buffer + (size_t)(row + i) * stride;
        const JSAMPLE *in = scratch[i] + (size_t)skip_x * in_channels;
        if (cmyk) {
          annota_cmyk_row(in, out, info->out_width, inverted, request->gray);
        } else {
          memcpy(out, in, (size_t)info->out_width * channels);
        }
      }
      row += got;
    }
  }
  if (full && row == out_height) {
    (void)jpeg_finish_decompress(&cinfo);
  }
  info->warnings = err.warnings;
  info->truncated = err.truncated;
  jpeg_destroy_decompress(&cinfo);
  if (row != out_height) {
    annota_set_message(message, message_capacity, "libjpeg returned %u of %u rows", row,
                       out_height);
    return ANNOTA_CORRUPT;
  }
  return ANNOTA_OK;
}

annota_status annota_jpeg_decode_into(const uint8_t *_Nonnull data, size_t size,
                                      const annota_jpeg_request *_Nonnull request,
                                      uint8_t *_Nonnull buffer, size_t stride, size_t capacity,
                                      annota_jpeg_info *_Nonnull info,
                                      char *_Nonnull message, size_t message_capacity) {
  int declined = 0;
  const annota_status status =
      annota_jpeg_decode(data, size, request, buffer, stride, capacity, info, message,
                         message_capacity, !request->libjpeg_only, &declined);
  if (!declined) return status;
  return annota_jpeg_decode(data, size, request, buffer, stride, capacity, info, message,
                            message_capacity, 0, &declined);
}
