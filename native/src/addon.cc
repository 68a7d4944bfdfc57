// N-API bindings (node-addon-api) of the exact top-k search.
//
//   search(queries, dim, rows, dtype, scales, k, threads, isa) -> Promise<Result>   (libuv worker)
//   searchSync(same arguments) -> Result                                            (JS thread)
//   Result = { k, indices: Int32Array [nq*k], scores: Float32Array [nq*k], passes, threads,
//              exact, candidates, path, isa }
//   isaInfo() -> { best: string, supported: string[] }
//   f32ToF16(src: Float32Array, dst: Uint16Array), f16ToF32(src: Uint16Array, dst: Float32Array)
//   mapFile(path, offset, length, advice?) -> ArrayBuffer over that memory-mapped range (mapped.cc)
//
// queries: Float32Array [nq*dim]; rows: Float32Array (dtype "f32"), Uint16Array of IEEE half bits
// ("f16") or Int8Array ("i8", scales: Float32Array [nrows]; otherwise null). The typed arrays are
// read in place (never copied); the async variant holds references to them until it settles. Do not
// detach (transfer) or write to their buffers while a search is running. The TypeScript wrapper
// (src/bank/search) validates arguments with friendlier messages; the checks here keep the addon
// memory-safe when called directly.
#include <napi.h>

#include <limits>
#include <string>
#include <thread>

#include "mapped.h"
#include "search.h"

