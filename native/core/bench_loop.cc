// kaio bench's native inner loop on io_uring (see bench_loop.h).
#include "bench_loop.h"

#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace kaio {

namespace {

// fio's IO depths buckets: "4" holds depths 4-7 and so on (loop.ts depthBucket).
unsigned DepthBucket(unsigned n) {
  return n >= 64 ? 6 : n >= 32 ? 5 : n >= 16 ? 4 : n >= 8 ? 3 : n >= 4 ? 2 : n >= 2 ? 1 : 0;
}
// fio's submit/complete buckets: 0, 1-4, 5-8, ... 33-64, more (loop.ts batchBucket).
unsigned BatchBucket(unsigned n) {
  return n == 0 ? 0 : n <= 4 ? 1 : n <= 8 ? 2 : n <= 16 ? 3 : n <= 32 ? 4 : n <= 64 ? 5 : 6;
}

}  // namespace

unsigned BenchBucket(double ns) {
  // Whole nanoseconds, as histogram.ts's bucketOf (and fio's, whose samples are integers).
  uint64_t v = ns < 1.8e19 ? static_cast<uint64_t>(ns) : ~uint64_t{0};
  if (v < 2 * kBenchPlatVal) return static_cast<unsigned>(v);
  // The top bit and the kBenchPlatBits below it pick the bucket; the bits under those are dropped.
  unsigned drop = 63 - static_cast<unsigned>(__builtin_clzll(v)) - kBenchPlatBits;
  unsigned idx = (drop + 1) * kBenchPlatVal + static_cast<unsigned>((v >> drop) & (kBenchPlatVal - 1));
  return idx < kBenchPlatNr ? idx : kBenchPlatNr - 1;
}

void BenchHistRecord(double* counts, double* stats, double ns) {
  double v = ns > 0 ? ns : 0;
  counts[BenchBucket(v)]++;
  stats[0]++;
  stats[1] += v;
  stats[2] += v * v;
  if (v < stats[3]) stats[3] = v;
  if (v > stats[4]) stats[4] = v;
}

double BenchLoop::Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

int BenchLoop::Setup(const BenchLoopOptions& options, const char** what) {
  o_ = options;
  unsigned depth = o_.depth;
  if (depth == 0 || depth > 65535 || o_.buffers.empty() || o_.buffers.size() > 16384 || o_.buffer_sizes.size() != o_.buffers.size() || in_cap_ == 0 ||
      out_cap_ < 2 * depth) {
    *what = "bench loop arguments";
    return -EINVAL;
  }
  for (auto& dir : o_.hist)
    for (double* h : dir)
      if (h != nullptr && o_.hist_stats == nullptr) {
        *what = "bench loop arguments";
        return -EINVAL;
      }
  int r;
  if (o_.aio) {
    *what = "io_setup";
    r = aio_.Setup(o_.uring.entries, true);
    if (r < 0) return r;
    iocbs_.assign(depth, abi::Iocb{});
    iocb_ptrs_.assign(depth, nullptr);
    events_.resize(depth);
    o_.register_file = o_.fixed_buffers = false;
  } else {
    *what = "io_uring_setup";
    r = ring_.Setup(o_.uring);
    if (r < 0) return r;
  }
  if (o_.register_file) {
    *what = "io_uring_register(IORING_REGISTER_FILES)";
    r = ring_.Register(abi::kRegisterFiles, &o_.fd, 1);
    if (r < 0) return r;
  }
  if (o_.fixed_buffers) {
    unsigned n = static_cast<unsigned>(o_.buffers.size());
    std::vector<iovec> iov(n);
    for (unsigned i = 0; i < n; i++) iov[i] = {o_.buffers[i], o_.buffer_sizes[i]};
    // As the JavaScript engine's pool (fallback: true): memory that cannot be
    // registered (RLIMIT_MEMLOCK) leaves the ops unregistered, which the job's note says.
    if (ring_.Register(abi::kRegisterBuffers, iov.data(), n) < 0) o_.fixed_buffers = false;
  }
  if (o_.batch_submit == 0) o_.batch_submit = 1;
  if (o_.complete_min == 0) o_.complete_min = 1;
  if (o_.complete_max < o_.complete_min) o_.complete_max = o_.complete_min;
  dir_.assign(depth, 0);
  buf_.assign(depth, 0);
  len_.assign(depth, 0);
  off_.assign(depth, 0);
  t_prep_.assign(depth, 0);
  t_sub_.assign(depth, 0);
  free_.resize(depth);
  queued_.resize(depth);
  n_free_ = 0;
  for (unsigned t = depth; t-- > 0;) free_[n_free_++] = t;
  *what = nullptr;
  return 0;
}

