// kaio bench's native inner loop on io_uring or Linux AIO (fio's do_io()
// for the common case): JavaScript chooses the ops (offset, length, direction)
// into a ring of input; this loop preps them into free slots, commits every
// iodepth_batch_submit, reaps iodepth_batch_complete_min..max per turn, and
// stamps each op with CLOCK_MONOTONIC as fio does (after its preparation; when
// the enter that took it returned; when it was reaped). Each reaped op's slat,
// clat and lat go into fio's log-linear histograms here, as it is reaped, with
// its counts; JavaScript gets back a record of the op (its result and buffer, to
// reuse the buffer, verify it, or fail the job; and its stamps). The loop hands the thread to JavaScript
// (for more input, a poll) when no op waits to be reaped: with none in flight,
// or when it is about to wait for a completion; only an input run dry or a
// loop that never waits makes JavaScript work while a completion may be
// waiting. No allocation per op. Plain C++ that speaks -errno and knows
// nothing of JavaScript.
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
// fio's latency histogram (stat.h's FIO_IO_U_PLAT_*): below 2^(bits + 1) ns a
// bucket per value, above that each power of two split into 2^bits buckets;
// lib/bench/histogram.ts reads them with the same layout.
constexpr unsigned kBenchPlatBits = 6;
constexpr unsigned kBenchPlatVal = 1u << kBenchPlatBits;
constexpr unsigned kBenchPlatNr = 29 * kBenchPlatVal;
// Per histogram, beside its buckets: count, sum, sum of squares, min, max of the
// samples since JavaScript last took them (it adds them and puts back 0, 0, 0, Infinity, 0).
constexpr unsigned kBenchHistStats = 5;
// The bucket of a sample (ns, >= 0).
unsigned BenchBucket(double ns);
// Records one sample (ns) in a histogram's buckets and its stats.
void BenchHistRecord(double* counts, double* stats, double ns);

// state[]: counters the loop and JavaScript share (a Float64Array). The input
// is a ring of in_cap ops: op i (counted from the first) is at i % in_cap.
enum BenchState : unsigned {
  kBsDepth = 0,      // 7 buckets: depth at commit, per op committed (deltas, JS adds and clears)
  kBsSubmit = 7,     // 7 buckets: ops per commit call
  kBsComplete = 14,  // 7 buckets: ops per reap
  kBsInCount = 21,   // ops put in the input ring so far (JS)
  kBsInPos = 22,     // ops taken from it so far (the loop)
  kBsInEnd = 23,     // 1: no op comes after those in the ring (JS)
  kBsOutCount = 24,  // records written (the loop; JS clears after taking them)
  kBsDeadline = 25,  // no op starts at or after this CLOCK_MONOTONIC ns (JS; Infinity: none)
  kBsStop = 26,      // 1: start no more ops, reap what is in flight (JS or the loop)
  kBsInFlight = 27,  // ops in the kernel (the loop)
  kBsEnters = 28,    // io_uring_enter calls (the loop)
  kBsDone = 29,      // per direction (read, write): ios, bytes, short ios reaped (deltas, JS adds and clears)
  kBsSlots = 35,
};

// What Run() returns (>= 0), or -errno of a failed io_uring_enter.
enum BenchStatus : int {
  kBenchDone = 0,      // nothing in flight and nothing more to start
  kBenchNeedInput = 1, // the block is used up: JS gives the next (or sets kBsInEnd)
  kBenchOutFull = 2,   // take the records (or the call ran for yield_ns): call again
  kBenchWantInput = 3, // fewer than low_water ops in the input: JS may add some, then call again
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
  // Per direction (read, write) and figure (slat, clat, lat): kBenchPlatNr
  // buckets, or nullptr for a figure not timed; stats: 2 * 3 * kBenchHistStats.
  double* hist[2][3] = {};
  double* hist_stats = nullptr;
  // fio's scramble_buffers: each 512-byte block of a write gets its offset and
  // the time, at its prep (as content.ts's scrambleWrite does for the JavaScript loop).
  bool scramble = false;
  // kBenchWantInput when the input holds fewer ops than this.
  unsigned low_water = 0;
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
  // Whether to hand the thread to JavaScript before waiting for a completion: kBenchWantInput, kBenchOutFull or 0.
  int BeforeWait();
  bool InputLow() const;
  void Scramble(unsigned bi, uint32_t len, double off, double now);
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
  double run_start_ = 0;
  // JavaScript was offered the wait since the last reap (offer it once).
  bool offered_ = false;
};

}  // namespace kaio
