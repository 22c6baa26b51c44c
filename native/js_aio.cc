// N-API adapter for one Linux AIO context. It only translates: JS values to
// iocbs, io_events to a preallocated Int32Array, and one JS call per batch.
// The promise layer (slot table, queueing, errors) lives in lib/aio.ts.
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "addon.h"
#include "aio.h"
#include "busy_hold.h"
#include "js_errors.h"
#include "js_values.h"
#include "poller.h"

namespace kaio {

class AioWrap : public Napi::ObjectWrap<AioWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AioWrap(const Napi::CallbackInfo& info);
  ~AioWrap() override { Shutdown(); }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Prep(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  int Flush();
  unsigned ReapInto();
  void Started();
  void Completed(unsigned n);
  void SyncCounters();
  void Dispatch();
  void Shutdown();
  static void OnReadable(void* self);
  static void OnEnvCleanup(void* self);

  Aio aio_;
  Poller poller_;
  napi_env env_ = nullptr;
  bool cleanup_hook_ = false;
  Napi::FunctionReference on_complete_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Napi::Reference<Napi::Int32Array> out_ref_;
  int32_t* out_ = nullptr;
  unsigned out_capacity_ = 0;  // in completions
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double* counters_ = nullptr;
  BusyHold hold_;  // see busy_hold.h

  // One iocb (and its iovec array) per op the context may hold; the kernel
  // reads both at io_submit and reports the iocb's address in io_event.obj.
  std::vector<abi::Iocb> iocbs_;
  std::vector<std::vector<iovec>> iovs_;
  std::vector<uint32_t> free_;
  std::vector<abi::Iocb*> pending_;  // prepared, not yet accepted by io_submit
  std::vector<std::pair<uint32_t, int32_t>> failed_;  // refused by io_submit
  uint64_t in_flight_ = 0;  // prepared and not yet reported to JS
  uint64_t in_kernel_ = 0;  // accepted by io_submit, no io_event reaped yet
};

Napi::Function AioWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeAio",
                     {
                         InstanceMethod<&AioWrap::Info>("info"),
                         InstanceMethod<&AioWrap::Prep>("prep"),
                         InstanceMethod<&AioWrap::Submit>("submit"),
                         InstanceMethod<&AioWrap::Close>("close"),
                     });
}

// new NativeAio({ entries, userRing }, onComplete, completions: Int32Array, counters: Float64Array)
AioWrap::AioWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AioWrap>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  Napi::Object o = info[0].As<Napi::Object>();
  unsigned entries = o.Get("entries").As<Napi::Number>().Uint32Value();
  bool user_ring = o.Get("userRing").ToBoolean();
  Napi::Int32Array out = info[2].As<Napi::Int32Array>();
  Napi::Float64Array counters = info[3].As<Napi::Float64Array>();
  if (entries == 0 || out.ElementLength() < entries * kCompletionInts || counters.ElementLength() < kBcSlots)
    throw Napi::RangeError::New(env, "completion or counter array too small");

  int r = aio_.Setup(entries, user_ring);
  if (r < 0) ThrowErrno(env, r, "io_setup");

  // Weak while idle: the callback closes over the JS context, and a strong
  // reference from here would keep an unused context alive forever.
  on_complete_ = Napi::Weak(info[1].As<Napi::Function>());
  hold_.Bind(this, &on_complete_, &poller_);
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "kaio:AioContext");
  out_ref_ = Napi::Persistent(out);
  out_ = out.Data();
  out_capacity_ = static_cast<unsigned>(out.ElementLength() / kCompletionInts);
  counters_ref_ = Napi::Persistent(counters);
  counters_ = counters.Data();

  iocbs_.resize(entries);
  iovs_.resize(entries);
  free_.reserve(entries);
  for (unsigned i = entries; i-- > 0;) free_.push_back(i);
  pending_.reserve(entries);
  failed_.reserve(entries);

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  r = poller_.Start(loop, aio_.eventfd(), false, &AioWrap::OnReadable, this);
  if (r < 0) {
    aio_.Destroy();
    ThrowErrno(env, r, "uv_poll_init");
  }
  napi_add_env_cleanup_hook(env, &AioWrap::OnEnvCleanup, this);
  cleanup_hook_ = true;
}

