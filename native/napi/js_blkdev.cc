// Block-device requests kaio bench needs that Node has no call for:
// blkDiscard(fd, offset, length) -> 0 or -errno, the BLKDISCARD ioctl
// (what fio's engines issue for a trim on a block device). Synchronous, on
// the calling thread (a bench job's own worker thread).
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cmath>
#include <cstdint>

#include "addon.h"

namespace kaio {

namespace {

// A non-negative whole number up to 2^53 (a JS number holds it exactly), else false.
bool Uint53(const Napi::Value& v, uint64_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || d != std::floor(d)) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

Napi::Value BlkDiscard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "blkDiscard(fd, offset, length) needs three numbers");
  double fd = info[0].As<Napi::Number>().DoubleValue();
  if (!(fd >= 0 && fd <= 0x7fffffff) || fd != std::floor(fd)) throw Napi::RangeError::New(env, "fd out of range");
  uint64_t range[2];
  if (!Uint53(info[1], &range[0]) || !Uint53(info[2], &range[1])) throw Napi::RangeError::New(env, "offset and length must be whole numbers from 0 to 2^53 - 1");
  int r = ioctl(static_cast<int>(fd), BLKDISCARD, range);
  return Napi::Number::New(env, r == 0 ? 0 : -errno);
}

}  // namespace

void InitBlkdev(Napi::Env env, Napi::Object exports) {
  exports.Set("blkDiscard", Napi::Function::New(env, BlkDiscard, "blkDiscard"));
}

}  // namespace kaio
