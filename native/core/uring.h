// A raw io_uring instance: setup, the shared SQ/CQ rings, enter and register
// (uring_setup.cc, uring_queue.cc, uring_register.cc, as liburing splits them).
// Plain C++ that speaks -errno and knows nothing of JavaScript.
// See io_uring_setup(2), io_uring_enter(2), io_uring_register(2).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "abi.h"

namespace kaio {

struct UringOptions {
  unsigned entries = 256;
  unsigned cq_entries = 0;  // 0: kernel default (2 x entries)
  bool sqpoll = false;
  unsigned sq_thread_idle_ms = 1000;
  bool iopoll = false;
  // Newer setup flags are tried first and dropped one by one on EINVAL.
  bool coop_taskrun = true;
  bool single_issuer = true;
  // IORING_SETUP_SUBMIT_ALL (5.18): keep submitting past a failing SQE.
  // Off only to exercise the older kernels' partial submission.
  bool submit_all = true;
  // IORING_SETUP_NO_SQARRAY (6.6): no SQ index array, SQEs are taken in order.
  bool no_sqarray = true;
  // IORING_REGISTER_RING_FDS (5.18): enter through the calling thread's
  // registered-ring table instead of the fd (no fd lookup per enter). The
  // slot belongs to the thread that set the ring up, which is the only one
  // that enters it. Falls back to the fd when the kernel or the table (16
  // slots per thread) says no.
  bool register_ring_fd = true;
  // IORING_SETUP_DEFER_TASKRUN (6.1, with SINGLE_ISSUER, not with SQPOLL or
  // IOPOLL here): a completion the kernel finishes outside our thread (a
  // device interrupt, io-wq) waits as work on the ring instead of as task
  // work on the thread, which would interrupt whatever the thread is
  // blocked in (libuv's epoll_wait: EINTR, then a second epoll_wait). It
  // runs when we enter with GETEVENTS. Such work wakes nobody polling the
  // ring fd, so the ring gets an eventfd (IORING_REGISTER_EVENTFD), which
  // the kernel signals when work is queued and when CQEs are posted: watch
  // wake_fd(), and call Rearm() after each reap. Off where the kernel lacks
  // the flag or the eventfd cannot be registered. Only the thread that set
  // the ring up may enter it (as with SINGLE_ISSUER already). kaio bench's
  // loop sets it too, as fio's io_uring engine does.
  bool defer_taskrun = false;
  // With defer_taskrun: the eventfd above, for a poller to watch (libuv).
  // Off for a ring whose one thread waits inside io_uring_enter itself
  // (kaio bench's loop), which needs no wake-up from outside.
  bool defer_wake_eventfd = true;
};

class Uring {
 public:
  Uring() = default;
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;
  ~Uring() { Close(); }

  // Returns 0 or -errno.
  int Setup(const UringOptions& options);
  void Close();
  bool is_open() const { return fd_ >= 0; }

  int fd() const { return fd_; }
  // The fd that becomes readable when there is something to reap: the
  // eventfd of a DEFER_TASKRUN ring, else the ring fd itself.
  int wake_fd() const { return event_fd_ >= 0 ? event_fd_ : fd_; }
  bool defer_taskrun() const { return setup_flags_ & abi::kSetupDeferTaskrun; }
  // After reaping, with an eventfd: consumes its count, then raises it
  // again if anything is still to reap (CQEs left, or work the kernel holds
  // for an enter), so that a level-triggered watcher of wake_fd() comes back
  // for it and never sleeps on it. The kernel sets IORING_SQ_TASKRUN before
  // it signals the eventfd, so work queued around the read is either still
  // counted or seen by the check after it. No-op without an eventfd.
  void Rearm();
  // Waits until wake_fd() is readable or timeout_ms pass (teardown only).
  void WaitWake(int timeout_ms);
  unsigned sq_entries() const { return sq_entries_; }
  unsigned cq_entries() const { return cq_entries_; }
  uint32_t features() const { return features_; }
  uint32_t setup_flags() const { return setup_flags_; }
  // The ring fd is in this thread's registered-ring table (enters use it).
  bool ring_fd_registered() const { return enter_flags_ & abi::kEnterRegisteredRing; }
  // Bytes of SQ, CQ and SQE memory mapped for this ring.
  size_t mapped_bytes() const {
    return sqes_size_ + sq_ring_size_ + (cq_ring_ != sq_ring_ ? cq_ring_size_ : 0);
  }

