// N-API adapter for the thread-pool backend: preadv2/pwritev2/fsync/
// fdatasync on kaio's own worker threads (native/offload.h), through
// kaio-owned bounce buffers. Completions reach the JS thread through a
// uv_async_t and are handed to JS in one call per wake-up. The promise
// layer lives in lib/threadpool.ts.
#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "addon.h"
#include "busy_hold.h"
#include "external_memory.h"
#include "js_errors.h"
#include "js_values.h"
#include "offload.h"

namespace kaio {

class ThreadpoolWrap : public Napi::ObjectWrap<ThreadpoolWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ThreadpoolWrap(const Napi::CallbackInfo& info);
  ~ThreadpoolWrap() override { Shutdown(); }

 private:
  Napi::Value Prep(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Started();
  void Completed(unsigned n);
  void Deliver();
  void Shutdown();
  static void OnReady(void* self);
  static void OnEnvCleanup(void* self);

  Offload offload_;
  std::vector<uint32_t> free_;
  unsigned out_capacity_ = 0;
  napi_env env_ = nullptr;
  bool cleanup_hook_ = false;
  bool open_ = false;
  Napi::FunctionReference on_complete_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Napi::Reference<Napi::Int32Array> out_ref_;
  int32_t* out_ = nullptr;
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double* counters_ = nullptr;
  uint64_t in_flight_ = 0;
  BusyHold hold_;  // see busy_hold.h
  ExternalMemory external_;
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
ThreadpoolWrap::ThreadpoolWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ThreadpoolWrap>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  unsigned entries = info[0].As<Napi::Object>().Get("entries").As<Napi::Number>().Uint32Value();
  Napi::Int32Array out = info[2].As<Napi::Int32Array>();
  Napi::Float64Array counters = info[3].As<Napi::Float64Array>();
  if (entries == 0 || out.ElementLength() < entries * kCompletionInts || counters.ElementLength() < kBcSlots)
    throw Napi::RangeError::New(env, "completion or counter array too small");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int r = offload_.Start(loop, entries, &ThreadpoolWrap::OnReady, this);
  if (r < 0) ThrowErrno(env, r, "uv_async_init");
  free_.reserve(entries);
  for (unsigned i = entries; i-- > 0;) free_.push_back(i);
  out_capacity_ = entries;

  // Weak while idle: the callback closes over the JS context, and a strong
  // reference from here would keep an unused context alive forever.
  on_complete_ = Napi::Weak(info[1].As<Napi::Function>());
  hold_.Bind(this, &on_complete_);
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "kaio:ThreadpoolContext");
  out_ref_ = Napi::Persistent(out);
  out_ = out.Data();
  counters_ref_ = Napi::Persistent(counters);
  counters_ = counters.Data();
  open_ = true;
  external_.Charge(env, ThreadpoolExternalCost(entries));
  napi_add_env_cleanup_hook(env, &ThreadpoolWrap::OnEnvCleanup, this);
  cleanup_hook_ = true;
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

void ThreadpoolWrap::OnReady(void* self) { static_cast<ThreadpoolWrap*>(self)->Deliver(); }

void ThreadpoolWrap::Deliver() {
  // A late wake-up for completions already delivered: the JS object may be
  // waiting for its finalizer by now, so touch no reference.
  if (!open_ || !hold_.held()) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  // Taken before Completed() may turn our references weak.
  napi_value fn = RefValue(env_, on_complete_);
  napi_value self = RefValue(env_, napi_ref(*this));
  // The JS call may drop the last reference; stay alive until we return.
  Ref();
  while (open_) {
    int32_t* out = out_;
    unsigned n = offload_.Collect(
        env_,
        [&](uint32_t slot, uint32_t id, int32_t res) {
          free_.push_back(slot);
          out[0] = static_cast<int32_t>(id);
          out[1] = 0;
          out[2] = res;
          out[3] = 0;
          out += kCompletionInts;
        },
        out_capacity_);
    if (n == 0) break;
    Completed(n);
    CallBatch(env_, fn, self, *async_context_, n);
  }
  Unref();
  napi_close_handle_scope(env_, scope);
}

void ThreadpoolWrap::Started() {
  in_flight_++;
  counters_[kBcInFlight] = static_cast<double>(in_flight_);
  hold_.Take();
}

void ThreadpoolWrap::Completed(unsigned n) {
  in_flight_ -= n;
  counters_[kBcCompleted] += n;
  counters_[kBcInFlight] = static_cast<double>(in_flight_);
  if (in_flight_ == 0) hold_.Drop();
}

// Never waits: ops a thread is still in are abandoned to it (offload.h).
void ThreadpoolWrap::Shutdown() {
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, &ThreadpoolWrap::OnEnvCleanup, this);
    cleanup_hook_ = false;
  }
  open_ = false;
  offload_.Shutdown(env_);
  external_.Release();
}

void ThreadpoolWrap::OnEnvCleanup(void* self) {
  auto* wrap = static_cast<ThreadpoolWrap*>(self);
  wrap->cleanup_hook_ = false;
  wrap->Shutdown();
}

Napi::Value ThreadpoolWrap::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  hold_.Drop();
  in_flight_ = 0;
  if (counters_) counters_[kBcInFlight] = 0;
  return info.Env().Undefined();
}

void InitThreadpool(Napi::Env env, Napi::Object exports) {
  exports.Set("Threadpool", ThreadpoolWrap::Define(env));
}

}  // namespace kaio
