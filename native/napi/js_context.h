// What the three N-API adapters (js_ring.cc, js_aio.cc, js_threadpool.cc)
// share: the JS completion callback, the completion and counter arrays JS
// preallocated, the count of ops in flight and what it keeps alive (busy
// hold), the environment cleanup hook, the external-memory charge, and the
// delivery of completions as one JS call per batch.
//
// The derived class T defines Shutdown() (idempotent: stop, let the kernel
// or threads go, free) and declares `friend class JsContext<T>`.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/backend_op.h"
#include "../core/poller.h"
#include "busy_hold.h"
#include "external_memory.h"
#include "js_errors.h"
#include "js_args.h"

namespace kaio {

// Float64Array counters shared with JS (lib/binding.ts BackendCounter).
enum BackendCounter {
  kBcSubmitted = 0,
  kBcCompleted = 1,
  kBcSubmitCalls = 2,
  kBcLockedOps = 3,
  kBcInFlight = 4,
  kBcGeteventsCalls = 5,
  kBcPending = 6,
  kBcSlots = 8,
};

// Each completion reaches JS as four int32 (as the ring's CQEs): user_data
// low, user_data high, res, flags.
constexpr unsigned kCompletionInts = 4;

// Calls fn(count) with recv as `this`, in an async context, for one batch of
// completions. Raw N-API on purpose: while a worker is being terminated
// these calls fail, and the wrappers would turn that failure into a fatal
// error; here a failed call just delivers nothing.
inline void CallBatch(napi_env env, napi_value fn, napi_value recv, napi_async_context context, unsigned count) {
  napi_value arg;
  napi_value result;
  if (fn == nullptr || recv == nullptr || napi_create_uint32(env, count, &arg) != napi_ok) return;
  napi_status st = napi_make_callback(env, context, recv, fn, 1, &arg, &result);
  if (st != napi_pending_exception) return;
  // The JS side settles promises without throwing; anything that still
  // escapes goes to 'uncaughtException' like any callback's error.
  napi_value error;
  if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
}

// The value of a reference, or nullptr (no exception) when it cannot be had.
inline napi_value RefValue(napi_env env, napi_ref ref) {
  napi_value v = nullptr;
  if (ref == nullptr || napi_get_reference_value(env, ref, &v) != napi_ok) return nullptr;
  return v;
}

// Counter slots every adapter's Float64Array has (lib/binding.ts).
enum SharedCounter : unsigned {
  kCounterSubmitted = 0,
  kCounterCompleted = 1,
  kCounterInFlight = 4,
  kSharedCounterSlots = 8,
};

template <typename T>
class JsContext : public Napi::ObjectWrap<T> {
 public:
  explicit JsContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info), env_(info.Env()) {}

 protected:
  // The constructor's JS arguments: info[1] the completion callback,
  // info[2] the completion Int32Array (at least `completions` entries of four
  // int32), info[3] the counter Float64Array. Throws a RangeError before
  // anything is set up if an array is too small.
  static void CheckArrays(const Napi::CallbackInfo& info, size_t completions) {
    if (info[2].As<Napi::Int32Array>().ElementLength() < completions * kCompletionInts ||
        info[3].As<Napi::Float64Array>().ElementLength() < kSharedCounterSlots)
      throw Napi::RangeError::New(info.Env(), "completion or counter array too small");
  }

  // Binds the JS side once the native resource is set up; `poller` (if any)
  // is referenced exactly while ops are in flight.
  void BindJs(const Napi::CallbackInfo& info, const char* resource, Poller* poller, int64_t external_bytes) {
    // Weak while idle: the callback closes over the JS object, and a strong
    // reference from here would keep an unused one alive forever. Strong
    // while ops are in flight (Started), so completions have somewhere to go.
    on_complete_ = Napi::Weak(info[1].As<Napi::Function>());
    hold_.Bind(this, &on_complete_, poller);
    async_context_ = std::make_unique<Napi::AsyncContext>(env_, resource);
    Napi::Int32Array out = info[2].As<Napi::Int32Array>();
    out_ref_ = Napi::Persistent(out);
    out_ = out.Data();
    out_capacity_ = static_cast<unsigned>(out.ElementLength() / kCompletionInts);
    Napi::Float64Array counters = info[3].As<Napi::Float64Array>();
    counters_ref_ = Napi::Persistent(counters);
    counters_ = counters.Data();
    external_.Charge(env_, external_bytes);
    napi_add_env_cleanup_hook(env_, &JsContext::OnEnvCleanup, this);
    cleanup_hook_ = true;
  }

  // First thing in T::Shutdown().
  void EndJs() {
    if (cleanup_hook_) {
      napi_remove_env_cleanup_hook(env_, &JsContext::OnEnvCleanup, this);
      cleanup_hook_ = false;
    }
    external_.Release();
  }

  void Started(unsigned n = 1) {
    in_flight_ += n;
    counters_[kCounterInFlight] = static_cast<double>(in_flight_);
    hold_.Take();
  }

  void Completed(unsigned n) {
    in_flight_ -= n;
    counters_[kCounterCompleted] += n;
    counters_[kCounterInFlight] = static_cast<double>(in_flight_);
    if (in_flight_ == 0) hold_.Drop();
  }

  // Writes one completion (user_data low/high, res, flags) at *out.
  static void PutCompletion(int32_t*& out, uint32_t low, uint32_t high, int32_t res, uint32_t flags) {
    out[0] = static_cast<int32_t>(low);
    out[1] = static_cast<int32_t>(high);
    out[2] = res;
    out[3] = static_cast<int32_t>(flags);
    out += kCompletionInts;
  }

  // Calls JS once for each batch reap() copies into the completion array
  // (until it returns 0). Raw N-API on purpose: while a worker is being
  // terminated these calls fail, and a failure must mean "deliver nothing",
  // not a fatal error (CallBatch above).
  template <typename Reap>
  void Deliver(Reap&& reap) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
    // Taken first: reaping the last op drops the strong references that keep
    // the JS side alive, and the next allocation could collect it.
    napi_value fn = RefValue(env_, on_complete_);
    napi_value self = RefValue(env_, napi_ref(*this));
    // fn and self are held by this handle scope until the end.
    BusyHold::Deferral deferral(hold_, in_flight_);
    // The JS call may drop the last reference; stay alive until we return.
    this->Ref();
    for (;;) {
      unsigned n = reap();
      if (n == 0) break;
      CallBatch(env_, fn, self, *async_context_, n);
    }
    this->Unref();
    napi_close_handle_scope(env_, scope);
  }

  // close() from JS: shut down, and nothing is in flight any more.
  void CloseJs() {
    static_cast<T*>(this)->Shutdown();
    hold_.DropNow();
    in_flight_ = 0;
    if (counters_) counters_[kCounterInFlight] = 0;
  }

  napi_env env_;
  Napi::FunctionReference on_complete_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Napi::Reference<Napi::Int32Array> out_ref_;
  int32_t* out_ = nullptr;
  unsigned out_capacity_ = 0;  // in completions
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double* counters_ = nullptr;
  uint64_t in_flight_ = 0;  // ops handed to native whose completion JS has not had
  BusyHold hold_;           // see busy_hold.h

 private:
  static void OnEnvCleanup(void* self) {
    auto* context = static_cast<JsContext*>(self);
    context->cleanup_hook_ = false;  // hooks are removed by the environment
    static_cast<T*>(context)->Shutdown();
  }

  bool cleanup_hook_ = false;
  ExternalMemory external_;
};

}  // namespace kaio