  // Next free SQE, zeroed, or nullptr when the SQ is full. The SQE becomes
  // visible to the kernel at the next Submit(). Inline: it is on every op's path.
  abi::Sqe* GetSqe() {
    uint32_t head = sq_khead_->load(std::memory_order_acquire);
    if (sqe_tail_ - head >= sq_entries_) return nullptr;
    abi::Sqe* sqe = &sqes_[sqe_tail_ & sq_mask_];
    sqe_tail_++;
    std::memset(sqe, 0, sizeof(*sqe));
    return sqe;
  }
  unsigned IndexOf(const abi::Sqe* sqe) const {
    return static_cast<unsigned>(sqe - sqes_);
  }
  uint32_t SqHead() const { return sq_khead_->load(std::memory_order_acquire); }
  // The next SQE GetSqe() hands out is at this position; the one at
  // position p is SqeAt(p) until the kernel consumes it (SqHead() passes p).
  uint32_t SqeTail() const { return sqe_tail_; }
  abi::Sqe* SqeAt(uint32_t p) { return &sqes_[p & sq_mask_]; }
  // SQEs written since the last Submit().
  unsigned Unsubmitted() const { return sqe_tail_ - sqe_head_; }
  // SQEs GetSqe() can still hand out before the kernel consumes some.
  unsigned SqFree() const {
    return sq_entries_ - (sqe_tail_ - sq_khead_->load(std::memory_order_acquire));
  }
  // Publishes queued SQEs and enters the kernel until it has consumed all of
  // them: without IORING_SETUP_SUBMIT_ALL one failing SQE ends the kernel's
  // batch and leaves the rest in the SQ, with nothing to submit them later.
  // Returns the number consumed, or -errno when the kernel took none
  // (EAGAIN/EBUSY: try again after reaping).
  int Submit(unsigned wait_nr = 0);
  // Waits until the kernel has consumed every published SQE, which for an op
  // on a registered file is when the kernel binds it to the file its slot
  // holds. Without SQPOLL only io_uring_enter consumes SQEs, so this only
  // looks: 0, or -EBUSY when some are left (an enter answered EAGAIN/EBUSY).
  // With SQPOLL the kernel thread consumes them on its own: wake it if it
  // sleeps and yield the CPU until the SQ head reaches the tail (usually
  // microseconds); -EBUSY if the SQ is not empty after timeout_ms.
  int WaitSqConsumed(unsigned timeout_ms);
  // SQEs published but not consumed by the kernel.
  unsigned SqPending() const {
    return sqe_tail_ - sq_khead_->load(std::memory_order_acquire);
  }
  // Takes back every SQE the kernel has not consumed, calling fn(const Sqe&)
  // for each; returns how many. Only without SQPOLL, where the kernel reads
  // the SQ nowhere but inside io_uring_enter; returns 0 with SQPOLL.
  template <typename Fn>
  unsigned Retract(Fn&& fn) {
    if (setup_flags_ & abi::kSetupSqpoll) return 0;
    uint32_t head = sq_khead_->load(std::memory_order_acquire);
    unsigned n = 0;
    for (uint32_t i = head; i != sqe_tail_; i++, n++) fn(sqes_[i & sq_mask_]);
    sqe_tail_ = sqe_head_ = head;
    sq_ktail_->store(head, std::memory_order_release);
    return n;
  }
  bool iopoll() const { return setup_flags_ & abi::kSetupIopoll; }

