// N-API adapter for the thread-pool backend: preadv2/pwritev2/fsync/
// fdatasync run on libuv's worker threads (uv_queue_work on Node's loop).
// Completions of one loop turn are gathered by a uv_check handle and handed
// to JS in one call. The promise layer lives in lib/threadpool.ts.
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "addon.h"
#include "busy_hold.h"
#include "js_errors.h"
#include "js_values.h"

namespace kaio {

class ThreadpoolWrap;

namespace {

// How long teardown waits for ops a worker thread has already started.
constexpr int kQuiesceTimeoutMs = 10000;

// Everything libuv may still call back into. It outlives the JS object when
// teardown leaves work queued: the last after-work callback frees it.
struct Pool {
  struct Req {
    uv_work_t work;
    Pool* pool;
    uint32_t id;
    uint32_t op;
    int fd;
    int rw_flags;
    int64_t offset;
    std::vector<iovec> iov;
    ssize_t result;
    bool busy;
  };

  std::vector<Req> reqs;
  std::vector<uint32_t> free;
  std::vector<std::pair<uint32_t, int32_t>> done;  // waiting for the batch call
  unsigned queued = 0;             // handed to libuv, after-work not yet run
  std::atomic<int> running{0};     // inside a worker's I/O now
  std::atomic<bool> abandoned{false};
  ThreadpoolWrap* owner = nullptr;  // null once the JS object is gone
};

void Work(uv_work_t* work) {
  auto* req = static_cast<Pool::Req*>(work->data);
  Pool* pool = req->pool;
  // Paired with teardown: either it sees us running and waits, or we see
  // the abandon flag and touch nothing.
  pool->running.fetch_add(1);
  if (pool->abandoned.load()) {
    req->result = -ECANCELED;
    pool->running.fetch_sub(1);
    return;
  }
  ssize_t r;
  do {
    switch (req->op) {
      case kBackendRead:
      case kBackendReadv:
        r = preadv2(req->fd, req->iov.data(), static_cast<int>(req->iov.size()), req->offset, req->rw_flags);
        break;
      case kBackendWrite:
      case kBackendWritev:
        r = pwritev2(req->fd, req->iov.data(), static_cast<int>(req->iov.size()), req->offset, req->rw_flags);
        break;
      case kBackendFsync:
        r = fsync(req->fd);
        break;
      case kBackendFdatasync:
        r = fdatasync(req->fd);
        break;
      default:
        r = -1;
        errno = EINVAL;
    }
  } while (r < 0 && errno == EINTR);
  req->result = r < 0 ? -errno : r;
  pool->running.fetch_sub(1);
}

}  // namespace

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
  static void AfterWork(uv_work_t* work, int status);
  static void OnCheck(uv_check_t* handle);
  static void OnEnvCleanup(void* self);

  Pool* pool_ = nullptr;
  uv_loop_t* loop_ = nullptr;
  uv_check_t* check_ = nullptr;
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
  napi_get_uv_event_loop(env, &loop_);

  pool_ = new Pool();
  pool_->owner = this;
  pool_->reqs.resize(entries);
  pool_->done.reserve(entries);
  for (unsigned i = entries; i-- > 0;) {
    pool_->reqs[i].pool = pool_;
    pool_->reqs[i].work.data = &pool_->reqs[i];
    pool_->free.push_back(i);
  }
  check_ = new uv_check_t;
  uv_check_init(loop_, check_);
  check_->data = this;

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
  napi_add_env_cleanup_hook(env, &ThreadpoolWrap::OnEnvCleanup, this);
  cleanup_hook_ = true;
}

