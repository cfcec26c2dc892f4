#ifndef ANNOTA_CPNG_SHIM_H
#define ANNOTA_CPNG_SHIM_H
#include <png.h>
#endif
