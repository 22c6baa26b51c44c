// N-API adapter for core/bench_loop.h: kaio bench's native inner loop on
// io_uring (lib/bench/engines/native-loop.ts is its only caller). The arrays
// and buffers JavaScript passes at construction are held by reference for
// the object's life; run() is one blocking call that returns a status.
#include <cerrno>
#include <cmath>

#include "../core/bench_loop.h"
#include "addon.h"
#include "js_errors.h"

namespace kaio {

namespace {

double* BenchLoopWrapF64(const Napi::CallbackInfo& info, size_t at, size_t* len) {
  if (!info[at].IsTypedArray() || info[at].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(info.Env(), "expected a Float64Array");
  Napi::Float64Array a = info[at].As<Napi::Float64Array>();
  *len = a.ElementLength();
  return a.Data();
}

class BenchLoopWrap : public Napi::ObjectWrap<BenchLoopWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BenchLoop",
                       {InstanceMethod<&BenchLoopWrap::Run>("run"), InstanceMethod<&BenchLoopWrap::Close>("close"),
                        InstanceMethod<&BenchLoopWrap::FixedOps>("fixedOps")});
  }

  // new BenchLoop(options, input Float64Array, output Float64Array, state Float64Array,
  //               buffers Buffer[], stopFlag Int32Array|null, termFlag Int32Array|null)
  explicit BenchLoopWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BenchLoopWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    double* in = F64(info, 1, &in_len_);
    double* out = F64(info, 2, &out_len_);
    size_t state_len = 0;
    double* state = F64(info, 3, &state_len);
    if (state_len < kBsSlots) throw Napi::RangeError::New(env, "state too short");
    if (!info[4].IsArray()) throw Napi::TypeError::New(env, "buffers must be an array");
    Napi::Array bufs = info[4].As<Napi::Array>();
    BenchLoopOptions opt;
    opt.depth = U32(o, "depth");
    if (bufs.Length() == 0 || bufs.Length() > 16384) throw Napi::RangeError::New(env, "1 to 16384 buffers");
    for (uint32_t i = 0; i < bufs.Length(); i++) {
      void* data = nullptr;
      size_t len = 0;
      if (!ViewBytes(env, bufs.Get(i), &data, &len) || len == 0) throw Napi::TypeError::New(env, "buffers must be non-empty views");
      opt.buffers.push_back(data);
      opt.buffer_sizes.push_back(len);
    }
    opt.aio = Bool(o, "aio");
    opt.uring.entries = U32(o, "entries");
    opt.uring.cq_entries = U32(o, "cqEntries");
    opt.uring.sqpoll = Bool(o, "sqpoll");
    opt.uring.iopoll = Bool(o, "iopoll");
    opt.fd = static_cast<int>(U32(o, "fd"));
    opt.register_file = Bool(o, "registerFile");
    opt.fixed_buffers = Bool(o, "fixedBuffers");
    opt.batch_submit = U32(o, "batchSubmit");
    opt.complete_min = U32(o, "completeMin");
    opt.complete_max = U32(o, "completeMax");
    opt.stamp_prep = Bool(o, "stampPrep");
    opt.stamp_submit = Bool(o, "stampSubmit");
    opt.stamp_reap = Bool(o, "stampReap");
    opt.scramble = Bool(o, "scramble");
    opt.low_water = U32(o, "lowWater");
    opt.uring.defer_taskrun = true;  // as fio's io_uring engine
    opt.uring.defer_wake_eventfd = false;  // the loop waits inside io_uring_enter
    opt.stop_flag = Flag(info, 5);
    opt.term_flag = Flag(info, 6);
    // The histograms: [read slat, clat, lat, write slat, clat, lat], each a
    // Float64Array of fio's buckets or null; their stats, 2 * 3 * kBenchHistStats.
    Napi::Value hv = o.Get("hists");
    if (!hv.IsArray() || hv.As<Napi::Array>().Length() != 6) throw Napi::TypeError::New(env, "options.hists must be an array of 6");
    Napi::Array hists = hv.As<Napi::Array>();
    Napi::Value sv = o.Get("histStats");
    if (!sv.IsTypedArray() || sv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        sv.As<Napi::Float64Array>().ElementLength() < 2 * 3 * kBenchHistStats)
      throw Napi::TypeError::New(env, "options.histStats must be a Float64Array of 30");
    opt.hist_stats = sv.As<Napi::Float64Array>().Data();
    for (uint32_t i = 0; i < 6; i++) {
      Napi::Value h = hists.Get(i);
      if (h.IsNull()) continue;
      if (!h.IsTypedArray() || h.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
          h.As<Napi::Float64Array>().ElementLength() < kBenchPlatNr)
        throw Napi::TypeError::New(env, "options.hists[i] must be null or a Float64Array of fio's buckets");
      opt.hist[i / 3][i % 3] = h.As<Napi::Float64Array>().Data();
    }
    // Keep what the loop points into alive.
    refs_ = Napi::Persistent(Napi::Array::New(env, 8));
    for (uint32_t i = 1; i <= 6; i++) refs_.Value().Set(i - 1, info[i]);
    refs_.Value().Set(6u, hists);
    refs_.Value().Set(7u, sv);
    loop_.reset(new BenchLoop(in, static_cast<unsigned>(in_len_ / kBenchInStride), out, static_cast<unsigned>(out_len_ / kBenchOutStride), state));
    const char* what = nullptr;
    int r = loop_->Setup(opt, &what);
    if (r < 0) {
      loop_->Close();
      loop_.reset();
      ThrowErrno(env, r, what ? what : "io_uring_setup");
    }
  }

  ~BenchLoopWrap() override {
    if (loop_) loop_->Close();
  }

 private:
  // run() -> BenchStatus (>= 0); a failed io_uring_enter throws.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    if (!loop_) throw Napi::Error::New(info.Env(), "BenchLoop is closed");
    int r = loop_->Run();
    if (r < 0) ThrowErrno(info.Env(), r, "io_uring_enter");
    return Napi::Number::New(info.Env(), r);
  }

  // close(): waits for the ops in flight, closes the ring. Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (loop_) {
      loop_->Close();
      fixed_ops_ = loop_->fixed_ops();
      loop_.reset();
    }
    refs_.Reset();
    return info.Env().Undefined();
  }

  Napi::Value FixedOps(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(loop_ ? loop_->fixed_ops() : fixed_ops_));
  }

  static double* F64(const Napi::CallbackInfo& info, size_t at, size_t* len) { return BenchLoopWrapF64(info, at, len); }

  static const int32_t* Flag(const Napi::CallbackInfo& info, size_t at) {
    if (info[at].IsNull() || info[at].IsUndefined()) return nullptr;
    if (!info[at].IsTypedArray() || info[at].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[at].As<Napi::Int32Array>().ElementLength() < 1)
      throw Napi::TypeError::New(info.Env(), "expected an Int32Array");
    return info[at].As<Napi::Int32Array>().Data();
  }

  static uint32_t U32(Napi::Object o, const char* key) {
    Napi::Value v = o.Get(key);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= 0 && d <= 4294967295.0) || d != std::floor(d))
      throw Napi::RangeError::New(o.Env(), std::string("options.") + key + " must be an integer >= 0");
    return static_cast<uint32_t>(d);
  }

  static bool Bool(Napi::Object o, const char* key) { return o.Get(key).ToBoolean().Value(); }

  std::unique_ptr<BenchLoop> loop_;
  Napi::Reference<Napi::Array> refs_;
  size_t in_len_ = 0;
  size_t out_len_ = 0;
  uint64_t fixed_ops_ = 0;
};

