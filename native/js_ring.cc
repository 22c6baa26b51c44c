// N-API adapter for one io_uring instance. It only translates: JS values to
// SQE fields, CQEs to a preallocated Int32Array, and one JS call per batch.
// The promise layer (slot table, queueing, errors) lives in lib/ring.ts.
#include <sys/poll.h>
#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cmath>
#include <memory>
#include <vector>

#include "addon.h"
#include "busy_hold.h"
#include "js_errors.h"
#include "js_values.h"
#include "poller.h"
#include "uring.h"

namespace kaio {

namespace {

// Layout of the Float64Array JS hands us for counters (see lib/binding.ts).
enum Counter {
  kSubmitted,
  kCompleted,
  kEnterCalls,
  kFixedOps,
  kInFlight,
  kCounterSlots,
};

// Each CQE is copied out as four int32: user_data low, user_data high, res, flags.
constexpr unsigned kCqeInts = 4;

// Each staged op (the batch API's prep*) is six doubles JS writes without a
// native call: op | sqeFlags << 8, fd, offset (-1: current position),
// op flags, user_data low, user_data high. Its buffer (a view, or an array of
// views for readv/writev) sits at the same index of the staged-buffer array.
constexpr unsigned kStageFields = 6;

// user_data of ops kaio issues for itself (cancel-all at teardown); their
// CQEs are never shown to JS.
constexpr uint64_t kInternalUserData = ~0ull;

// How long teardown waits for the kernel to finish ops it could not cancel.
constexpr int kQuiesceTimeoutMs = 10000;

uint64_t ToUserData(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return static_cast<uint64_t>(d);
}

// A position (number or bigint) as the SQE's off; -1 becomes ~0, which the
// kernel reads as "the file's current position".
uint64_t ToOffset(napi_env env, napi_value v) {
  return static_cast<uint64_t>(ToPosition(env, v));
}

// Staged buffers are nearly always Buffers (Uint8Array): one N-API call that
// skips the ArrayBuffer handle, instead of ViewBytes' type test plus info.
void ByteViewBytes(napi_env env, napi_value v, void** data, size_t* len) {
  napi_typedarray_type type;
  size_t count;
  if (napi_get_typedarray_info(env, v, &type, &count, data, nullptr, nullptr) == napi_ok &&
      (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array)) {
    *len = count;
    return;
  }
  ViewBytes(env, v, data, len);
}


}  // namespace

class RingWrap : public Napi::ObjectWrap<RingWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit RingWrap(const Napi::CallbackInfo& info);
  ~RingWrap() override { Shutdown(); }

