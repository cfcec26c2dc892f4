// The DC-only scan for 1/8-scale grey JPEG decodes (see annota_jpeg_dc.h).
//
// At scale 1/8 libjpeg keeps only each block's DC term (its 1x1 IDCT is the block mean), and for
// grey output only the luma component's; but it still Huffman-decodes every AC coefficient of
// every component to find where the next block starts, and that is nearly all of the time. This
// scanner does the same walk with tables that resolve a whole AC symbol (its code and its
// magnitude bits) in one lookup, and writes the DC pixels directly.
#include "annota_jpeg_dc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
  /// Bits resolved by one AC table lookup: codes plus magnitude bits up to this length.
  ANNOTA_DC_LOOKUP = 12,
  /// Bits resolved by one DC table lookup (DC codes are short: 9 and 11 bits at most in the
  /// standard tables), so that the DC tables stay small in the cache.
  ANNOTA_DC_DC_LOOKUP = 9,
  /// libjpeg's limit on blocks per MCU (D_MAX_BLOCKS_IN_MCU).
  ANNOTA_DC_MAX_BLOCKS = 10,
};

/// A Huffman table as the scanner uses it.
///
/// `fast[next ANNOTA_DC_LOOKUP bits]` (DC tables: the next ANNOTA_DC_DC_LOOKUP bits):
/// - 0: no code of length <= the lookup starts here (a longer code, or an invalid one);
/// - DC tables: `length << 8 | symbol` (the symbol is the magnitude category, <= 15);
/// - AC tables, code and magnitude bits fit: `total_bits << 8 | step`, where `step` is how far
///   the coefficient index moves (run + 1, 16 for ZRL, 64 for end of block);
/// - AC tables, only the code fits: `0x8000 | length << 8 | symbol`.
/// Longer codes decode canonically with `maxcode` / `valoffset` (as libjpeg's jpeg_huff_decode).
typedef struct annota_dc_table {
  /// AC tables only: every complete symbol the next ANNOTA_DC_LOOKUP bits hold, up to and
  /// including an end of block: `bits << 8 | eob << 7 | steps` (steps: the summed index moves
  /// of the symbols before the end of block, at most 64); 0 when no whole symbol fits.
  uint16_t multi[1 << ANNOTA_DC_LOOKUP];
  uint16_t fast[1 << ANNOTA_DC_LOOKUP];
  int32_t maxcode[17];    ///< largest code of each length, -1 when there is none
  int32_t valoffset[17];  ///< huffval index of a code of that length = code + valoffset
  uint8_t huffval[256];
} annota_dc_table;

/// Builds `table` from a DHT table with libjpeg's rules (jpeg_make_d_derived_tbl): at most 256
/// codes, no length overflowing its code space, DC symbols at most 15. Returns 0 if it breaks
/// one (libjpeg would stop with "Bogus Huffman table definition").
static int annota_dc_build(const JHUFF_TBL *htbl, int is_dc, annota_dc_table *table) {
  uint8_t sizes[257];
  int32_t codes[257];
  int count = 0;
  for (int length = 1; length <= 16; ++length) {
    const int n = htbl->bits[length];
    if (count + n > 256) return 0;
    for (int i = 0; i < n; ++i) sizes[count++] = (uint8_t)length;
  }
  sizes[count] = 0;
  int32_t code = 0;
  int length = sizes[0];
  int p = 0;
  while (sizes[p] != 0) {
    while (sizes[p] == length) codes[p++] = code++;
    if (code >= (1 << length)) return 0;
    code <<= 1;
    length += 1;
  }
  p = 0;
  for (int l = 1; l <= 16; ++l) {
    if (htbl->bits[l] != 0) {
      table->valoffset[l] = p - codes[p];
      p += htbl->bits[l];
      table->maxcode[l] = codes[p - 1];
    } else {
      table->valoffset[l] = 0;
      table->maxcode[l] = -1;
    }
  }
  memcpy(table->huffval, htbl->huffval, sizeof table->huffval);
  const int lookup = is_dc ? ANNOTA_DC_DC_LOOKUP : ANNOTA_DC_LOOKUP;
  memset(table->fast, 0, sizeof table->fast[0] << lookup);
  for (int i = 0; i < count; ++i) {
    const int l = sizes[i];
    const int symbol = htbl->huffval[i];
    if (is_dc && symbol > 15) return 0;
    if (l > lookup) continue;
    uint16_t entry;
    if (is_dc) {
      entry = (uint16_t)(l << 8 | symbol);
    } else {
      const int run = symbol >> 4, size = symbol & 15;
      if (l + size <= ANNOTA_DC_LOOKUP) {
        const int step = size != 0 ? run + 1 : (run == 15 ? 16 : 64);
        entry = (uint16_t)((l + size) << 8 | step);
      } else {
        entry = (uint16_t)(0x8000 | l << 8 | symbol);
      }
    }
    const int shift = lookup - l;
    const int first = codes[i] << shift;
    for (int j = 0; j < (1 << shift); ++j) table->fast[first + j] = entry;
  }
  if (is_dc) return 1;
  // Chains of complete symbols: follow `fast` through each window while whole symbols fit.
  for (int window = 0; window < (1 << ANNOTA_DC_LOOKUP); ++window) {
    int used = 0, steps = 0, symbols = 0, eob = 0;
    for (;;) {
      const int left = ANNOTA_DC_LOOKUP - used;
      if (left <= 0) break;
      // The next `left` bits of the window, padded with zeros to a full lookup index.
      const int index = (window << used) & ((1 << ANNOTA_DC_LOOKUP) - 1);
      const unsigned entry = table->fast[index];
      if (entry == 0 || (entry & 0x8000) != 0) break;
      const int length = (int)(entry >> 8);
      if (length > left) break;
      const int step = (int)(entry & 0xFF);
      used += length;
      symbols += 1;
      if (step == 64) {
        eob = 1;
        break;
      }
      steps += step;
      if (steps >= 64) break;
    }
    table->multi[window] =
        symbols >= 1 ? (uint16_t)(used << 8 | eob << 7 | (steps > 64 ? 64 : steps)) : 0;
  }
  return 1;
}