// benchNow() -> CLOCK_MONOTONIC in ns (the loop's clock, for JavaScript to relate to performance.now()).
Napi::Value BenchNow(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), BenchLoop::Now());
}

// benchHistRecord(counts Float64Array, stats Float64Array, samples Float64Array):
// the samples (ns) into the histogram as the loop records them (for tests:
// the same buckets and stats as lib/bench/histogram.ts's Histogram.record).
Napi::Value BenchHistRecordJs(const Napi::CallbackInfo& info) {
  size_t n_counts = 0, n_stats = 0, n = 0;
  double* counts = BenchLoopWrapF64(info, 0, &n_counts);
  double* stats = BenchLoopWrapF64(info, 1, &n_stats);
  double* samples = BenchLoopWrapF64(info, 2, &n);
  if (n_counts < kBenchPlatNr || n_stats < kBenchHistStats) throw Napi::RangeError::New(info.Env(), "counts or stats too short");
  for (size_t i = 0; i < n; i++) BenchHistRecord(counts, stats, samples[i]);
  return info.Env().Undefined();
}

}  // namespace

void InitBench(Napi::Env env, Napi::Object exports) {
  exports.Set("BenchLoop", BenchLoopWrap::Define(env));
  exports.Set("benchNow", Napi::Function::New(env, BenchNow, "benchNow"));
  exports.Set("benchHistRecord", Napi::Function::New(env, BenchHistRecordJs, "benchHistRecord"));
}

}  // namespace kaio