// prep(op, fd, buf | [view, length, ...], position, rwFlags, id, checkedLength) -> 1 (queued on the
// pool), or 0 when every request is taken and the caller must queue.
Napi::Value ThreadpoolWrap::Prep(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!open_) ThrowErrno(info.Env(), -EBADF, "uv_queue_work");
  if (pool_->free.empty()) return Napi::Number::New(env, 0);
  uint32_t index = pool_->free.back();
  Pool::Req& req = pool_->reqs[index];
  req.op = ToU32(env, info[0]);
  req.fd = ToI32(env, info[1]);
  req.id = ToU32(env, info[5]);
  req.offset = 0;
  req.rw_flags = 0;
  req.iov.clear();
  if (req.op <= kBackendWritev) {
    bool vectored = req.op == kBackendReadv || req.op == kBackendWritev;
    ToIovecs(env, info[2], vectored, static_cast<size_t>(info[6].As<Napi::Number>().DoubleValue()), &req.iov);
    req.offset = ToPosition(env, info[3]);
    req.rw_flags = ToI32(env, info[4]);
  }
  int r = uv_queue_work(loop_, &req.work, Work, &ThreadpoolWrap::AfterWork);
  if (r < 0) ThrowErrno(env, r, "uv_queue_work");
  pool_->free.pop_back();
  req.busy = true;
  pool_->queued++;
  counters_[kBcSubmitted]++;
  counters_[kBcSubmitCalls]++;
  Started();
  return Napi::Number::New(env, 1);
}

// Work is queued by prep(); nothing waits here. Kept for the shared JS path.
Napi::Value ThreadpoolWrap::Submit(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), 0);
}

void ThreadpoolWrap::AfterWork(uv_work_t* work, int status) {
  auto* req = static_cast<Pool::Req*>(work->data);
  Pool* pool = req->pool;
  pool->queued--;
  req->busy = false;
  pool->free.push_back(static_cast<uint32_t>(req - pool->reqs.data()));
  req->iov.clear();
  ThreadpoolWrap* owner = pool->owner;
  if (!owner) {
    if (pool->queued == 0) delete pool;
    return;
  }
  int32_t res = status == UV_ECANCELED ? -ECANCELED : static_cast<int32_t>(req->result);
  pool->done.emplace_back(req->id, res);
  // Every after-work of this loop turn runs before the check phase.
  if (pool->done.size() == 1) uv_check_start(owner->check_, &ThreadpoolWrap::OnCheck);
}

void ThreadpoolWrap::OnCheck(uv_check_t* handle) {
  uv_check_stop(handle);
  static_cast<ThreadpoolWrap*>(handle->data)->Deliver();
}

void ThreadpoolWrap::Deliver() {
  std::vector<std::pair<uint32_t, int32_t>>& done = pool_->done;
  unsigned n = static_cast<unsigned>(done.size());
  if (n == 0) return;
  int32_t* out = out_;
  for (const auto& d : done) {
    out[0] = static_cast<int32_t>(d.first);
    out[1] = 0;
    out[2] = d.second;
    out[3] = 0;
    out += kCompletionInts;
  }
  done.clear();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  // Taken before Completed() may turn our references weak.
  napi_value fn = RefValue(env_, on_complete_);
  napi_value self = RefValue(env_, napi_ref(*this));
  // The JS call may drop the last reference; stay alive until we return.
  Ref();
  Completed(n);
  CallBatch(env_, fn, self, *async_context_, n);
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

void ThreadpoolWrap::Shutdown() {
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, &ThreadpoolWrap::OnEnvCleanup, this);
    cleanup_hook_ = false;
  }
  if (!pool_) return;
  open_ = false;
  Pool* pool = pool_;
  pool_ = nullptr;
  if (pool->queued > 0) {
    // Work not yet started is dropped; work a thread is in is waited for
    // (bounded), so no buffer is written after the environment frees it.
    pool->abandoned.store(true);
    for (Pool::Req& req : pool->reqs)
      if (req.busy) uv_cancel(reinterpret_cast<uv_req_t*>(&req.work));
    int64_t deadline = MonotonicMs() + kQuiesceTimeoutMs;
    while (pool->running.load() > 0 && MonotonicMs() < deadline) usleep(1000);
  }
  pool->owner = nullptr;
  pool->done.clear();
  if (pool->queued == 0) delete pool;
  uv_check_stop(check_);
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
  check_ = nullptr;
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
