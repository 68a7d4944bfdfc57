// The search driver: instruction-set dispatch, threads, the rounding-error band, the merge of the
// threads' candidates and the float64 rescoring that makes the answer exact (see search.h).
//
// Why the band is rigorous. For a query q and a row x, float32 accumulation of d products in any
// order (FMA or not, any blocking or tree) differs from the exact inner product by at most
// e(x) = gamma(d) * sum_p |q_p x_p| <= gamma(d) * |q| * |x|   (Cauchy-Schwarz),
// gamma(d) = (d+2)u / (1 - (d+2)u), u = 2^-24 (Higham, Accuracy and Stability, section 3.1).
// Let T be the k-th best float32 score. If x belongs to the float64 top-k, some y among the k rows
// scoring >= T in float32 ranks at or below x in float64, hence
// f32(x) >= T - e(x) - e(y) - (float64 errors) >= T - band, band = 2 (gamma32 + gamma64) |q| M,
// where M bounds every row norm. Every such x is kept and rescored in float64; so the float64
// top-k is found exactly. M is estimated from a sample of rows before the scan; the scan measures
// the real maximum, and when the estimate was too low the scan is repeated with the measured value
// (never happens for L2-normalised rows, the contextual bank's case).
#include <atomic>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>

#include "kernels.h"

namespace vislens {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512:
      return "avx512";
    case Isa::Avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("popcnt");
    default:
      return true;
  }
#else
  return isa == Isa::Scalar;
#endif
}