 private:
  // A registered buffer table slice: `count` buffers of `size` bytes from `base`.
  struct Region {
    uintptr_t base;
    size_t size;
    unsigned count;
    unsigned first_index;
  };

  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value RegisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value UnregisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value RegisterFiles(const Napi::CallbackInfo& info);
  Napi::Value UpdateFiles(const Napi::CallbackInfo& info);
  Napi::Value UnregisterFiles(const Napi::CallbackInfo& info);
  int EnsureBufferTable(const iovec* first, unsigned count);
  int FreeBufferRun(unsigned count) const;
  int UpdateBuffers(unsigned offset, const iovec* iov, unsigned count);
  Napi::Value Prep(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value SubmitAndWait(const Napi::CallbackInfo& info);
  Napi::Value Reap(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetStaging(const Napi::CallbackInfo& info);
  Napi::Value FillStaged(const Napi::CallbackInfo& info);
  Napi::Value SubmitAndReap(const Napi::CallbackInfo& info);
  bool FillStagedOps(napi_env env, unsigned count);
  void FillStagedSqe(napi_env env, napi_value bufs, unsigned i);

  bool FillSqe(napi_env env, const Napi::CallbackInfo& info, uint8_t op);
  bool CollectIovecs(napi_env env, napi_value list, int* region);
  int FindFixed(uintptr_t addr, size_t len) const;
  unsigned ReapInto();
  void Completed(unsigned n);
  void Started();
  void SyncCounters();
  void Dispatch();
  void Quiesce();
  void Shutdown();
  static void OnReadable(void* self);
  static void OnEnvCleanup(void* self);

  Uring ring_;
  Poller poller_;
  napi_env env_ = nullptr;
  bool cleanup_hook_ = false;
  Napi::FunctionReference on_complete_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  Napi::Reference<Napi::Int32Array> cq_ref_;
  int32_t* cq_out_ = nullptr;
  unsigned cq_capacity_ = 0;  // in CQEs
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double* counters_ = nullptr;
  uint64_t in_flight_ = 0;
  uint32_t last_sq_head_ = 0;  // SQEs handed out whose CQE has not been reaped
  BusyHold hold_;  // see busy_hold.h
  bool supported_[256] = {};
  std::vector<Region> regions_;  // sorted by first_index
  // How the buffer table was registered: none yet, a sparse table of
  // kMaxRegisteredBuffers slots (5.19+, any number of pools), or the first
  // pool's buffers alone (older kernels: one pool at a time).
  enum class BufferTable { kNone, kSparse, kSingle } buffer_table_ = BufferTable::kNone;
  // iovec arrays of queued readv/writev SQEs, by SQE index. With
  // IORING_FEAT_SUBMIT_STABLE the kernel has copied them once it consumed the
  // SQE, so each index's storage is reused by the next SQE in that place.
  std::vector<std::vector<iovec>> iovecs_;
  std::vector<iovec> scratch_;
  Napi::Reference<Napi::Float64Array> staging_ref_;
  const double* staging_ = nullptr;
  unsigned staging_cap_ = 0;  // in ops
  Napi::Reference<Napi::Array> staged_bufs_ref_;
  unsigned submit_batch_ = 0;  // most staged SQEs per io_uring_enter; 0: all
};

Napi::Function RingWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeRing",
                     {
                         InstanceMethod<&RingWrap::Info>("info"),
                         InstanceMethod<&RingWrap::RegisterBuffers>("registerBuffers"),
                         InstanceMethod<&RingWrap::UnregisterBuffers>("unregisterBuffers"),
                         InstanceMethod<&RingWrap::RegisterFiles>("registerFiles"),
                         InstanceMethod<&RingWrap::UpdateFiles>("updateFiles"),
                         InstanceMethod<&RingWrap::UnregisterFiles>("unregisterFiles"),
                         InstanceMethod<&RingWrap::Prep>("prep"),
                         InstanceMethod<&RingWrap::Submit>("submit"),
                         InstanceMethod<&RingWrap::SubmitAndWait>("submitAndWait"),
                         InstanceMethod<&RingWrap::Reap>("reap"),
                         InstanceMethod<&RingWrap::Close>("close"),
                         InstanceMethod<&RingWrap::SetStaging>("setStaging"),
                         InstanceMethod<&RingWrap::FillStaged>("fillStaged"),
                         InstanceMethod<&RingWrap::SubmitAndReap>("submitAndReap"),
                     });
}

// new NativeRing(options, onComplete, completions: Int32Array, counters: Float64Array)
RingWrap::RingWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingWrap>(info) {
  Napi::Env env = info.Env();
  env_ = env;
  Napi::Object o = info[0].As<Napi::Object>();
  UringOptions opts;
  opts.entries = o.Get("entries").As<Napi::Number>().Uint32Value();
  opts.cq_entries = o.Get("cqEntries").As<Napi::Number>().Uint32Value();
  opts.sqpoll = o.Get("sqpoll").ToBoolean();
  opts.sq_thread_idle_ms = o.Get("sqThreadIdle").As<Napi::Number>().Uint32Value();
  opts.iopoll = o.Get("iopoll").ToBoolean();
  opts.coop_taskrun = o.Get("coopTaskrun").ToBoolean();
  opts.single_issuer = o.Get("singleIssuer").ToBoolean();
  Napi::Value submit_batch = o.Get("submitBatch");
  if (submit_batch.IsNumber()) submit_batch_ = submit_batch.As<Napi::Number>().Uint32Value();

  int r = ring_.Setup(opts);
  if (r < 0) ThrowErrno(env, r, "io_uring_setup");
  if (ProbeOps(ring_.fd(), supported_) < 0) {
    // Kernels before 5.6 have no probe; only the 5.1 ops are assumed.
    for (uint8_t op : {abi::kOpNop, abi::kOpReadv, abi::kOpWritev, abi::kOpFsync,
                       abi::kOpReadFixed, abi::kOpWriteFixed})
      supported_[op] = true;
  }

  // Weak while idle: the JS Ring owns this function, and a strong reference
  // from here would keep an unused Ring alive forever. Strong while ops are
  // in flight (see Started), so their completions always have somewhere to go.
  on_complete_ = Napi::Weak(info[1].As<Napi::Function>());
  hold_.Bind(this, &on_complete_, &poller_);
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "kaio:Ring");
  Napi::Int32Array cq = info[2].As<Napi::Int32Array>();
  cq_ref_ = Napi::Persistent(cq);
  cq_out_ = cq.Data();
  cq_capacity_ = static_cast<unsigned>(cq.ElementLength() / kCqeInts);
  Napi::Float64Array counters = info[3].As<Napi::Float64Array>();
  if (counters.ElementLength() < kCounterSlots || cq_capacity_ == 0) {
    ring_.Close();
    throw Napi::RangeError::New(env, "completion or counter array too small");
  }
  counters_ref_ = Napi::Persistent(counters);
  counters_ = counters.Data();
  iovecs_.resize(ring_.sq_entries());
  last_sq_head_ = ring_.SqHead();

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  bool spin = ring_.setup_flags() & abi::kSetupIopoll;
  r = poller_.Start(loop, ring_.fd(), spin, &RingWrap::OnReadable, this);
  if (r < 0) {
    ring_.Close();
    ThrowErrno(env, r, "uv_poll_init");
  }
  napi_add_env_cleanup_hook(env, &RingWrap::OnEnvCleanup, this);
  cleanup_hook_ = true;
}

