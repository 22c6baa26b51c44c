// Blocking file syscalls (preadv2, pwritev2, fsync, fdatasync) run on kaio's
// own worker threads, for the thread-pool backend and for the ops an AIO
// context cannot hand to io_submit without blocking (pipes, sockets,
// character devices).
//
// Memory safety is the point of this design: a worker thread never touches
// JavaScript memory or the event loop of an environment that may be gone.
//  - Each op reads or writes a kaio-owned bounce buffer. Writes copy the
//    caller's bytes in at prep; reads copy out on the JS thread at
//    completion, only into a view still as long as it was (else EFAULT).
//    Each bounce segment keeps its view's offset within a page, so O_DIRECT
//    alignment rules apply exactly as they would to the caller's memory.
//  - Completions reach the JS thread through a uv_async_t. Teardown
//    (close, worker exit or terminate, env cleanup) abandons the ops a
//    thread is still in: the thread frees the op when its syscall returns,
//    touching neither the loop nor JS memory. Teardown never waits for one.
//  - The threads are process-wide and never exit, so no environment's
//    teardown has to join them.
#pragma once

#include <napi.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace kaio {

struct OffloadChannel;
struct OffloadJob;

class Offload {
 public:
  Offload() = default;
  Offload(const Offload&) = delete;
  Offload& operator=(const Offload&) = delete;
  ~Offload();

  // Binds to the loop; ready(data) runs on the JS thread when jobs finish.
  // slots: the most jobs in flight at once (indices 0..slots-1). 0 or -errno.
  int Start(uv_loop_t* loop, unsigned slots, void (*ready)(void*), void* data);
  bool open() const { return async_ != nullptr; }

  // Prepares one op in place `slot` (free, < slots). bufs: a view of
  // `checked` bytes (or, for the vectored ops, JS's [view, length, ...] list
  // copy); write data is copied now.
  // position -1: the fd's current position. stream: the fd may block
  // indefinitely (pipe, socket, device); with retry_espipe an op refused
  // with ESPIPE at an offset is retried at the current position (the AIO
  // semantics for streams). False when a buffer is not an ArrayBufferView.
  bool Queue(napi_env env, uint32_t slot, uint32_t id, uint32_t op, int fd, napi_value bufs, size_t checked,
             int64_t position, int rw_flags, bool stream, bool retry_espipe);

  // Hands the ops queued since the last call to the worker threads (one
  // lock and wake-up per batch; the batch's first op already went at its
  // Queue()). Call once per tick, after Queue()s.
  void Flush();

  // Hands up to max finished ops to put(slot, id, res), read data copied
  // into the caller's views first. JS thread only.
  template <typename Fn>
  unsigned Collect(napi_env env, Fn&& put, unsigned max) {
    unsigned n = 0;
    while (n < max) {
      uint32_t slot, id;
      int32_t res;
      if (!TakeOne(env, &slot, &id, &res)) break;
      put(slot, id, res);
      n++;
    }
    return n;
  }

  unsigned in_flight() const { return in_flight_; }

  // Abandons what is in flight (threads free it when their syscalls
  // return), drops the rest, closes the async handle. Idempotent.
  void Shutdown(napi_env env);

 private:
  struct Slot {
    OffloadJob* job = nullptr;   // owned here unless busy
    napi_ref target = nullptr;   // read: the view or array of views to fill
    std::vector<size_t> lengths; // read: each view's length at prep
    uint32_t id = 0;
    bool busy = false;
  };

  bool TakeOne(napi_env env, uint32_t* slot, uint32_t* id, int32_t* res);
  int32_t CopyOut(napi_env env, Slot& s, OffloadJob* job);

  std::shared_ptr<OffloadChannel> channel_;
  uv_async_t* async_ = nullptr;
  std::vector<Slot> slots_;
  std::vector<OffloadJob*> staged_;  // queued, not yet handed to the threads
  std::vector<OffloadJob*> taken_;   // finished, not yet handed to put
  size_t taken_pos_ = 0;
  std::vector<void*> copy_dest_;     // CopyOut's scratch: the views' memory
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

}  // namespace kaio
