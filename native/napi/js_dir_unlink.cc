// N-API adapter for rm -r's walk below the path it was given
// (core/dir_unlink.h): each step runs as async work on libuv's thread pool.
// The work owns copies of everything it touches (paths, names, its error),
// so nothing of JavaScript's is read off the main thread. A directory held
// between the steps is an External that keeps its fds (closed by
// rmChildrenEnd, or when the External is collected); each work keeps a
// reference to the External it uses.
#include <string>
#include <vector>

#include "../core/dir_unlink.h"
#include "addon.h"

namespace kaio {

namespace {

using Held = Napi::External<RmDirHandle>;

Napi::Value ErrorArray(Napi::Env env, const RmError& e) {
  Napi::Array a = Napi::Array::New(env, 3);
  a.Set(0u, Napi::Number::New(env, -e.err));
  a.Set(1u, Napi::Number::New(env, e.syscall));
  a.Set(2u, Napi::Buffer<char>::Copy(env, e.path.data(), e.path.size()));
  return a;
}

class RmWork : public Napi::AsyncWorker {
 public:
  explicit RmWork(Napi::Env env) : Napi::AsyncWorker(env, "kaio:rmChildren"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 protected:
  Napi::Promise::Deferred deferred_;
  RmError error_;
};

// rmChildrenBegin(dir: Buffer) -> Promise<0 | [-errno, syscall, path] | [held, dirs: Buffer[], firstError | 0]>
class BeginWork : public RmWork {
 public:
  BeginWork(Napi::Env env, std::string dir) : RmWork(env), dir_(std::move(dir)), h_(new RmDirHandle()) {}
  ~BeginWork() override {
    if (h_ != nullptr) {
      CloseRmDir(h_);
      delete h_;
    }
  }

  void Execute() override { result_ = RemoveChildrenBegin(dir_, h_, &dirs_, &error_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_ == kRmDone) return deferred_.Resolve(Napi::Number::New(env, 0));
    if (result_ == kRmFailed) return deferred_.Resolve(ErrorArray(env, error_));
    RmDirHandle* h = h_;
    h_ = nullptr;
    Held held = Held::New(env, h, [](Napi::Env, RmDirHandle* p) {
      CloseRmDir(p);
      delete p;
    });
    Napi::Array dirs = Napi::Array::New(env, dirs_.size());
    for (size_t i = 0; i < dirs_.size(); i++) dirs.Set(static_cast<uint32_t>(i), Napi::Buffer<char>::Copy(env, dirs_[i].data(), dirs_[i].size()));
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, held);
    out.Set(1u, dirs);
    out.Set(2u, error_.err != 0 ? ErrorArray(env, error_) : Napi::Number::New(env, 0));
    deferred_.Resolve(out);
  }

 private:
  std::string dir_;
  RmDirHandle* h_;
  std::vector<std::string> dirs_;
  int result_ = kRmFailed;
};

// rmSubtree(held, name: Buffer) / rmChildrenEnd(held, rmdir: boolean) -> Promise<0 | [-errno, syscall, path]>
class HeldWork : public RmWork {
 public:
  HeldWork(Napi::Env env, Held held, std::string name, bool end, bool rmdir)
      : RmWork(env), ref_(Napi::Persistent(held)), h_(held.Data()), name_(std::move(name)), end_(end), rmdir_(rmdir) {}

  void Execute() override { ok_ = end_ ? RemoveChildrenEnd(h_, rmdir_, &error_) : RemoveSubtree(*h_, name_, &error_); }

  void OnOK() override {
    Napi::Env env = Env();
    ref_.Reset();
    if (ok_) return deferred_.Resolve(Napi::Number::New(env, 0));
    deferred_.Resolve(ErrorArray(env, error_));
  }

 private:
  Napi::Reference<Held> ref_;
  RmDirHandle* h_;
  std::string name_;
  bool end_;
  bool rmdir_;
  bool ok_ = false;
};

Napi::Value BeginJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> dir = info[0].As<Napi::Buffer<char>>();
  auto* work = new BeginWork(env, std::string(dir.Data(), dir.Length()));
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

Napi::Value SubtreeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> name = info[1].As<Napi::Buffer<char>>();
  auto* work = new HeldWork(env, info[0].As<Held>(), std::string(name.Data(), name.Length()), false, false);
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

Napi::Value EndJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* work = new HeldWork(env, info[0].As<Held>(), std::string(), true, info[1].ToBoolean().Value());
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
  exports.Set("rmChildrenBegin", Napi::Function::New(env, BeginJs, "rmChildrenBegin"));
  exports.Set("rmSubtree", Napi::Function::New(env, SubtreeJs, "rmSubtree"));
  exports.Set("rmChildrenEnd", Napi::Function::New(env, EndJs, "rmChildrenEnd"));
  exports.Set("_rmHook", Napi::Function::New(env, RmHookJs, "_rmHook"));
}

}  // namespace kaio
