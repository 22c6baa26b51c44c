// probe(): what this kernel and process allow. Reads only; sets up one small
// ring to ask IORING_REGISTER_PROBE and tears it down again.
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "../core/sysinfo.h"
#include "../core/uring.h"
#include "addon.h"
#include "js_errors.h"

namespace kaio {

namespace {

Napi::Value Limit(Napi::Env env, uint64_t v) {
  if (v == UINT64_MAX) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(v));
}

}  // namespace

Napi::Value IoprioSet(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "ioprio must be a number");
  double v = info[0].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 0xffff) || v != std::floor(v)) throw Napi::RangeError::New(env, "ioprio out of range");
  return Napi::Number::New(env, SetThreadIoprio(static_cast<int>(v)));
}

// A pipe for splice (copyFile, sendFile): as large as the kernel lets this
// process make it (F_SETPIPE_SZ; the default 64 KiB when it refuses).
Napi::Value MakePipe(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "size must be a number");
  double want = info[0].As<Napi::Number>().DoubleValue();
  if (!(want >= 0 && want <= (1 << 30)) || want != std::floor(want)) throw Napi::RangeError::New(env, "size out of range");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw ErrnoError(info.Env(), -errno, "pipe2");
  int cap = want > 0 ? fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(want)) : -1;
  if (cap < 0) cap = fcntl(fds[1], F_GETPIPE_SZ);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  out.Set(2u, Napi::Number::New(env, cap < 0 ? 65536 : cap));
  return out;
}

// A second fd for the same open file (sendFile keeps a socket's file alive
// while its ops may reach the kernel, whatever happens to the first fd).
Napi::Value DupFd(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "fd must be a number");
  double v = info[0].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 0x7fffffff) || v != std::floor(v)) throw Napi::RangeError::New(env, "fd out of range");
  int fd = fcntl(static_cast<int>(v), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(info.Env(), -errno, "dup");
  return Napi::Number::New(env, fd);
}

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

  MemlockInfo m = GetMemlockInfo();
  Napi::Object memlock = Napi::Object::New(env);
  memlock.Set("soft", Limit(env, m.soft));
  memlock.Set("hard", Limit(env, m.hard));
  out.Set("memlock", memlock);
  out.Set("capIpcLock", m.cap_ipc_lock);
  return out;
}

}  // namespace kaio
