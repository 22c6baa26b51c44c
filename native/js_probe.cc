// probe(): what this kernel and process allow. Reads only; sets up one small
// ring to ask IORING_REGISTER_PROBE and tears it down again.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "addon.h"
#include "js_errors.h"
#include "uring.h"

namespace kaio {

namespace {

constexpr int kCapIpcLock = 14;

struct CapHeader {
  uint32_t version;
  int pid;
};
struct CapData {
  uint32_t effective, permitted, inheritable;
};

bool HasCapability(int cap) {
  CapHeader h = {0x20080522, 0};  // _LINUX_CAPABILITY_VERSION_3
  CapData d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  return d[cap / 32].effective & (1u << (cap % 32));
}

Napi::Value Limit(Napi::Env env, rlim_t v) {
  if (v == RLIM_INFINITY) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(v));
}

}  // namespace

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  utsname u;
  if (uname(&u) == 0) {
    out.Set("kernel", u.release);
    out.Set("machine", u.machine);
  }

  Napi::Object ring = Napi::Object::New(env);
  Uring uring;
  UringOptions opts;
  opts.entries = 4;
  int r = uring.Setup(opts);
  ring.Set("available", r == 0);
  if (r < 0) {
    ring.Set("error", ErrnoError(env, r, "io_uring_setup").Value());
  } else {
    ring.Set("features", uring.features());
    ring.Set("setupFlags", uring.setup_flags());
    bool supported[256];
    Napi::Array ops = Napi::Array::New(env);
    if (ProbeOps(uring.fd(), supported) > 0) {
      uint32_t n = 0;
      for (unsigned i = 0; i < 256; i++)
        if (supported[i]) ops.Set(n++, Napi::Number::New(env, i));
    }
    ring.Set("ops", ops);
  }
  out.Set("ioUring", ring);

  rlimit lim;
  Napi::Object memlock = Napi::Object::New(env);
  if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0) {
    memlock.Set("soft", Limit(env, lim.rlim_cur));
    memlock.Set("hard", Limit(env, lim.rlim_max));
  }
  out.Set("memlock", memlock);
  out.Set("capIpcLock", HasCapability(kCapIpcLock));
  return out;
}

}  // namespace kaio