// Preps ops from the input block into the free slots, committing every
// batch_submit and once for the rest: 0, kBenchNeedInput, kBenchOutFull
// (no room for more records and nothing in flight), or -errno.
int BenchLoop::Fill(double loop_now) {
  bool full = false;
  while (n_free_ != 0) {
    if (state_[kBsStop] != 0) break;
    // Every op in flight ends as one record: room for all of them, always
    // (a turn whose commits had to reap to make room may prep again).
    if (state_[kBsOutCount] + in_flight_ + 1 > out_cap_) {
      full = true;
      break;
    }
    double pos_d = state_[kBsInPos];
    double count_d = state_[kBsInCount];
    if (!(pos_d < count_d)) {
      if (state_[kBsInEnd] != 0) break;
      return kBenchNeedInput;
    }
    if (loop_now >= state_[kBsDeadline]) {
      state_[kBsStop] = 1;
      break;
    }
    // JavaScript never puts more than the ring holds ahead of the loop.
    if (!(pos_d >= 0 && count_d - pos_d <= in_cap_ && count_d < 9.0e15)) return -EINVAL;
    uint64_t pos = static_cast<uint64_t>(pos_d) % in_cap_;
    const double* op = in_ + static_cast<size_t>(pos) * kBenchInStride;
    unsigned tag = free_[n_free_ - 1];
    double len_d = op[1];
    double buf_d = op[3];
    if (!(buf_d >= 0 && buf_d < static_cast<double>(o_.buffers.size()))) return -EINVAL;
    unsigned bi = static_cast<unsigned>(buf_d);
    if (!(len_d > 0 && len_d <= static_cast<double>(o_.buffer_sizes[bi])) || !(op[0] >= 0)) return -EINVAL;
    uint8_t dir = op[2] == 1 ? 1 : 0;
    uint32_t len = static_cast<uint32_t>(len_d);
    abi::Sqe* sqe = nullptr;
    if (o_.aio) {
      abi::Iocb& cb = iocbs_[tag];
      cb = abi::Iocb{};
      cb.aio_data = tag;
      cb.aio_lio_opcode = dir ? abi::kIocbCmdPwrite : abi::kIocbCmdPread;
      cb.aio_fildes = static_cast<uint32_t>(o_.fd);
      cb.aio_buf = reinterpret_cast<uint64_t>(o_.buffers[bi]);
      cb.aio_nbytes = len;
      cb.aio_offset = static_cast<int64_t>(op[0]);
      iocb_ptrs_[q_start_ + q_len_] = &cb;
    } else {
      sqe = ring_.GetSqe();
      if (sqe == nullptr) break;  // the SQ is full (sized for the depth: rare); the op waits
    }
    n_free_--;
    if (sqe != nullptr) {
      if (o_.fixed_buffers) {
        sqe->opcode = dir ? abi::kOpWriteFixed : abi::kOpReadFixed;
        sqe->buf_index = static_cast<uint16_t>(bi);
        fixed_ops_++;
      } else {
        sqe->opcode = dir ? abi::kOpWrite : abi::kOpRead;
      }
      if (o_.register_file) {
        sqe->fd = 0;
        sqe->flags = abi::kSqeFixedFile;
      } else {
        sqe->fd = o_.fd;
      }
      sqe->off = static_cast<uint64_t>(op[0]);
      sqe->addr = reinterpret_cast<uint64_t>(o_.buffers[bi]);
      sqe->len = len;
      sqe->user_data = tag;
    }
    state_[kBsInPos] = pos_d + 1;
    dir_[tag] = dir;
    buf_[tag] = bi;
    len_[tag] = len;
    off_[tag] = op[0];
    t_prep_[tag] = o_.stamp_prep ? Now() : loop_now;
    // As fio: after the prep and its stamp (inside slat), with that stamp.
    if (dir && o_.scramble) Scramble(bi, len, op[0], t_prep_[tag]);
    queued_[q_start_ + q_len_++] = tag;
    in_flight_++;
    if (q_len_ >= o_.batch_submit) {
      // fio counts the depth at each commit, for the ops it commits.
      state_[kBsDepth + DepthBucket(in_flight_)] += q_len_;
      int r = Commit();
      if (r < 0) return r;
    }
  }
  if (q_len_ != 0) {
    state_[kBsDepth + DepthBucket(in_flight_)] += q_len_;
    int r = Commit();
    if (r < 0) return r;
  }
  return full && in_flight_ == 0 ? kBenchOutFull : 0;
}