Napi::Value AioWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("entries", static_cast<double>(iocbs_.size()));
  o.Set("eventfd", aio_.eventfd());
  o.Set("userRing", aio_.user_ring());
  return o;
}

// prep(op, fd, buf | [view, length, ...], position, rwFlags, id, checkedLength) -> 1, or 0 when every
// iocb is taken and the caller must queue.
Napi::Value AioWrap::Prep(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!aio_.is_open()) ThrowErrno(info.Env(), -EBADF, "io_submit");
  if (free_.empty()) return Napi::Number::New(env, 0);
  uint32_t op = ToU32(env, info[0]);
  uint32_t index = free_.back();
  abi::Iocb& cb = iocbs_[index];
  std::memset(&cb, 0, sizeof cb);
  cb.aio_data = ToU32(env, info[5]);
  cb.aio_fildes = static_cast<uint32_t>(ToI32(env, info[1]));
  switch (op) {
    case kBackendRead:
    case kBackendWrite:
    case kBackendReadv:
    case kBackendWritev: {
      bool vectored = op == kBackendReadv || op == kBackendWritev;
      std::vector<iovec>& iov = iovs_[index];
      ToIovecs(env, info[2], vectored, static_cast<size_t>(info[6].As<Napi::Number>().DoubleValue()), &iov);
      if (vectored) {
        cb.aio_lio_opcode = op == kBackendReadv ? abi::kIocbCmdPreadv : abi::kIocbCmdPwritev;
        cb.aio_buf = reinterpret_cast<uintptr_t>(iov.data());
        cb.aio_nbytes = iov.size();
      } else {
        cb.aio_lio_opcode = op == kBackendRead ? abi::kIocbCmdPread : abi::kIocbCmdPwrite;
        cb.aio_buf = reinterpret_cast<uintptr_t>(iov[0].iov_base);
        cb.aio_nbytes = iov[0].iov_len;
      }
      cb.aio_offset = ToPosition(env, info[3]);
      cb.aio_rw_flags = ToI32(env, info[4]);
      break;
    }
    case kBackendFsync:
      cb.aio_lio_opcode = abi::kIocbCmdFsync;
      break;
    case kBackendFdatasync:
      cb.aio_lio_opcode = abi::kIocbCmdFdsync;
      break;
    default:
      throw Napi::TypeError::New(env, "unknown op");
  }
  aio_.Arm(&cb);
  free_.pop_back();
  pending_.push_back(&cb);
  Started();
  return Napi::Number::New(env, 1);
}

// Hands pending iocbs to the kernel. An iocb io_submit refuses outright
// (EBADF, EINVAL...) fails alone; EAGAIN means the context is full, and the
// rest waits for completions to make room. Returns -EAGAIN only when nothing
// is in the kernel to make that room.
int AioWrap::Flush() {
  size_t done = 0;
  while (done < pending_.size()) {
    int r = aio_.Submit(pending_.data() + done, static_cast<long>(pending_.size() - done));
    if (r > 0) {
      done += static_cast<size_t>(r);
      in_kernel_ += static_cast<uint64_t>(r);
      counters_[kBcSubmitted] += r;
      continue;
    }
    if (r == -EAGAIN || r == 0) break;
    abi::Iocb* cb = pending_[done];
    failed_.emplace_back(static_cast<uint32_t>(cb->aio_data), r);
    free_.push_back(static_cast<uint32_t>(cb - iocbs_.data()));
    done++;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(done));
  SyncCounters();
  return !pending_.empty() && in_kernel_ == 0 ? -EAGAIN : 0;
}

