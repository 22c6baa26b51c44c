// A raw Linux native AIO context: io_setup, io_submit, io_getevents,
// io_destroy, and an eventfd that the kernel signals on each completion
// (IOCB_FLAG_RESFD). Plain C++ that speaks -errno and knows nothing of
// JavaScript. See io_setup(2), io_submit(2), io_getevents(2), aio(7).
#pragma once

#include <atomic>
#include <cstdint>

#include "aio_abi.h"

namespace kaio {

class Aio {
 public:
  Aio() = default;
  Aio(const Aio&) = delete;
  Aio& operator=(const Aio&) = delete;
  ~Aio() { Destroy(); }

  // io_setup(nr_events) plus a non-blocking, close-on-exec eventfd.
  // user_ring: reap from the mapped completion ring when its header is one
  // this code knows; otherwise (or when false) io_getevents is used.
  // Returns 0 or -errno (EAGAIN: fs.aio-max-nr would be exceeded).
  int Setup(unsigned nr_events, bool user_ring);
  // io_destroy: the kernel cancels what it can and waits for the rest, so
  // no iocb or buffer is touched after this returns.
  void Destroy();
  // Destroy() for a context with no op in the kernel: the eventfd is closed
  // here, io_destroy runs on a thread of its own. With nothing in flight it
  // has no op to wait for, only the kernel's teardown of the context (an RCU
  // grace period: milliseconds, or a minute on a busy virtual machine), which
  // would otherwise stall the caller's event loop. Setup() waits for these
  // when io_setup finds fs.aio-max-nr used up.
  void DestroyInBackground();
  bool is_open() const { return ctx_ != 0; }

  int eventfd() const { return efd_; }
  bool user_ring() const { return ring_ != nullptr; }

  // Marks iocb to signal our eventfd when it completes.
  void Arm(abi::Iocb* iocb) const {
    iocb->aio_flags |= abi::kIocbFlagResfd;
    iocb->aio_resfd = static_cast<uint32_t>(efd_);
  }

  // io_submit: the number of iocbs the kernel accepted, or -errno for the
  // first one when it accepted none (EAGAIN: the context is full).
  int Submit(abi::Iocb** iocbs, long n);

  // Signals the eventfd, as a completion would (for results that did not
  // come from the kernel).
  void Wake();

  // Resets the eventfd counter before reaping, so a completion that lands
  // while we reap wakes the loop again.
  void ClearEventfd();

  // Hands up to max ready completions to fn(const IoEvent&). Never blocks.
  template <typename Fn>
  unsigned Reap(Fn&& fn, unsigned max) {
    if (ring_) return ReapRing(fn, max);
    unsigned total = 0;
    abi::IoEvent events[64];
    while (total < max) {
      unsigned want = max - total < 64 ? max - total : 64;
      int n = GetEvents(0, want, events, 0);
      if (n <= 0) break;
      for (int i = 0; i < n; i++) fn(events[i]);
      total += static_cast<unsigned>(n);
      if (static_cast<unsigned>(n) < want) break;
    }
    return total;
  }

  // Completions ready in the mapped ring (0 without one).
  unsigned Ready() const {
    if (!ring_) return 0;
    uint32_t nr = ring_->nr;
    uint32_t head = reinterpret_cast<const std::atomic<uint32_t>*>(&ring_->head)->load(std::memory_order_relaxed) % nr;
    uint32_t tail = reinterpret_cast<const std::atomic<uint32_t>*>(&ring_->tail)->load(std::memory_order_acquire) % nr;
    return tail >= head ? tail - head : nr - head + tail;
  }
  // io_getevents(min_nr, nr) with a timeout in ms (< 0: none). Count or -errno.
  int GetEvents(long min_nr, long nr, abi::IoEvent* events, int timeout_ms);

  uint64_t submit_calls() const { return submit_calls_; }
  uint64_t getevents_calls() const { return getevents_calls_; }

 private:
  template <typename Fn>
  unsigned ReapRing(Fn&& fn, unsigned max) {
    // The kernel publishes events before it moves tail (smp_wmb); we read
    // tail with acquire and hand slots back with a release store of head.
    auto* tail_p = reinterpret_cast<std::atomic<uint32_t>*>(&ring_->tail);
    auto* head_p = reinterpret_cast<std::atomic<uint32_t>*>(&ring_->head);
    uint32_t nr = ring_->nr;
    uint32_t head = head_p->load(std::memory_order_relaxed) % nr;
    uint32_t tail = tail_p->load(std::memory_order_acquire);
    unsigned n = 0;
    while (head != tail && n < max) {
      fn(ring_->io_events[head]);
      head = head + 1 == nr ? 0 : head + 1;
      n++;
    }
    if (n) head_p->store(head, std::memory_order_release);
    return n;
  }

  abi::AioContextT ctx_ = 0;
  abi::AioRing* ring_ = nullptr;
  int efd_ = -1;
  uint64_t submit_calls_ = 0;
  uint64_t getevents_calls_ = 0;
};

// Tries io_setup(1) and io_destroy; 0 or -errno. For probe().
int ProbeAio();

}  // namespace kaio
