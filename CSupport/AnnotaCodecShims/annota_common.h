// Internal helpers shared by the codec shims (not part of the public header).
#ifndef ANNOTA_COMMON_H
#define ANNOTA_COMMON_H

#include "annota_codecs.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

static inline void annota_clear_message(char *message, size_t capacity) {
  if (capacity > 0) message[0] = '\0';
}

__attribute__((format(printf, 3, 4)))
static inline void annota_set_message(char *message, size_t capacity, const char *format, ...) {
  if (capacity == 0) return;
  va_list args;
  va_start(args, format);
  (void)vsnprintf(message, capacity, format, args);
  va_end(args);
}

/// a * b / 255 rounded, exact for a, b in 0...255 (Pillow's MULDIV255).
static inline unsigned annota_muldiv255(unsigned a, unsigned b) {
  const unsigned t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/// ITU-R 601-2 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16 (Pillow's "L" conversion).
static inline uint8_t annota_luma(unsigned r, unsigned g, unsigned b) {
  return (uint8_t)((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

/// Checks that a `height` x `width` x `channels` image with rows `stride` bytes apart fits in
/// `capacity` bytes, with overflow-checked arithmetic.
static inline annota_status annota_check_capacity(uint32_t width, uint32_t height, size_t channels,
                                                  size_t stride, size_t capacity, char *message,
                                                  size_t message_capacity) {
  size_t row_bytes = 0, body = 0, need = 0;
  if (__builtin_mul_overflow((size_t)width, channels, &row_bytes) || stride < row_bytes) {
    annota_set_message(message, message_capacity, "stride %zu is smaller than a row (%u x %zu)",
                       stride, width, channels);
    return ANNOTA_ARGUMENT;
  }
  if (height == 0 || width == 0) return ANNOTA_OK;
  if (__builtin_mul_overflow((size_t)(height - 1), stride, &body) ||
      __builtin_add_overflow(body, row_bytes, &need)) {
    annota_set_message(message, message_capacity, "image size overflows");
    return ANNOTA_LIMIT;
  }
  if (need > capacity) {
    annota_set_message(message, message_capacity, "buffer holds %zu bytes, %zu needed", capacity,
                       need);
    return ANNOTA_CAPACITY;
  }
  return ANNOTA_OK;
}

#endif
