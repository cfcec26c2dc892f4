#ifndef ANNOTA_COPENBLAS_SHIM_H
#define ANNOTA_COPENBLAS_SHIM_H
// pkg-config "openblas" adds -I/usr/include/x86_64-linux-gnu/openblas-pthread/
#include <cblas.h>
#endif
