// N-API adapter for readFile's inline first try (core/cached_read.h).
#include <unistd.h>

#include <cerrno>
#include <string>

#include "../core/cached_read.h"
#include "addon.h"

namespace kaio {

namespace {

Napi::Value Pair(Napi::Env env, Napi::Value a, Napi::Value b) {
  Napi::Array both = Napi::Array::New(env, 2);
  both.Set(0u, a);
  both.Set(1u, b);
  return both;
}

// readCached(path, max) ->
//   a Buffer of the file's `size` bytes, closed;
//   [that Buffer, fd]: the whole file read, the fd still to close (a
//     filesystem with no block device, where close may call its ->flush:
//     the caller closes on the ring, which runs such a close on io-wq);
//   [fd, size]: opened, not read (empty, larger than max, not all in the
//     page cache), O_NONBLOCK
//     cleared: the caller reads and closes;
//   -errno: nothing open (EAGAIN: not all in the dentry cache).
Napi::Value ReadCached(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  double max = info[1].As<Napi::Number>().DoubleValue();
  CachedFile f{};
  int r = OpenCached(path.c_str(), &f);
  if (r < 0) return Napi::Number::New(env, r);
  double size = f.regular ? static_cast<double>(f.size) : -1;
  if (f.regular && f.size > 0 && size <= max) {
    Napi::Buffer<uint8_t> data;
    try {
      data = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(f.size));
    } catch (...) {
      close(f.fd);
      throw;
    }
    r = ReadCachedWhole(f.fd, data.Data(), f.size);
    if (r == 1) {
      if (!f.block_fs) return Pair(env, data, Napi::Number::New(env, f.fd));
      // A close that fails still frees the fd: start again on the ring,
      // which reports what its own open/read/close meet.
      return close(f.fd) < 0 ? Napi::Number::New(env, -errno) : Napi::Value(data);
    }
  }
  r = ClearNonblock(f.fd);
  if (r < 0) {
    close(f.fd);
    return Napi::Number::New(env, r);
  }
  return Pair(env, Napi::Number::New(env, f.fd), Napi::Number::New(env, size));
}

// readNowait(fd, view, position) -> bytes read or -errno (ReadNowaitAt):
// position -1 reads at the file position. The memory is the view's as the
// engine holds it (a detached or empty view: -EAGAIN, nothing read).
Napi::Value ReadNowait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::TypedArray view = info[1].As<Napi::TypedArray>();
  double pos = info[2].As<Napi::Number>().DoubleValue();
  size_t len = view.ByteLength();
  void* base = view.ArrayBuffer().Data();
  if (len == 0 || base == nullptr) return Napi::Number::New(env, -EAGAIN);
  auto* buf = static_cast<uint8_t*>(base) + view.ByteOffset();
  long n = ReadNowaitAt(fd, buf, len, pos < 0 ? -1 : static_cast<int64_t>(pos));
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitCachedRead(Napi::Env env, Napi::Object exports) {
  exports.Set("readCached", Napi::Function::New(env, ReadCached, "readCached"));
  exports.Set("readNowait", Napi::Function::New(env, ReadNowait, "readNowait"));
}

}  // namespace kaio
