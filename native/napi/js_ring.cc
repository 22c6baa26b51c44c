// N-API adapter for one io_uring instance. It only translates: JS values to
// SQE fields, CQEs to a preallocated Int32Array, and one JS call per batch.
// The promise layer (slot table, queueing, errors) lives in lib/ring/.
//
// JS validates every argument and hands native only what it validated:
// views it holds itself, lists it copied, and the byte length it checked.
// Native never reads a caller's object (so no caller code runs here) and
// never trusts a view's current length over the checked one.
#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "../core/buffer_table.h"
#include "../core/poller.h"
#include "../core/sysinfo.h"
#include "../core/uring.h"
#include "addon.h"
#include "js_context.h"

namespace kaio {

namespace {

// The ring's own counters (lib/binding.ts Counter); submitted, completed
// and in-flight are the shared ones (js_context.h).
enum RingCounter : unsigned {
  kEnterCalls = 2,
  kFixedOps = 3,
};

// The one encoding of an op, shared with lib/ring/op-table.ts (which names
// every field per op, and is compared with these numbers by test 08): each
// staged op is kStageFields doubles JS writes without a native call, and
// two places in the staged-memory array (2i: the addr memory, 2i + 1: the
// off memory or a bigint offset). Field [0] carries the opcode, the SQE
// flags and how to read addr and off, so native decodes every op the same
// way, here, and never switches on the opcode to find its fields.
constexpr unsigned kStageFields = 9;
enum StageField : unsigned {
  kFieldHead = 0,     // opcode | sqe flags << 8 | addr kind << 16 | off kind << 20 | kHeadIoprio
  kFieldFd = 1,       // fd, or registered-file index (IOSQE_FIXED_FILE)
  kFieldOff = 2,      // off when the off kind is Number (-1: current position)
  kFieldOpFlags = 3,  // rw_flags, fsync_flags, open_flags, statx_flags
  kFieldUserLow = 4,  // user_data, low and high words
  kFieldUserHigh = 5,
  kFieldLen = 6,      // len: bytes JS checked (View), iovec count (from the list), mode, mask
  kFieldFixed = 7,    // View read/write on this ring's registered buffer: index * 2^30 + offset; -1: none
  kFieldAddr = 8,     // addr when the addr kind is Number
};
// How addr is found (bits 16-19 of field 0).
enum AddrKind : unsigned {
  kAddrNone = 0,     // 0
  kAddrView = 1,     // a view at mem[2i], kFieldLen bytes checked by JS
  kAddrIovecs = 2,   // mem[2i]: kaio's [view, length, view, length, ...] copy of a list
  kAddrCString = 3,  // mem[2i]: kaio's own NUL-terminated path
  kAddrNumber = 4,   // kFieldAddr
  kAddrBigInt = 5,   // mem[2i]: a bigint
};
// How off is found (bits 20-23 of field 0).
enum OffKind : unsigned {
  kOffNumber = 0,  // kFieldOff (-1: the current position)
  kOffBigInt = 1,  // mem[2i + 1]: a bigint position
  kOffView = 2,    // the address of kaio's own view at mem[2i + 1] (statx's out)
};
constexpr double kStageIndexUnit = 1 << 30;  // > any registered buffer's size
// Bit 24 of field 0: a read or write carries an SQE ioprio, in kFieldAddr
// (unused by the View addr kind those ops have). Ops without it pay one
// test of a bit of the head they already hold; the SQE is zeroed anyway.
constexpr uint32_t kHeadIoprio = 1u << 24;
// Bit 25 of field 0: a read with RWF_NOWAIT straight into the caller's
// memory (FileHandle's page-cache first try, lib/file/handle.ts). Its SQE
// carries the caller's address only while this thread is inside the native
// call that enters the kernel with it; see KeepDirect.
constexpr uint32_t kHeadNowaitDirect = 1u << 25;

// user_data of ops kaio issues for itself (cancel-all at teardown); their
// CQEs are never shown to JS.
constexpr uint64_t kInternalUserData = ~0ull;

// How long drainSq() waits for an SQPOLL thread to consume the SQ before it
// gives up (the caller then reports the ring busy and changes nothing).
constexpr unsigned kDrainTimeoutMs = 1000;

// user_data of a promise op's IORING_OP_ASYNC_CANCEL: Kind.Internal
// (lib/abi.ts) in the high word, whose CQEs JS skips.
constexpr uint64_t kCancelUserData = 2ull << 32;

// How long teardown waits before it says on stderr that it is still waiting.
constexpr int64_t kQuiesceWarnMs = 10000;

// Extra weight reported to V8 per ring (its fd and the kernel's memory), so
// that a few hundred rings dropped without close() make the GC run.
constexpr int64_t kRingExternalCost = 256 * 1024;

uint64_t ToUserData(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return static_cast<uint64_t>(d);
}

bool Transient(int r) { return r == -EAGAIN || r == -EBUSY || r == -EINTR; }

// The registered-buffer variant of a read/write opcode.
uint8_t FixedVariant(uint8_t op) {
  switch (op) {
    case abi::kOpRead: return abi::kOpReadFixed;
    case abi::kOpWrite: return abi::kOpWriteFixed;
    case abi::kOpReadv: return abi::kOpReadvFixed;
    case abi::kOpWritev: return abi::kOpWritevFixed;
    default: return op;
  }
}

bool Vectored(uint8_t op) { return op == abi::kOpReadv || op == abi::kOpWritev; }

// kFieldFixed: registered buffer index * kStageIndexUnit + offset.
void StagedRegion(const double* e, unsigned* index, size_t* off) {
  *index = static_cast<unsigned>(e[kFieldFixed] * (1 / kStageIndexUnit));  // exact: a power of two
  *off = static_cast<size_t>(e[kFieldFixed] - *index * kStageIndexUnit);
}

// A staged number that is a non-negative integer below 2^63 (offsets, user
// data words) as uint64: through int64, one conversion instruction, where
// a double to uint64 conversion branches on the value's range.
inline uint64_t StagedU64(double d) { return static_cast<uint64_t>(static_cast<int64_t>(d)); }

// user_data from its two staged 32-bit words.
inline uint64_t StagedUserData(const double* e) {
  return StagedU64(e[kFieldUserLow]) | (StagedU64(e[kFieldUserHigh]) << 32);
}

// Field.Off: a position, or -1 for the current one (~0 in the SQE).
inline uint64_t StagedOff(const double* e) {
  return e[kFieldOff] < 0 ? ~0ull : StagedU64(e[kFieldOff]);
}

uint64_t BigIntAt(napi_env env, napi_value mem, uint32_t i) {
  napi_value v = nullptr;
  napi_get_element(env, mem, i, &v);
  return static_cast<uint64_t>(ToPosition(env, v));
}

}  // namespace

// One staged op, decoded, ready to become an SQE. For readv/writev the iovecs wait in scratch_.
struct OpSpec {
  uint8_t op = abi::kOpNop;
  uint8_t sqe_flags = 0;
  int32_t fd = -1;
  uint64_t user_data = 0;
  uint64_t off = 0;
  uint64_t addr = 0;
  uint32_t len = 0;
  uint32_t op_flags = 0;
  int fixed = -1;  // registered buffer index, or -1
  uint16_t ioprio = 0;
};

class RingWrap : public JsContext<RingWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit RingWrap(const Napi::CallbackInfo& info);
  ~RingWrap() override { Shutdown(); }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value RegisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value UnregisterBuffers(const Napi::CallbackInfo& info);
  Napi::Value RegisterFiles(const Napi::CallbackInfo& info);
  Napi::Value UpdateFiles(const Napi::CallbackInfo& info);
  Napi::Value UnregisterFiles(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Reap(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetStaging(const Napi::CallbackInfo& info);
  Napi::Value FillStaged(const Napi::CallbackInfo& info);
  Napi::Value SubmitAndReap(const Napi::CallbackInfo& info);
  Napi::Value DrainSq(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value WaitLone(const Napi::CallbackInfo& info);
  bool LoopIdleFor(int64_t* wait_ns);

  template <Napi::Value (RingWrap::*M)(const Napi::CallbackInfo&)>
  static Napi::Value Bound(const Napi::CallbackInfo& info) {
    return (static_cast<RingWrap*>(info.Data())->*M)(info);
  }

  void DecodeStaged(napi_env env, napi_value mem, unsigned i, OpSpec* s);
  bool PutStagedFixed(const double* e);
  bool PutStagedPlain(const double* e);
  void ResolveMemory(napi_env env, napi_value v, size_t checked, OpSpec* s);
  void CollectIovecs(napi_env env, napi_value pairs, OpSpec* s);
  bool PutSqe(const OpSpec& s);
  bool FillStagedOps(napi_env env, unsigned count);
  bool KeepDirect(uint32_t at);
  bool BufferedFd(int fd);
  void DisarmDirect();
  int SubmitNow(unsigned wait_nr);
  unsigned ReapInto();
  unsigned ReapDiscard();
  friend class JsContext<RingWrap>;
  void SyncCounters();
  void Dispatch();
  void Quiesce();
  void Shutdown();
  static void OnReadable(void* self);

  Uring ring_;
  Poller poller_;
  BufferTable buffers_;
  uint32_t last_sq_head_ = 0;  // for the submitted counter
  bool supported_[256] = {};
  // SQEs the kernel would not take (an enter error that waiting does not
  // cure), taken back from the SQ: delivered as completions at the next reap.
  std::vector<std::pair<uint64_t, int32_t>> failed_;
  // iovec arrays of queued readv/writev SQEs, by SQE index. With
  // IORING_FEAT_SUBMIT_STABLE the kernel has copied them once it consumed the
  // SQE, so each index's storage is reused by the next SQE in that place.
  std::vector<std::vector<iovec>> iovecs_;
  std::vector<iovec> scratch_;
  Napi::Reference<Napi::Float64Array> staging_ref_;
  const double* staging_ = nullptr;
  unsigned staging_cap_ = 0;  // in ops
  Napi::Reference<Napi::Array> staged_mem_ref_;
  unsigned submit_batch_ = 0;  // most staged SQEs per io_uring_enter; 0: all
  uv_loop_t* loop_ = nullptr;
  // waitInline: longest in-thread wait for a lone op, in ns; 0: never.
  int64_t wait_inline_ns_ = 0;
  unsigned fixed_put_ = 0;  // FillStagedOps: registered-buffer SQEs written
  // SQ positions of direct reads (kHeadNowaitDirect) written with the
  // caller's address and not yet entered: DisarmDirect() takes the address
  // out of those the kernel did not consume before this thread returns to JS.
  std::vector<uint32_t> direct_at_;
  // An SQE with IOSQE_IO_DRAIN was written on this ring: the kernel may
  // defer every later SQE until earlier ones complete, so no direct read
  // keeps the caller's address from then on.
  bool drain_seen_ = false;
  // BufferedFd's answer for the last fd it asked about, within one
  // FillStagedOps call (-1: none yet).
  int buffered_fd_ = -1;
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
                         InstanceMethod<&RingWrap::Submit>("submit"),
                         InstanceMethod<&RingWrap::Reap>("reap"),
                         InstanceMethod<&RingWrap::Close>("close"),
                         InstanceMethod<&RingWrap::SetStaging>("setStaging"),
                         InstanceMethod<&RingWrap::FillStaged>("fillStaged"),
                         InstanceMethod<&RingWrap::SubmitAndReap>("submitAndReap"),
                         InstanceMethod<&RingWrap::DrainSq>("drainSq"),
                         InstanceMethod<&RingWrap::Cancel>("cancel"),
                         InstanceMethod<&RingWrap::WaitLone>("waitLone"),
                     });
}

// new NativeRing(options, onComplete, completions: Int32Array, counters: Float64Array)
RingWrap::RingWrap(const Napi::CallbackInfo& info) : JsContext<RingWrap>(info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  UringOptions opts;
  opts.entries = o.Get("entries").As<Napi::Number>().Uint32Value();
  opts.cq_entries = o.Get("cqEntries").As<Napi::Number>().Uint32Value();
  opts.sqpoll = o.Get("sqpoll").ToBoolean();
  opts.sq_thread_idle_ms = o.Get("sqThreadIdle").As<Napi::Number>().Uint32Value();
  opts.iopoll = o.Get("iopoll").ToBoolean();
  opts.coop_taskrun = o.Get("coopTaskrun").ToBoolean();
  opts.single_issuer = o.Get("singleIssuer").ToBoolean();
  opts.submit_all = o.Get("submitAll").ToBoolean();
  opts.register_ring_fd = o.Get("registerRingFd").ToBoolean();
  opts.defer_taskrun = o.Get("deferTaskrun").ToBoolean();
  submit_batch_ = o.Get("submitBatch").As<Napi::Number>().Uint32Value();
  wait_inline_ns_ = static_cast<int64_t>(o.Get("waitInline").As<Napi::Number>().Uint32Value()) * 1000;

  CheckArrays(info, 1);

  int r = ring_.Setup(opts);
  if (r < 0) ThrowErrno(env, r, "io_uring_setup");
  if (ProbeOps(ring_.fd(), supported_) < 0) {
    // Kernels before 5.6 have no probe; only the 5.1 ops are assumed.
    for (uint8_t op : {abi::kOpNop, abi::kOpReadv, abi::kOpWritev, abi::kOpFsync,
                       abi::kOpReadFixed, abi::kOpWriteFixed})
      supported_[op] = true;
  }

  iovecs_.resize(ring_.sq_entries());
  last_sq_head_ = ring_.SqHead();

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  loop_ = loop;
  // The in-thread wait needs a timeout on the enter (EXT_ARG, 5.11); an
  // IOPOLL ring's enter polls instead of sleeping. Neither: never wait.
  if (!ring_.has_ext_arg() || ring_.iopoll()) wait_inline_ns_ = 0;
  // IOPOLL rings post nothing until asked to poll, so their fd never wakes
  // the loop: they are polled on each loop turn while ops are in flight.
  r = poller_.Start(loop, ring_.wake_fd(), ring_.iopoll(), &RingWrap::OnReadable, this);
  if (r < 0) {
    ring_.Close();
    ThrowErrno(env, r, "uv_poll_init");
  }
  BindJs(info, "kaio:Ring", &poller_,
         static_cast<int64_t>(ring_.mapped_bytes()) + kRingExternalCost + FdExternalCost(1));

  // The per-tick and per-wait methods again, as own properties whose
  // functions carry this object as their data: a call then needs no
  // napi_unwrap (a private-symbol lookup through V8's runtime, ~300
  // instructions), which at queue depth 1 is paid for every op. They live
  // on the JS object whose finalizer frees this one, and lib/ reaches them
  // only through it.
  // Defined, not assigned: the prototype's methods are read-only, and an
  // assignment would fail silently.
  info.This().As<Napi::Object>().DefineProperties({
      Napi::PropertyDescriptor::Value("submitAndReap", Napi::Function::New(env, &Bound<&RingWrap::SubmitAndReap>, "submitAndReap", this)),
      Napi::PropertyDescriptor::Value("submit", Napi::Function::New(env, &Bound<&RingWrap::Submit>, "submit", this)),
      Napi::PropertyDescriptor::Value("fillStaged", Napi::Function::New(env, &Bound<&RingWrap::FillStaged>, "fillStaged", this)),
      Napi::PropertyDescriptor::Value("waitLone", Napi::Function::New(env, &Bound<&RingWrap::WaitLone>, "waitLone", this)),
  });
}

Napi::Value RingWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", ring_.fd());
  o.Set("sqEntries", ring_.sq_entries());
  o.Set("cqEntries", ring_.cq_entries());
  o.Set("features", ring_.features());
  o.Set("setupFlags", ring_.setup_flags());
  o.Set("ringFdRegistered", ring_.ring_fd_registered());
  Napi::Uint8Array ops = Napi::Uint8Array::New(env, 256);
  for (unsigned i = 0; i < 256; i++) ops[i] = supported_[i] ? 1 : 0;
  o.Set("ops", ops);
  return o;
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
  return Napi::Number::New(env, buffers_.Register(ring_, data, size, count));
}

