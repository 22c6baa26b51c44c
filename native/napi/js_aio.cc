// N-API adapter for one Linux AIO context. It only translates: JS values to
// iocbs, io_events to a preallocated Int32Array, and one JS call per batch.
// The promise layer (slot table, queueing, errors) lives in lib/aio.ts.
//
// io_submit does a read or write on a pipe, socket or character device
// inline, blocking the event loop until it can finish (and a worker in that
// state cannot be terminated). Such ops never reach io_submit: prep checks
// the fd's type and runs them on kaio's worker threads (js_offload.h) instead,
// with the same completion path; only regular files and block devices go
// to the kernel's AIO.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "../core/aio.h"
#include "../core/poller.h"
#include "addon.h"
#include "js_context.h"
#include "js_offload.h"

namespace kaio {

class AioWrap : public JsContext<AioWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AioWrap(const Napi::CallbackInfo& info);
  ~AioWrap() override { Shutdown(); }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Prep(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  friend class JsContext<AioWrap>;
  int Flush();
  void ResolvePending();
  void Forget(uint32_t index);
  unsigned ReapInto();
  void SyncCounters();
  void Dispatch();
  void Shutdown();
  static void OnReadable(void* self);

  Aio aio_;
  Poller poller_;
  JsOffload offload_;  // ops on fds that AIO would block on

  // One iocb (and its iovec array) per op the context may hold; the kernel
  // reads both at io_submit and reports the iocb's address in io_event.obj.
  std::vector<abi::Iocb> iocbs_;
  std::vector<std::vector<iovec>> iovs_;
  // A read or write's memory, by iocb index, from prep() until io_submit
  // takes it: the view (or JS's private [view, length, ...] copy of a list)
  // in a JS array, the byte length JS checked at the call. The addresses go
  // into the iocb only right before io_submit (ResolvePending), so a view
  // shrunk or detached in between fails its op with EFAULT.
  Napi::Reference<Napi::Array> memory_ref_;
  std::vector<size_t> checked_;
  std::vector<uint32_t> free_;
  std::vector<abi::Iocb*> pending_;  // prepared, not yet accepted by io_submit
  std::vector<std::pair<uint32_t, int32_t>> failed_;  // refused by io_submit
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
AioWrap::AioWrap(const Napi::CallbackInfo& info) : JsContext<AioWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  unsigned entries = o.Get("entries").As<Napi::Number>().Uint32Value();
  bool user_ring = o.Get("userRing").ToBoolean();
  if (entries == 0) throw Napi::RangeError::New(env, "entries must be at least 1");
  CheckArrays(info, entries);

  int r = aio_.Setup(entries, user_ring);
  if (r < 0) ThrowErrno(env, r, "io_setup");

  iocbs_.resize(entries);
  iovs_.resize(entries);
  checked_.resize(entries);
  memory_ref_ = Napi::Persistent(Napi::Array::New(env, entries));
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
  r = offload_.Start(loop, entries, &AioWrap::OnReadable, this);
  if (r < 0) {
    poller_.Close();
    aio_.Destroy();
    ThrowErrno(env, r, "uv_async_init");
  }
  BindJs(info, "kaio:AioContext", &poller_, AioExternalCost(entries));
}

Napi::Value AioWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("entries", static_cast<double>(iocbs_.size()));
  o.Set("eventfd", aio_.eventfd());
  o.Set("userRing", aio_.user_ring());
  return o;
}

