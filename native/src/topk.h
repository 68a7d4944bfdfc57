// Per-thread, per-query candidate store used inside the scan.
//
// For each query it keeps
//   - a binary heap of the k best (score, index) pairs seen so far by float32 score, worst at the
//     root (lower score, or equal score and higher index, is worse);
//   - a "band": pairs that are not in the heap but whose float32 score is within `band` (a rigorous
//     bound on twice the float32 rounding error, see search.cc) of the heap's worst score, because
//     their exact score may still beat a heap member;
//   - thr[q], the single number the SIMD kernels compare against: the heap's worst score minus the
//     band, rounded down (-inf while the heap is not full; +inf for padding lanes). A candidate is
//     looked at only when score >= thr[q], an ordered compare, so NaN never passes.
//
// The band is capped at kBandCap entries per query; past the cap the best kBandCap are kept and the
// query is marked inexact (this needs thousands of rows within float32 rounding of the k-th score,
// i.e. near-duplicate rows, or rows whose norms differ by many orders of magnitude).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace vislens {

struct Cand {
  float s;
  int32_t i;
};

inline bool better(float s1, int32_t i1, float s2, int32_t i2) {
  return s1 > s2 || (s1 == s2 && i1 < i2);
}

// The largest float <= x (x finite or -inf).
inline float float_at_or_below(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) > x) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

class TopK {
 public:
  static constexpr size_t kBandCap = 8192;

  // band: per query, >= 0. thr_pad: how many +inf entries follow the nq real thresholds (SIMD
  // kernels load whole vectors of thresholds for padded query panels).
  void init(int64_t nq, int64_t k, const double* band, int64_t thr_pad) {
    nq_ = nq;
    k_ = k;
    hs_.assign(static_cast<size_t>(nq * k), 0.0f);
    hi_.assign(static_cast<size_t>(nq * k), 0);
    cnt_.assign(static_cast<size_t>(nq), 0);
    band_.assign(band, band + nq);
    bands_.assign(static_cast<size_t>(nq), {});
    cap_.assign(static_cast<size_t>(nq), 64);
    inexact_.assign(static_cast<size_t>(nq), 0);
    thr_.assign(static_cast<size_t>(nq + thr_pad), std::numeric_limits<float>::infinity());
    for (int64_t q = 0; q < nq; ++q) thr_[q] = -std::numeric_limits<float>::infinity();
  }

  const float* thr() const { return thr_.data(); }
  int64_t nq() const { return nq_; }
  int64_t k() const { return k_; }

  // Caller has checked s >= thr()[q] (so s is not NaN). Rows of one query arrive in increasing
  // index order within a thread, but push() does not rely on it.
  void push(int64_t q, float s, int32_t i) {
    float* S = &hs_[static_cast<size_t>(q * k_)];
    int32_t* I = &hi_[static_cast<size_t>(q * k_)];
    int64_t c = cnt_[q];
    if (c < k_) {
      // sift up
      int64_t pos = c;
      while (pos > 0) {
        int64_t parent = (pos - 1) >> 1;
        if (!better(S[parent], I[parent], s, i)) break;  // parent is worse or equal: stop
        S[pos] = S[parent];
        I[pos] = I[parent];
        pos = parent;
      }
      S[pos] = s;
      I[pos] = i;
      cnt_[q] = c + 1;
      if (c + 1 == k_) update_thr(q);
      return;
    }
    if (better(s, i, S[0], I[0])) {
      Cand evicted{S[0], I[0]};
      sift_down(S, I, s, i);
      update_thr(q);
      if (evicted.s >= thr_[q]) band_push(q, evicted);
    } else {
      band_push(q, Cand{s, i});
    }
  }

  // All candidates of query q (heap then band) appended to out.
  void collect(int64_t q, std::vector<Cand>& out) const {
    const float* S = &hs_[static_cast<size_t>(q * k_)];
    const int32_t* I = &hi_[static_cast<size_t>(q * k_)];
    for (int64_t j = 0; j < cnt_[q]; ++j) out.push_back(Cand{S[j], I[j]});
    const auto& b = bands_[q];
    out.insert(out.end(), b.begin(), b.end());
  }
  bool inexact(int64_t q) const { return inexact_[q] != 0; }

 private:
  void sift_down(float* S, int32_t* I, float s, int32_t i) {
    int64_t pos = 0;
    for (;;) {
      int64_t l = 2 * pos + 1;
      if (l >= k_) break;
      int64_t r = l + 1;
      int64_t w = l;  // the worse child
      if (r < k_ && better(S[l], I[l], S[r], I[r])) w = r;
      if (better(s, i, S[w], I[w])) {
        // (s, i) beats the worse child, so the child is the worse of the three and moves up.
        S[pos] = S[w];
        I[pos] = I[w];
        pos = w;
      } else {
        break;
      }
    }
    S[pos] = s;
    I[pos] = i;
  }

  void update_thr(int64_t q) {
    float t = hs_[static_cast<size_t>(q * k_)];
    thr_[q] = std::isinf(t) && t < 0 ? t : float_at_or_below(static_cast<double>(t) - band_[q]);
  }

  void band_push(int64_t q, Cand c) {
    auto& b = bands_[q];
    b.push_back(c);
    if (b.size() <= cap_[q]) return;
    float t = thr_[q];
    b.erase(std::remove_if(b.begin(), b.end(), [t](const Cand& x) { return !(x.s >= t); }), b.end());
    if (b.size() > kBandCap) {
      std::nth_element(b.begin(), b.begin() + kBandCap, b.end(),
                       [](const Cand& x, const Cand& y) { return better(x.s, x.i, y.s, y.i); });
      b.resize(kBandCap);
      inexact_[q] = 1;
      // Everything below the kept band is gone for good: raise the threshold to match.
      float lo = b[0].s;
      for (const Cand& x : b) lo = std::min(lo, x.s);
      thr_[q] = std::max(thr_[q], lo);
    }
    cap_[q] = std::max<size_t>(64, 2 * b.size());
  }

  int64_t nq_ = 0, k_ = 0;
  std::vector<float> hs_;
  std::vector<int32_t> hi_;
  std::vector<int64_t> cnt_;
  std::vector<double> band_;
  std::vector<std::vector<Cand>> bands_;
  std::vector<size_t> cap_;
  std::vector<uint8_t> inexact_;
  std::vector<float> thr_;
};

}  // namespace vislens
