#include "js_offload.h"

#include <cerrno>
#include <cstring>

#include "js_args.h"
#include "js_context.h"
#include "js_errors.h"

namespace kaio {

bool JsOffload::Queue(napi_env env, uint32_t slot, uint32_t id, uint32_t op, int fd, napi_value bufs,
                      size_t checked, int64_t position, int rw_flags, bool stream, bool retry_espipe) {
  Slot& s = slots_[slot];
  src_.clear();
  bool read = op == kBackendRead || op == kBackendReadv;
  if (op <= kBackendWritev) {
    ToIovecs(env, bufs, op == kBackendReadv || op == kBackendWritev, checked, &src_);
    if (read) {
      s.lengths.resize(src_.size());
      for (size_t i = 0; i < src_.size(); i++) s.lengths[i] = src_[i].iov_len;
      if (napi_create_reference(env, bufs, 1, &s.target) != napi_ok) {
        s.target = nullptr;
        return false;
      }
    }
  }
  int r = core_.Queue(slot, op, fd, src_, position, rw_flags, stream, retry_espipe);
  if (r < 0) {
    if (s.target) napi_delete_reference(env, s.target);
    s.target = nullptr;
    ThrowErrno(env, r, "posix_memalign");
    return false;
  }
  s.id = id;
  return true;
}

// Fills the caller's views from the bounce buffer; the op's result, or
// -EFAULT when a view was detached or shrunk meanwhile. Every view the
// result reaches is checked before any is written: a readv whose second
// view shrank fills none of them.
int32_t JsOffload::CopyOut(napi_env env, Slot& s, const Offload::Done& done) {
  napi_ref target = s.target;
  s.target = nullptr;
  int32_t res = done.result;
  if (!target) return res;
  napi_value v = RefValue(env, target);
  napi_delete_reference(env, target);
  if (res <= 0) return res;
  if (!v) return -EFAULT;
  bool list = done.op == kBackendReadv;
  std::vector<void*>& dest = copy_dest_;
  dest.clear();
  size_t left = static_cast<size_t>(res);
  for (size_t i = 0; i < done.segments && left > 0; i++) {
    napi_value item = v;
    // A vectored op's target is JS's [view, length, ...] copy of its list.
    if (list && napi_get_element(env, v, static_cast<uint32_t>(2 * i), &item) != napi_ok) return -EFAULT;
    void* data = nullptr;
    size_t len = 0;
    if (!ViewBytes(env, item, &data, &len) || len < s.lengths[i] || (s.lengths[i] && !data)) return -EFAULT;
    dest.push_back(data);
    left -= left < s.lengths[i] ? left : s.lengths[i];
  }
  left = static_cast<size_t>(res);
  for (size_t i = 0; i < dest.size(); i++) {
    size_t n = left < s.lengths[i] ? left : s.lengths[i];
    if (n) std::memcpy(dest[i], done.bounce[i].iov_base, n);
    left -= n;
  }
  return res;
}

void JsOffload::Shutdown(napi_env env) {
  core_.Shutdown();
  for (Slot& s : slots_) {
    if (s.target && env) napi_delete_reference(env, s.target);
    s.target = nullptr;
  }
  slots_.clear();
}

}  // namespace kaio
