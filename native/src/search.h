// Exact top-k inner-product search: the public C++ interface of the vislens native addon.
//
// For Q float32 queries [Q, d] against N rows stored as float32, float16 (IEEE half bits) or int8
// with a per-row float32 scale, returns for every query the k rows with the largest inner product,
// sorted by score descending, ties broken by the lower row index.
//
// What "exact" means here: the answer is the top-k by the float64 inner product of the float32
// query with the row's decoded float32 values (float16 widened exactly; int8 decoded as
// float32(value * scale)), summed in row order, p = 0..d-1, and the returned score is that float64
// sum rounded to float32. The fast kernels compute float32 scores (FMA, any summation order) only to
// select candidates: every row whose float32 score lies within a rigorous rounding-error band of
// the k-th best is kept, and the candidates are rescored in float64. The answer therefore does not
// depend on the instruction set, the batch size, the thread count or the blocking.
//
// NaN: a row whose float32 score is NaN (e.g. the row holds a NaN) never enters the top-k. When a
// query has fewer than min(k, N) rows with a non-NaN score, the missing tail of its list holds
// index -1 and score NaN.
#pragma once

#include <cstdint>
#include <string>

namespace vislens {

enum class RowType : int { F32 = 0, F16 = 1, I8 = 2 };
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
bool isa_supported(Isa isa);
// The fastest instruction set this CPU (and OS) supports.
Isa best_isa();

struct SearchInput {
  const float* queries = nullptr;  // [nq, dim]
  int64_t nq = 0;
  int64_t dim = 0;
  RowType rtype = RowType::F32;
  const void* rows = nullptr;  // [nrows, dim] of float / uint16_t (half bits) / int8_t
  const float* scales = nullptr;  // [nrows], int8 rows only
  int64_t nrows = 0;
  int64_t k = 1;  // requested; the output holds min(k, nrows) per query
  int threads = 1;
  Isa isa = Isa::Scalar;
};

struct SearchStats {
  int passes = 0;        // 2 when the row-norm estimate was too low and the scan was repeated
  int threads_used = 0;
  bool exact = true;     // false only if some query's candidate band overflowed (see topk.h)
  int64_t candidates = 0;  // rows rescored in float64, over all queries
  const char* path = "";   // "gemm", "dot" or "scalar"
};

inline int64_t output_k(int64_t k, int64_t nrows) { return k < nrows ? k : nrows; }

// Writes nq * output_k(k, nrows) indices and scores (row-major [nq, kout]). Throws
// std::invalid_argument for an unsupported ISA, std::bad_alloc when out of memory.
void search_topk(const SearchInput& in, int32_t* out_index, float* out_score, SearchStats* stats);

// float32 -> IEEE half bits, round to nearest even (F16C when available), and back.
void f32_to_f16(const float* src, uint16_t* dst, int64_t n);
void f16_to_f32(const uint16_t* src, float* dst, int64_t n);

}  // namespace vislens