// unregisterBuffers(firstIndex) -> 0 or -errno.
Napi::Value RingWrap::UnregisterBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Napi::Number::New(env, buffers_.Unregister(ring_, ToU32(env, info[0])));
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

// The memory of a read or write, and its registered buffer if it lies in one.
void RingWrap::ResolveMemory(napi_env env, napi_value v, size_t checked, OpSpec* s) {
  void* data;
  size_t len;
  CheckedBytes(env, v, checked, &data, &len);
  s->addr = reinterpret_cast<uintptr_t>(data);
  s->len = static_cast<uint32_t>(len);
  if (data && !buffers_.empty()) s->fixed = buffers_.Find(s->addr, len);
}

// Fills scratch_ from JS's private [view, length, ...] list of a readv or
// writev. READV_FIXED (6.15) takes the iovecs' own addresses, each of which
// must lie in the one registered buffer buf_index names, and fails an empty
// one with EFAULT (io_uring/rsrc.c, io_vec_fill_bvec).
void RingWrap::CollectIovecs(napi_env env, napi_value pairs, OpSpec* s) {
  uint32_t n = 0;
  napi_get_array_length(env, pairs, &n);
  n /= 2;
  scratch_.resize(n);
  int region = n ? 0 : -1;
  bool fault = false;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v = nullptr;
    napi_get_element(env, pairs, 2 * i, &v);
    void* data;
    size_t len;
    CheckedBytes(env, v, static_cast<size_t>(NumberAt(env, pairs, 2 * i + 1)), &data, &len);
    scratch_[i] = iovec{data, len};
    fault |= len && !data;
    if (region < 0 || buffers_.empty() || !data || !len) {
      region = -1;
      continue;
    }
    int idx = buffers_.Find(reinterpret_cast<uintptr_t>(data), len);
    if (idx < 0 || (i > 0 && idx != region)) region = -1;
    else region = idx;
  }
  if (fault) {
    // A view shrunk or detached since the call: the whole op fails with
    // EFAULT at its first byte, rather than moving the views before it.
    for (iovec& e : scratch_) e.iov_base = nullptr;
    region = -1;
  }
  s->len = n;
  s->fixed = region >= 0 && supported_[FixedVariant(s->op)] ? region : -1;
}

