// N-API adapter for the thread-pool backend: preadv2/pwritev2/fsync/
// fdatasync on kaio's own worker threads (core/offload.h, js_offload.h), through
// kaio-owned bounce buffers. Completions reach the JS thread through a
// uv_async_t and are handed to JS in one call per wake-up. The promise
// layer lives in lib/threadpool.ts.
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "addon.h"
#include "js_context.h"
#include "js_offload.h"

namespace kaio {

class ThreadpoolWrap : public JsContext<ThreadpoolWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ThreadpoolWrap(const Napi::CallbackInfo& info);
  ~ThreadpoolWrap() override { Shutdown(); }

 private:
  Napi::Value Prep(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  friend class JsContext<ThreadpoolWrap>;
  void Dispatch();
  void Shutdown();
  static void OnReady(void* self);

  JsOffload offload_;
  std::vector<uint32_t> free_;
  bool open_ = false;
};

Napi::Function ThreadpoolWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeThreadpool",
                     {
                         InstanceMethod<&ThreadpoolWrap::Prep>("prep"),
                         InstanceMethod<&ThreadpoolWrap::Submit>("submit"),
                         InstanceMethod<&ThreadpoolWrap::Close>("close"),
                     });
}

// new NativeThreadpool({ entries }, onComplete, completions: Int32Array, counters: Float64Array)
ThreadpoolWrap::ThreadpoolWrap(const Napi::CallbackInfo& info) : JsContext<ThreadpoolWrap>(info) {
  Napi::Env env = info.Env();
  unsigned entries = info[0].As<Napi::Object>().Get("entries").As<Napi::Number>().Uint32Value();
  if (entries == 0) throw Napi::RangeError::New(env, "entries must be at least 1");
  CheckArrays(info, entries);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int r = offload_.Start(loop, entries, &ThreadpoolWrap::OnReady, this);
  if (r < 0) ThrowErrno(env, r, "uv_async_init");
  free_.reserve(entries);
  for (unsigned i = entries; i-- > 0;) free_.push_back(i);
  open_ = true;
  BindJs(info, "kaio:ThreadpoolContext", nullptr, ThreadpoolExternalCost(entries));
}

// prep(op, fd, buf | [view, length, ...], position, rwFlags, id, checkedLength) -> 1 (queued on the
// workers), or 0 when every place is taken and the caller must queue.
Napi::Value ThreadpoolWrap::Prep(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!open_) ThrowErrno(info.Env(), -EBADF, "preadv2");
  if (free_.empty()) return Napi::Number::New(env, 0);
  uint32_t op = ToU32(env, info[0]);
  if (op > kBackendFdatasync) throw Napi::TypeError::New(env, "unknown op");
  int fd = ToI32(env, info[1]);
  int64_t position = -1;
  int rw_flags = 0;
  if (op <= kBackendWritev) {
    position = ToPosition(env, info[3]);
    rw_flags = ToI32(env, info[4]);
  }
  struct stat st;
  bool stream = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
  uint32_t slot = free_.back();
  size_t checked = static_cast<size_t>(info[6].As<Napi::Number>().DoubleValue());
  if (!offload_.Queue(env, slot, ToU32(env, info[5]), op, fd, info[2], checked, position, rw_flags, stream, false))
    throw Napi::TypeError::New(env, "buffers must be ArrayBufferViews");
  free_.pop_back();
  counters_[kBcSubmitted]++;
  counters_[kBcSubmitCalls]++;
  Started();
  return Napi::Number::New(env, 1);
}

// Hands what prep() took to the worker threads; completions come later
// through the async handle.
Napi::Value ThreadpoolWrap::Submit(const Napi::CallbackInfo& info) {
  if (open_) offload_.Flush();
  return Napi::Number::New(info.Env(), 0);
}

void ThreadpoolWrap::OnReady(void* self) { static_cast<ThreadpoolWrap*>(self)->Dispatch(); }

void ThreadpoolWrap::Dispatch() {
  // A late wake-up for completions already delivered: the JS object may be
  // waiting for its finalizer by now, so touch no reference.
  if (!open_ || !hold_.held()) return;
  Deliver([&]() -> unsigned {
    if (!open_) return 0;
    int32_t* out = out_;
    unsigned n = offload_.Collect(
        env_,
        [&](uint32_t slot, uint32_t id, int32_t res) {
          free_.push_back(slot);
          PutCompletion(out, id, 0, res, 0);
        },
        out_capacity_);
    if (n) Completed(n);
    return n;
  });
}

// Never waits: ops a thread is still in are abandoned to it (core/offload.h).
void ThreadpoolWrap::Shutdown() {
  EndJs();
  open_ = false;
  offload_.Shutdown(env_);
}

Napi::Value ThreadpoolWrap::Close(const Napi::CallbackInfo& info) {
  CloseJs();
  return info.Env().Undefined();
}

void InitThreadpool(Napi::Env env, Napi::Object exports) {
  exports.Set("Threadpool", ThreadpoolWrap::Define(env));
}

}  // namespace kaio