/// An MSB-first bit reader over entropy-coded data: unstuffs FF 00, stops before any marker and
/// then supplies zero bits, counted in `padding` (using them means the data was not clean).
typedef struct annota_dc_reader {
  const uint8_t *next;
  const uint8_t *end;
  uint64_t bits;  ///< left-aligned: the next bit is bit 63
  int count;      ///< valid bits in `bits`, padding included
  int padding;    ///< zero bits supplied after a marker or the end of the data
} annota_dc_reader;

/// The byte-by-byte refill: unstuffing, markers, the end of the data. Takes and returns the
/// reader by value, so the hot loop's reader never has its address taken and stays in registers.
__attribute__((noinline)) static annota_dc_reader annota_dc_refill_slow(annota_dc_reader reader) {
  annota_dc_reader *r = &reader;
  while (r->count <= 56) {
    if (r->padding == 0 && r->next < r->end) {
      const uint8_t byte = *r->next;
      int take = 1;
      if (byte == 0xFF) {
        if (r->end - r->next >= 2 && r->next[1] == 0) {
          take = 2;
        } else {
          take = 0;  // a marker (or a lone FF at the end): stop in front of it
        }
      }
      if (take != 0) {
        r->next += take;
        r->bits |= (uint64_t)byte << (56 - r->count);
        r->count += 8;
        continue;
      }
    }
    r->padding += 8;
    r->count += 8;
  }
  return reader;
}

/// Tops the reader up to at least 56 bits (so a 16-bit code plus 15 magnitude bits fit).
__attribute__((always_inline)) static inline void annota_dc_refill(annota_dc_reader *r) {
  if (r->padding == 0 && r->end - r->next >= 8) {
    uint64_t word;
    memcpy(&word, r->next, sizeof word);
    // No FF byte among the next 8 (has-zero-byte test on the complement): no unstuffing needed.
    if (((~word - 0x0101010101010101ull) & word & 0x8080808080808080ull) == 0) {
      const int n = (63 - r->count) >> 3;
      word = __builtin_bswap64(word);
      r->bits |= (word >> (64 - 8 * n)) << (64 - 8 * n - r->count);
      r->next += n;
      r->count += 8 * n;
      return;
    }
  }
  *r = annota_dc_refill_slow(*r);
}

static inline void annota_dc_drop(annota_dc_reader *r, int n) {
  r->bits <<= n;
  r->count -= n;
}

/// Decodes a code longer than `lookup` bits (libjpeg's canonical loop); returns its length, or 0
/// for no valid code within 16 bits.
static int annota_dc_slow(const annota_dc_table *table, int lookup, uint64_t bits, int *symbol) {
  for (int l = lookup + 1; l <= 16; ++l) {
    const int32_t code = (int32_t)(bits >> (64 - l));
    if (code <= table->maxcode[l]) {
      const int32_t index = code + table->valoffset[l];
      if (index < 0 || index > 255) return 0;
      *symbol = table->huffval[index];
      return l;
    }
  }
  return 0;
}

