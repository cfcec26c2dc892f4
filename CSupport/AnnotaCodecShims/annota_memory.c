#include "annota_memory.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int annota_set_heap_padding(unsigned long pad_bytes) {
#if defined(__GLIBC__)
  if (pad_bytes > (unsigned long)1 << 30) return 0;
  return mallopt(M_TOP_PAD, (int)pad_bytes) == 1 ? 1 : 0;
#else
  (void)pad_bytes;
  return 0;
#endif
}