// One io_uring_enter for the queued SQEs (more only when the kernel takes
// part of them, or waits for a completion when it has no room): each op
// taken is stamped when the enter returns (fio's issue_time).
int BenchLoop::Commit() {
  if (o_.aio) return CommitAio();
  while (q_len_ != 0) {
    uint64_t enters = ring_.enter_calls();
    int r = ring_.Submit(0);
    state_[kBsEnters] += static_cast<double>(ring_.enter_calls() - enters);
    if (r > 0) {
      Submitted(static_cast<unsigned>(r));
      continue;
    }
    if (r != 0 && r != -EAGAIN && r != -EBUSY) return r;
    // Short of resources: a completion makes room; without any op in the
    // kernel none will come.
    if (in_flight_ <= q_len_) return r == 0 ? -EAGAIN : r;
    enters = ring_.enter_calls();
    r = ring_.Enter(0, 1, abi::kEnterGetevents);
    state_[kBsEnters] += static_cast<double>(ring_.enter_calls() - enters);
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -ETIME) return r;
  }
  return 0;
}

// The kernel took the first `taken` queued ops: each is stamped as
// submitted now, and the queue moves past them.
void BenchLoop::Submitted(unsigned taken) {
  unsigned n = taken > q_len_ ? q_len_ : taken;
  state_[kBsSubmit + BatchBucket(n)]++;
  double t = o_.stamp_submit ? Now() : loop_now_;
  for (unsigned i = 0; i < n; i++) t_sub_[queued_[q_start_ + i]] = t;
  q_start_ += n;
  q_len_ -= n;
  if (q_len_ == 0) q_start_ = 0;
}

// io_submit of the queued iocbs (again for the rest when the kernel takes
// part of them): each op taken is stamped when the call returns. An iocb the
// kernel refuses is that op's error (as fio's io_u), and ends the job.
int BenchLoop::CommitAio() {
  while (q_len_ != 0) {
    int r = aio_.Submit(iocb_ptrs_.data() + q_start_, q_len_);
    state_[kBsEnters]++;
    if (r > 0) {
      Submitted(static_cast<unsigned>(r));
      continue;
    }
    if (r == -EAGAIN && in_flight_ > q_len_) {
      // The context is full: a completion makes room.
      int g = aio_.GetEvents(1, 1, events_.data(), -1);
      if (g < 0 && g != -EINTR) return g;
      for (int i = 0; i < g; i++) Complete(events_[i], o_.stamp_reap ? Now() : loop_now_);
      continue;
    }
    // The first queued op failed: its error is its completion.
    unsigned tag = queued_[q_start_];
    t_sub_[tag] = o_.stamp_submit ? Now() : loop_now_;
    q_start_++;
    q_len_--;
    if (q_len_ == 0) q_start_ = 0;
    abi::IoEvent ev{};
    ev.data = tag;
    ev.res = r == 0 ? -EAGAIN : r;
    Complete(ev, t_sub_[tag]);
  }
  return 0;
}

void BenchLoop::Complete(const abi::IoEvent& ev, double now) {
  unsigned tag = static_cast<unsigned>(ev.data);
  if (tag >= o_.depth) return;
  int32_t res = static_cast<int32_t>(ev.res);
  Record(tag, res, now);
  free_[n_free_++] = tag;
  in_flight_--;
  if (res < 0) state_[kBsStop] = 1;
}

// Waits (io_getevents) for iodepth_batch_complete_min completions, at most
// the ops in flight, and reaps up to iodepth_batch_complete_max of what is
// ready (from the context's mapped ring when it needs no wait).
int BenchLoop::ReapAio() {
  unsigned min = o_.complete_min < in_flight_ ? o_.complete_min : in_flight_;
  if (min == 0) min = 1;
  unsigned cap = o_.complete_max > in_flight_ ? in_flight_ : o_.complete_max;
  if (cap < min) cap = min;
  unsigned got = 0;
  unsigned ready = aio_.Ready();
  if (ready == 0) {
    int b = BeforeWait();
    if (b != 0) return b;
  }
  if (ready >= min) {
    double now = o_.stamp_reap ? Now() : loop_now_;
    got = aio_.Reap([&](const abi::IoEvent& ev) { Complete(ev, now); }, cap);
  } else {
    int g;
    do {
      g = aio_.GetEvents(min, cap, events_.data(), -1);
    } while (g == -EINTR);
    if (g < 0) return g;
    double now = o_.stamp_reap ? Now() : loop_now_;
    for (int i = 0; i < g; i++) Complete(events_[i], now);
    got = static_cast<unsigned>(g);
  }
  state_[kBsComplete + BatchBucket(got)]++;
  return 0;
}