// prep(op, fd, buf | [view, length, ...], position, rwFlags, id, checkedLength[, ioprio]) -> 1, or 0
// when every iocb is taken and the caller must queue. A non-zero ioprio (class << 13 | hint << 3 |
// level) goes in aio_reqprio with IOCB_FLAG_IOPRIO, for reads and writes.
Napi::Value AioWrap::Prep(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!aio_.is_open()) ThrowErrno(info.Env(), -EBADF, "io_submit");
  if (free_.empty()) return Napi::Number::New(env, 0);
  uint32_t op = ToU32(env, info[0]);
  uint32_t index = free_.back();
  if (op <= kBackendWritev) {
    int fd = ToI32(env, info[1]);
    struct stat st;
    // fstat failing (EBADF...) leaves the op to io_submit, which reports it.
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
      // A stream has no offset: like AIO, read it at its current position
      // (a character device that takes offsets gets the one asked for).
      if (!offload_.Queue(env, index, ToU32(env, info[5]), op, fd, info[2],
                          static_cast<size_t>(info[6].As<Napi::Number>().DoubleValue()), ToPosition(env, info[3]),
                          ToI32(env, info[4]), true, true))
        throw Napi::TypeError::New(env, "buffers must be ArrayBufferViews");
      free_.pop_back();
      counters_[kBcSubmitted]++;
      Started();
      return Napi::Number::New(env, 1);
    }
  }
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
      if (vectored)
        cb.aio_lio_opcode = op == kBackendReadv ? abi::kIocbCmdPreadv : abi::kIocbCmdPwritev;
      else
        cb.aio_lio_opcode = op == kBackendRead ? abi::kIocbCmdPread : abi::kIocbCmdPwrite;
      // The memory itself is looked up at submission (ResolvePending).
      if (napi_set_element(env, memory_ref_.Value(), index, info[2]) != napi_ok)
        throw Napi::Error::New(env, "cannot hold the op's memory");
      checked_[index] = static_cast<size_t>(info[6].As<Napi::Number>().DoubleValue());
      cb.aio_offset = ToPosition(env, info[3]);
      cb.aio_rw_flags = ToI32(env, info[4]);
      if (info.Length() > 7) {
        uint32_t prio = ToU32(env, info[7]);
        if (prio > 0xffff) throw Napi::RangeError::New(env, "ioprio out of range");
        if (prio) {
          cb.aio_reqprio = static_cast<int16_t>(prio);
          cb.aio_flags |= abi::kIocbFlagIoprio;
        }
      }
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

// True for the iocbs whose memory ResolvePending looks up.
static bool TakesMemory(const abi::Iocb& cb) {
  return cb.aio_lio_opcode == abi::kIocbCmdPread || cb.aio_lio_opcode == abi::kIocbCmdPwrite ||
         cb.aio_lio_opcode == abi::kIocbCmdPreadv || cb.aio_lio_opcode == abi::kIocbCmdPwritev;
}

// Lets go of the JS memory of iocb `index` (io_submit took or refused it).
void AioWrap::Forget(uint32_t index) {
  napi_value undefined;
  napi_get_undefined(env_, &undefined);
  napi_set_element(env_, memory_ref_.Value(), index, undefined);
}

// Puts each pending read's or write's memory into its iocb, as it is now:
// JS ran since prep() (at least the rest of the caller's tick), and a view
// it shrank or detached meanwhile must not be handed to the kernel at its
// old length. Such an op (any view of a list) fails here with EFAULT, with
// no syscall: nothing is read or written, not even the views still whole.
// Runs just before io_submit, with a handle scope open (a JS call, or
// Deliver); if N-API fails (a worker being terminated), the op faults too.
void AioWrap::ResolvePending() {
  napi_env env = env_;
  napi_value memory = memory_ref_.Value();
  size_t kept = 0;
  for (abi::Iocb* cb : pending_) {
    if (!TakesMemory(*cb)) {
      pending_[kept++] = cb;
      continue;
    }
    auto index = static_cast<uint32_t>(cb - iocbs_.data());
    bool vectored = cb->aio_lio_opcode == abi::kIocbCmdPreadv || cb->aio_lio_opcode == abi::kIocbCmdPwritev;
    std::vector<iovec>& iov = iovs_[index];
    napi_value v = nullptr;
    bool fault = napi_get_element(env, memory, index, &v) != napi_ok;
    if (!fault) {
      ToIovecs(env, v, vectored, checked_[index], &iov);
      for (const iovec& e : iov) fault |= e.iov_len && !e.iov_base;
    }
    if (fault) {
      failed_.emplace_back(static_cast<uint32_t>(cb->aio_data), -EFAULT);
      Forget(index);
      free_.push_back(index);
      continue;
    }
    if (vectored) {
      cb->aio_buf = reinterpret_cast<uintptr_t>(iov.data());
      cb->aio_nbytes = iov.size();
    } else {
      cb->aio_buf = reinterpret_cast<uintptr_t>(iov[0].iov_base);
      cb->aio_nbytes = iov[0].iov_len;
    }
    pending_[kept++] = cb;
  }
  pending_.resize(kept);
}