Napi::Value RingWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", ring_.fd());
  o.Set("sqEntries", ring_.sq_entries());
  o.Set("cqEntries", ring_.cq_entries());
  o.Set("features", ring_.features());
  o.Set("setupFlags", ring_.setup_flags());
  Napi::Uint8Array ops = Napi::Uint8Array::New(env, 256);
  for (unsigned i = 0; i < 256; i++) ops[i] = supported_[i] ? 1 : 0;
  o.Set("ops", ops);
  return o;
}

int RingWrap::FindFixed(uintptr_t addr, size_t len) const {
  for (const Region& r : regions_) {
    if (addr < r.base || addr >= r.base + r.size * r.count) continue;
    size_t i = (addr - r.base) / r.size;
    uintptr_t end = r.base + (i + 1) * r.size;
    if (addr + len > end) return -1;  // spans two registered buffers
    return static_cast<int>(r.first_index + i);
  }
  return -1;
}

// Slots are found first-fit in the sparse table; regions_ is sorted.
int RingWrap::FreeBufferRun(unsigned count) const {
  unsigned next = 0;
  for (const Region& r : regions_) {
    if (r.first_index - next >= count) return static_cast<int>(next);
    next = r.first_index + r.count;
  }
  if (abi::kMaxRegisteredBuffers - next >= count) return static_cast<int>(next);
  return -ENOSPC;
}

// IORING_REGISTER_BUFFERS_UPDATE (5.13). The kernel pins (and charges to
// RLIMIT_MEMLOCK) each buffer; an iovec {0, 0} empties a slot, and an op
// already using the old buffer keeps it until it completes.
int RingWrap::UpdateBuffers(unsigned offset, const iovec* iov, unsigned count) {
  abi::RsrcUpdate2 up = {};
  up.offset = offset;
  up.data = reinterpret_cast<uintptr_t>(iov);
  up.nr = count;
  int r = ring_.Register(abi::kRegisterBuffersUpdate, &up, sizeof(up));
  if (r < 0 || static_cast<unsigned>(r) == count) return r;
  // Part went in before the kernel stopped (out of memory or memlock):
  // take those back out, the pool is all or nothing.
  std::vector<iovec> empty(r, iovec{nullptr, 0});
  up.data = reinterpret_cast<uintptr_t>(empty.data());
  up.nr = static_cast<uint32_t>(r);
  ring_.Register(abi::kRegisterBuffersUpdate, &up, sizeof(up));
  return -ENOMEM;
}

// The first pool creates the table. Returns the first index used by `first`
// when it registered them itself (old kernels), 0 when it only made the
// sparse table, or -errno.
int RingWrap::EnsureBufferTable(const iovec* first, unsigned count) {
  if (buffer_table_ != BufferTable::kNone) return 0;
  abi::RsrcRegister reg = {};
  reg.nr = abi::kMaxRegisteredBuffers;
  reg.flags = abi::kRsrcRegisterSparse;
  int r = ring_.Register(abi::kRegisterBuffers2, &reg, sizeof(reg));
  if (r >= 0) {
    buffer_table_ = BufferTable::kSparse;
    return 0;
  }
  if (r != -EINVAL) return r;
  // Before 5.19 there is no sparse table: register this pool as the table.
  r = ring_.Register(abi::kRegisterBuffers, first, count);
  if (r < 0) return r;
  buffer_table_ = BufferTable::kSingle;
  return 1;
}