namespace {

using vislens::Isa;
using vislens::RowType;
using vislens::SearchInput;
using vislens::SearchStats;

struct Parsed {
  SearchInput in;
  Napi::Object queries, rows, scales;  // scales may be empty
};

[[noreturn]] void throw_type(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] void throw_range(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

int64_t integer_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi) {
  Napi::Env env = info.Env();
  if (!info[i].IsNumber()) throw_type(env, std::string(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v == static_cast<double>(static_cast<int64_t>(v))) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    throw_range(env, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "], got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

Napi::TypedArray typed_arg(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type type,
                           const char* type_name) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw_type(info.Env(), std::string(name) + " must be a " + type_name);
  return info[i].As<Napi::TypedArray>();
}

const void* data_of(const Napi::TypedArray& a) {
  Napi::ArrayBuffer buf = a.ArrayBuffer();
  return static_cast<const uint8_t*>(buf.Data()) + a.ByteOffset();
}

Parsed parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8) throw_type(env, "search(queries, dim, rows, dtype, scales, k, threads, isa): 8 arguments expected");
  Parsed p;
  Napi::TypedArray q = typed_arg(info, 0, "queries", napi_float32_array, "Float32Array");
  const int64_t dim = integer_arg(info, 1, "dim", 1, int64_t(1) << 30);
  if (!info[3].IsString()) throw_type(env, "dtype must be a string");
  const std::string dtype = info[3].As<Napi::String>().Utf8Value();
  RowType rt;
  Napi::TypedArray rows;
  if (dtype == "f32") {
    rt = RowType::F32;
    rows = typed_arg(info, 2, "rows", napi_float32_array, "Float32Array (dtype f32)");
  } else if (dtype == "f16") {
    rt = RowType::F16;
    rows = typed_arg(info, 2, "rows", napi_uint16_array, "Uint16Array of IEEE half bits (dtype f16)");
  } else if (dtype == "i8") {
    rt = RowType::I8;
    rows = typed_arg(info, 2, "rows", napi_int8_array, "Int8Array (dtype i8)");
  } else {
    throw_range(env, "dtype must be \"f32\", \"f16\" or \"i8\", got \"" + dtype + "\"");
  }
  const int64_t qlen = static_cast<int64_t>(q.ElementLength());
  const int64_t rlen = static_cast<int64_t>(rows.ElementLength());
  if (qlen % dim != 0) throw_range(env, "queries.length " + std::to_string(qlen) + " is not a multiple of dim " + std::to_string(dim));
  if (rlen % dim != 0) throw_range(env, "rows.length " + std::to_string(rlen) + " is not a multiple of dim " + std::to_string(dim));
  const int64_t nq = qlen / dim, nrows = rlen / dim;
  if (nrows > std::numeric_limits<int32_t>::max()) throw_range(env, "at most 2^31-1 rows are supported, got " + std::to_string(nrows));
  const float* scales = nullptr;
  if (rt == RowType::I8) {
    Napi::TypedArray s = typed_arg(info, 4, "scales", napi_float32_array, "Float32Array (one scale per int8 row)");
    if (static_cast<int64_t>(s.ElementLength()) != nrows)
      throw_range(env, "scales.length " + std::to_string(s.ElementLength()) + " != number of rows " + std::to_string(nrows));
    scales = static_cast<const float*>(data_of(s));
    p.scales = s;
  } else if (!info[4].IsNull() && !info[4].IsUndefined()) {
    throw_type(env, "scales must be null unless dtype is \"i8\"");
  }
  const int64_t k = integer_arg(info, 5, "k", 1, std::numeric_limits<int32_t>::max());
  const int64_t threads = integer_arg(info, 6, "threads", 1, 1024);
  if (!info[7].IsString()) throw_type(env, "isa must be a string");
  const std::string isa = info[7].As<Napi::String>().Utf8Value();
  Isa chosen;
  if (isa == "auto") chosen = vislens::best_isa();
  else if (isa == "avx512") chosen = Isa::Avx512;
  else if (isa == "avx2") chosen = Isa::Avx2;
  else if (isa == "scalar") chosen = Isa::Scalar;
  else throw_range(env, "isa must be \"auto\", \"avx512\", \"avx2\" or \"scalar\", got \"" + isa + "\"");
  if (!vislens::isa_supported(chosen)) throw_range(env, "isa \"" + isa + "\" is not supported by this CPU");
  const int64_t kout = vislens::output_k(k, nrows);
  if (nq * kout > (int64_t(1) << 31)) throw_range(env, "result too large: queries x k = " + std::to_string(nq * kout));

  p.in.queries = static_cast<const float*>(data_of(q));
  p.in.nq = nq;
  p.in.dim = dim;
  p.in.rtype = rt;
  p.in.rows = data_of(rows);
  p.in.scales = scales;
  p.in.nrows = nrows;
  p.in.k = k;
  p.in.threads = static_cast<int>(threads);
  p.in.isa = chosen;
  p.queries = q;
  p.rows = rows;
  return p;
}

Napi::Object make_result(Napi::Env env, const Parsed& p, const std::vector<int32_t>& idx, const std::vector<float>& sc,
                         const SearchStats& st) {
  const size_t n = idx.size();
  Napi::Int32Array I = Napi::Int32Array::New(env, n);
  Napi::Float32Array S = Napi::Float32Array::New(env, n);
  if (n) {
    std::memcpy(I.Data(), idx.data(), n * 4);
    std::memcpy(S.Data(), sc.data(), n * 4);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("k", Napi::Number::New(env, static_cast<double>(vislens::output_k(p.in.k, p.in.nrows))));
  o.Set("indices", I);
  o.Set("scores", S);
  o.Set("passes", Napi::Number::New(env, st.passes));
  o.Set("threads", Napi::Number::New(env, st.threads_used));
  o.Set("exact", Napi::Boolean::New(env, st.exact));
  o.Set("candidates", Napi::Number::New(env, static_cast<double>(st.candidates)));
  o.Set("path", Napi::String::New(env, st.path));
  o.Set("isa", Napi::String::New(env, vislens::isa_name(p.in.isa)));
  return o;
}

void run(const SearchInput& in, std::vector<int32_t>& idx, std::vector<float>& sc, SearchStats& st) {
  const size_t n = static_cast<size_t>(in.nq * vislens::output_k(in.k, in.nrows));
  idx.resize(n);
  sc.resize(n);
  vislens::search_topk(in, idx.data(), sc.data(), &st);
}

class SearchWorker : public Napi::AsyncWorker {
 public:
  SearchWorker(Napi::Env env, Parsed p)
      : Napi::AsyncWorker(env, "vislens.search"), deferred_(Napi::Promise::Deferred::New(env)), p_(p) {
    // Keep the input arrays (and so their buffers) alive until the worker settles.
    qref_ = Napi::Persistent(p_.queries);
    rref_ = Napi::Persistent(p_.rows);
    if (!p_.scales.IsEmpty()) sref_ = Napi::Persistent(p_.scales);
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      run(p_.in, idx_, sc_, st_);
    } catch (const std::exception& e) {
      SetError(std::string("vislens search failed: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(make_result(Env(), p_, idx_, sc_, st_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Parsed p_;
  Napi::ObjectReference qref_, rref_, sref_;
  std::vector<int32_t> idx_;
  std::vector<float> sc_;
  SearchStats st_;
};

Napi::Value Search(const Napi::CallbackInfo& info) {
  Parsed p = parse(info);
  auto* w = new SearchWorker(info.Env(), p);
  Napi::Promise promise = w->promise();
  w->Queue();
  return promise;
}

Napi::Value SearchSync(const Napi::CallbackInfo& info) {
  Parsed p = parse(info);
  std::vector<int32_t> idx;
  std::vector<float> sc;
  SearchStats st;
  try {
    run(p.in, idx, sc, st);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("vislens search failed: ") + e.what());
  }
  return make_result(info.Env(), p, idx, sc, st);
}

Napi::Value IsaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("best", Napi::String::New(env, vislens::isa_name(vislens::best_isa())));
  Napi::Array list = Napi::Array::New(env);
  uint32_t n = 0;
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar})
    if (vislens::isa_supported(isa)) list.Set(n++, Napi::String::New(env, vislens::isa_name(isa)));
  o.Set("supported", list);
  o.Set("hardwareThreads", Napi::Number::New(env, std::max(1u, std::thread::hardware_concurrency())));
  return o;
}

Napi::Value F32ToF16(const Napi::CallbackInfo& info) {
  Napi::TypedArray src = typed_arg(info, 0, "src", napi_float32_array, "Float32Array");
  Napi::TypedArray dst = typed_arg(info, 1, "dst", napi_uint16_array, "Uint16Array");
  if (src.ElementLength() != dst.ElementLength()) throw_range(info.Env(), "src and dst lengths differ");
  vislens::f32_to_f16(static_cast<const float*>(data_of(src)), static_cast<uint16_t*>(const_cast<void*>(data_of(dst))),
                      static_cast<int64_t>(src.ElementLength()));
  return info.Env().Undefined();
}

Napi::Value F16ToF32(const Napi::CallbackInfo& info) {
  Napi::TypedArray src = typed_arg(info, 0, "src", napi_uint16_array, "Uint16Array");
  Napi::TypedArray dst = typed_arg(info, 1, "dst", napi_float32_array, "Float32Array");
  if (src.ElementLength() != dst.ElementLength()) throw_range(info.Env(), "src and dst lengths differ");
  vislens::f16_to_f32(static_cast<const uint16_t*>(data_of(src)), static_cast<float*>(const_cast<void*>(data_of(dst))),
                      static_cast<int64_t>(src.ElementLength()));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("search", Napi::Function::New(env, Search, "search"));
  exports.Set("searchSync", Napi::Function::New(env, SearchSync, "searchSync"));
  exports.Set("isaInfo", Napi::Function::New(env, IsaInfo, "isaInfo"));
  exports.Set("f32ToF16", Napi::Function::New(env, F32ToF16, "f32ToF16"));
  exports.Set("f16ToF32", Napi::Function::New(env, F16ToF32, "f16ToF32"));
  exports.Set("mapFile", Napi::Function::New(env, vislens::MapFile, "mapFile"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(vislens_native, Init)
