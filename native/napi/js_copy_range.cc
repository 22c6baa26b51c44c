// N-API adapter for copyFile's data step (core/copy_range.h): runs it as
// async work on libuv's thread pool, as js_dir_unlink.cc does rm -r's step.
// The work holds only numbers (two fds the caller keeps open until the
// promise settles, a size), so nothing of JavaScript's is read off the main
// thread.
#include <cstdint>

#include "../core/copy_range.h"
#include "addon.h"

namespace kaio {

namespace {

class CopyRangeWork : public Napi::AsyncWorker {
 public:
  CopyRangeWork(Napi::Env env, int src, int dst, int64_t size, bool clone, bool clone_force)
      : Napi::AsyncWorker(env, "kaio:copyRange"),
        deferred_(Napi::Promise::Deferred::New(env)),
        src_(src),
        dst_(dst),
        size_(size),
        clone_(clone),
        clone_force_(clone_force) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = CopyRange(src_, dst_, size_, clone_, clone_force_, &copied_, &refused_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Number::New(env, result_));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(copied_)));
    out.Set(2u, Napi::Number::New(env, refused_));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int src_;
  int dst_;
  int64_t size_;
  bool clone_;
  bool clone_force_;
  int result_ = 0;
  int64_t copied_ = 0;
  int refused_ = 0;
};

// copyRange(src: fd, dst: fd, size: safe integer >= 0, clone: boolean, cloneForce: boolean)
//   -> Promise<[result (0 done, 1 fall back, or -errno), bytes copied, errno refused]> (core/copy_range.h)
Napi::Value CopyRangeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int src = info[0].As<Napi::Number>().Int32Value();
  int dst = info[1].As<Napi::Number>().Int32Value();
  double size = info[2].As<Napi::Number>().DoubleValue();
  if (src < 0 || dst < 0 || !(size >= 0) || size > 9007199254740991.0) {
    Napi::TypeError::New(env, "copyRange: bad fd or size").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* work = new CopyRangeWork(env, src, dst, static_cast<int64_t>(size), info[3].ToBoolean().Value(), info[4].ToBoolean().Value());
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

}  // namespace

void InitCopyRange(Napi::Env env, Napi::Object exports) {
  exports.Set("copyRange", Napi::Function::New(env, CopyRangeJs, "copyRange"));
}

}  // namespace kaio