// registerBuffers(memory: ArrayBuffer, size, count) -> first index, or -errno.
Napi::Value RingWrap::RegisterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, info[0], &data, &length) != napi_ok || !data)
    return Napi::Number::New(env, -EINVAL);
  size_t size = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  unsigned count = ToU32(env, info[2]);
  if (size == 0 || count == 0 || size * count > length) return Napi::Number::New(env, -EINVAL);
  std::vector<iovec> iov(count);
  for (unsigned i = 0; i < count; i++)
    iov[i] = iovec{static_cast<char*>(data) + i * size, size};

  int index;
  if (buffer_table_ == BufferTable::kSingle) return Napi::Number::New(env, -EBUSY);
  int made = EnsureBufferTable(iov.data(), count);
  if (made < 0) return Napi::Number::New(env, made);
  if (made == 1) {
    index = 0;
  } else {
    index = FreeBufferRun(count);
    if (index < 0) return Napi::Number::New(env, index);
    int r = UpdateBuffers(static_cast<unsigned>(index), iov.data(), count);
    if (r < 0) return Napi::Number::New(env, r);
  }
  Region region = {reinterpret_cast<uintptr_t>(data), size, count, static_cast<unsigned>(index)};
  auto at = regions_.begin();
  while (at != regions_.end() && at->first_index < region.first_index) ++at;
  regions_.insert(at, region);
  return Napi::Number::New(env, index);
}

// unregisterBuffers(firstIndex) -> 0 or -errno. New ops stop using the
// region at once; ops in flight keep their pages pinned until they finish.
Napi::Value RingWrap::UnregisterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned first = ToU32(env, info[0]);
  auto it = regions_.begin();
  while (it != regions_.end() && it->first_index != first) ++it;
  if (it == regions_.end()) return Napi::Number::New(env, -ENOENT);
  unsigned count = it->count;
  regions_.erase(it);
  if (!ring_.is_open()) return Napi::Number::New(env, 0);
  int r;
  if (buffer_table_ == BufferTable::kSingle) {
    r = ring_.Register(abi::kUnregisterBuffers, nullptr, 0);
    if (r >= 0) buffer_table_ = BufferTable::kNone;
  } else {
    std::vector<iovec> empty(count, iovec{nullptr, 0});
    r = UpdateBuffers(first, empty.data(), count);
  }
  return Napi::Number::New(env, r < 0 ? r : 0);
}

// registerFiles(fds: Int32Array) -> 0 or -errno. fd -1 leaves a slot empty.
Napi::Value RingWrap::RegisterFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  int r = ring_.Register(abi::kRegisterFiles, fds.Data(), static_cast<unsigned>(fds.ElementLength()));
  return Napi::Number::New(env, r < 0 ? r : 0);
}

// updateFiles(offset, fds: Int32Array) -> slots updated, or -errno.
Napi::Value RingWrap::UpdateFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  Napi::Int32Array fds = info[1].As<Napi::Int32Array>();
  abi::FilesUpdate up = {};
  up.offset = ToU32(env, info[0]);
  up.fds = reinterpret_cast<uintptr_t>(fds.Data());
  int r = ring_.Register(abi::kRegisterFilesUpdate, &up, static_cast<unsigned>(fds.ElementLength()));
  return Napi::Number::New(env, r);
}

Napi::Value RingWrap::UnregisterFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, ring_.Register(abi::kUnregisterFiles, nullptr, 0));
}

// Fills scratch_ from a JS array of views. *region is the registered buffer
// index shared by all of them, or -1.
bool RingWrap::CollectIovecs(napi_env env, napi_value list, int* region) {
  uint32_t n = 0;
  if (napi_get_array_length(env, list, &n) != napi_ok) return false;
  scratch_.resize(n);
  *region = n ? 0 : -1;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, list, i, &v);
    void* data;
    size_t len;
    if (!ViewBytes(env, v, &data, &len)) return false;
    scratch_[i].iov_base = data;
    scratch_[i].iov_len = len;
    if (*region < 0 || regions_.empty()) {
      *region = -1;
      continue;
    }
    // READV_FIXED takes the iovecs' own addresses, each of which must lie in
    // the one registered buffer buf_index names, and fails an empty one with
    // EFAULT (io_uring/rsrc.c, io_vec_fill_bvec).
    int idx = len ? FindFixed(reinterpret_cast<uintptr_t>(data), len) : -1;
    if (idx < 0 || (i > 0 && idx != *region)) *region = -1;
    else *region = idx;
  }
  return true;
}