// One reaped op: its samples (fio's: slat even for an op that failed, clat and
// lat only for one that did not), its counts, and the record JavaScript gets.
void BenchLoop::Record(unsigned tag, int32_t res, double now) {
  offered_ = false;
  unsigned dir = dir_[tag];
  double* const* h = o_.hist[dir];
  double* stats = o_.hist_stats + dir * 3 * kBenchHistStats;
  if (h[0] != nullptr) BenchHistRecord(h[0], stats, t_sub_[tag] - t_prep_[tag]);
  if (res >= 0) {
    if (h[1] != nullptr) BenchHistRecord(h[1], stats + kBenchHistStats, now - t_sub_[tag]);
    if (h[2] != nullptr) BenchHistRecord(h[2], stats + 2 * kBenchHistStats, now - t_prep_[tag]);
    double* done = state_ + kBsDone + 3 * dir;
    done[0]++;
    done[1] += res;
    if (static_cast<uint32_t>(res) < len_[tag]) done[2]++;
  }
  double at = state_[kBsOutCount];
  // Fill() keeps room for every op in flight; the check guards the array all the same.
  if (!(at >= 0 && at < out_cap_)) return;
  double* rec = out_ + static_cast<size_t>(at) * kBenchOutStride;
  rec[0] = res;
  rec[1] = dir;
  rec[2] = len_[tag];
  rec[3] = off_[tag];
  rec[4] = t_prep_[tag];
  rec[5] = t_sub_[tag];
  rec[6] = now;
  rec[7] = buf_[tag];
  state_[kBsOutCount]++;
}

// content.ts's scrambleWrite: in each whole 512-byte block of the write, one of
// its eight 64-byte lines (chosen by the time and the block's offset) gets the
// block's offset and the time, as two little-endian 64-bit numbers.
void BenchLoop::Scramble(unsigned bi, uint32_t len, double off, double now) {
  uint64_t ns = static_cast<uint64_t>(now);
  uint64_t boff = static_cast<uint64_t>(off);
  unsigned line = static_cast<unsigned>((ns ^ (boff / 512)) & 7) * 64;
  unsigned char* p = static_cast<unsigned char*>(o_.buffers[bi]);
  for (uint32_t at = 0; at + 512 <= len; at += 512) {
    uint64_t words[2] = {boff + at, ns};
    std::memcpy(p + at + line, words, sizeof(words));  // x86-64, aarch64: little-endian
  }
}

bool BenchLoop::InputLow() const {
  return state_[kBsInEnd] == 0 && state_[kBsStop] == 0 && state_[kBsInCount] - state_[kBsInPos] < o_.low_water;
}

// The loop is about to wait for a completion and none is ready: the moment to
// let JavaScript add input or poll, since no op waits for the thread meanwhile.
// Once per wait (a call that adds nothing does not ask again until a reap).
// At depth 1 the one op in flight would wait for JavaScript: the top of the
// turn, with nothing in flight, offers instead.
int BenchLoop::BeforeWait() {
  if (offered_ || o_.depth == 1) return 0;
  if (InputLow()) {
    offered_ = true;
    return kBenchWantInput;
  }
  if (Now() - run_start_ >= static_cast<double>(o_.yield_ns)) {
    offered_ = true;
    return kBenchOutFull;
  }
  return 0;
}