// Writes the SQE of a decoded op; false when the SQ is full.
bool RingWrap::PutSqe(const OpSpec& s) {
  abi::Sqe* sqe = ring_.GetSqe();
  if (!sqe) return false;
  if (s.sqe_flags & abi::kSqeIoDrain) drain_seen_ = true;
  sqe->opcode = s.fixed >= 0 ? FixedVariant(s.op) : s.op;
  sqe->flags = s.sqe_flags;
  sqe->fd = s.fd;
  sqe->user_data = s.user_data;
  sqe->off = s.off;
  sqe->addr = s.addr;
  sqe->len = s.len;
  sqe->op_flags = s.op_flags;
  sqe->ioprio = s.ioprio;
  if (Vectored(s.op)) {
    std::vector<iovec>& slot = iovecs_[ring_.IndexOf(sqe)];
    slot.swap(scratch_);
    sqe->addr = reinterpret_cast<uintptr_t>(slot.data());
  }
  if (s.fixed >= 0) {
    sqe->buf_index = static_cast<uint16_t>(s.fixed);
    fixed_put_++;
  }
  return true;
}

void RingWrap::SyncCounters() {
  counters_[kEnterCalls] = static_cast<double>(ring_.enter_calls());
  // What the kernel consumed, whether by enter or by the SQPOLL thread.
  uint32_t head = ring_.SqHead();
  counters_[kCounterSubmitted] += static_cast<uint32_t>(head - last_sq_head_);
  last_sq_head_ = head;
}

