// JS values to C, for the N-API adapters: positions, integers, and the
// memory of a read or write exactly as JS checked it. JS has validated every
// argument before it gets here.
#pragma once

#include <napi.h>
#include <sys/uio.h>

#include <cstdint>
#include <vector>

#include "js_errors.h"

namespace kaio {

// A position: number or bigint; -1 means "the file's current position".
inline int64_t ToPosition(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    int64_t i = 0;
    bool lossless;
    napi_get_value_bigint_int64(env, v, &i, &lossless);
    return i;
  }
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d < 0 ? -1 : static_cast<int64_t>(d);
}

inline uint32_t ToU32(napi_env env, napi_value v) {
  uint32_t u = 0;
  napi_get_value_uint32(env, v, &u);
  return u;
}

inline int32_t ToI32(napi_env env, napi_value v) {
  int32_t i = 0;
  napi_get_value_int32(env, v, &i);
  return i;
}

// The bytes of a view JS validated at `checked` bytes. A view detached or
// shrunk since then yields address 0, which the kernel fails with EFAULT:
// the op fails and no other memory is touched. Views are nearly always
// Buffers, for which one N-API call does.
inline void CheckedBytes(napi_env env, napi_value v, size_t checked, void** data, size_t* len) {
  void* d = nullptr;
  size_t n = 0;
  napi_typedarray_type type;
  size_t count;
  if (napi_get_typedarray_info(env, v, &type, &count, &d, nullptr, nullptr) == napi_ok &&
      (type == napi_uint8_array || type == napi_int8_array || type == napi_uint8_clamped_array)) {
    n = count;
  } else if (!ViewBytes(env, v, &d, &n)) {
    d = nullptr;
    n = 0;
  }
  *data = n >= checked ? d : nullptr;
  *len = checked;
}

inline double NumberAt(napi_env env, napi_value list, uint32_t i) {
  napi_value v;
  double d = 0;
  if (napi_get_element(env, list, i, &v) == napi_ok) napi_get_value_double(env, v, &d);
  return d;
}

// The memory of a read or write as iovecs: one view with its checked length,
// or (list) JS's private [view, length, view, length, ...] copy of a
// readv/writev list. No caller object is read here, so no caller code runs.
inline void ToIovecs(napi_env env, napi_value v, bool list, size_t checked, std::vector<iovec>* out) {
  out->clear();
  if (!list) {
    iovec iov;
    CheckedBytes(env, v, checked, &iov.iov_base, &iov.iov_len);
    out->push_back(iov);
    return;
  }
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  out->resize(n / 2);
  for (uint32_t i = 0; i < n / 2; i++) {
    napi_value item = nullptr;
    napi_get_element(env, v, 2 * i, &item);
    CheckedBytes(env, item, static_cast<size_t>(NumberAt(env, v, 2 * i + 1)), &(*out)[i].iov_base,
                 &(*out)[i].iov_len);
  }
}

}  // namespace kaio
