// AVX2 + FMA + F16C scan kernel (Haswell and later, Zen). Only this file's functions use these
// instructions (function target attributes, no global -m flags).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels.h"

#define VL_TARGET __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))

namespace vislens {
namespace avx2 {

constexpr int W = 8;
using V = __m256;

// Blocking: a tile is 6 rows x 16 queries (12 accumulators), or 12 rows x 8 queries.
constexpr int GEMM_NR2 = 6;
constexpr int GEMM_NR1 = 12;
constexpr int GEMM_NB = 48;
constexpr int GEMM_KC = 128;
constexpr int DOT_MAX_Q = 2;

VL_TARGET static inline V vzero() { return _mm256_setzero_ps(); }
VL_TARGET static inline V vset1(float x) { return _mm256_set1_ps(x); }
VL_TARGET static inline V vload(const float* p) { return _mm256_loadu_ps(p); }
VL_TARGET static inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
VL_TARGET static inline V vbcast(const float* p) { return _mm256_broadcast_ss(p); }
VL_TARGET static inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
VL_TARGET static inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
VL_TARGET static inline float vhsum(V v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
// Ordered compare: false for NaN.
VL_TARGET static inline uint32_t vmask_ge(V a, V b) {
  return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ)));
}
VL_TARGET static inline V ld_f32_n(const float* p, int n) {
  alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(t, p, static_cast<size_t>(n) * 4);
  return _mm256_load_ps(t);
}
VL_TARGET static inline V ld_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
VL_TARGET static inline V ld_f16_n(const uint16_t* p, int n) {
  alignas(16) uint16_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(t, p, static_cast<size_t>(n) * 2);
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
}
VL_TARGET static inline V ld_i8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
VL_TARGET static inline V ld_i8_n(const int8_t* p, int n) {
  alignas(16) int8_t t[16] = {};
  std::memcpy(t, p, static_cast<size_t>(n));
  return ld_i8(t);
}

#define VL_REP_NR2(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define VL_REP_NR1(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#include "kernel_simd.inc"

VL_TARGET static void cvt_f32_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) dst[i] = float_to_half(src[i]);
}
VL_TARGET static void cvt_f16_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ld_f16(src + i));
  for (; i < n; ++i) dst[i] = half_to_float(src[i]);
}

}  // namespace avx2

KernelInfo kernel_avx2() {
  return KernelInfo{"avx2", avx2::W, 2 * avx2::W, avx2::DOT_MAX_Q, avx2::GEMM_NB, &avx2::scan, &avx2::cvt_f32_f16,
                    &avx2::cvt_f16_f32};
}

}  // namespace vislens
