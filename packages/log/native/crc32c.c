/*
 * CRC-32C (Castagnoli) on x86-64 with PCLMULQDQ and SSE4.2, for RecordBatch v2 checksums.
 *
 * Why not the CRC32 instruction alone: on the AMD EPYC machines Samsa is measured on it retires
 * one 8-byte step every three cycles whatever the interleaving (~4-6 GB/s), while carry-less
 * multiplication folds 64 bytes per round at ~11 GB/s. The batches it checks are 1 KiB-1 MiB, so
 * this is the part of an append, a recovery scan and a read-ahead chunk that scales with bytes.
 *
 * Folding, in the bit-reflected domain the CRC uses (stream bit 0 is the highest power of x): a
 * 128-bit lane holding L (first 8 bytes) and H (last 8) stands for L*x^64 + H. Moving it F bits
 * further along the stream is L*x^(F+64) + H*x^F, reduced mod P to two 64-bit carry-less products
 * with k_L = x^(F+63) mod P and k_H = x^(F-1) mod P (one less than the shift: a reflected product
 * comes out multiplied by x). Four lanes fold by 512 bits per round, then into one lane by 128 bits
 * each. The last lane is a 16-byte message congruent to everything before it, so feeding it to the
 * CRC32 instruction from a zero register gives the CRC register of the whole prefix; the tail
 * (under 16 bytes) goes through the instruction too. The initial register is XORed into the first
 * 32 bits, which is what a CRC register is.
 *
 * The constants are computed at load, not typed in, and tests compare every length from 0 to 4 KiB
 * and random slices against the JavaScript implementation.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#define SAMSA_CLMUL 1

/* Written once (pthread_once: worker threads load the addon too), read-only after. */
static __m128i k512, k128;
static pthread_once_t constants_once = PTHREAD_ONCE_INIT;

/* x^n mod P (normal form, P = x^32 + 0x1EDC6F41), as the 64-bit reflected value clmul takes. */
static uint64_t reflected_xpow(unsigned n) {
  uint64_t r = 1;
  while (n--) {
    r <<= 1;
    if (r >> 32) r ^= 0x11EDC6F41ull;
  }
  uint64_t out = 0;
  for (int d = 0; d < 32; d++)
    if (r >> d & 1) out |= 1ull << (63 - d);
  return out;
}

static __m128i fold_constants(unsigned bits) {
  return _mm_set_epi64x((long long)reflected_xpow(bits - 1), (long long)reflected_xpow(bits + 63));
}

__attribute__((target("pclmul,sse4.2"))) static inline __m128i fold(__m128i x, __m128i k, __m128i data) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), data);
}

__attribute__((target("pclmul,sse4.2"))) static uint32_t crc32c_clmul(const uint8_t *p, size_t len) {
  uint32_t c = 0xffffffffu;
  if (len >= 64) {
    __m128i x0 = _mm_loadu_si128((const __m128i *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)c));
    p += 64;
    len -= 64;
    while (len >= 64) {
      x0 = fold(x0, k512, _mm_loadu_si128((const __m128i *)p));
      x1 = fold(x1, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
      x2 = fold(x2, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
      x3 = fold(x3, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
      p += 64;
      len -= 64;
    }
    __m128i x = fold(fold(fold(x0, k128, x1), k128, x2), k128, x3);
    for (; len >= 16; p += 16, len -= 16) x = fold(x, k128, _mm_loadu_si128((const __m128i *)p));
    uint64_t r = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(x));
    c = (uint32_t)_mm_crc32_u64(r, (uint64_t)_mm_extract_epi64(x, 1));
  }
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = (uint32_t)_mm_crc32_u64(c, v);
  }
  for (; len > 0; p++, len--) c = _mm_crc32_u8(c, *p);
  return c ^ 0xffffffffu;
}

static void make_constants(void) {
  k512 = fold_constants(512);
  k128 = fold_constants(128);
}

static int cpu_supported(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  return (c & bit_SSE4_2) && (c & bit_PCLMUL);
}

/* crc32c(bytes: Uint8Array, start: number, end: number): number, of bytes[start, end). */
static napi_value Crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
  size_t offset;
  int64_t start = 0, end = 0;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array || napi_get_value_int64(env, argv[1], &start) != napi_ok ||
      napi_get_value_int64(env, argv[2], &end) != napi_ok) {
    napi_throw_type_error(env, "SAMSA_INVALID_ARGUMENT", "crc32c takes a Uint8Array, a start and an end");
    return NULL;
  }
  if (start < 0 || end < start || (uint64_t)end > length) {
    napi_throw_range_error(env, "SAMSA_INVALID_ARGUMENT", "crc32c range is outside the array");
    return NULL;
  }
  napi_create_uint32(env, crc32c_clmul((const uint8_t *)data + start, (size_t)(end - start)), &out);
  return out;
}
#endif

NAPI_MODULE_INIT() {
  napi_value fn;
#ifdef SAMSA_CLMUL
  /* Without the instructions nothing is exported, and JavaScript uses its fallbacks. */
  if (!cpu_supported()) return exports;
  pthread_once(&constants_once, make_constants);
  if (napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32c, NULL, &fn) == napi_ok)
    napi_set_named_property(env, exports, "crc32c", fn);
#else
  (void)fn;
#endif
  return exports;
}
