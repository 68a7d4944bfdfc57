// The interface between the driver (search.cc: threads, candidate merge, float64 rescoring) and
// the per-instruction-set scan kernels (kernel_scalar.cc, kernel_avx2.cc, kernel_avx512.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "search.h"
#include "topk.h"

namespace vislens {

// A query panel of the GEMM path: queries [q0, q0 + width) packed as [dim][width] floats starting
// at qpack + q0 * dim (queries past nq are zero).
struct Panel {
  int64_t q0;
  int64_t width;
};

struct KernelJob {
  const float* queries;  // [nq, dim], used by the dot path
  int64_t nq;
  int64_t dim;
  RowType rtype;
  const void* rows;
  const float* scales;
  int64_t nrows;
  bool gemm;                   // GEMM path (packed queries) or dot path
  const float* qpack;          // GEMM path only
  const std::vector<Panel>* panels;  // GEMM path only
};

struct ThreadState {
  TopK topk;
  float max_norm_sq = 0.0f;  // largest float32 squared row norm seen (finite ones only)
  std::vector<float> scratch;
  std::vector<float> cbuf;
};

using ScanFn = void (*)(const KernelJob& job, int64_t row_begin, int64_t row_end, ThreadState& ts);
using CvtF32F16Fn = void (*)(const float* src, uint16_t* dst, int64_t n);
using CvtF16F32Fn = void (*)(const uint16_t* src, float* dst, int64_t n);

struct KernelInfo {
  const char* name;
  int lanes;           // W: floats per vector
  int panel;           // MR: queries per full GEMM panel (a multiple of lanes)
  int dot_max_queries; // batches up to this size use the dot path
  int row_align;       // thread row ranges start at multiples of this
  ScanFn scan;
  CvtF32F16Fn f32_to_f16;
  CvtF16F32Fn f16_to_f32;
};

KernelInfo kernel_scalar();
KernelInfo kernel_avx2();
KernelInfo kernel_avx512();

// Software half <-> float conversion (exact; round to nearest even), used by the scalar path and
// the float64 rescoring.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

}  // namespace vislens
