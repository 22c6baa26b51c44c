// N-API adapter for copyFile's native step (core/copy_range.h): runs it as
// async work on libuv's thread pool, as js_dir_unlink.cc does rm -r's step.
// The work owns copies of the two paths, so nothing of JavaScript's is read
// off the main thread.
#include <string>

#include "../core/copy_range.h"
#include "addon.h"

namespace kaio {

namespace {

class CopyFileWork : public Napi::AsyncWorker {
 public:
  CopyFileWork(Napi::Env env, std::string src, std::string dest, int mode)
      : Napi::AsyncWorker(env, "kaio:copyFile"),
        deferred_(Napi::Promise::Deferred::New(env)),
        src_(std::move(src)),
        dest_(std::move(dest)),
        mode_(mode) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = CopyFile(src_, dest_, mode_, &moved_); }

  // -errno, or (done) the ways the bytes went: one number, no array.
  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), result_ < 0 ? result_ : moved_)); }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string src_;
  std::string dest_;
  int mode_;
  int result_ = 0;
  int moved_ = 0;
};

// copyFile(src: Buffer, dest: Buffer (each a path's bytes, no NUL inside), mode: 0..7)
//   -> Promise<-errno | how the bytes went (kMoved* bits, >= 0)> (core/copy_range.h)
Napi::Value CopyFileJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> src = info[0].As<Napi::Buffer<char>>();
  Napi::Buffer<char> dest = info[1].As<Napi::Buffer<char>>();
  int mode = info[2].As<Napi::Number>().Int32Value();
  auto* work = new CopyFileWork(env, std::string(src.Data(), src.Length()), std::string(dest.Data(), dest.Length()), mode & 7);
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

}  // namespace

void InitCopyRange(Napi::Env env, Napi::Object exports) {
  exports.Set("copyFile", Napi::Function::New(env, CopyFileJs, "copyFile"));
}

}  // namespace kaio
