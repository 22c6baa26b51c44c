// kaio bench's native inner loop on io_uring or Linux AIO (fio's do_io()
// for the common case): JavaScript chooses the ops (offset, length, direction) in blocks;
// this loop preps them into free slots, commits every iodepth_batch_submit,
// reaps iodepth_batch_complete_min..max per turn, and stamps each op with
// CLOCK_MONOTONIC as fio does (after its preparation; when the enter that
// took it returned; when it was reaped). Each reaped op becomes one record
// that JavaScript folds into its histograms in bulk. No allocation per op.
// Plain C++ that speaks -errno and knows nothing of JavaScript.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "aio.h"
#include "uring.h"

namespace kaio {

// One op chosen by JavaScript: offset, length, direction (0 read, 1 write),
// and the buffer it uses (JavaScript filled it for a write, and looks at it
// again only after the op's record came back).
constexpr unsigned kBenchInStride = 4;
// One reaped op: res, direction, length, offset, prep, submit, reap (ns), buffer.
constexpr unsigned kBenchOutStride = 8;

// state[]: counters the loop and JavaScript share (a Float64Array).
enum BenchState : unsigned {
  kBsDepth = 0,      // 7 buckets: depth at commit, per op committed (deltas, JS adds and clears)
  kBsSubmit = 7,     // 7 buckets: ops per commit call
  kBsComplete = 14,  // 7 buckets: ops per reap
  kBsInCount = 21,   // ops in the input block (JS)
  kBsInPos = 22,     // ops of the block taken so far (the loop; JS clears with a new block)
  kBsInEnd = 23,     // 1: no op comes after this block (JS)
  kBsOutCount = 24,  // records written (the loop; JS clears after folding)
  kBsDeadline = 25,  // no op starts at or after this CLOCK_MONOTONIC ns (JS; Infinity: none)
  kBsStop = 26,      // 1: start no more ops, reap what is in flight (JS or the loop)
  kBsInFlight = 27,  // ops in the kernel (the loop)
  kBsEnters = 28,    // io_uring_enter calls (the loop)
  kBsSlots = 29,
};

// What Run() returns (>= 0), or -errno of a failed io_uring_enter.
enum BenchStatus : int {
  kBenchDone = 0,      // nothing in flight and nothing more to start
  kBenchNeedInput = 1, // the block is used up: JS gives the next (or sets kBsInEnd)
  kBenchOutFull = 2,   // fold the records (or the call ran for yield_ns): call again
};

struct BenchLoopOptions {
  // Linux AIO (io_submit, io_getevents) instead of io_uring.
  bool aio = false;
  UringOptions uring;
  int fd = -1;
  bool register_file = false;
  // The buffers ops name by index; registered with the ring when fixed_buffers.
  std::vector<void*> buffers;
  std::vector<size_t> buffer_sizes;
  bool fixed_buffers = false;
  unsigned depth = 1;
  unsigned batch_submit = 1;
  unsigned complete_min = 1;
  unsigned complete_max = 1;
  bool stamp_prep = true;
  bool stamp_submit = true;
  bool stamp_reap = true;
  // The job's shared stop flags (read every 16th turn), or nullptr.
  const int32_t* stop_flag = nullptr;
  const int32_t* term_flag = nullptr;
  // Return to JavaScript after this long in one call (it polls, publishes progress).
  uint64_t yield_ns = 20 * 1000 * 1000;
};

class BenchLoop {
 public:
  // The arrays are JavaScript's, alive as long as this object: `in` holds
  // in_cap ops, `out` out_cap records, `state` kBsSlots numbers.
  BenchLoop(const double* in, unsigned in_cap, double* out, unsigned out_cap, double* state)
      : in_(in), in_cap_(in_cap), out_(out), out_cap_(out_cap), state_(state) {}
  // Returns 0 or -errno; `what` names the failing step.
  int Setup(const BenchLoopOptions& options, const char** what);
  int Run();
  // Waits for the ops in the kernel (their buffers stay the caller's until then), then closes the ring.
  void Close();
  uint64_t fixed_ops() const { return fixed_ops_; }
  static double Now();

 private:
  int Fill(double loop_now);
  int CommitAio();
  int ReapAio();
  int Commit();
  void Submitted(unsigned taken);
  int Reap();
  void Record(unsigned tag, int32_t res, double now);
  void Complete(const abi::IoEvent& ev, double now);

  BenchLoopOptions o_;
  Uring ring_;
  Aio aio_;
  std::vector<abi::Iocb> iocbs_;
  std::vector<abi::Iocb*> iocb_ptrs_;  // in queued_ order
  std::vector<abi::IoEvent> events_;
  const double* in_;
  unsigned in_cap_;
  double* out_;
  unsigned out_cap_;
  double* state_;
  // Per slot: what the op is and its stamps.
  std::vector<uint8_t> dir_;
  std::vector<uint32_t> buf_;
  std::vector<uint32_t> len_;
  std::vector<double> off_;
  std::vector<double> t_prep_;
  std::vector<double> t_sub_;
  std::vector<unsigned> free_;
  unsigned n_free_ = 0;
  // Prepared, not yet taken by the kernel, in order.
  std::vector<unsigned> queued_;
  unsigned q_start_ = 0;
  unsigned q_len_ = 0;
  unsigned in_flight_ = 0;
  uint64_t turns_ = 0;
  uint64_t fixed_ops_ = 0;
  // A turn whose fill stopped for want of input resumes there (same loop clock).
  bool mid_fill_ = false;
  double loop_now_ = 0;
};

}  // namespace kaio
