// AVX-512 (F, BW, VL, DQ) + FMA + F16C scan kernel. Only this file's functions use these
// instructions (function target attributes, no global -m flags); search.cc calls them only when
// __builtin_cpu_supports says the CPU has them.
#include <immintrin.h>

#include <algorithm>

#include "kernels.h"

#define VL_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,avx2,bmi,bmi2,popcnt")))

namespace vislens {
namespace avx512 {

constexpr int W = 16;
using V = __m512;

// Blocking: a tile is 12 rows x 32 queries (24 accumulators), or 24 rows x 16 queries; rows in
// blocks of 48 x 128 dimensions (24 KiB widened) so a block and a query panel (16 KiB) share L1.
constexpr int GEMM_NR2 = 12;
constexpr int GEMM_NR1 = 24;
#ifndef VL_NB512
#define VL_NB512 48
#endif
#ifndef VL_KC512
#define VL_KC512 128
#endif
constexpr int GEMM_NB = VL_NB512;
constexpr int GEMM_KC = VL_KC512;
constexpr int DOT_MAX_Q = 4;

VL_TARGET static inline V vzero() { return _mm512_setzero_ps(); }
VL_TARGET static inline V vset1(float x) { return _mm512_set1_ps(x); }
VL_TARGET static inline V vload(const float* p) { return _mm512_loadu_ps(p); }
VL_TARGET static inline void vstore(float* p, V v) { _mm512_storeu_ps(p, v); }
VL_TARGET static inline V vbcast(const float* p) { return _mm512_set1_ps(*p); }
VL_TARGET static inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
VL_TARGET static inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
VL_TARGET static inline float vhsum(V v) {
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}
// Ordered compare: false for NaN.
VL_TARGET static inline uint32_t vmask_ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
VL_TARGET static inline __mmask16 tailmask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
VL_TARGET static inline V ld_f32_n(const float* p, int n) { return _mm512_maskz_loadu_ps(tailmask(n), p); }
VL_TARGET static inline V ld_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
VL_TARGET static inline V ld_f16_n(const uint16_t* p, int n) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tailmask(n), p));
}
VL_TARGET static inline V ld_i8(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
VL_TARGET static inline V ld_i8_n(const int8_t* p, int n) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(tailmask(n), p)));
}

#define VL_REP_NR2(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define VL_REP_NR1(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
#include "kernel_simd.inc"

VL_TARGET static void cvt_f32_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if (i < n) {
    __mmask16 m = tailmask(static_cast<int>(n - i));
    _mm256_mask_storeu_epi16(dst + i, m,
                             _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}
VL_TARGET static void cvt_f16_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, ld_f16(src + i));
  if (i < n) _mm512_mask_storeu_ps(dst + i, tailmask(static_cast<int>(n - i)), ld_f16_n(src + i, static_cast<int>(n - i)));
}

}  // namespace avx512

KernelInfo kernel_avx512() {
  return KernelInfo{"avx512", avx512::W, 2 * avx512::W, avx512::DOT_MAX_Q, avx512::GEMM_NB, &avx512::scan,
                    &avx512::cvt_f32_f16, &avx512::cvt_f16_f32};
}

}  // namespace vislens
