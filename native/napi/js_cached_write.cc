// N-API adapter for writeFile's inline path with inPlace (core/cached_write.h).
#include <string>

#include "../core/cached_write.h"
#include "addon.h"

namespace kaio {

namespace {

// writeInPlaceCached(path, data, accmode, euid) ->
//   0: done (written whole, cut to its length, closed); 1: the same, but it
//     took more than 2 ms and slept (throttled: the caller stops
//     trying inline for a while);
//   -errno: nothing open or written, the ring's turn;
//   [fd]: opened (not a regular file on a block device), nothing written,
//     O_NONBLOCK cleared: the caller writes and closes it;
//   [-errno, syscall]: failed after the open, nothing open; the file holds
//     the data's bytes that reached it (cut there after a failed write).
// The caller has validated `data` (a Uint8Array over the checked view):
// nothing runs JavaScript between here and the write.
Napi::Value WriteInPlaceCachedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  int accmode = info[2].As<Napi::Number>().Int32Value();
  long euid = static_cast<long>(info[3].As<Napi::Number>().DoubleValue());
  CachedWrite out;
  int r = WriteInPlaceCached(path.c_str(), accmode, euid, data.Data(), data.ByteLength(), &out);
  switch (out.outcome) {
    case CachedWrite::kNothing:
      return Napi::Number::New(env, r);
    case CachedWrite::kDone:
      return Napi::Number::New(env, out.slow ? 1 : 0);
    case CachedWrite::kOpened: {
      Napi::Array opened = Napi::Array::New(env, 1);
      opened.Set(0u, Napi::Number::New(env, r));
      return opened;
    }
    case CachedWrite::kFailed:
      break;
  }
  Napi::Array failed = Napi::Array::New(env, 2);
  failed.Set(0u, Napi::Number::New(env, r));
  failed.Set(1u, Napi::String::New(env, out.syscall));
  return failed;
}

}  // namespace

void InitCachedWrite(Napi::Env env, Napi::Object exports) {
  exports.Set("writeInPlaceCached", Napi::Function::New(env, WriteInPlaceCachedJs, "writeInPlaceCached"));
}

}  // namespace kaio