// Waits for iodepth_batch_complete_min completions (at most the ops in
// flight) and reaps up to iodepth_batch_complete_max of what is ready,
// stamped with one clock read: 0, -errno, or BeforeWait()'s status (nothing reaped).
int BenchLoop::Reap() {
  if (o_.aio) return ReapAio();
  unsigned min = o_.complete_min < in_flight_ ? o_.complete_min : in_flight_;
  if (min == 0) min = 1;
  unsigned ready = ring_.CqCount();
  if (ready == 0 && !ring_.NeedsFlush()) {
    int b = BeforeWait();
    if (b != 0) return b;
  }
  while (ready < min) {
    uint64_t enters = ring_.enter_calls();
    int r = ring_.Enter(0, min, abi::kEnterGetevents);
    state_[kBsEnters] += static_cast<double>(ring_.enter_calls() - enters);
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -ETIME) return r;
    ready = ring_.CqCount();
  }
  unsigned cap = o_.complete_max > in_flight_ ? in_flight_ : o_.complete_max;
  if (cap < min) cap = min;
  if (ready < cap && ready < in_flight_ && ring_.NeedsFlush()) {
    // Completions the kernel holds until asked (task work, IOPOLL): as fio's peek.
    uint64_t enters = ring_.enter_calls();
    ring_.FlushCompletions();
    state_[kBsEnters] += static_cast<double>(ring_.enter_calls() - enters);
    ready = ring_.CqCount();
  }
  unsigned k = ready < cap ? ready : cap;
  double now = o_.stamp_reap ? Now() : loop_now_;
  const unsigned depth = o_.depth;
  unsigned got = ring_.Drain(
      [&](const abi::Cqe& cqe) {
        unsigned tag = static_cast<unsigned>(cqe.user_data);
        if (tag >= depth) return;
        Record(tag, cqe.res, now);
        free_[n_free_++] = tag;
        in_flight_--;
        // An error ends the job (run.fail): no op starts after it.
        if (cqe.res < 0) state_[kBsStop] = 1;
      },
      k);
  state_[kBsComplete + BatchBucket(got)]++;
  return 0;
}

void BenchLoop::Close() {
  if (o_.aio) {
    // io_destroy waits for every op in the kernel; with none there it only
    // waits for the kernel's teardown (an RCU grace period), off this thread.
    if (in_flight_ == q_len_) aio_.DestroyInBackground();
    else aio_.Destroy();
    in_flight_ = q_len_ = 0;
    return;
  }
  if (!ring_.is_open()) return;
  // SQEs written and never taken: take them back (the kernel reads the SQ
  // only inside an enter without SQPOLL); with SQPOLL, submit and wait.
  unsigned taken_back = q_len_ ? ring_.Retract([](const abi::Sqe&) {}) : 0;
  if (taken_back == 0 && q_len_ != 0) ring_.Submit(0);
  in_flight_ -= taken_back < in_flight_ ? taken_back : in_flight_;
  q_len_ = 0;
  while (in_flight_ != 0) {
    unsigned got = ring_.Drain([](const abi::Cqe&) {}, in_flight_);
    in_flight_ -= got;
    if (in_flight_ == 0) break;
    int r = ring_.Enter(0, 1, abi::kEnterGetevents);
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -ETIME && r != -EINTR) break;
  }
  ring_.Close();
}

int BenchLoop::Run() {
  if (o_.aio ? !aio_.is_open() : !ring_.is_open()) return -EBADF;
  const double start = Now();
  run_start_ = start;
  offered_ = false;
  for (;;) {
    if (!mid_fill_) {
      loop_now_ = Now();
      // Between turns: with nothing in flight, JavaScript's turn costs no op
      // anything (depth 1: every turn); else let it poll and publish at least
      // every 4 yield_ns, should the loop never wait (BeforeWait() offers every yield_ns).
      if (in_flight_ == 0 && state_[kBsOutCount] != 0) {
        if (InputLow()) return kBenchWantInput;
        if (loop_now_ - start >= static_cast<double>(o_.yield_ns)) return kBenchOutFull;
      }
      if (loop_now_ - start >= 4 * static_cast<double>(o_.yield_ns) && state_[kBsOutCount] != 0) return kBenchOutFull;
      // The shared stop flags (Ctrl-C, a sibling's end): every 16th turn, as the JavaScript loop.
      if ((turns_++ & 15) == 0 && ((o_.stop_flag && __atomic_load_n(o_.stop_flag, __ATOMIC_SEQ_CST) != 0) ||
                                    (o_.term_flag && __atomic_load_n(o_.term_flag, __ATOMIC_SEQ_CST) != 0)))
        state_[kBsStop] = 1;
    }
    mid_fill_ = false;
    int r = Fill(loop_now_);
    if (r < 0) return r;
    if (r == kBenchOutFull) return r;
    if (r == kBenchNeedInput) {
      mid_fill_ = true;
      state_[kBsInFlight] = in_flight_;
      return kBenchNeedInput;
    }
    state_[kBsInFlight] = in_flight_;
    if (in_flight_ == 0) return kBenchDone;
    r = Reap();
    if (r < 0) return r;
    state_[kBsInFlight] = in_flight_;
    if (r > 0) return r;
  }
}

}  // namespace kaio
