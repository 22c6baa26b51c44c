#include "js_errors.h"

#include <string>
#include <uv.h>

namespace kaio {

Napi::Error ErrnoError(Napi::Env env, int neg_errno, const char* syscall) {
  // libuv's error codes are negated errno on Linux, and its names and
  // messages are the ones Node prints.
  const char* code = uv_err_name(neg_errno);
  std::string message = std::string(code) + ": " + uv_strerror(neg_errno) + ", " + syscall;
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("errno", Napi::Number::New(env, neg_errno));
  err.Set("code", Napi::String::New(env, code));
  err.Set("syscall", Napi::String::New(env, syscall));
  return err;
}

void ThrowErrno(Napi::Env env, int neg_errno, const char* syscall) {
  throw ErrnoError(env, neg_errno, syscall);
}

bool ViewBytes(napi_env env, napi_value value, void** data, size_t* length) {
  bool is = false;
  napi_is_typedarray(env, value, &is);
  if (is) {
    napi_typedarray_type type;
    size_t count;
    napi_value ab;
    size_t offset;
    if (napi_get_typedarray_info(env, value, &type, &count, data, &ab, &offset) != napi_ok)
      return false;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array:
        elem = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        elem = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        elem = 8;
        break;
      default:
        break;
    }
    *length = count * elem;
    return true;
  }
  napi_is_dataview(env, value, &is);
  if (is) {
    napi_value ab;
    size_t offset;
    return napi_get_dataview_info(env, value, length, data, &ab, &offset) == napi_ok;
  }
  return false;
}

}  // namespace kaio
