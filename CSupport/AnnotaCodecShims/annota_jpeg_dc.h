// The DC-only scan for 1/8-scale grey JPEG decodes (internal to the codec shims).
#ifndef ANNOTA_JPEG_DC_H
#define ANNOTA_JPEG_DC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

/// Decodes the grey 1/8-scale image of a baseline, single-scan, Huffman-coded JPEG whose header
/// `cinfo` has read (up to and including SOS), straight from the entropy-coded data: each output
/// pixel is the luma block's DC term, dequantised and clamped exactly as libjpeg's 1x1 IDCT does,
/// so the result is byte for byte libjpeg's `scale_denom = 8`, `JCS_GRAYSCALE` output.
///
/// Returns 1 with all `out_width` x `out_height` pixels written, or 0 when the file needs
/// libjpeg's full path: anything but a plain baseline stream (progressive, arithmetic, 12-bit,
/// several scans, luma not at the largest sampling factor, non-standard scan parameters), or data
/// that is not perfectly clean (a bad Huffman code, a marker or the end of data inside the scan,
/// bytes before a restart marker or the EOI, a restart marker out of sequence). libjpeg then
/// decodes the same bytes and reports the same errors and warnings as it always did. Never
/// calls libjpeg's error handler.
int annota_jpeg_dc_scan(const struct jpeg_decompress_struct *cinfo, uint8_t *buffer, size_t stride,
                        uint32_t out_width, uint32_t out_height);

#endif