// prep(op, fd, sqeFlags, buf, offset, len, opFlags, userData, buf2) -> 1, or
// 0 when the SQ (or the CQ budget) is full and the caller must queue.
Napi::Value RingWrap::Prep(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) ThrowErrno(info.Env(), -EBADF, "io_uring_enter");
  // Never hand the kernel more ops than the CQ can hold: no overflow.
  if (in_flight_ >= ring_.cq_entries()) return Napi::Number::New(env, 0);
  uint8_t op = static_cast<uint8_t>(ToU32(env, info[0]));
  if (!FillSqe(env, info, op)) return Napi::Number::New(env, 0);
  Started();
  return Napi::Number::New(env, 1);
}

bool RingWrap::FillSqe(napi_env env, const Napi::CallbackInfo& info, uint8_t op) {
  int32_t fd = ToI32(env, info[1]);
  uint8_t sqe_flags = static_cast<uint8_t>(ToU32(env, info[2]));
  uint64_t user_data = ToUserData(env, info[7]);
  void* data = nullptr;
  size_t len = 0;
  int fixed = -1;

  switch (op) {
    case abi::kOpRead:
    case abi::kOpWrite:
    case abi::kOpOpenat:
    case abi::kOpStatx:
      if (!ViewBytes(env, info[3], &data, &len))
        throw Napi::TypeError::New(env, "buffer must be an ArrayBufferView");
      if ((op == abi::kOpRead || op == abi::kOpWrite) && !regions_.empty())
        fixed = FindFixed(reinterpret_cast<uintptr_t>(data), len);
      break;
    case abi::kOpReadv:
    case abi::kOpWritev:
      if (!CollectIovecs(env, info[3], &fixed))
        throw Napi::TypeError::New(env, "buffers must be ArrayBufferViews");
      if (fixed >= 0 && !supported_[op == abi::kOpReadv ? abi::kOpReadvFixed
                                                        : abi::kOpWritevFixed])
        fixed = -1;
      break;
    default:
      break;
  }

  abi::Sqe* sqe = ring_.GetSqe();
  if (!sqe) return false;
  sqe->fd = fd;
  sqe->flags = sqe_flags;
  sqe->user_data = user_data;
  switch (op) {
    case abi::kOpRead:
    case abi::kOpWrite:
      sqe->opcode = fixed < 0 ? op
                  : static_cast<uint8_t>(op == abi::kOpRead ? abi::kOpReadFixed : abi::kOpWriteFixed);
      sqe->addr = reinterpret_cast<uintptr_t>(data);
      sqe->len = static_cast<uint32_t>(len);
      sqe->off = ToOffset(env, info[4]);
      sqe->op_flags = ToU32(env, info[6]);  // RWF_*
      break;
    case abi::kOpReadv:
    case abi::kOpWritev: {
      std::vector<iovec>& slot = iovecs_[ring_.IndexOf(sqe)];
      slot.swap(scratch_);
      sqe->opcode = fixed < 0 ? op
                  : static_cast<uint8_t>(op == abi::kOpReadv ? abi::kOpReadvFixed : abi::kOpWritevFixed);
      sqe->addr = reinterpret_cast<uintptr_t>(slot.data());
      sqe->len = static_cast<uint32_t>(slot.size());
      sqe->off = ToOffset(env, info[4]);
      sqe->op_flags = ToU32(env, info[6]);
      break;
    }
    case abi::kOpFsync:
      sqe->opcode = op;
      sqe->op_flags = ToU32(env, info[6]);  // IORING_FSYNC_DATASYNC
      break;
    case abi::kOpFallocate:
      // The kernel reads the mode from len and the length from addr.
      sqe->opcode = op;
      sqe->off = ToOffset(env, info[4]);
      sqe->addr = ToOffset(env, info[5]);
      sqe->len = ToU32(env, info[6]);
      break;
    case abi::kOpOpenat:
      sqe->opcode = op;
      sqe->addr = reinterpret_cast<uintptr_t>(data);  // NUL-terminated path
      sqe->len = ToU32(env, info[5]);                  // mode
      sqe->op_flags = ToU32(env, info[6]);             // O_* flags
      break;
    case abi::kOpStatx: {
      void* out = nullptr;
      size_t out_len = 0;
      if (!ViewBytes(env, info[8], &out, &out_len) || out_len < 256)
        throw Napi::TypeError::New(env, "statx buffer must hold 256 bytes");
      sqe->opcode = op;
      sqe->addr = reinterpret_cast<uintptr_t>(data);
      sqe->len = ToU32(env, info[5]);       // STATX_* mask
      sqe->op_flags = ToU32(env, info[6]);  // AT_* flags
      sqe->off = reinterpret_cast<uintptr_t>(out);
      break;
    }
    case abi::kOpAsyncCancel:
      sqe->opcode = op;
      sqe->addr = ToUserData(env, info[4]);  // user_data of the target
      sqe->op_flags = ToU32(env, info[6]);
      break;
    case abi::kOpNop:
    case abi::kOpClose:
      sqe->opcode = op;
      break;
    default:
      // Keep the SQE slot valid: it is already handed out.
      sqe->opcode = abi::kOpNop;
      sqe->user_data = user_data;
      Started();
      throw Napi::TypeError::New(env, "unknown opcode");
  }
  if (fixed >= 0) {
    sqe->buf_index = static_cast<uint16_t>(fixed);
    counters_[kFixedOps]++;
  }
  return true;
}