// Enters the kernel. On an error that waiting does not cure (anything but
// EAGAIN/EBUSY/EINTR), the SQEs the kernel did not consume are taken back
// and fail with that error at the next reap: every op settles once, and
// nothing is left in the SQ with no one to submit it.
int RingWrap::SubmitNow(unsigned wait_nr) {
  int r = ring_.Submit(wait_nr);
  if (r < 0 && !Transient(r))
    ring_.Retract([&](const abi::Sqe& sqe) { failed_.emplace_back(sqe.user_data, r); });
  DisarmDirect();
  SyncCounters();
  return r;
}

// Whether the direct read just written at SQ position `at` may keep the
// caller's address: only if the kernel can only ever copy into it inside
// the io_uring_enter this native call is about to make. That holds when
// the SQE is issued inline in that enter (io_submit_sqes -> io_issue_sqe
// with IO_URING_F_NONBLOCK) and RWF_NOWAIT keeps it from being retried
// anywhere else: the kernel's read sets REQ_F_NOWAIT for an IOCB_NOWAIT
// kiocb, and then -EAGAIN and a short read complete as they are (io_read
// on 5.10-5.19, __io_read on 6.x: "if (req->flags & REQ_F_NOWAIT) goto
// done"; io_rw_should_retry "never retry for NOWAIT", so no page-unlock
// callback copies later; the punt to io-wq or a poll is skipped for
// REQ_F_NOWAIT in __io_queue_sqe / io_queue_async). A buffered read copies
// from the page cache in filemap_read, in the issuing context. What would
// issue it elsewhere, later:
// - an SQPOLL ring (the kernel thread issues) or an IOPOLL ring;
// - IOSQE_ASYNC (io-wq), a link (the SQE before it asks for a successor:
//   issued when that one completes) or a drain (this one or any earlier:
//   the kernel may defer every later SQE);
// - an SQE the enter leaves in the SQ (EAGAIN/EBUSY, a failing SQE before
//   it): DisarmDirect() takes the address out before JS runs again.
// O_DIRECT (-EIOCBQUEUED: the device writes later) and files that are not
// regular files or block devices are never marked direct (JS looks at the
// fd once); O_DIRECT is looked at again for each fill (BufferedFd).
// Refused here, the SQE gets address 0: the read fails EFAULT, and JS reads
// it again through bounce memory.
bool RingWrap::KeepDirect(uint32_t at) {
  abi::Sqe* sqe = ring_.SqeAt(at);
  if (ring_.setup_flags() & (abi::kSetupSqpoll | abi::kSetupIopoll)) return false;
  constexpr uint8_t kElsewhere = abi::kSqeIoDrain | abi::kSqeIoLink | abi::kSqeIoHardlink | abi::kSqeAsync;
  if (drain_seen_ || (sqe->flags & kElsewhere) || sqe->opcode != abi::kOpRead) return false;
  uint32_t prev = at - 1;
  bool prev_pending = static_cast<int32_t>(prev - ring_.SqHead()) >= 0;
  if (prev_pending && (ring_.SqeAt(prev)->flags & (abi::kSqeIoLink | abi::kSqeIoHardlink))) return false;
  return true;
}

// Whether `fd` names, now, a file opened without O_DIRECT (fcntl F_GETFL,
// once per fd per FillStagedOps call: no JS runs before the enter). JS
// checks an fd once (FileHandle#directRing), but the number can name
// another file by the next read: the caller closed the handle's fd behind
// its back and opened a file with O_DIRECT, which took the number. Such a
// read returns -EIOCBQUEUED and the device writes the caller's memory after
// io_uring_enter returned, when JS may have detached or freed it. Another
// thread changing the fd table between this look and the enter is not
// covered (nor is fcntl(F_SETFL, O_DIRECT) from another thread).
bool RingWrap::BufferedFd(int fd) {
  if (fd == buffered_fd_) return true;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_DIRECT)) return false;
  buffered_fd_ = fd;
  return true;
}

// Takes the caller's address out of every direct read the kernel has not
// consumed (it reads the SQ only inside io_uring_enter on a ring without
// SQPOLL): each then fails EFAULT when it is submitted, and is read again
// through bounce memory.
void RingWrap::DisarmDirect() {
  if (direct_at_.empty()) return;
  uint32_t head = ring_.SqHead();
  uint32_t tail = ring_.SqeTail();
  for (uint32_t at : direct_at_)
    if (static_cast<int32_t>(at - head) >= 0 && static_cast<int32_t>(tail - at) > 0) ring_.SqeAt(at)->addr = 0;
  direct_at_.clear();
}

// submit() -> SQEs consumed, or -errno (then, unless transient, the ops not
// consumed wait in failed_: call reap() outside a completion batch).
Napi::Value RingWrap::Submit(const Napi::CallbackInfo& info) {
  if (!ring_.is_open()) return Napi::Number::New(info.Env(), -EBADF);
  return Napi::Number::New(info.Env(), SubmitNow(0));
}