/// libjpeg's post-IDCT range limit: `range_limit[v & 1023]` with range_limit = sample_range_limit
/// + CENTERJSAMPLE (v + 128 clamped to 0...255 for v in -512...511, wrapping beyond).
static inline uint8_t annota_dc_range_limit(int v) {
  const unsigned i = (unsigned)v & 1023u;
  if (i < 128) return (uint8_t)(i + 128);
  if (i < 512) return 255;
  if (i < 896) return 0;
  return (uint8_t)(i - 896);
}

/// At a restart or the end of the scan: fewer than 8 unused bits (the last byte's padding), and
/// `marker` next. Consumes the marker.
__attribute__((always_inline)) static inline int annota_dc_expect_marker(annota_dc_reader *r,
                                                                      uint8_t marker) {
  if (r->count < r->padding || r->count - r->padding >= 8) return 0;
  if (r->end - r->next < 2 || r->next[0] != 0xFF || r->next[1] != marker) return 0;
  r->next += 2;
  r->bits = 0;
  r->count = 0;
  r->padding = 0;
  return 1;
}

typedef struct annota_dc_block {
  const annota_dc_table *dc;
  const annota_dc_table *ac;
  int luma;    ///< non-zero for a block of component 0 (the one grey output uses)
  int dx, dy;  ///< its position in the MCU, in blocks
} annota_dc_block;

/// Built tables kept per thread: a pool's files mostly share their Huffman tables (encoders use
/// the standard ones or the same optimised ones), and building the lookups costs about as much
/// as scanning a few hundred blocks. Entries are keyed by the full DHT definition.
enum { ANNOTA_DC_CACHE_SIZE = 8 };

typedef struct annota_dc_cache {
  struct {
    int valid;
    int is_dc;
    unsigned last_use;  ///< the scan that last used it (never evicted during that scan)
    uint8_t bits[17];
    uint8_t huffval[256];
    annota_dc_table table;
  } entries[ANNOTA_DC_CACHE_SIZE];
  unsigned scans;
} annota_dc_cache;

static pthread_key_t annota_dc_cache_key;
static pthread_once_t annota_dc_cache_once = PTHREAD_ONCE_INIT;

static void annota_dc_cache_make_key(void) {
  (void)pthread_key_create(&annota_dc_cache_key, free);  // freed when the thread exits
}

/// This thread's cache (created on first use), or NULL if it cannot be allocated.
static annota_dc_cache *annota_dc_thread_cache(void) {
  (void)pthread_once(&annota_dc_cache_once, annota_dc_cache_make_key);
  annota_dc_cache *cache = pthread_getspecific(annota_dc_cache_key);
  if (cache == NULL) {
    cache = calloc(1, sizeof *cache);
    if (cache == NULL) return NULL;
    if (pthread_setspecific(annota_dc_cache_key, cache) != 0) {
      free(cache);
      return NULL;
    }
  }
  return cache;
}

/// The built table for `htbl`: from the cache, or built into an entry not used by this scan.
/// NULL if the definition is invalid.
static const annota_dc_table *annota_dc_table_for(annota_dc_cache *cache, const JHUFF_TBL *htbl,
                                                  int is_dc) {
  int count = 0;
  for (int l = 1; l <= 16; ++l) count += htbl->bits[l];
  if (count > 256) return NULL;
  int victim = -1;
  for (int i = 0; i < ANNOTA_DC_CACHE_SIZE; ++i) {
    if (cache->entries[i].valid && cache->entries[i].is_dc == is_dc &&
        memcmp(cache->entries[i].bits, htbl->bits, sizeof cache->entries[i].bits) == 0 &&
        memcmp(cache->entries[i].huffval, htbl->huffval, (size_t)count) == 0) {
      cache->entries[i].last_use = cache->scans;
      return &cache->entries[i].table;
    }
    if (cache->entries[i].last_use != cache->scans &&
        (victim < 0 || !cache->entries[i].valid ||
         (cache->entries[victim].valid &&
          cache->entries[i].last_use < cache->entries[victim].last_use))) {
      victim = i;
    }
  }
  if (victim < 0) return NULL;  // cannot happen: a scan uses at most 6 tables
  cache->entries[victim].valid = 0;
  if (!annota_dc_build(htbl, is_dc, &cache->entries[victim].table)) return NULL;
  cache->entries[victim].valid = 1;
  cache->entries[victim].is_dc = is_dc;
  cache->entries[victim].last_use = cache->scans;
  memcpy(cache->entries[victim].bits, htbl->bits, sizeof cache->entries[victim].bits);
  memcpy(cache->entries[victim].huffval, htbl->huffval, sizeof cache->entries[victim].huffval);
  return &cache->entries[victim].table;
}

