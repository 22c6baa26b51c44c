// N-API adapter for pinned memory (core/pinned.h). The memory reaches JS
// as one external ArrayBuffer per mapping. The mapping belongs to that
// ArrayBuffer's backing store, not to the ArrayBuffer object: the store's
// finalizer unmaps it once no ArrayBuffer uses the memory any more. (A
// transfer(), ArrayBuffer.prototype.transfer on Node 22 or under
// --harmony-rab-gsab-transfer, moves the store to a new ArrayBuffer and
// detaches the old one, which markAsUntransferable does not prevent: the old
// object is then collected while the new one still uses the memory.) The
// ArrayBuffer kaio made also carries the mapping (napi_wrap, no unmap) so
// that pinnedLock/Unlock/Release/Info find it; release detaches every view
// before the unmap, and unmaps nothing once the memory has moved away.
#include <fcntl.h>

#include <cerrno>
#include <cmath>
#include <string>

#include "../core/pinned.h"
#include "../core/sysinfo.h"
#include "addon.h"
#include "js_errors.h"

namespace kaio {

namespace {

// One mapping and its two owners: the backing store (whose finalizer
// unmaps) and the wrap on the ArrayBuffer kaio made (whose finalizer only
// lets go). Both finalizers run on the JS thread, one at a time; the last
// one frees this bookkeeping.
struct PinnedHold {
  PinnedMapping m;
  int owners = 2;
};

void LetGo(PinnedHold* h) {
  if (--h->owners == 0) delete h;
}

// The backing store is freed: no ArrayBuffer uses the memory any more.
void FreeStore(napi_env, void*, void* hint) {
  auto* h = static_cast<PinnedHold*>(hint);
  PinnedFree(&h->m);
  LetGo(h);
}

// The ArrayBuffer kaio made is collected (its memory may live on elsewhere).
void ForgetWrap(napi_env, void* data, void*) {
  LetGo(static_cast<PinnedHold*>(data));
}

PinnedHold* HoldOf(napi_env env, napi_value ab) {
  bool is = false;
  if (napi_is_arraybuffer(env, ab, &is) != napi_ok || !is) return nullptr;
  void* data = nullptr;
  if (napi_unwrap(env, ab, &data) != napi_ok) return nullptr;
  return static_cast<PinnedHold*>(data);
}

PinnedMapping* MappingOf(napi_env env, napi_value ab) {
  PinnedHold* h = HoldOf(env, ab);
  return h ? &h->m : nullptr;
}

// pinnedAlloc(length, huge, alignment?) -> ArrayBuffer, or -errno.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  double length = info[0].As<Napi::Number>().DoubleValue();
  bool huge = info[1].ToBoolean();
  size_t alignment = info.Length() > 2 && info[2].IsNumber()
                         ? static_cast<size_t>(info[2].As<Napi::Number>().DoubleValue())
                         : 0;
  auto* h = new PinnedHold();
  int r = PinnedAlloc(static_cast<size_t>(length), huge, alignment, &h->m);
  if (r < 0) {
    delete h;
    return Napi::Number::New(env, r);
  }
  // Two owners from here: the store's finalizer, and this call (handed to
  // the wrap). Node may run the store's finalizer even when the call fails
  // (a length past its limit), or later (an ArrayBuffer made but not
  // returned), so a failure only lets go of this call's share: the
  // ArrayBuffer never reached JS, so the memory is unmapped now.
  napi_value ab;
  if (napi_create_external_arraybuffer(env, h->m.base, h->m.length, FreeStore, h, &ab) != napi_ok) {
    PinnedFree(&h->m);
    LetGo(h);
    throw Napi::Error::New(env, "cannot wrap pinned memory in an ArrayBuffer");
  }
  if (napi_wrap(env, ab, h, ForgetWrap, nullptr, nullptr) != napi_ok) {
    napi_detach_arraybuffer(env, ab);
    PinnedFree(&h->m);
    LetGo(h);
    throw Napi::Error::New(env, "cannot wrap pinned memory in an ArrayBuffer");
  }
  return Napi::Value(env, ab);
}

// pinnedLock(ab) / pinnedUnlock(ab) -> 0 or -errno.
Napi::Value Lock(const Napi::CallbackInfo& info) {
  PinnedMapping* m = MappingOf(info.Env(), info[0]);
  return Napi::Number::New(info.Env(), m ? PinnedLock(m) : -EINVAL);
}

Napi::Value Unlock(const Napi::CallbackInfo& info) {
  PinnedMapping* m = MappingOf(info.Env(), info[0]);
  return Napi::Number::New(info.Env(), m ? PinnedUnlock(m) : -EINVAL);
}

// pinnedRelease(ab) -> true when it detached the ArrayBuffer (every view
// reads as length 0) and unmapped; false when there was nothing to release:
// already released, or the ArrayBuffer was detached by someone else (its
// memory transferred to a new ArrayBuffer, which still uses it: the store's
// finalizer unmaps it once that one is gone too).
Napi::Value Release(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  PinnedMapping* m = MappingOf(env, info[0]);
  if (!m || !m->base) return Napi::Boolean::New(env, false);
  bool detached = true;
  if (napi_is_detached_arraybuffer(env, info[0], &detached) != napi_ok || detached)
    return Napi::Boolean::New(env, false);
  if (napi_detach_arraybuffer(env, info[0]) != napi_ok)
    throw Napi::Error::New(env, "cannot detach pinned memory");
  PinnedFree(m);
  return Napi::Boolean::New(env, true);
}

// pageOffset(ab) -> where the ArrayBuffer's memory starts within a page
// (its address modulo 4096), or -1 (detached, empty, not an ArrayBuffer).
// Bounce memory keeps a caller's offset within a page (lib/bounce.ts), so
// O_DIRECT refuses a misaligned buffer as it would the caller's memory.
Napi::Value PageOffset(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, info[0], &data, &length) != napi_ok || !data)
    return Napi::Number::New(env, -1);
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(data) & 4095));
}