void RingWrap::Started() {
  in_flight_++;
  counters_[kInFlight] = static_cast<double>(in_flight_);
  hold_.Take();
}

void RingWrap::Completed(unsigned n) {
  in_flight_ -= n;
  counters_[kCompleted] += n;
  counters_[kInFlight] = static_cast<double>(in_flight_);
  if (in_flight_ == 0) hold_.Drop();
}

void RingWrap::SyncCounters() {
  counters_[kEnterCalls] = static_cast<double>(ring_.enter_calls());
  // What the kernel consumed, whether by enter or by the SQPOLL thread.
  uint32_t head = ring_.SqHead();
  counters_[kSubmitted] += static_cast<uint32_t>(head - last_sq_head_);
  last_sq_head_ = head;
}

Napi::Value RingWrap::Submit(const Napi::CallbackInfo& info) {
  if (!ring_.is_open()) return Napi::Number::New(info.Env(), -EBADF);
  int r = ring_.Submit(0);
  SyncCounters();
  return Napi::Number::New(info.Env(), r);
}

// submitAndWait(minComplete): submits and blocks until minComplete CQEs are
// ready; JS then calls reap(). Returns submitted count or -errno.
Napi::Value RingWrap::SubmitAndWait(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  uint32_t want = ToU32(env, info[0]);
  if (want > in_flight_) want = static_cast<uint32_t>(in_flight_);
  int r = ring_.Submit(want);
  SyncCounters();
  return Napi::Number::New(env, r);
}

// Copies ready CQEs into the shared Int32Array; returns how many.
unsigned RingWrap::ReapInto() {
  if (!ring_.is_open()) return 0;
  int32_t* out = cq_out_;
  unsigned n = 0;
  auto copy = [&](const abi::Cqe& c) {
    if (c.user_data == kInternalUserData) return;  // teardown's cancel
    out[0] = static_cast<int32_t>(c.user_data & 0xffffffffu);
    out[1] = static_cast<int32_t>(c.user_data >> 32);
    out[2] = c.res;
    out[3] = static_cast<int32_t>(c.flags);
    out += kCqeInts;
    n++;
  };
  unsigned seen = ring_.Drain(copy, cq_capacity_);
  if (seen < cq_capacity_ && ring_.NeedsFlush()) {
    ring_.FlushCompletions();
    seen += ring_.Drain(copy, cq_capacity_ - seen);
  }
  if (seen) Completed(seen);
  SyncCounters();
  return n;
}

Napi::Value RingWrap::Reap(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ReapInto());
}

void RingWrap::OnReadable(void* self) { static_cast<RingWrap*>(self)->Dispatch(); }