Isa best_isa() {
  if (isa_supported(Isa::Avx512)) return Isa::Avx512;
  if (isa_supported(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

namespace {

// F16C has no __builtin_cpu_supports name in every GCC; AVX2-era CPUs all have it, but check CPUID.
bool has_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  return (c >> 29) & 1u;
#else
  return false;
#endif
}

KernelInfo kernel_for(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (isa == Isa::Avx512 && isa_supported(Isa::Avx512) && has_f16c()) return kernel_avx512();
  if (isa == Isa::Avx2 && isa_supported(Isa::Avx2) && has_f16c()) return kernel_avx2();
#endif
  if (isa != Isa::Scalar) throw std::invalid_argument(std::string("this CPU does not support isa ") + isa_name(isa));
  return kernel_scalar();
}

double gamma_n(int64_t n, double u) {
  double nu = static_cast<double>(n + 2) * u;
  return nu / (1.0 - nu);
}

// Decoded float32 values of row r.
void decode_row(const SearchInput& in, const KernelInfo& K, int64_t r, float* out) {
  const int64_t d = in.dim;
  switch (in.rtype) {
    case RowType::F32: {
      const float* s = static_cast<const float*>(in.rows) + r * d;
      for (int64_t p = 0; p < d; ++p) out[p] = s[p];
      break;
    }
    case RowType::F16:
      K.f16_to_f32(static_cast<const uint16_t*>(in.rows) + r * d, out, d);
      break;
    case RowType::I8: {
      const int8_t* s = static_cast<const int8_t*>(in.rows) + r * d;
      const float sc = in.scales[r];
      for (int64_t p = 0; p < d; ++p) out[p] = static_cast<float>(s[p]) * sc;
      break;
    }
  }
}

// The reference score: float64 products and sums in dimension order (this file is compiled with
// -ffp-contract=off and without FMA, so this is exactly `s += q[p] * x[p]` in JavaScript).
double dot64(const float* q, const float* x, int64_t d) {
  double s = 0.0;
  for (int64_t p = 0; p < d; ++p) s += static_cast<double>(q[p]) * static_cast<double>(x[p]);
  return s;
}

// Pack queries into panels of K.panel (or K.lanes for a short last panel) as [dim][width].
void pack_queries(const SearchInput& in, const KernelInfo& K, std::vector<Panel>& panels, std::vector<float>& pack) {
  const int64_t Q = in.nq, d = in.dim;
  for (int64_t q0 = 0; q0 < Q;) {
    const int64_t rem = Q - q0;
    const int64_t width = rem <= K.lanes ? K.lanes : K.panel;
    panels.push_back(Panel{q0, width});
    q0 += width;
  }
  const int64_t qpad = panels.back().q0 + panels.back().width;
  pack.assign(static_cast<size_t>(qpad * d), 0.0f);
  for (const Panel& pn : panels) {
    float* dst = pack.data() + pn.q0 * d;
    for (int64_t i = 0; i < pn.width && pn.q0 + i < Q; ++i) {
      const float* src = in.queries + (pn.q0 + i) * d;
      for (int64_t p = 0; p < d; ++p) dst[p * pn.width + i] = src[p];
    }
  }
}

}  // namespace

void f32_to_f16(const float* src, uint16_t* dst, int64_t n) { kernel_for(best_isa()).f32_to_f16(src, dst, n); }
void f16_to_f32(const uint16_t* src, float* dst, int64_t n) { kernel_for(best_isa()).f16_to_f32(src, dst, n); }

namespace {

void search_block(const SearchInput& in, const KernelInfo& K, int32_t* out_index, float* out_score, SearchStats& st) {
  const int64_t Q = in.nq, N = in.nrows, d = in.dim;
  const int64_t kout = output_k(in.k, N);

  // Band per query (see the top of this file).
  const double g = 2.0 * (gamma_n(d, std::ldexp(1.0, -24)) + gamma_n(d, std::ldexp(1.0, -53)));
  std::vector<double> qnorm(static_cast<size_t>(Q));
  for (int64_t q = 0; q < Q; ++q) {
    const float* v = in.queries + q * d;
    double s = 0.0;
    for (int64_t p = 0; p < d; ++p) s += static_cast<double>(v[p]) * v[p];
    qnorm[q] = std::sqrt(s);
  }

  // Row-norm estimate from up to 256 rows spread over the table, with 25% headroom.
  std::vector<float> rowbuf(static_cast<size_t>(d));
  double sample_max = 0.0;
  {
    const int64_t step = std::max<int64_t>(1, N / 256);
    for (int64_t r = 0; r < N; r += step) {
      decode_row(in, K, r, rowbuf.data());
      double s = 0.0;
      for (int64_t p = 0; p < d; ++p) s += static_cast<double>(rowbuf[p]) * rowbuf[p];
      if (std::isfinite(s) && s > sample_max) sample_max = s;
    }
  }
  double M = std::max(1.25 * std::sqrt(sample_max), 1e-30);

  // Path and queries.
  const bool gemm = K.lanes > 1 && Q > K.dot_max_queries;
  std::vector<Panel> panels;
  std::vector<float> qpack;
  if (gemm) pack_queries(in, K, panels, qpack);
  KernelJob job{in.queries, Q, d, in.rtype, in.rows, in.rtype == RowType::I8 ? in.scales : nullptr, N,
                gemm, gemm ? qpack.data() : nullptr, &panels};
  st.path = K.lanes == 1 ? "scalar" : gemm ? "gemm" : "dot";

  // Threads: enough work each (about 4M multiply-adds), rows handed out in chunks from a shared
  // counter so a thread slowed by other load does not hold up the rest.
  const double work = static_cast<double>(N) * d * static_cast<double>(gemm ? qpack.size() / d : Q);
  int T = static_cast<int>(std::min<double>(std::max(1, in.threads), std::ceil(work / (1 << 22))));
  T = std::max(1, std::min<int>(T, static_cast<int>((N + K.row_align - 1) / K.row_align)));
  int64_t chunk = (N + T * 8 - 1) / (T * 8);
  chunk = std::max<int64_t>(K.row_align, (chunk + K.row_align - 1) / K.row_align * K.row_align);
  st.threads_used = T;

  std::vector<ThreadState> states(static_cast<size_t>(T));
  std::vector<double> band(static_cast<size_t>(Q));
  for (int pass = 1;; ++pass) {
    st.passes = pass;
    for (int64_t q = 0; q < Q; ++q) band[q] = 1.01 * g * qnorm[q] * M + 1e-30;
    for (ThreadState& ts : states) {
      ts.topk.init(Q, kout, band.data(), K.panel);
      ts.max_norm_sq = 0.0f;
    }
    std::atomic<int64_t> next{0};
    std::vector<std::exception_ptr> errors(static_cast<size_t>(T));
    auto work_fn = [&](int t) {
      try {
        for (;;) {
          const int64_t r0 = next.fetch_add(chunk);
          if (r0 >= N) break;
          K.scan(job, r0, std::min(N, r0 + chunk), states[t]);
        }
      } catch (...) {
        errors[t] = std::current_exception();
        next.store(N);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < T; ++t) pool.emplace_back(work_fn, t);
    work_fn(0);
    for (std::thread& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    float max_sq = 0.0f;
    for (const ThreadState& ts : states) max_sq = std::max(max_sq, ts.max_norm_sq);
    const double measured = std::sqrt(static_cast<double>(max_sq)) * (1.0 + 2.0 * gamma_n(d, std::ldexp(1.0, -24)));
    if (measured <= M || pass >= 2) break;
    M = measured * 1.0001;
  }

  // Merge the threads' candidates, cut at the band below the global k-th float32 score, rescore in
  // float64, sort (score descending, index ascending).
  std::vector<Cand> all;
  std::vector<std::pair<double, int32_t>> scored;
  auto order = [](const std::pair<double, int32_t>& a, const std::pair<double, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  for (int64_t q = 0; q < Q; ++q) {
    all.clear();
    for (const ThreadState& ts : states) {
      ts.topk.collect(q, all);
      if (ts.topk.inexact(q)) st.exact = false;
    }
    float cut = -std::numeric_limits<float>::infinity();
    if (static_cast<int64_t>(all.size()) >= kout) {
      std::nth_element(all.begin(), all.begin() + (kout - 1), all.end(),
                       [](const Cand& a, const Cand& b) { return better(a.s, a.i, b.s, b.i); });
      cut = float_at_or_below(static_cast<double>(all[kout - 1].s) - band[q]);
    }
    scored.clear();
    const float* qv = in.queries + q * d;
    for (const Cand& c : all) {
      if (!(c.s >= cut)) continue;
      decode_row(in, K, c.i, rowbuf.data());
      const double s = dot64(qv, rowbuf.data(), d);
      if (!std::isnan(s)) scored.emplace_back(s, c.i);
    }
    st.candidates += static_cast<int64_t>(scored.size());
    const int64_t n = std::min<int64_t>(kout, static_cast<int64_t>(scored.size()));
    std::partial_sort(scored.begin(), scored.begin() + n, scored.end(), order);
    int32_t* oi = out_index + q * kout;
    float* os = out_score + q * kout;
    for (int64_t j = 0; j < n; ++j) {
      oi[j] = scored[j].second;
      os[j] = static_cast<float>(scored[j].first);
    }
    for (int64_t j = n; j < kout; ++j) {
      oi[j] = -1;
      os[j] = std::numeric_limits<float>::quiet_NaN();
    }
  }
}

}  // namespace

void search_topk(const SearchInput& in, int32_t* out_index, float* out_score, SearchStats* stats) {
  SearchStats local;
  SearchStats& st = stats ? *stats : local;
  st = SearchStats{};
  const int64_t kout = output_k(in.k, in.nrows);
  if (in.nq <= 0 || kout <= 0) return;
  const KernelInfo K = kernel_for(in.isa);
  // Queries in chunks, so that the packed copy of the queries and the per-thread candidate heaps
  // stay small however many queries arrive (each chunk streams the rows once more; a chunk of
  // 2048 queries is compute-bound, so that costs nothing measurable).
  constexpr int64_t kChunk = 2048;
  for (int64_t q0 = 0; q0 < in.nq; q0 += kChunk) {
    SearchInput part = in;
    part.queries = in.queries + q0 * in.dim;
    part.nq = std::min(kChunk, in.nq - q0);
    SearchStats ps;
    search_block(part, K, out_index + q0 * kout, out_score + q0 * kout, ps);
    st.passes = std::max(st.passes, ps.passes);
    st.threads_used = std::max(st.threads_used, ps.threads_used);
    st.exact = st.exact && ps.exact;
    st.candidates += ps.candidates;
    st.path = ps.path;
  }
}

}  // namespace vislens
