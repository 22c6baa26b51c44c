// N-API adapter for rm -r's per-directory step (core/dir_unlink.h): runs it
// as async work on libuv's thread pool. The work owns copies of everything
// it touches (the path, its output), so nothing of JavaScript's is read off
// the main thread.
#include <string>
#include <vector>

#include "../core/dir_unlink.h"
#include "addon.h"

namespace kaio {

namespace {

class UnlinkEntriesWork : public Napi::AsyncWorker {
 public:
  UnlinkEntriesWork(Napi::Env env, std::string dir, size_t root_len, bool rmdir)
      : Napi::AsyncWorker(env, "kaio:unlinkEntries"), deferred_(Napi::Promise::Deferred::New(env)), dir_(std::move(dir)), root_len_(root_len), rmdir_(rmdir) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { result_ = UnlinkEntries(dir_, root_len_, rmdir_, &out_, &rmdir_result_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_ < 0) {
      deferred_.Resolve(Napi::Number::New(env, result_));
      return;
    }
    Napi::Array both = Napi::Array::New(env, 2);
    both.Set(0u, Napi::Number::New(env, rmdir_result_));
    both.Set(1u, Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size()));
    deferred_.Resolve(both);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string dir_;
  size_t root_len_;
  bool rmdir_;
  std::vector<uint8_t> out_;
  int result_ = 0;
  int rmdir_result_ = 1;
};

// unlinkEntries(dir: Buffer (the path's bytes, no NUL inside), rmdir: boolean[, rootLen: number])
//   -> Promise<[rmdirResult, entries: Buffer] | -errno> (core/dir_unlink.h)
Napi::Value UnlinkEntriesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<char> dir = info[0].As<Napi::Buffer<char>>();
  double root = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  size_t root_len = root >= 1 && root < static_cast<double>(dir.Length()) ? static_cast<size_t>(root) : 0;
  auto* work = new UnlinkEntriesWork(env, std::string(dir.Data(), dir.Length()), root_len, info[1].ToBoolean().Value());
  Napi::Promise p = work->Promise();
  work->Queue();
  return p;
}

}  // namespace

void InitDirUnlink(Napi::Env env, Napi::Object exports) {
  exports.Set("unlinkEntries", Napi::Function::New(env, UnlinkEntriesJs, "unlinkEntries"));
}

}  // namespace kaio