  // Hands every ready CQE to fn(const Cqe&) and publishes the new head once.
  template <typename Fn>
  unsigned Drain(Fn&& fn, unsigned max) {
    uint32_t head = cq_khead_->load(std::memory_order_relaxed);
    uint32_t tail = cq_ktail_->load(std::memory_order_acquire);
    unsigned n = 0;
    // Head and tail wrap at 2^32; unsigned subtraction keeps them comparable.
    while (head != tail && n < max) {
      fn(cqes_[head & cq_mask_]);
      head++;
      n++;
    }
    if (n) cq_khead_->store(head, std::memory_order_release);
    return n;
  }
  // CQEs ready to be reaped.
  unsigned CqCount() const {
    return cq_ktail_->load(std::memory_order_acquire) - cq_khead_->load(std::memory_order_relaxed);
  }
  bool CqReady() const {
    return cq_khead_->load(std::memory_order_relaxed) !=
           cq_ktail_->load(std::memory_order_acquire);
  }
  // The kernel holds CQEs it could not post (overflow) or task work that only
  // runs when we enter, or (IOPOLL) completions it finds only when asked to
  // poll: an enter with GETEVENTS moves them into the CQ.
  bool NeedsFlush() const {
    if (iopoll()) return true;
    // DEFER_TASKRUN work is visible only through IORING_SQ_TASKRUN, which
    // needs TASKRUN_FLAG; without it, always enter.
    if ((setup_flags_ & (abi::kSetupDeferTaskrun | abi::kSetupTaskrunFlag)) == abi::kSetupDeferTaskrun) return true;
    return sq_kflags_->load(std::memory_order_acquire) & (abi::kSqCqOverflow | abi::kSqTaskrun);
  }
  int FlushCompletions();
  // Waits inside io_uring_enter until min_complete CQEs are ready or
  // timeout_ns pass (IORING_ENTER_EXT_ARG, 5.11): the count entered with,
  // -ETIME when the time ran out, -EINTR for a signal (not retried: the
  // caller's loop must see it), -EINVAL where the kernel has no EXT_ARG.
  int WaitTimeout(unsigned min_complete, int64_t timeout_ns);
  bool has_ext_arg() const { return features_ & abi::kFeatExtArg; }

  int Enter(unsigned to_submit, unsigned min_complete, unsigned flags);
  int Register(unsigned opcode, const void* arg, unsigned nr_args);
  uint64_t enter_calls() const { return enter_calls_; }

 private:
  int SetupOnce(const UringOptions& options);
  int MapRings(const abi::Params& p);
  void RegisterRingFd();
  int RegisterEventfd();

  int fd_ = -1;
  int event_fd_ = -1;  // DEFER_TASKRUN only: registered with the ring
  // What io_uring_enter is given: the fd, or with kEnterRegisteredRing the
  // slot in this thread's registered-ring table.
  int enter_fd_ = -1;
  unsigned enter_flags_ = 0;
  uint32_t setup_flags_ = 0;
  uint32_t features_ = 0;
  unsigned sq_entries_ = 0;
  unsigned cq_entries_ = 0;

  void* sq_ring_ = nullptr;
  size_t sq_ring_size_ = 0;
  void* cq_ring_ = nullptr;  // same as sq_ring_ with IORING_FEAT_SINGLE_MMAP
  size_t cq_ring_size_ = 0;
  abi::Sqe* sqes_ = nullptr;
  size_t sqes_size_ = 0;

  std::atomic<uint32_t>* sq_khead_ = nullptr;
  std::atomic<uint32_t>* sq_ktail_ = nullptr;
  std::atomic<uint32_t>* sq_kflags_ = nullptr;
  uint32_t sq_mask_ = 0;
  std::atomic<uint32_t>* cq_khead_ = nullptr;
  std::atomic<uint32_t>* cq_ktail_ = nullptr;
  uint32_t cq_mask_ = 0;
  abi::Cqe* cqes_ = nullptr;

  uint32_t sqe_head_ = 0;  // first SQE not yet published
  uint32_t sqe_tail_ = 0;  // next SQE to hand out
  uint64_t enter_calls_ = 0;
};

// Fills `supported` (indexed by opcode, 256 entries) from IORING_REGISTER_PROBE.
// Returns the number of opcodes the kernel knows, or -errno.
int ProbeOps(int ring_fd, bool supported[256]);

}  // namespace kaio