static int annota_dc_run(const struct jpeg_decompress_struct *cinfo, annota_dc_cache *cache,
                         uint8_t *buffer, size_t stride, uint32_t out_width,
                         uint32_t out_height) {
  if (cinfo->progressive_mode || cinfo->arith_code || cinfo->data_precision != 8) return 0;
  const int ycc = cinfo->jpeg_color_space == JCS_YCbCr && cinfo->num_components == 3;
  const int gray = cinfo->jpeg_color_space == JCS_GRAYSCALE && cinfo->num_components == 1;
  if (!(ycc || gray) || cinfo->out_color_space != JCS_GRAYSCALE) return 0;
  if (cinfo->comps_in_scan != cinfo->num_components) return 0;
  if (cinfo->Ss != 0 || cinfo->Se != DCTSIZE2 - 1 || cinfo->Ah != 0 || cinfo->Al != 0) return 0;
  const jpeg_component_info *luma = &cinfo->comp_info[0];
  if (luma->h_samp_factor != cinfo->max_h_samp_factor ||
      luma->v_samp_factor != cinfo->max_v_samp_factor) {
    return 0;
  }
  if (out_width != (cinfo->image_width + 7) / 8 || out_height != (cinfo->image_height + 7) / 8) {
    return 0;
  }
  if (luma->quant_tbl_no < 0 || luma->quant_tbl_no >= NUM_QUANT_TBLS) return 0;
  const JQUANT_TBL *quant = cinfo->quant_tbl_ptrs[luma->quant_tbl_no];
  if (quant == NULL || quant->quantval[0] > 32767) return 0;
  const int q0 = quant->quantval[0];

  // Tables: slots 0-3 DC, 4-7 AC, built when a scan component uses them.
  cache->scans += 1;
  const int interleaved = cinfo->comps_in_scan > 1;
  annota_dc_block blocks[ANNOTA_DC_MAX_BLOCKS];
  int block_count = 0;
  for (int ci = 0; ci < cinfo->comps_in_scan; ++ci) {
    const jpeg_component_info *comp = cinfo->cur_comp_info[ci];
    const int dc_no = comp->dc_tbl_no, ac_no = comp->ac_tbl_no;
    if (dc_no < 0 || dc_no >= NUM_HUFF_TBLS || ac_no < 0 || ac_no >= NUM_HUFF_TBLS) return 0;
    const JHUFF_TBL *dc = cinfo->dc_huff_tbl_ptrs[dc_no];
    const JHUFF_TBL *ac = cinfo->ac_huff_tbl_ptrs[ac_no];
    if (dc == NULL || ac == NULL) return 0;
    const annota_dc_table *dc_table = annota_dc_table_for(cache, dc, 1);
    const annota_dc_table *ac_table = annota_dc_table_for(cache, ac, 0);
    if (dc_table == NULL || ac_table == NULL) return 0;
    const int h = interleaved ? comp->h_samp_factor : 1;
    const int v = interleaved ? comp->v_samp_factor : 1;
    for (int dy = 0; dy < v; ++dy) {
      for (int dx = 0; dx < h; ++dx) {
        if (block_count == ANNOTA_DC_MAX_BLOCKS) return 0;
        blocks[block_count++] = (annota_dc_block){
            dc_table, ac_table, comp->component_index == 0, dx, dy};
      }
    }
  }
  const uint32_t luma_h = interleaved ? (uint32_t)luma->h_samp_factor : 1;
  const uint32_t luma_v = interleaved ? (uint32_t)luma->v_samp_factor : 1;
  const uint32_t mcu_w = 8 * (interleaved ? (uint32_t)cinfo->max_h_samp_factor : 1);
  const uint32_t mcu_h = 8 * (interleaved ? (uint32_t)cinfo->max_v_samp_factor : 1);
  const uint32_t mcus_per_row = (cinfo->image_width + mcu_w - 1) / mcu_w;
  const uint32_t mcu_rows = (cinfo->image_height + mcu_h - 1) / mcu_h;

  annota_dc_reader r = {cinfo->src->next_input_byte,
                        cinfo->src->next_input_byte + cinfo->src->bytes_in_buffer, 0, 0, 0};
  const unsigned restart_interval = cinfo->restart_interval;
  unsigned restarts_to_go = restart_interval;
  int next_restart = 0;
  int predictor = 0;
  for (uint32_t my = 0; my < mcu_rows; ++my) {
    for (uint32_t mx = 0; mx < mcus_per_row; ++mx) {
      if (restart_interval != 0) {
        if (restarts_to_go == 0) {
          if (!annota_dc_expect_marker(&r, (uint8_t)(0xD0 + next_restart))) return 0;
          next_restart = (next_restart + 1) & 7;
          predictor = 0;
          restarts_to_go = restart_interval;
        }
        restarts_to_go -= 1;
      }
      for (int b = 0; b < block_count; ++b) {
        const annota_dc_block *block = &blocks[b];
        // DC: category, then that many magnitude bits.
        if (r.count < 32) annota_dc_refill(&r);
        const unsigned dc_entry = block->dc->fast[r.bits >> (64 - ANNOTA_DC_DC_LOOKUP)];
        int size;
        if (dc_entry != 0) {
          annota_dc_drop(&r, (int)(dc_entry >> 8));
          size = (int)(dc_entry & 0xFF);
        } else {
          const int length = annota_dc_slow(block->dc, ANNOTA_DC_DC_LOOKUP, r.bits, &size);
          if (length == 0) return 0;
          annota_dc_drop(&r, length);
        }
        if (block->luma) {
          int diff = 0;
          if (size != 0) {
            const int raw = (int)(r.bits >> (64 - size));
            annota_dc_drop(&r, size);
            diff = raw < (1 << (size - 1)) ? raw - (1 << size) + 1 : raw;  // HUFF_EXTEND
          }
          predictor += diff;
          if (predictor < -32768 || predictor > 32767) return 0;  // libjpeg keeps a 16-bit JCOEF
          const uint32_t x = mx * luma_h + (uint32_t)block->dx;
          const uint32_t y = my * luma_v + (uint32_t)block->dy;
          if (x < out_width && y < out_height) {
            // jpeg_idct_1x1: DESCALE(DC * q, 3), then the range limit.
            buffer[(size_t)y * stride + x] = annota_dc_range_limit((predictor * q0 + 4) >> 3);
          }
        } else if (size != 0) {
          annota_dc_drop(&r, size);
        }
        // AC: walk the symbols without keeping any (libjpeg's loop for unneeded coefficients).
        const annota_dc_table *ac = block->ac;
        for (int k = 1; k < DCTSIZE2;) {
          if (r.count < 32) annota_dc_refill(&r);
          // Several symbols at once when they all belong to this block: before each, k < 64.
          const unsigned multi = ac->multi[r.bits >> (64 - ANNOTA_DC_LOOKUP)];
          if (multi != 0) {
            const int steps = (int)(multi & 0x7F), eob = (int)(multi >> 7) & 1;
            if (k + steps + eob <= DCTSIZE2) {
              annota_dc_drop(&r, (int)(multi >> 8));
              if (eob) break;
              k += steps;
              continue;
            }
          }
          const unsigned entry = ac->fast[r.bits >> (64 - ANNOTA_DC_LOOKUP)];
          if (entry != 0 && (entry & 0x8000) == 0) {
            annota_dc_drop(&r, (int)(entry >> 8));
            k += (int)(entry & 0xFF);
            continue;
          }
          int symbol;
          if (entry != 0) {
            annota_dc_drop(&r, (int)((entry >> 8) & 0x1F));
            symbol = (int)(entry & 0xFF);
          } else {
            const int length = annota_dc_slow(ac, ANNOTA_DC_LOOKUP, r.bits, &symbol);
            if (length == 0) return 0;
            annota_dc_drop(&r, length);
          }
          const int run = symbol >> 4, bits = symbol & 15;
          if (bits != 0) {
            annota_dc_drop(&r, bits);
            k += run + 1;
          } else if (run == 15) {
            k += 16;
          } else {
            break;
          }
        }
      }
      if (r.count < r.padding) return 0;  // used bits past a marker or the end of the data
    }
  }
  return annota_dc_expect_marker(&r, 0xD9);
}

int annota_jpeg_dc_scan(const struct jpeg_decompress_struct *cinfo, uint8_t *buffer, size_t stride,
                        uint32_t out_width, uint32_t out_height) {
  annota_dc_cache *cache = annota_dc_thread_cache();
  if (cache == NULL) return 0;
  return annota_dc_run(cinfo, cache, buffer, stride, out_width, out_height);
}