// Hands pending iocbs to the kernel. An iocb io_submit refuses outright
// (EBADF, EINVAL...) fails alone; EAGAIN means the context is full, and the
// rest waits for completions to make room. Returns -EAGAIN only when nothing
// is in the kernel to make that room.
int AioWrap::Flush() {
  size_t failed_before = failed_.size();
  ResolvePending();
  size_t done = 0;
  while (done < pending_.size()) {
    int r = aio_.Submit(pending_.data() + done, static_cast<long>(pending_.size() - done));
    if (r > 0) {
      for (int i = 0; i < r; i++) {
        abi::Iocb* cb = pending_[done + static_cast<size_t>(i)];
        if (TakesMemory(*cb)) Forget(static_cast<uint32_t>(cb - iocbs_.data()));
      }
      done += static_cast<size_t>(r);
      in_kernel_ += static_cast<uint64_t>(r);
      counters_[kBcSubmitted] += r;
      continue;
    }
    if (r == -EAGAIN || r == 0) break;
    abi::Iocb* cb = pending_[done];
    failed_.emplace_back(static_cast<uint32_t>(cb->aio_data), r);
    auto index = static_cast<uint32_t>(cb - iocbs_.data());
    if (TakesMemory(*cb)) Forget(index);
    free_.push_back(index);
    done++;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(done));
  // Failures signal no eventfd: wake the loop, so they are delivered even
  // when nothing else is in the kernel (Dispatch reaps failed_ first).
  if (failed_.size() > failed_before) aio_.Wake();
  SyncCounters();
  return !pending_.empty() && in_kernel_ == 0 ? -EAGAIN : 0;
}

// Copies refused ops and ready io_events into the shared Int32Array.
unsigned AioWrap::ReapInto() {
  if (!aio_.is_open()) return 0;
  int32_t* out = out_;
  unsigned n = 0;
  auto put = [&](uint32_t id, int32_t res) {
    PutCompletion(out, id, 0, res, 0);
    n++;
  };
  size_t f = 0;
  for (; f < failed_.size() && n < out_capacity_; f++) put(failed_[f].first, failed_[f].second);
  failed_.erase(failed_.begin(), failed_.begin() + static_cast<long>(f));
  if (offload_.in_flight() && n < out_capacity_)
    offload_.Collect(
        env_,
        [&](uint32_t slot, uint32_t id, int32_t res) {
          free_.push_back(slot);
          put(id, res);
        },
        out_capacity_ - n);
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
  offload_.Flush();
  int r = Flush();
  if (r < 0 && failed_.empty()) return Napi::Number::New(env, r);
  // Buffered AIO usually completes inside io_submit: deliver it now rather
  // than after another trip through the loop.
  return Napi::Number::New(env, ReapInto());
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
  Deliver([&]() { return ReapInto(); });
}

void AioWrap::Shutdown() {
  EndJs();
  poller_.Close();
  // Ops on worker threads are abandoned to them; nothing waits for those.
  offload_.Shutdown(env_);
  // With ops still in the kernel (an environment torn down mid-flight),
  // io_destroy must wait for them here: their iocbs, iovecs and buffers are
  // released next. With none, only the kernel's own teardown is left, which
  // may take long: off this thread (see Aio::DestroyInBackground).
  if (in_kernel_ == 0)
    aio_.DestroyInBackground();
  else
    aio_.Destroy();
  pending_.clear();
  failed_.clear();
  in_kernel_ = 0;
}

Napi::Value AioWrap::Close(const Napi::CallbackInfo& info) {
  CloseJs();
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
