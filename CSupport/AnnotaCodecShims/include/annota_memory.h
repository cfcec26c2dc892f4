// Allocator tuning for the batch CLI (glibc only; elsewhere a no-op).
#ifndef ANNOTA_MEMORY_H
#define ANNOTA_MEMORY_H

#ifdef __cplusplus
extern "C" {
#endif

/// Makes glibc's malloc grow and trim its heaps in steps of `pad_bytes` instead of 128 KiB.
/// Returns 1 if the setting was applied, 0 otherwise.
int annota_set_heap_padding(unsigned long pad_bytes);

#ifdef __cplusplus
}
#endif

#endif