// pinnedInfo(ab) -> { huge, locked, mappedLength } or undefined.
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PinnedMapping* m = MappingOf(env, info[0]);
  if (!m || !m->base) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("huge", m->huge);
  o.Set("locked", m->locked);
  o.Set("mappedLength", static_cast<double>(m->mapped_length));
  return o;
}

// statxDioAlign(fd, path?) -> { mask, memAlign, offsetAlign, devMajor, devMinor, blksize } or -errno.
Napi::Value DioAlign(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  // The path: a string, or a Buffer of its bytes ending in NUL (a name that
  // is not UTF-8 reaches the kernel as it is).
  std::string path;
  const char* c_path = nullptr;
  if (info.Length() > 1 && info[1].IsString()) {
    path = info[1].As<Napi::String>().Utf8Value();
    c_path = path.c_str();
  } else if (info.Length() > 1 && info[1].IsBuffer()) {
    Napi::Buffer<char> bytes = info[1].As<Napi::Buffer<char>>();
    if (bytes.Length() == 0 || bytes.Data()[bytes.Length() - 1] != '\0') {
      Napi::TypeError::New(env, "statxDioAlign: a path Buffer must end in NUL").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    c_path = bytes.Data();
  }
  DioInfo d;
  int r = StatxDioAlign(fd, c_path, &d);
  if (r < 0) return Napi::Number::New(env, r);
  Napi::Object o = Napi::Object::New(env);
  o.Set("mask", d.mask);
  o.Set("memAlign", d.mem_align);
  o.Set("offsetAlign", d.offset_align);
  o.Set("devMajor", d.dev_major);
  o.Set("devMinor", d.dev_minor);
  o.Set("blksize", d.blksize);
  return o;
}

// seek(fd, offset, whence) -> the new offset (a Number; a BigInt past 2^53) or -errno.
Napi::Value SeekFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool lossless = true;
  int64_t offset = info[1].IsBigInt() ? info[1].As<Napi::BigInt>().Int64Value(&lossless) : info[1].As<Napi::Number>().Int64Value();
  if (!lossless) return Napi::Number::New(env, -EINVAL);
  int whence = info[2].As<Napi::Number>().Int32Value();
  int64_t r = Seek(fd, offset, whence);
  if (r > (int64_t{1} << 53)) return Napi::BigInt::New(env, r);
  return Napi::Number::New(env, static_cast<double>(r));
}

// statusFlags(fd) -> fcntl(F_GETFL) or -errno.
Napi::Value FdStatusFlags(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), StatusFlags(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value Limit(Napi::Env env, uint64_t v) {
  return Napi::Number::New(env, v == UINT64_MAX ? INFINITY : static_cast<double>(v));
}

// memlockInfo() -> { soft, hard, capIpcLock } (Infinity when unlimited).
Napi::Value Memlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MemlockInfo m = GetMemlockInfo();
  Napi::Object o = Napi::Object::New(env);
  o.Set("soft", Limit(env, m.soft));
  o.Set("hard", Limit(env, m.hard));
  o.Set("capIpcLock", m.cap_ipc_lock);
  return o;
}

}  // namespace

void InitPinned(Napi::Env env, Napi::Object exports) {
  exports.Set("pinnedAlloc", Napi::Function::New(env, Alloc, "pinnedAlloc"));
  exports.Set("pinnedLock", Napi::Function::New(env, Lock, "pinnedLock"));
  exports.Set("pinnedUnlock", Napi::Function::New(env, Unlock, "pinnedUnlock"));
  exports.Set("pinnedRelease", Napi::Function::New(env, Release, "pinnedRelease"));
  exports.Set("pinnedInfo", Napi::Function::New(env, Info, "pinnedInfo"));
  exports.Set("pageOffset", Napi::Function::New(env, PageOffset, "pageOffset"));
  exports.Set("statxDioAlign", Napi::Function::New(env, DioAlign, "statxDioAlign"));
  exports.Set("seek", Napi::Function::New(env, SeekFd, "seek"));
  exports.Set("statusFlags", Napi::Function::New(env, FdStatusFlags, "statusFlags"));
  exports.Set("memlockInfo", Napi::Function::New(env, Memlock, "memlockInfo"));
  exports.Set("pageSize", static_cast<double>(PageSize()));
  exports.Set("hugePageSize", static_cast<double>(HugePageSize()));
}

}  // namespace kaio
