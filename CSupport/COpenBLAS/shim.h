#ifndef ANNOTA_COPENBLAS_SHIM_H
#define ANNOTA_COPENBLAS_SHIM_H
// libopenblas-dev installs OpenBLAS's cblas.h (with openblas_* declarations) under this name in
// the multiarch include directory; no pkg-config, whose flags would also link the library.
#include <cblas-openblas.h>

// OpenBLAS is opened with dlopen on first use (see AnnotaLinearAlgebra's BLAS.swift), not
// linked: linked, its constructor starts the thread pool at process start, and the idle threads
// spin for about 0.1 s of CPU in every run, including the commands that never multiply a matrix.
// The pointer types come from the prototypes in cblas.h, so a mismatch is a compile error.
typedef __typeof__(&cblas_sgemm) annota_cblas_sgemm_fn;
typedef __typeof__(&cblas_dgemm) annota_cblas_dgemm_fn;
typedef __typeof__(&openblas_set_num_threads) annota_openblas_set_num_threads_fn;
typedef __typeof__(&openblas_get_num_threads) annota_openblas_get_num_threads_fn;
typedef __typeof__(&openblas_get_config) annota_openblas_get_config_fn;

#endif
