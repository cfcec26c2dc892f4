// rawdecode: the floor for Annota's decoders — libjpeg-turbo and libpng called directly from C,
// single thread, on bytes already in memory. Same command line and output as
// annota-decode-bench (see compare-decode.sh):
//
//   rawdecode FILE [--scale 1|2|4|8] [--region x,y,w,h] [--iters N] [--warmup N]
//   -> median_ms=… best_ms=… out=WxHxC checksum=…
//
// JPEG: jpeg_mem_src, JDCT_ISLOW, fancy upsampling (libjpeg's defaults), RGB (or grey for a grey
// file) output, DCT scaling with scale_denom; a region (full-resolution pixels, mapped to the
// smallest covering scaled rectangle exactly like DecodeOptions.region) uses jpeg_crop_scanline
// for the columns and jpeg_skip_scanlines for the rows above, reads only the region's rows and
// aborts. PNG: the classic API (png_set_read_fn from memory, png_read_image) to 8-bit gray, RGB
// or RGBA. Every iteration allocates its output buffer, as any decoder that returns an image must;
// the previous result is freed only after the next decode, as in the Swift and Python loops.
//
// Build: cc -O2 -o rawdecode rawdecode.c $(pkg-config --cflags --libs libjpeg libpng)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>
#include <png.h>

typedef struct {
  uint8_t *pixels;
  size_t stride;    // bytes between rows of `pixels`
  uint32_t x_skip;  // columns to skip at the left of each row to reach the requested region
  uint32_t width, height, channels;
} output;

typedef struct {
  unsigned scale;
  int has_region;
  uint32_t x, y, w, h;  // full-resolution region
} request;

static void die(const char *message) {
  fprintf(stderr, "rawdecode: %s\n", message);
  exit(1);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

// MARK: JPEG

static void jpeg_die(j_common_ptr cinfo) {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  die(text);
}

static output decode_jpeg(const uint8_t *data, size_t size, const request *req) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  err.error_exit = jpeg_die;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.scale_num = 1;
  cinfo.scale_denom = req->scale;
  jpeg_start_decompress(&cinfo);

  output out = {0};
  out.channels = (uint32_t)cinfo.output_components;
  uint32_t x0 = 0, y0 = 0, x1 = cinfo.output_width, y1 = cinfo.output_height;
  if (req->has_region) {
    const unsigned s = req->scale;
    x0 = req->x / s;
    y0 = req->y / s;
    x1 = (req->x + req->w + s - 1) / s;
    y1 = (req->y + req->h + s - 1) / s;
    if (x1 > cinfo.output_width) x1 = cinfo.output_width;
    if (y1 > cinfo.output_height) y1 = cinfo.output_height;
    if (x0 >= x1 || y0 >= y1) die("region outside the image");
  }
  out.width = x1 - x0;
  out.height = y1 - y0;
  JDIMENSION crop_x = x0, crop_w = out.width;
  if (out.width < cinfo.output_width) jpeg_crop_scanline(&cinfo, &crop_x, &crop_w);
  out.x_skip = x0 - crop_x;
  out.stride = (size_t)cinfo.output_width * out.channels;  // == crop_w * channels after a crop
  out.pixels = malloc(out.stride * out.height);
  if (out.pixels == NULL) die("out of memory");
  if (y0 > 0) jpeg_skip_scanlines(&cinfo, y0);

  JSAMPROW rows[16];
  uint32_t row = 0;
  while (row < out.height) {
    uint32_t want = out.height - row < 16 ? out.height - row : 16;
    for (uint32_t i = 0; i < want; ++i) rows[i] = out.pixels + (size_t)(row + i) * out.stride;
    row += jpeg_read_scanlines(&cinfo, rows, want);
  }
  if (cinfo.output_scanline == cinfo.output_height) {
    jpeg_finish_decompress(&cinfo);
  } else {
    jpeg_abort_decompress(&cinfo);  // a region: the rows below it are never decoded
  }
  jpeg_destroy_decompress(&cinfo);
  return out;
}

// MARK: PNG

typedef struct {
  const uint8_t *data;
  size_t size, offset;
} png_source;

static void png_read_memory(png_structp png, png_bytep out, size_t length) {
  png_source *src = png_get_io_ptr(png);
  if (length > src->size - src->offset) png_error(png, "unexpected end of data");
  memcpy(out, src->data + src->offset, length);
  src->offset += length;
}

