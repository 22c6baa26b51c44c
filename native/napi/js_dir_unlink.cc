// N-API adapter for rm -r's walk below the path it was given
// (core/dir_unlink.h): runs it as async work on libuv's thread pool. The
// work owns copies of everything it touches (the path, its error), so
// nothing of JavaScript's is read off the main thread.
#include <string>

#include "../core/dir_unlink.h"
#include "addon.h"

namespace kaio {

namespace {

class RemoveChildrenWork : public Napi::AsyncWorker {
 public:
  RemoveChildrenWork(Napi::Env env, std::string dir)
      : Napi::AsyncWorker(env, "kaio:rmChildren"), deferred_(Napi::Promise::Deferred::New(env)), dir_(std::move(dir)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { ok_ = RemoveChildren(dir_, &error_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (ok_) {
      deferred_.Resolve(Napi::Number::New(env, 0));
      return;
    }
    Napi::Array e = Napi::Array::New(env, 3);
    e.Set(0u, Napi::Number::New(env, -error_.err));
    e.Set(1u, Napi::Number::New(env, error_.syscall));
    e.Set(2u, Napi::Buffer<char>::Copy(env, error_.path.data(), error_.path.size()));
    deferred_.Resolve(e);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string dir_;
  bool ok_ = false;
  RmError error_;
};

// rmChildren(dir: Buffer (the path's bytes, no NUL inside))
//   -> Promise<0 | [-errno, syscall (0 rmdir, 1 unlink, 2 scandir), path: Buffer]> (core/dir_unlink.h)
Napi::Value RemoveChildrenJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> dir = info[0].As<Napi::Buffer<char>>();
  auto* work = new RemoveChildrenWork(env, std::string(dir.Data(), dir.Length()));
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

// _rmHook(when: number, name, from, to, link: strings): core/dir_unlink.h's
// test hook (tests only; name '' disarms it).
Napi::Value RmHookJs(const Napi::CallbackInfo& info) {
  auto str = [&](size_t i) { return info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string(); };
  SetRmHook(info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1, str(1), str(2), str(3), str(4));
  return info.Env().Undefined();
}

}  // namespace

void InitDirUnlink(Napi::Env env, Napi::Object exports) {
  exports.Set("rmChildren", Napi::Function::New(env, RemoveChildrenJs, "rmChildren"));
  exports.Set("_rmHook", Napi::Function::New(env, RmHookJs, "_rmHook"));
}

}  // namespace kaio
