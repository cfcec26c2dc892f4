// Annota's compiled C shim: the part of the codec boundary Swift cannot express.
//
// libjpeg reports errors by longjmp-ing out of a callback and libpng's classic API does the same;
// Swift refuses setjmp, so every call that can fail inside a codec lives here. Rules:
//  - every symbol is prefixed `annota_`;
//  - every call returns a closed `annota_status` and writes a NUL-terminated message into a
//    caller-owned buffer (never allocated here);
//  - decoding is two-phase: `*_read_info` parses the header and reports the exact output geometry,
//    `*_decode_into` writes into a caller-owned buffer whose capacity is checked before writing;
//  - each call keeps its own jmp_buf on its stack, so calls are reentrant and thread-safe;
//  - nothing allocated here outlives the call (codec state is destroyed before returning).
// This header deliberately includes neither <png.h> nor <jpeglib.h>: no codec type leaks to Swift.
#ifndef ANNOTA_CODECS_H
#define ANNOTA_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Closed set of outcomes of every shim call.
typedef enum annota_status {
  ANNOTA_OK = 0,
  /// The data is not a valid stream of this format (bad marker, bad CRC, bad header, ...).
  ANNOTA_CORRUPT = 1,
  /// The stream ended before the image data did.
  ANNOTA_TRUNCATED = 2,
  /// Valid data this decoder does not handle (e.g. an exotic JPEG colour space).
  ANNOTA_UNSUPPORTED = 3,
  /// The header asks for more pixels or memory than the caller's limits allow.
  ANNOTA_LIMIT = 4,
  /// The caller's output buffer is too small for the geometry reported by read_info.
  ANNOTA_CAPACITY = 5,
  /// The request itself is invalid (region outside the image, bad scale, ...).
  ANNOTA_ARGUMENT = 6,
  /// The codec ran out of memory (or hit `max_memory`).
  ANNOTA_NO_MEMORY = 7,
  /// A codec warning was turned into an error by the fail-on policy.
  ANNOTA_WARNING = 8,
} annota_status;

/// What makes a decode fail (libvips' "fail-on" levels).
typedef enum annota_fail_on {
  /// Accept truncated or damaged data; missing parts are filled by the codec (grey for JPEG,
  /// zero for PNG).
  ANNOTA_FAIL_ON_NONE = 0,
  /// Fail on truncated data (the default); other codec warnings are accepted.
  ANNOTA_FAIL_ON_TRUNCATED = 1,
  /// Fail on any codec warning as well.
  ANNOTA_FAIL_ON_WARNING = 2,
} annota_fail_on;

/// Output pixel layout (always 8 bits per sample).
typedef enum annota_layout {
  ANNOTA_GRAY = 1,
  ANNOTA_RGB = 3,
  ANNOTA_RGBA = 4,
} annota_layout;

/// Limits checked from the header before any pixel buffer is allocated.
typedef struct annota_limits {
  /// Maximum width x height of the *source* image (0 = no limit).
  uint64_t max_pixels;
  /// Maximum memory the codec may allocate internally, in bytes (0 = codec default).
  uint64_t max_memory;
} annota_limits;

// MARK: JPEG

/// JPEG colour spaces as stored in the file.
typedef enum annota_jpeg_colorspace {
  ANNOTA_JCS_UNKNOWN = 0,
  ANNOTA_JCS_GRAY = 1,
  ANNOTA_JCS_RGB = 2,
  ANNOTA_JCS_YCBCR = 3,
  ANNOTA_JCS_CMYK = 4,
  ANNOTA_JCS_YCCK = 5,
} annota_jpeg_colorspace;

/// What to decode: scale, region, output layout, policy.
typedef struct annota_jpeg_request {
  /// DCT scaling denominator: 1, 2, 4 or 8 (output is ceil(size / denom)).
  uint32_t scale_denom;
  /// Region of interest in *output* (scaled) pixel coordinates; region_w == 0 means the whole image.
  uint32_t region_x, region_y, region_w, region_h;
  /// Non-zero: decode to one grey channel (luma, no colour conversion cost).
  int32_t gray;
  annota_fail_on fail_on;
  annota_limits limits;
  /// Non-zero: decode with libjpeg alone, never the DC-only scan that whole-image grey 1/8
  /// decodes otherwise try first (same output; tests compare the two).
  int32_t libjpeg_only;
} annota_jpeg_request;

