#ifndef ANNOTA_CWRITEBACK_SHIM_H
#define ANNOTA_CWRITEBACK_SHIM_H
// sync_file_range(2), Linux only: glibc declares it only under _GNU_SOURCE, and Swift's Glibc
// module is built without that. The prototype is glibc's (<bits/fcntl-linux.h>), with int64_t
// for __off64_t; the call is in libc, so nothing more is linked.
#ifdef __linux__
#include <stdint.h>

int sync_file_range(int fd, int64_t offset, int64_t count, unsigned int flags);

// Start writing the range's dirty pages out, without waiting for them (SYNC_FILE_RANGE_WRITE).
#define ANNOTA_SYNC_FILE_RANGE_WRITE 2u
#endif

#endif