// Copies ops that failed to submit, then ready CQEs, into the shared
// Int32Array; returns how many.
unsigned RingWrap::ReapInto() {
  if (!ring_.is_open()) return 0;
  int32_t* out = out_;
  unsigned n = 0;
  unsigned seen = 0;
  auto copy = [&](uint64_t user_data, int32_t res, uint32_t flags) {
    seen++;
    if (user_data == kInternalUserData) return;  // teardown's cancel
    PutCompletion(out, static_cast<uint32_t>(user_data), static_cast<uint32_t>(user_data >> 32), res, flags);
    n++;
  };
  size_t f = 0;
  for (; f < failed_.size() && n < out_capacity_; f++) copy(failed_[f].first, failed_[f].second, 0);
  failed_.erase(failed_.begin(), failed_.begin() + static_cast<long>(f));
  auto cqe = [&](const abi::Cqe& c) { copy(c.user_data, c.res, c.flags); };
  ring_.Drain(cqe, out_capacity_ - n);
  if (n < out_capacity_ && in_flight_ > seen && ring_.NeedsFlush()) {
    // A DEFER_TASKRUN enter runs a bounded batch of the work the kernel
    // holds (about 20 items twice) and leaves IORING_SQ_TASKRUN set for the
    // rest: enter again while it posts CQEs and there is room for them.
    while (ring_.FlushCompletions() >= 0 && ring_.Drain(cqe, out_capacity_ - n) != 0 &&
           ring_.defer_taskrun() && n < out_capacity_ && in_flight_ > seen && ring_.NeedsFlush()) {
    }
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
  // Once per wake-up: what arrives meanwhile wakes the loop again.
  bool once = false;
  Deliver([&]() -> unsigned {
    if (once) return 0;
    once = true;
    return ReapInto();
  });
  // A DEFER_TASKRUN ring's eventfd stays readable until read: consume it,
  // and raise it again if something is left (ring.h, Rearm). After the
  // callback, whose submits may have posted CQEs (and closed the ring).
  if (ring_.is_open()) ring_.Rearm();
}

// Completions nobody will see (teardown): drained and counted only.
unsigned RingWrap::ReapDiscard() {
  unsigned seen = static_cast<unsigned>(failed_.size());
  failed_.clear();
  seen += ring_.Drain([](const abi::Cqe&) {}, ~0u);
  if (ring_.NeedsFlush()) {
    ring_.FlushCompletions();
    seen += ring_.Drain([](const abi::Cqe&) {}, ~0u);
  }
  in_flight_ -= seen < in_flight_ ? seen : in_flight_;
  return seen;
}

// Cancels whatever is still in flight and waits for the kernel to let go of
// it: the buffers those ops write into belong to JS, which frees them once we
// return, so there is no time limit — after 10 s we say on stderr that we are
// still waiting (an op stuck on a hung device) instead of risking a write
// into freed memory.
void RingWrap::Quiesce() {
  if (!ring_.is_open() || in_flight_ == 0) return;
  if (abi::Sqe* sqe = ring_.GetSqe()) {
    sqe->opcode = abi::kOpAsyncCancel;
    sqe->op_flags = abi::kCancelAll | abi::kCancelAny;
    sqe->user_data = kInternalUserData;
    in_flight_++;
  }
  SubmitNow(0);
  int64_t start = MonotonicMs();
  bool warned = false;
  while (in_flight_ > 0) {
    ReapDiscard();
    if (in_flight_ == 0) break;
    if (ring_.SqPending() > 0) SubmitNow(0);
    if (ring_.iopoll()) {
      ring_.Enter(0, 1, abi::kEnterGetevents);
    } else {
      // With an eventfd: consumed, then raised again if something is ready,
      // so the wait below returns at once for it and sleeps otherwise.
      ring_.Rearm();
      ring_.WaitWake(1000);
    }
    if (!warned && MonotonicMs() - start >= kQuiesceWarnMs) {
      warned = true;
      fprintf(stderr,
              "kaio: %llu io_uring op(s) still in the kernel %lld s after the ring began closing; "
              "waiting for them, since their buffers may still be written\n",
              static_cast<unsigned long long>(in_flight_), static_cast<long long>(kQuiesceWarnMs / 1000));
    }
  }
}

void RingWrap::Shutdown() {
  EndJs();
  poller_.Close();
  if (!ring_.is_open()) return;
  Quiesce();
  ring_.Close();
  // Closing the ring fd dropped its buffer and file tables.
  buffers_.Forget();
}

Napi::Value RingWrap::Close(const Napi::CallbackInfo& info) {
  CloseJs();
  return info.Env().Undefined();
}

// setStaging(ops: Float64Array, memory: Array): the staging area (layout above).
Napi::Value RingWrap::SetStaging(const Napi::CallbackInfo& info) {
  Napi::Float64Array ops = info[0].As<Napi::Float64Array>();
  staging_ref_ = Napi::Persistent(ops);
  staging_ = ops.Data();
  staging_cap_ = static_cast<unsigned>(ops.ElementLength() / kStageFields);
  staged_mem_ref_ = Napi::Persistent(info[1].As<Napi::Array>());
  return info.Env().Undefined();
}

// fillStaged(count): writes the first `count` staged ops into the SQ, all or
// none. Returns 1, or 0 when the SQ (after submitting what it holds) or the
// CQ budget has no room for all of them; the caller keeps them staged then.
// One native call per batch instead of one per op is the point.
//
// fillStaged(count, 1): the caller's next call is submit(), with no JS of
// anyone else's in between: direct reads (kHeadNowaitDirect) keep the
// caller's address until that enter. Otherwise they lose it now.
Napi::Value RingWrap::FillStaged(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) ThrowErrno(env, -EBADF, "io_uring_enter");
  bool filled = FillStagedOps(env, ToU32(env, info[0]));
  if (!(info.Length() > 1 && info[1].IsNumber() && info[1].As<Napi::Number>().Uint32Value() == 1)) DisarmDirect();
  return Napi::Number::New(env, filled ? 1 : 0);
}

// submitAndReap(count, minComplete): fillStaged(count), submit, wait for
// minComplete (capped at what is in flight) and reap, in one native call for
// the batch API's loop. Returns 2 * reaped + (1 if the staged ops were
// filled), or -errno when the enter failed and nothing was reaped.
Napi::Value RingWrap::SubmitAndReap(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  // `this` is on the stack (the receiver): see BusyHold::Deferral.
  BusyHold::Deferral deferral(hold_, in_flight_);
  unsigned count = ToU32(env, info[0]);
  bool filled = count == 0 || FillStagedOps(env, count);
  // Ops an earlier enter error took back (failed_) are ready completions
  // already, and the kernel will post nothing for them: they count towards
  // minComplete, and the wait is capped at the ops that are in the kernel.
  // Waiting for them in the kernel would block for ever.
  uint32_t want = ToU32(env, info[1]);
  uint64_t ready = failed_.size();
  uint64_t in_kernel = in_flight_ - ready;
  want = want > ready ? static_cast<uint32_t>(want - ready) : 0;
  if (want > in_kernel) want = static_cast<uint32_t>(in_kernel);
  int r = SubmitNow(want);
  unsigned n = ReapInto();
  if (n == 0 && r < 0 && !Transient(r)) return Napi::Number::New(env, r);
  return Napi::Number::New(env, 2.0 * n + (filled && count ? 1 : 0));
}