static void png_die(png_structp png, png_const_charp message) {
  (void)png;
  die(message);
}

static output decode_png(const uint8_t *data, size_t size, const request *req) {
  if (req->scale != 1 || req->has_region) die("PNG: only full decodes are timed");
  png_source src = {data, size, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_die, NULL);
  png_infop info = png_create_info_struct(png);
  if (png == NULL || info == NULL) die("libpng: cannot create structs");
  png_set_read_fn(png, &src, png_read_memory);
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, info);

  output out = {0};
  out.width = png_get_image_width(png, info);
  out.height = png_get_image_height(png, info);
  out.channels = png_get_channels(png, info);
  out.stride = png_get_rowbytes(png, info);
  out.pixels = malloc(out.stride * out.height);
  png_bytep *rows = malloc(sizeof(png_bytep) * out.height);
  if (out.pixels == NULL || rows == NULL) die("out of memory");
  for (uint32_t y = 0; y < out.height; ++y) rows[y] = out.pixels + (size_t)y * out.stride;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  return out;
}

// MARK: Driver

static int compare_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/// Sum of sample * (i mod 65521 + 1) over the requested region's samples in row-major order (i
/// counts samples of the region only), as annota-decode-bench and pydecode.py compute it.
static uint64_t checksum(const output *out) {
  uint64_t sum = 0, i = 0;
  for (uint32_t y = 0; y < out->height; ++y) {
    const uint8_t *row = out->pixels + (size_t)y * out->stride + (size_t)out->x_skip * out->channels;
    for (size_t k = 0; k < (size_t)out->width * out->channels; ++k, ++i) {
      sum += row[k] * (i % 65521 + 1);
    }
  }
  return sum;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    die("usage: rawdecode FILE [--scale 1|2|4|8] [--region x,y,w,h] [--iters N] [--warmup N]");
  }
  request req = {.scale = 1};
  int iterations = 50, warmup = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *flag = argv[i], *value = argv[i + 1];
    if (strcmp(flag, "--scale") == 0) {
      const char *slash = strchr(value, '/');
      req.scale = (unsigned)atoi(slash ? slash + 1 : value);
      if (req.scale != 1 && req.scale != 2 && req.scale != 4 && req.scale != 8) die("bad scale");
    } else if (strcmp(flag, "--region") == 0) {
      if (sscanf(value, "%u,%u,%u,%u", &req.x, &req.y, &req.w, &req.h) != 4) die("bad region");
      req.has_region = 1;
    } else if (strcmp(flag, "--iters") == 0) {
      iterations = atoi(value);
    } else if (strcmp(flag, "--warmup") == 0) {
      warmup = atoi(value);
    } else {
      die("unknown option");
    }
  }
  if (iterations < 1 || warmup < 0) die("bad iteration counts");

  FILE *file = fopen(argv[1], "rb");
  if (file == NULL) die("cannot open input");
  fseek(file, 0, SEEK_END);
  const long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)size);
  if (data == NULL || fread(data, 1, (size_t)size, file) != (size_t)size) die("cannot read input");
  fclose(file);
  const int is_png = size >= 8 && png_sig_cmp(data, 0, 8) == 0;
  if (!is_png && !(size >= 2 && data[0] == 0xFF && data[1] == 0xD8)) die("not a PNG or JPEG");

  double *times = malloc(sizeof(double) * (size_t)iterations);
  output last = {0};
  for (int i = 0; i < warmup + iterations; ++i) {
    const double start = now_ms();
    output out = is_png ? decode_png(data, (size_t)size, &req) : decode_jpeg(data, (size_t)size, &req);
    const double elapsed = now_ms() - start;
    if (i >= warmup) times[i - warmup] = elapsed;
    free(last.pixels);
    last = out;
  }
  qsort(times, (size_t)iterations, sizeof(double), compare_double);
  const double median = iterations % 2 ? times[iterations / 2]
                                       : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
  printf("median_ms=%.4f best_ms=%.4f out=%ux%ux%u checksum=%llu\n", median, times[0], last.width,
         last.height, last.channels, (unsigned long long)checksum(&last));
  free(last.pixels);
  free(times);
  free(data);
  return 0;
}