void RingWrap::Dispatch() {
  // Raw N-API: while a worker is being terminated these calls fail, and a
  // failure must mean "deliver nothing", not a fatal error (js_values.h).
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  // Take handles first: reaping the last op drops the strong references that
  // keep the JS side alive, and the next allocation could collect it.
  napi_value fn = RefValue(env_, on_complete_);
  napi_value self = RefValue(env_, napi_ref(*this));
  unsigned n = ReapInto();
  if (n > 0) CallBatch(env_, fn, self, *async_context_, n);
  napi_close_handle_scope(env_, scope);
}

// Cancels whatever is still in flight and waits (bounded) for the kernel to
// let go of it, so no buffer can be written after we return.
void RingWrap::Quiesce() {
  if (!ring_.is_open() || in_flight_ == 0) return;
  if (abi::Sqe* sqe = ring_.GetSqe()) {
    sqe->opcode = abi::kOpAsyncCancel;
    sqe->op_flags = abi::kCancelAll | abi::kCancelAny;
    sqe->user_data = kInternalUserData;
    in_flight_++;
  }
  ring_.Submit(0);
  int64_t deadline = MonotonicMs() + kQuiesceTimeoutMs;
  while (in_flight_ > 0) {
    unsigned seen = ring_.Drain([](const abi::Cqe&) {}, ~0u);
    if (ring_.NeedsFlush()) {
      ring_.FlushCompletions();
      seen += ring_.Drain([](const abi::Cqe&) {}, ~0u);
    }
    in_flight_ -= seen < in_flight_ ? seen : in_flight_;
    if (in_flight_ == 0) break;
    int64_t left = deadline - MonotonicMs();
    if (left <= 0) break;
    pollfd p = {ring_.fd(), POLLIN, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

void RingWrap::Shutdown() {
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, &RingWrap::OnEnvCleanup, this);
    cleanup_hook_ = false;
  }
  poller_.Close();
  if (!ring_.is_open()) return;
  Quiesce();
  // The SQ/CQ memory is the kernel's and refcounted: unmapping it is safe
  // even if an op outlived the timeout.
  ring_.Close();
  // Closing the ring fd dropped its buffer and file tables.
  regions_.clear();
  buffer_table_ = BufferTable::kNone;
}

void RingWrap::OnEnvCleanup(void* self) {
  auto* ring = static_cast<RingWrap*>(self);
  ring->cleanup_hook_ = false;  // hooks are removed by the environment
  ring->Shutdown();
}

Napi::Value RingWrap::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  hold_.Drop();
  in_flight_ = 0;
  if (counters_) counters_[kInFlight] = 0;
  return info.Env().Undefined();
}

// setStaging(ops: Float64Array, buffers: Array): the batch API's staging area.
Napi::Value RingWrap::SetStaging(const Napi::CallbackInfo& info) {
  Napi::Float64Array ops = info[0].As<Napi::Float64Array>();
  staging_ref_ = Napi::Persistent(ops);
  staging_ = ops.Data();
  staging_cap_ = static_cast<unsigned>(ops.ElementLength() / kStageFields);
  staged_bufs_ref_ = Napi::Persistent(info[1].As<Napi::Array>());
  return info.Env().Undefined();
}

// fillStaged(count): writes the first `count` staged ops into the SQ, all or
// none. Returns 1, or 0 when the SQ (after submitting what it holds) or the
// CQ budget has no room for all of them; the caller keeps them staged then.
// One native call per batch instead of one per op is the point.
Napi::Value RingWrap::FillStaged(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) ThrowErrno(env, -EBADF, "io_uring_enter");
  return Napi::Number::New(env, FillStagedOps(env, ToU32(env, info[0])) ? 1 : 0);
}

// submitAndReap(count, minComplete): fillStaged(count), submitAndWait and
// reap in one native call, for the batch API's loop. Returns
// 2 * reaped + (1 if the staged ops were filled), or -errno from the enter
// (EAGAIN/EBUSY/EINTR are not errors here: what is ready is still reaped).
Napi::Value RingWrap::SubmitAndReap(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  unsigned count = ToU32(env, info[0]);
  bool filled = count == 0 || FillStagedOps(env, count);
  uint32_t want = ToU32(env, info[1]);
  if (want > in_flight_) want = static_cast<uint32_t>(in_flight_);
  int r = ring_.Submit(want);
  if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR) {
    SyncCounters();
    return Napi::Number::New(env, r);
  }
  unsigned n = ReapInto();
  return Napi::Number::New(env, 2.0 * n + (filled && count ? 1 : 0));
}