// drainSq() -> 0 once the kernel has consumed every SQE written so far (each
// op on a registered file is then bound to the file its slot holds now);
// -EBUSY when some are still in the SQ (an enter answered EAGAIN/EBUSY, or an
// SQPOLL thread did not take them within kDrainTimeoutMs); another -errno
// when the enter failed and the SQEs were taken back (they fail with it at
// the next reap(), and the SQ is empty). Before a registration changes.
Napi::Value RingWrap::DrainSq(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, -EBADF);
  int r = SubmitNow(0);
  // Taken back after an error, the SQ is empty; with SQPOLL nothing is taken
  // back, and the kernel thread may still consume what is there.
  int w = ring_.WaitSqConsumed(kDrainTimeoutMs);
  SyncCounters();
  if (w < 0) return Napi::Number::New(env, w);
  return Napi::Number::New(env, r < 0 && !Transient(r) ? r : 0);
}

// cancel(id) -> 1 when an IORING_OP_ASYNC_CANCEL for promise op `id` is in the
// SQ (the next submit sends it); 0 when the SQ is full; -1 when the CQ has no
// room for its completion yet. A cancel may take one CQ slot beyond the
// budget ops keep to (cq_entries): an op blocked for ever, which is what a
// cancel is for, may hold every other slot. The kernel keeps a CQE that finds
// the CQ full (IORING_FEAT_NODROP, which every kernel with ASYNC_CANCEL has)
// until the next reap flushes it; with at most one beyond, that is one CQE.
Napi::Value RingWrap::Cancel(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ring_.is_open()) return Napi::Number::New(env, 1);  // teardown cancels everything
  if (in_flight_ > ring_.cq_entries()) return Napi::Number::New(env, -1);
  abi::Sqe* sqe = ring_.GetSqe();
  if (!sqe) return Napi::Number::New(env, 0);
  sqe->opcode = abi::kOpAsyncCancel;
  sqe->fd = -1;
  sqe->addr = ToUserData(env, info[0]);  // the target's user_data: kind Promise, the slot id
  sqe->user_data = kCancelUserData;
  Started();
  return Napi::Number::New(env, 1);
}

