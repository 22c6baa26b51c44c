// Blocking file syscalls (preadv2, pwritev2, fsync, fdatasync) run on kaio's
// own worker threads, for the thread-pool backend and for the ops an AIO
// context cannot hand to io_submit without blocking (pipes, sockets,
// character devices). This is the part that knows nothing of JavaScript:
// jobs, bounce buffers, threads, syscalls. napi/js_offload.h turns JS views
// into jobs and copies results back into them.
//
// Memory safety is the point of this design: a worker thread never touches
// the caller's memory or the event loop of an environment that may be gone.
//  - Each op reads or writes a kaio-owned bounce buffer. Writes copy the
//    caller's bytes in at Queue(); reads are copied out by the owner between
//    Take() and Release(). Each bounce segment keeps its source's offset
//    within a page, so O_DIRECT alignment rules apply exactly as they would
//    to the caller's memory.
//  - Completions reach the owner's thread through a uv_async_t. Teardown
//    (close, worker exit or terminate, env cleanup) abandons the ops a
//    thread is still in: the thread frees the op when its syscall returns,
//    touching neither the loop nor the caller's memory. Teardown never waits
//    for one.
//  - The threads are process-wide and detached, so no environment's teardown
//    has to join them. A thread idle for OffloadIdleMs() exits, having
//    decided so under the queue's lock with nothing queued: a job queued
//    later starts a thread of its own, none is left without one. The next
//    Queue() after the threads went starts them again.
#pragma once

#include <sys/uio.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend_op.h"

namespace kaio {

struct OffloadChannel;
struct OffloadJob;

class Offload {
 public:
  Offload() = default;
  Offload(const Offload&) = delete;
  Offload& operator=(const Offload&) = delete;
  ~Offload() { Shutdown(); }

  // Binds to the loop; ready(data) runs on the loop's thread when jobs
  // finish. slots: the most jobs in flight at once (indices 0..slots-1).
  // 0 or -errno.
  int Start(uv_loop_t* loop, unsigned slots, void (*ready)(void*), void* data);
  bool open() const { return async_ != nullptr; }

  // Prepares one op in place `slot` (free, < slots). src: the caller's
  // memory, one segment per buffer (a segment with a length and no base is
  // memory that is gone: the op fails with EFAULT without a syscall); write
  // data is copied now. position -1: the fd's current position. stream: the
  // fd may block indefinitely (pipe, socket, device); with retry_espipe an
  // op refused with ESPIPE at an offset is retried at the current position
  // (the AIO semantics for streams). 0, or -ENOMEM (nothing queued).
  int Queue(uint32_t slot, uint32_t op, int fd, const std::vector<iovec>& src, int64_t position, int rw_flags,
            bool stream, bool retry_espipe);

  // Hands the ops queued since the last call to the worker threads (one
  // lock and wake-up per batch; the batch's first op already went at its
  // Queue()). Call once per tick, after Queue()s.
  void Flush();

  // One finished op, or false. Its bounce segments (the data a read
  // brought) stay valid until Release().
  struct Done {
    uint32_t slot;
    uint32_t op;
    int32_t result;
    const iovec* bounce;
    size_t segments;
  };
  bool Take(Done* done);
  // Frees the place of the op Take() returned last.
  void Release(uint32_t slot);

  unsigned in_flight() const { return in_flight_; }

  // Abandons what is in flight (threads free it when their syscalls
  // return), drops the rest, closes the async handle. Idempotent.
  void Shutdown();

 private:
  struct Slot {
    OffloadJob* job = nullptr;  // owned here unless busy
    bool busy = false;
  };

  std::shared_ptr<OffloadChannel> channel_;
  uv_async_t* async_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<OffloadJob*> staged_;  // queued, not yet handed to the threads
  std::vector<OffloadJob*> taken_;   // finished, not yet handed to Take
  size_t taken_pos_ = 0;
  unsigned in_flight_ = 0;
  bool referenced_ = false;
  bool eager_done_ = false;  // this batch's first op went out at once
  void (*ready_)(void*) = nullptr;
  void* data_ = nullptr;
};

// How many worker threads run ops on regular files and block devices
// (KAIO_THREADPOOL_SIZE, default 4, 1..64). Ops on streams get extra
// threads so they cannot starve file I/O.
unsigned OffloadPoolSize();

// How long a worker thread waits for a job before it exits
// (KAIO_THREADPOOL_IDLE_MS, default 30000, 1..86400000).
unsigned OffloadIdleMs();

}  // namespace kaio