/// Header facts and the exact output geometry for a request.
typedef struct annota_jpeg_info {
  uint32_t width, height;          ///< full-resolution source size
  uint32_t components;             ///< components in the file (1, 3 or 4)
  annota_jpeg_colorspace colorspace;
  int32_t progressive;             ///< non-zero for progressive (SOF2) files
  uint32_t scaled_width, scaled_height;  ///< full image size at the requested scale
  uint32_t out_width, out_height;  ///< size of the output (region at the requested scale)
  annota_layout out_layout;        ///< channels of the output
  int32_t warnings;                ///< number of codec warnings seen (decode only)
  int32_t truncated;               ///< non-zero if data ended early and was padded (decode only)
} annota_jpeg_info;

/// Parses the JPEG header and computes the output geometry for `request`.
/// Allocates no pixel memory; checks `request->limits.max_pixels` against the header.
annota_status annota_jpeg_read_info(const uint8_t *_Nonnull data, size_t size,
                                    const annota_jpeg_request *_Nonnull request,
                                    annota_jpeg_info *_Nonnull info,
                                    char *_Nonnull message, size_t message_capacity);

/// Decodes into `buffer` (rows of `info.out_width * out_layout` bytes, `stride` bytes apart).
/// Fails with ANNOTA_CAPACITY, before writing anything, if `capacity` is too small.
annota_status annota_jpeg_decode_into(const uint8_t *_Nonnull data, size_t size,
                                      const annota_jpeg_request *_Nonnull request,
                                      uint8_t *_Nonnull buffer, size_t stride, size_t capacity,
                                      annota_jpeg_info *_Nonnull info,
                                      char *_Nonnull message, size_t message_capacity);

// MARK: PNG

/// Header facts and output geometry of a PNG.
typedef struct annota_png_info {
  uint32_t width, height;
  uint32_t bit_depth;      ///< 1, 2, 4, 8 or 16
  uint32_t color_type;     ///< PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  int32_t interlaced;      ///< non-zero for Adam7
  int32_t has_trns;        ///< non-zero if a tRNS chunk precedes the image data
  annota_layout out_layout;  ///< channels of the 8-bit output
  int32_t warnings;        ///< codec warnings seen (decode only)
  int32_t truncated;       ///< non-zero if the data ended early (decode with FAIL_ON_NONE only)
} annota_png_info;

/// Parses the PNG header (through the chunks before IDAT) and reports the output layout:
/// gray → GRAY, RGB or palette → RGB, anything with alpha or tRNS → RGBA.
annota_status annota_png_read_info(const uint8_t *_Nonnull data, size_t size,
                                   const annota_limits *_Nonnull limits,
                                   annota_png_info *_Nonnull info,
                                   char *_Nonnull message, size_t message_capacity);

/// Decodes to 8-bit samples: low bit depths expanded by bit replication, palettes looked up,
/// 16-bit samples rounded (v8 = (v16 * 255 + 32895) >> 16, libpng's png_set_scale_16).
annota_status annota_png_decode_into(const uint8_t *_Nonnull data, size_t size,
                                     const annota_limits *_Nonnull limits, annota_fail_on fail_on,
                                     uint8_t *_Nonnull buffer, size_t stride, size_t capacity,
                                     annota_png_info *_Nonnull info,
                                     char *_Nonnull message, size_t message_capacity);

/// An upper bound on the size of the PNG that `annota_png_encode` writes for this geometry
/// (worst case: incompressible data in stored deflate blocks). Returns 0 if it would overflow.
size_t annota_png_encode_bound(uint32_t width, uint32_t height, annota_layout layout);

/// Encodes 8-bit pixels as a non-interlaced PNG into `output` (at most `output_capacity` bytes;
/// `annota_png_encode_bound` is always enough) and stores the size written in `*output_size`.
/// `compression_level` is zlib's 0...9 (-1 = default).
annota_status annota_png_encode(const uint8_t *_Nonnull pixels, uint32_t width, uint32_t height,
                                size_t stride, annota_layout layout, int32_t compression_level,
                                uint8_t *_Nonnull output, size_t output_capacity,
                                size_t *_Nonnull output_size,
                                char *_Nonnull message, size_t message_capacity);

#ifdef __cplusplus
}
#endif

#endif  // ANNOTA_CODECS_H
