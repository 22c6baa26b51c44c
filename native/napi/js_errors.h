// Errors shaped like Node's own SystemError: code, errno (negative), syscall.
#pragma once

#include <napi.h>

namespace kaio {

// Builds `CODE: message, syscall` with code/errno/syscall properties.
Napi::Error ErrnoError(Napi::Env env, int neg_errno, const char* syscall);
[[noreturn]] void ThrowErrno(Napi::Env env, int neg_errno, const char* syscall);

// Reads the bytes of any ArrayBufferView (Buffer, TypedArray, DataView).
bool ViewBytes(napi_env env, napi_value value, void** data, size_t* length);

}  // namespace kaio
