// The N-API side of kaio's worker threads (core/offload.h): turns the JS
// views of an op into a job, and copies a read's data from the job's bounce
// buffer back into those views on the JS thread, only into a view still as
// long as it was (else EFAULT). Used by js_threadpool.cc and js_aio.cc.
#pragma once

#include <napi.h>
#include <sys/uio.h>
#include <uv.h>

#include <cstdint>
#include <vector>

#include "../core/offload.h"

namespace kaio {

class JsOffload {
 public:
  JsOffload() = default;
  JsOffload(const JsOffload&) = delete;
  JsOffload& operator=(const JsOffload&) = delete;

  int Start(uv_loop_t* loop, unsigned slots, void (*ready)(void*), void* data) {
    int r = core_.Start(loop, slots, ready, data);
    if (r == 0) slots_.resize(slots);
    return r;
  }
  bool open() const { return core_.open(); }

  // Prepares one op in place `slot` (free, < slots). bufs: a view of
  // `checked` bytes (or, for the vectored ops, JS's [view, length, ...] list
  // copy); write data is copied now. The rest as Offload::Queue. False when
  // a buffer is not an ArrayBufferView, or with a JS exception pending.
  bool Queue(napi_env env, uint32_t slot, uint32_t id, uint32_t op, int fd, napi_value bufs, size_t checked,
             int64_t position, int rw_flags, bool stream, bool retry_espipe);

  // Sends the ops queued since the last call (Offload::Flush).
  void Flush() { core_.Flush(); }

  // Hands up to max finished ops to put(slot, id, res), read data copied
  // into the caller's views first. JS thread only.
  template <typename Fn>
  unsigned Collect(napi_env env, Fn&& put, unsigned max) {
    unsigned n = 0;
    Offload::Done done;
    while (n < max && core_.Take(&done)) {
      Slot& s = slots_[done.slot];
      int32_t res = CopyOut(env, s, done);
      core_.Release(done.slot);
      put(done.slot, s.id, res);
      n++;
    }
    return n;
  }

  unsigned in_flight() const { return core_.in_flight(); }

  // Offload::Shutdown, and the references to the views of pending reads
  // (env null: only the native parts). Idempotent.
  void Shutdown(napi_env env);

 private:
  struct Slot {
    napi_ref target = nullptr;    // read: the view or array of views to fill
    std::vector<size_t> lengths;  // read: each view's length at prep
    uint32_t id = 0;
  };

  int32_t CopyOut(napi_env env, Slot& s, const Offload::Done& done);

  Offload core_;
  std::vector<Slot> slots_;
  std::vector<iovec> src_;        // Queue's scratch: the views' memory
  std::vector<void*> copy_dest_;  // CopyOut's scratch: the views' memory
};

}  // namespace kaio