// Whether the event loop has nothing to do for the next *wait_ns (which
// this shortens to when its next timer is due): no immediate, pending or
// closing callback (uv_backend_timeout says 0 then), no timer due sooner,
// and nothing ready in the loop's epoll set, which holds every fd and
// wake-up source libuv watches (sockets, pipes, the thread pool's and
// other threads' async handles, signals, this ring's own fd).
bool RingWrap::LoopIdleFor(int64_t* wait_ns) {
  int timeout_ms = uv_backend_timeout(loop_);
  if (timeout_ms == 0) return false;
  if (timeout_ms > 0) {
    // The loop's clock stopped when this turn began (and may lag the
    // precise one by a tick): the timer is due at loop time + timeout.
    int64_t due_ns = (static_cast<int64_t>(uv_now(loop_)) + timeout_ms) * 1000000;
    int64_t left = due_ns - static_cast<int64_t>(uv_hrtime());
    if (left <= 0) return false;
    if (left < *wait_ns) *wait_ns = left;
  }
  pollfd p = {uv_backend_fd(loop_), POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

// waitLone() -> completions reaped into the shared array (deliver them),
// or 0. With waitInline, when exactly one op is in the kernel and the loop
// has nothing else to do (LoopIdleFor), waits for it inside io_uring_enter
// for at most waitInline (less when a timer is due sooner), as fio does at
// QD 1: the completion then costs no wake-up of the loop's epoll_wait (an
// EINTR from the task work, then a second epoll_wait). Whatever becomes
// ready meanwhile waits at most that long, and the next call looks again
// before it waits. Out of time or interrupted: 0, and the completion
// arrives through the loop as usual.
Napi::Value RingWrap::WaitLone(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  int64_t wait_ns = wait_inline_ns_;
  if (wait_ns == 0 || !ring_.is_open() || in_flight_ != 1 || !failed_.empty() || ring_.CqReady() ||
      ring_.SqPending() != 0 || !LoopIdleFor(&wait_ns))
    return Napi::Number::New(env, 0);
  BusyHold::Deferral deferral(hold_, in_flight_);
  int r = ring_.WaitTimeout(1, wait_ns);
  if (r < 0 && !ring_.CqReady()) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, ReapInto());
}

bool RingWrap::FillStagedOps(napi_env env, unsigned count) {
  if (count > staging_cap_) throw Napi::RangeError::New(env, "staged count out of range");
  if (in_flight_ + count > ring_.cq_entries()) return false;
  if (ring_.SqFree() < count) {
    // Promise ops fill the same SQ: hand those to the kernel first.
    SubmitNow(0);
    if (ring_.SqFree() < count) return false;
  }
  napi_value mem = staged_mem_ref_.Value();
  // The staged ops count as started together, after the loop (one update of
  // in_flight_ and the shared counters per batch, not per op): nothing in
  // the loop reaps, and a submitBatch enter's error takes SQEs back into
  // failed_, which only the next reap counts against in_flight_.
  fixed_put_ = 0;
  buffered_fd_ = -1;
  for (unsigned i = 0; i < count; i++) {
    // room was checked above
    const double* e = staging_ + i * kStageFields;
    if (!PutStagedFixed(e) && !PutStagedPlain(e)) {
      OpSpec s;
      DecodeStaged(env, mem, i, &s);
      uint32_t at = ring_.SqeTail();
      if (PutSqe(s) && (static_cast<uint32_t>(e[kFieldHead]) & kHeadNowaitDirect)) {
        if (s.addr != 0 && KeepDirect(at) && BufferedFd(s.fd)) direct_at_.push_back(at);
        else ring_.SqeAt(at)->addr = 0;
      }
    }
    // With submitBatch, every full chunk is its own io_uring_enter (a doorbell
    // for the device); the last one goes with the caller's submit.
    if (submit_batch_ && (i + 1) % submit_batch_ == 0 && i + 1 < count) SubmitNow(0);
  }
  counters_[kFixedOps] += fixed_put_;
  if (count) Started(count);
  SyncCounters();
  return true;
}

// The commonest staged op, a read or write on registered memory JS found in
// a pool of this ring, straight into an SQE: no OpSpec, no JS value. False
// (nothing taken) for any other op, and for an index that is not (or no
// longer) registered, which DecodeStaged turns into an op failing EFAULT.
bool RingWrap::PutStagedFixed(const double* e) {
  if (!(e[kFieldFixed] >= 0)) return false;
  auto head = static_cast<uint32_t>(e[kFieldHead]);
  auto op = static_cast<uint8_t>(head & 0xff);
  if (op != abi::kOpRead && op != abi::kOpWrite) return false;
  if (((head >> 20) & 0xf) != kOffNumber) return false;
  unsigned index;
  size_t off;
  StagedRegion(e, &index, &off);
  auto len = static_cast<uint32_t>(e[kFieldLen]);
  uintptr_t addr = buffers_.At(index, off, len);
  if (addr == 0) return false;
  abi::Sqe* sqe = ring_.GetSqe();
  if (!sqe) return false;
  sqe->opcode = op == abi::kOpRead ? abi::kOpReadFixed : abi::kOpWriteFixed;
  sqe->flags = static_cast<uint8_t>(head >> 8);
  if (sqe->flags & abi::kSqeIoDrain) drain_seen_ = true;
  sqe->fd = static_cast<int32_t>(e[kFieldFd]);
  sqe->off = StagedOff(e);
  sqe->addr = addr;
  sqe->len = len;
  sqe->op_flags = static_cast<uint32_t>(e[kFieldOpFlags]);
  sqe->user_data = StagedUserData(e);
  sqe->buf_index = static_cast<uint16_t>(index);
  if (head & kHeadIoprio) sqe->ioprio = static_cast<uint16_t>(e[kFieldAddr]);
  fixed_put_++;
  return true;
}

// Decodes staged op i by the kinds its head names: the only place native
// reads an op's fields. A view shrunk or detached since the call gives
// address 0 (EFAULT), never other memory.
// A staged op that names no memory (addr kind None or Number, off kind
// Number: a NOP, fsync, close, fallocate) straight into an SQE: no OpSpec,
// no JS value. False (nothing taken) for any other.
bool RingWrap::PutStagedPlain(const double* e) {
  auto head = static_cast<uint32_t>(e[kFieldHead]);
  unsigned addr_kind = (head >> 16) & 0xf;
  // (An op with kHeadIoprio is a read or write, whose addr kind is View: never here.)
  if ((addr_kind != kAddrNone && addr_kind != kAddrNumber) || (head >> 20) != kOffNumber) return false;
  abi::Sqe* sqe = ring_.GetSqe();
  if (!sqe) return false;
  sqe->opcode = static_cast<uint8_t>(head & 0xff);
  sqe->flags = static_cast<uint8_t>((head >> 8) & 0xff);
  if (sqe->flags & abi::kSqeIoDrain) drain_seen_ = true;
  sqe->fd = static_cast<int32_t>(e[kFieldFd]);
  sqe->off = StagedOff(e);
  sqe->addr = addr_kind == kAddrNumber ? static_cast<uint64_t>(e[kFieldAddr]) : 0;
  sqe->len = static_cast<uint32_t>(e[kFieldLen]);
  sqe->op_flags = static_cast<uint32_t>(e[kFieldOpFlags]);
  sqe->user_data = StagedUserData(e);
  if (sqe->opcode == abi::kOpSplice) {
    // addr is splice_off_in, -1 for a pipe (as off is off_out); fd_in is in
    // Field.Fixed, which an op without memory does not use otherwise.
    if (e[kFieldAddr] < 0) sqe->addr = ~0ull;
    sqe->file_index = static_cast<int32_t>(e[kFieldFixed]);
  }
  return true;
}

void RingWrap::DecodeStaged(napi_env env, napi_value mem, unsigned i, OpSpec* s) {
  const double* e = staging_ + i * kStageFields;
  auto head = static_cast<uint32_t>(e[kFieldHead]);
  s->op = static_cast<uint8_t>(head & 0xff);
  s->sqe_flags = static_cast<uint8_t>((head >> 8) & 0xff);
  s->fd = static_cast<int32_t>(e[kFieldFd]);
  s->user_data = static_cast<uint64_t>(e[kFieldUserLow]) | (static_cast<uint64_t>(e[kFieldUserHigh]) << 32);
  s->op_flags = static_cast<uint32_t>(e[kFieldOpFlags]);
  s->len = static_cast<uint32_t>(e[kFieldLen]);
  if (head & kHeadIoprio) s->ioprio = static_cast<uint16_t>(e[kFieldAddr]);
  napi_value v = nullptr;
  switch ((head >> 16) & 0xf) {
    case kAddrView:
      if (e[kFieldFixed] >= 0) {
        // Registered memory JS found in a pool of this ring, which that pool
        // cannot leave while the op holds it: no view to look at. A slot
        // that is empty anyway gets address 0 (EFAULT), never other memory.
        unsigned index;
        size_t off;
        StagedRegion(e, &index, &off);
        s->addr = buffers_.At(index, off, s->len);
        s->fixed = s->addr ? static_cast<int>(index) : -1;
        break;
      }
      napi_get_element(env, mem, 2 * i, &v);
      ResolveMemory(env, v, static_cast<size_t>(e[kFieldLen]), s);
      break;
    case kAddrIovecs:
      napi_get_element(env, mem, 2 * i, &v);
      CollectIovecs(env, v, s);
      break;
    case kAddrCString: {
      void* path = nullptr;
      size_t path_len = 0;
      napi_get_element(env, mem, 2 * i, &v);
      ViewBytes(env, v, &path, &path_len);  // kaio's own Buffer, NUL-terminated
      s->addr = reinterpret_cast<uintptr_t>(path);
      break;
    }
    case kAddrNumber:
      s->addr = static_cast<uint64_t>(e[kFieldAddr]);
      break;
    case kAddrBigInt:
      s->addr = BigIntAt(env, mem, 2 * i);
      break;
    default:
      break;
  }
  switch ((head >> 20) & 0xf) {
    case kOffBigInt:
      s->off = BigIntAt(env, mem, 2 * i + 1);
      break;
    case kOffView: {
      void* out = nullptr;
      size_t out_len = 0;
      napi_get_element(env, mem, 2 * i + 1, &v);
      ViewBytes(env, v, &out, &out_len);  // kaio's own buffer, sized by the op table
      s->off = reinterpret_cast<uintptr_t>(out);
      break;
    }
    default:
      s->off = e[kFieldOff] < 0 ? ~0ull : static_cast<uint64_t>(e[kFieldOff]);
      break;
  }
}

// The numbers JS and native must agree on, as native has them: test 08
// compares each with its TypeScript definition, so a change on one side
// that the other misses fails the suite instead of mis-encoding ops.
Napi::Object RingContract(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("NOP", static_cast<double>(abi::kOpNop));
  ops.Set("READV", static_cast<double>(abi::kOpReadv));
  ops.Set("WRITEV", static_cast<double>(abi::kOpWritev));
  ops.Set("FSYNC", static_cast<double>(abi::kOpFsync));
  ops.Set("READ_FIXED", static_cast<double>(abi::kOpReadFixed));
  ops.Set("WRITE_FIXED", static_cast<double>(abi::kOpWriteFixed));
  ops.Set("ASYNC_CANCEL", static_cast<double>(abi::kOpAsyncCancel));
  ops.Set("FALLOCATE", static_cast<double>(abi::kOpFallocate));
  ops.Set("OPENAT", static_cast<double>(abi::kOpOpenat));
  ops.Set("CLOSE", static_cast<double>(abi::kOpClose));
  ops.Set("STATX", static_cast<double>(abi::kOpStatx));
  ops.Set("READ", static_cast<double>(abi::kOpRead));
  ops.Set("WRITE", static_cast<double>(abi::kOpWrite));
  ops.Set("RENAMEAT", static_cast<double>(abi::kOpRenameat));
  ops.Set("UNLINKAT", static_cast<double>(abi::kOpUnlinkat));
  ops.Set("MKDIRAT", static_cast<double>(abi::kOpMkdirat));
  ops.Set("SYMLINKAT", static_cast<double>(abi::kOpSymlinkat));
  ops.Set("LINKAT", static_cast<double>(abi::kOpLinkat));
  ops.Set("FTRUNCATE", static_cast<double>(abi::kOpFtruncate));
  ops.Set("SPLICE", static_cast<double>(abi::kOpSplice));
  ops.Set("POLL_ADD", static_cast<double>(abi::kOpPollAdd));
  ops.Set("READV_FIXED", static_cast<double>(abi::kOpReadvFixed));
  ops.Set("WRITEV_FIXED", static_cast<double>(abi::kOpWritevFixed));
  c.Set("ops", ops);
  Napi::Object stage = Napi::Object::New(env);
  stage.Set("fields", static_cast<double>(kStageFields));
  stage.Set("head", static_cast<double>(kFieldHead));
  stage.Set("fd", static_cast<double>(kFieldFd));
  stage.Set("off", static_cast<double>(kFieldOff));
  stage.Set("opFlags", static_cast<double>(kFieldOpFlags));
  stage.Set("userLow", static_cast<double>(kFieldUserLow));
  stage.Set("userHigh", static_cast<double>(kFieldUserHigh));
  stage.Set("len", static_cast<double>(kFieldLen));
  stage.Set("fixed", static_cast<double>(kFieldFixed));
  stage.Set("addr", static_cast<double>(kFieldAddr));
  stage.Set("indexUnit", kStageIndexUnit);
  stage.Set("addrNone", static_cast<double>(kAddrNone));
  stage.Set("addrView", static_cast<double>(kAddrView));
  stage.Set("addrIovecs", static_cast<double>(kAddrIovecs));
  stage.Set("addrCString", static_cast<double>(kAddrCString));
  stage.Set("addrNumber", static_cast<double>(kAddrNumber));
  stage.Set("addrBigInt", static_cast<double>(kAddrBigInt));
  stage.Set("offNumber", static_cast<double>(kOffNumber));
  stage.Set("offBigInt", static_cast<double>(kOffBigInt));
  stage.Set("offView", static_cast<double>(kOffView));
  stage.Set("headIoprio", static_cast<double>(kHeadIoprio));
  stage.Set("headNowaitDirect", static_cast<double>(kHeadNowaitDirect));
  c.Set("stage", stage);
  Napi::Object counters = Napi::Object::New(env);
  counters.Set("Submitted", static_cast<double>(kCounterSubmitted));
  counters.Set("Completed", static_cast<double>(kCounterCompleted));
  counters.Set("EnterCalls", static_cast<double>(kEnterCalls));
  counters.Set("FixedOps", static_cast<double>(kFixedOps));
  counters.Set("InFlight", static_cast<double>(kCounterInFlight));
  counters.Set("Slots", static_cast<double>(kSharedCounterSlots));
  c.Set("counters", counters);
  Napi::Object backendOps = Napi::Object::New(env);
  backendOps.Set("Read", static_cast<double>(kBackendRead));
  backendOps.Set("Write", static_cast<double>(kBackendWrite));
  backendOps.Set("Readv", static_cast<double>(kBackendReadv));
  backendOps.Set("Writev", static_cast<double>(kBackendWritev));
  backendOps.Set("Fsync", static_cast<double>(kBackendFsync));
  backendOps.Set("Fdatasync", static_cast<double>(kBackendFdatasync));
  c.Set("backendOps", backendOps);
  Napi::Object backendCounters = Napi::Object::New(env);
  backendCounters.Set("Submitted", static_cast<double>(kBcSubmitted));
  backendCounters.Set("Completed", static_cast<double>(kBcCompleted));
  backendCounters.Set("SubmitCalls", static_cast<double>(kBcSubmitCalls));
  backendCounters.Set("LockedOps", static_cast<double>(kBcLockedOps));
  backendCounters.Set("InFlight", static_cast<double>(kBcInFlight));
  backendCounters.Set("GeteventsCalls", static_cast<double>(kBcGeteventsCalls));
  backendCounters.Set("Pending", static_cast<double>(kBcPending));
  backendCounters.Set("Slots", static_cast<double>(kBcSlots));
  c.Set("backendCounters", backendCounters);
  c.Set("completionInts", static_cast<double>(kCompletionInts));
  c.Set("sqeFixedFile", static_cast<double>(abi::kSqeFixedFile));
  c.Set("fsyncDatasync", static_cast<double>(abi::kFsyncDatasync));
  c.Set("featRwCurPos", static_cast<double>(abi::kFeatRwCurPos));
  c.Set("cancelUserData", static_cast<double>(kCancelUserData));
  return c;
}

Napi::Function DefineRing(Napi::Env env, AddonData* data) {
  Napi::Function ctor = RingWrap::Define(env);
  data->ring_ctor = Napi::Persistent(ctor);
  return ctor;
}

}  // namespace kaio
