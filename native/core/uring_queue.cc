// The submission and completion queues: handing out SQEs, submitting them
// (io_uring_enter(2)) until the kernel has taken them all, flushing
// completions the kernel holds back.
#include <sched.h>
#include <time.h>

#include <cerrno>
#include <chrono>

#include "uring.h"
#include "uring_sys.h"

namespace kaio {

int Uring::Submit(unsigned wait_nr) {
  if (sqe_tail_ != sqe_head_) {
    // Release: the SQE contents must be visible before the new tail.
    sq_ktail_->store(sqe_tail_, std::memory_order_release);
    sqe_head_ = sqe_tail_;
  }
  unsigned flags = wait_nr ? abi::kEnterGetevents : 0;
  if (setup_flags_ & abi::kSetupSqpoll) {
    // A store then a load may be reordered: without a full fence between the
    // tail store above and this load, we could read NEED_WAKEUP before the
    // sleeping thread sees the new tail, and never wake it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    unsigned pending = SqPending();
    // The kernel thread consumes the SQ; enter only to wake it or to wait.
    if (sq_kflags_->load(std::memory_order_relaxed) & abi::kSqNeedWakeup)
      flags |= abi::kEnterSqWakeup;
    if (!flags) return static_cast<int>(pending);
    int r = Enter(0, wait_nr, flags);
    return r < 0 ? r : static_cast<int>(pending);
  }
  // SQEs the kernel has not consumed yet, including ones an earlier enter
  // left behind (EAGAIN/EBUSY, or a failing SQE without SUBMIT_ALL).
  unsigned pending = SqPending();
  if (!pending && !wait_nr) return 0;
  int total = 0;
  for (;;) {
    int r = Enter(pending, wait_nr, flags);
    if (r < 0) return total ? total : r;
    total += r;
    unsigned left = SqPending();
    // The kernel stops early only after consuming a failing SQE (it posted
    // that SQE's CQE): enter again for the rest. It does not wait then, so
    // the wait goes with the next enter too.
    if (left == 0 || left >= pending) return total;
    pending = left;
  }
}

int Uring::WaitSqConsumed(unsigned timeout_ms) {
  if (SqPending() == 0) return 0;
  if (!(setup_flags_ & abi::kSetupSqpoll)) return -EBUSY;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (unsigned spins = 0;; spins++) {
    // As in Submit(): the tail store must be visible before NEED_WAKEUP is read.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (SqPending() == 0) return 0;
    // A wake-up that fails leaves the SQ as it is: the deadline ends the wait.
    if (sq_kflags_->load(std::memory_order_relaxed) & abi::kSqNeedWakeup) Enter(0, 0, abi::kEnterSqWakeup);
    if (spins < 1000) {
      sched_yield();
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return SqPending() == 0 ? 0 : -EBUSY;
    // The thread is slow to run (a busy or virtual CPU): stop spinning.
    timespec ts = {0, 50 * 1000};
    nanosleep(&ts, nullptr);
  }
}

int Uring::FlushCompletions() {
  return Enter(0, 0, abi::kEnterGetevents);
}

int Uring::WaitTimeout(unsigned min_complete, int64_t timeout_ns) {
  abi::KernelTimespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
  abi::GeteventsArg arg = {};
  arg.ts = reinterpret_cast<uintptr_t>(&ts);
  enter_calls_++;
  return sys::EnterArg(enter_fd_, 0, min_complete, abi::kEnterGetevents | enter_flags_, &arg);
}

int Uring::Enter(unsigned to_submit, unsigned min_complete, unsigned flags) {
  int r;
  do {
    enter_calls_++;
    r = sys::Enter(enter_fd_, to_submit, min_complete, flags | enter_flags_);
  } while (r == -EINTR);
  return r;
}

}  // namespace kaio