bool RingWrap::FillStagedOps(napi_env env, unsigned count) {
  if (count > staging_cap_) throw Napi::RangeError::New(env, "staged count out of range");
  if (in_flight_ + count > ring_.cq_entries()) return false;
  if (ring_.SqFree() < count) {
    // Promise ops fill the same SQ: hand those to the kernel first.
    ring_.Submit(0);
    SyncCounters();
    if (ring_.SqFree() < count) return false;
  }
  napi_value bufs = staged_bufs_ref_.Value();
  for (unsigned i = 0; i < count; i++) {
    FillStagedSqe(env, bufs, i);
    // With submitBatch, every full chunk is its own io_uring_enter (a doorbell
    // for the device); the last one goes with the caller's submit.
    if (submit_batch_ && (i + 1) % submit_batch_ == 0 && i + 1 < count) ring_.Submit(0);
  }
  SyncCounters();
  return true;
}

void RingWrap::FillStagedSqe(napi_env env, napi_value bufs, unsigned i) {
  const double* e = staging_ + i * kStageFields;
  uint32_t packed = static_cast<uint32_t>(e[0]);
  uint8_t op = static_cast<uint8_t>(packed & 0xff);
  abi::Sqe* sqe = ring_.GetSqe();  // room was checked by the caller
  sqe->opcode = op;
  sqe->flags = static_cast<uint8_t>(packed >> 8);
  sqe->fd = static_cast<int32_t>(e[1]);
  sqe->user_data = static_cast<uint64_t>(e[4]) | (static_cast<uint64_t>(e[5]) << 32);
  int fixed = -1;
  switch (op) {
    case abi::kOpRead:
    case abi::kOpWrite: {
      napi_value v;
      void* data = nullptr;
      size_t len = 0;
      // JS staged a view here; a view detached since reads as zero bytes.
      if (napi_get_element(env, bufs, i, &v) == napi_ok) ByteViewBytes(env, v, &data, &len);
      if (!regions_.empty()) fixed = FindFixed(reinterpret_cast<uintptr_t>(data), len);
      if (fixed >= 0)
        sqe->opcode = static_cast<uint8_t>(op == abi::kOpRead ? abi::kOpReadFixed : abi::kOpWriteFixed);
      sqe->addr = reinterpret_cast<uintptr_t>(data);
      sqe->len = static_cast<uint32_t>(len);
      sqe->off = e[2] < 0 ? ~0ull : static_cast<uint64_t>(e[2]);
      sqe->op_flags = static_cast<uint32_t>(e[3]);  // RWF_*
      break;
    }
    case abi::kOpReadv:
    case abi::kOpWritev: {
      napi_value v;
      std::vector<iovec>& slot = iovecs_[ring_.IndexOf(sqe)];
      if (napi_get_element(env, bufs, i, &v) != napi_ok || !CollectIovecs(env, v, &fixed)) {
        scratch_.clear();  // the list changed under us: a zero-length op
        fixed = -1;
      }
      if (fixed >= 0 && !supported_[op == abi::kOpReadv ? abi::kOpReadvFixed : abi::kOpWritevFixed])
        fixed = -1;
      slot.swap(scratch_);
      if (fixed >= 0)
        sqe->opcode = static_cast<uint8_t>(op == abi::kOpReadv ? abi::kOpReadvFixed : abi::kOpWritevFixed);
      sqe->addr = reinterpret_cast<uintptr_t>(slot.data());
      sqe->len = static_cast<uint32_t>(slot.size());
      sqe->off = e[2] < 0 ? ~0ull : static_cast<uint64_t>(e[2]);
      sqe->op_flags = static_cast<uint32_t>(e[3]);
      break;
    }
    case abi::kOpFsync:
      sqe->op_flags = static_cast<uint32_t>(e[3]);  // IORING_FSYNC_DATASYNC
      break;
    default:  // NOP; JS stages nothing else
      sqe->opcode = abi::kOpNop;
      break;
  }
  if (fixed >= 0) {
    sqe->buf_index = static_cast<uint16_t>(fixed);
    counters_[kFixedOps]++;
  }
  Started();
}

Napi::Function DefineRing(Napi::Env env, AddonData* data) {
  Napi::Function ctor = RingWrap::Define(env);
  data->ring_ctor = Napi::Persistent(ctor);
  return ctor;
}

}  // namespace kaio