// Copies refused ops and ready io_events into the shared Int32Array.
unsigned AioWrap::ReapInto() {
  if (!aio_.is_open()) return 0;
  int32_t* out = out_;
  unsigned n = 0;
  auto put = [&](uint32_t id, int32_t res) {
    out[0] = static_cast<int32_t>(id);
    out[1] = 0;
    out[2] = res;
    out[3] = 0;
    out += kCompletionInts;
    n++;
  };
  size_t f = 0;
  for (; f < failed_.size() && n < out_capacity_; f++) put(failed_[f].first, failed_[f].second);
  failed_.erase(failed_.begin(), failed_.begin() + static_cast<long>(f));
  unsigned reaped = aio_.Reap(
      [&](const abi::IoEvent& ev) {
        auto* cb = reinterpret_cast<abi::Iocb*>(static_cast<uintptr_t>(ev.obj));
        free_.push_back(static_cast<uint32_t>(cb - iocbs_.data()));
        put(static_cast<uint32_t>(ev.data), static_cast<int32_t>(ev.res));
      },
      out_capacity_ - n);
  in_kernel_ -= reaped;
  if (n) Completed(n);
  // Reaping made room: queued iocbs go in now, their refusals next round.
  if (!pending_.empty()) Flush();
  SyncCounters();
  return n;
}

// submit() -> completions copied to the shared array (JS delivers them), or
// -EAGAIN when the context is full and nothing in it will free a place.
Napi::Value AioWrap::Submit(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!aio_.is_open()) return Napi::Number::New(env, -EBADF);
  int r = Flush();
  if (r < 0 && failed_.empty()) return Napi::Number::New(env, r);
  // Buffered AIO usually completes inside io_submit: deliver it now rather
  // than after another trip through the loop.
  return Napi::Number::New(env, ReapInto());
}

void AioWrap::Started() {
  in_flight_++;
  counters_[kBcInFlight] = static_cast<double>(in_flight_);
  hold_.Take();
}

void AioWrap::Completed(unsigned n) {
  in_flight_ -= n;
  counters_[kBcCompleted] += n;
  counters_[kBcInFlight] = static_cast<double>(in_flight_);
  if (in_flight_ == 0) hold_.Drop();
}

void AioWrap::SyncCounters() {
  counters_[kBcSubmitCalls] = static_cast<double>(aio_.submit_calls());
  counters_[kBcGeteventsCalls] = static_cast<double>(aio_.getevents_calls());
  counters_[kBcPending] = static_cast<double>(pending_.size());
}

void AioWrap::OnReadable(void* self) { static_cast<AioWrap*>(self)->Dispatch(); }

void AioWrap::Dispatch() {
  aio_.ClearEventfd();
  if (!hold_.held()) return;  // a wake-up for completions already reaped
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  // Taken before Completed() may turn our references weak.
  napi_value fn = RefValue(env_, on_complete_);
  napi_value self = RefValue(env_, napi_ref(*this));
  // The JS call may drop the last reference; stay alive until we return.
  Ref();
  while (aio_.is_open()) {
    unsigned n = ReapInto();
    if (n == 0) break;
    CallBatch(env_, fn, self, *async_context_, n);
  }
  Unref();
  napi_close_handle_scope(env_, scope);
}

void AioWrap::Shutdown() {
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, &AioWrap::OnEnvCleanup, this);
    cleanup_hook_ = false;
  }
  poller_.Close();
  // io_destroy waits for every op the kernel holds, so the iocbs, iovecs
  // and buffers may be released afterwards.
  aio_.Destroy();
  pending_.clear();
  failed_.clear();
  in_kernel_ = 0;
}

void AioWrap::OnEnvCleanup(void* self) {
  auto* wrap = static_cast<AioWrap*>(self);
  wrap->cleanup_hook_ = false;  // hooks are removed by the environment
  wrap->Shutdown();
}

Napi::Value AioWrap::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  hold_.Drop();
  in_flight_ = 0;
  if (counters_) counters_[kBcInFlight] = 0;
  return info.Env().Undefined();
}

// aioProbe() -> 0 when io_setup works here, else an errno-shaped Error.
Napi::Value AioProbe(const Napi::CallbackInfo& info) {
  int r = ProbeAio();
  if (r == 0) return Napi::Number::New(info.Env(), 0);
  return ErrnoError(info.Env(), r, "io_setup").Value();
}

void InitAio(Napi::Env env, Napi::Object exports) {
  exports.Set("Aio", AioWrap::Define(env));
  exports.Set("aioProbe", Napi::Function::New(env, AioProbe, "aioProbe"));
}

}  // namespace kaio
