// Portable scan kernel: plain C++, runs on any x86-64 (and any other CPU). Also the software
// float16 conversions used by the driver.
#include <cmath>
#include <cstring>

#include "kernels.h"

namespace vislens {

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | mant << 13;  // inf / NaN (payload kept)
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    int shift = 14 - e;
    uint32_t half = 1u << (shift - 1);
    uint32_t rest = mant & ((1u << shift) - 1);
    uint32_t out = mant >> shift;
    if (rest > half || (rest == half && (out & 1u))) ++out;
    return static_cast<uint16_t>(sign | out);
  }
  uint32_t out = static_cast<uint32_t>(e) << 10 | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (out & 1u))) ++out;  // a carry into the exponent is right
  return static_cast<uint16_t>(sign | out);
}

namespace {

void cvt_f32_f16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = float_to_half(src[i]);
}
void cvt_f16_f32(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

void scan(const KernelJob& job, int64_t r0, int64_t r1, ThreadState& ts) {
  const int64_t d = job.dim;
  ts.scratch.resize(static_cast<size_t>(d));
  float* buf = ts.scratch.data();
  TopK& tk = ts.topk;
  for (int64_t r = r0; r < r1; ++r) {
    const float* row;
    switch (job.rtype) {
      case RowType::F32:
        row = static_cast<const float*>(job.rows) + r * d;
        break;
      case RowType::F16: {
        const uint16_t* h = static_cast<const uint16_t*>(job.rows) + r * d;
        for (int64_t p = 0; p < d; ++p) buf[p] = half_to_float(h[p]);
        row = buf;
        break;
      }
      default: {
        const int8_t* b = static_cast<const int8_t*>(job.rows) + r * d;
        float sc = job.scales[r];
        for (int64_t p = 0; p < d; ++p) buf[p] = static_cast<float>(b[p]) * sc;
        row = buf;
        break;
      }
    }
    float nsq = 0.0f;
    for (int64_t p = 0; p < d; ++p) nsq += row[p] * row[p];
    if (nsq > ts.max_norm_sq && std::isfinite(nsq)) ts.max_norm_sq = nsq;
    const float* thr = tk.thr();
    for (int64_t q = 0; q < job.nq; ++q) {
      const float* qv = job.queries + q * d;
      float s = 0.0f;
      for (int64_t p = 0; p < d; ++p) s += qv[p] * row[p];
      if (s >= thr[q]) tk.push(q, s, static_cast<int32_t>(r));
    }
  }
}

}  // namespace

KernelInfo kernel_scalar() {
  return KernelInfo{"scalar", 1, 1, 1 << 30, 1, &scan, &cvt_f32_f16, &cvt_f16_f32};
}

}  // namespace vislens
