// Per-environment (main thread or worker) state of the addon. No globals:
// each Node environment gets its own instance data.
#pragma once

#include <napi.h>

namespace kaio {

struct AddonData {
  Napi::FunctionReference ring_ctor;
};

Napi::Function DefineRing(Napi::Env env, AddonData* data);
// The numbers lib/ and native/ share, as native has them (js_ring.cc; compared by test 08).
Napi::Object RingContract(Napi::Env env);
Napi::Value Probe(const Napi::CallbackInfo& info);
// ioprioSet(ioprio) -> 0 or -errno: ioprio_set(2) on the calling thread (js_probe.cc).
Napi::Value IoprioSet(const Napi::CallbackInfo& info);
// pipe(size): [read fd, write fd, capacity], both O_CLOEXEC, asking F_SETPIPE_SZ for size bytes.
Napi::Value MakePipe(const Napi::CallbackInfo& info);
// dupFd(fd): fcntl(F_DUPFD_CLOEXEC), the new fd; throws the errno error.
Napi::Value DupFd(const Napi::CallbackInfo& info);

// Each feature file adds its exports here (one call in Init per file).
void InitPinned(Napi::Env env, Napi::Object exports);      // js_pinned.cc
void InitAio(Napi::Env env, Napi::Object exports);         // js_aio.cc
void InitThreadpool(Napi::Env env, Napi::Object exports);  // js_threadpool.cc
void InitDigest(Napi::Env env, Napi::Object exports);      // js_digest.cc
void InitCachedRead(Napi::Env env, Napi::Object exports);  // js_cached_read.cc
void InitBench(Napi::Env env, Napi::Object exports);       // js_bench.cc
void InitResultBuffer(Napi::Env env, Napi::Object exports);  // js_result_buffer.cc
void InitDirUnlink(Napi::Env env, Napi::Object exports);   // js_dir_unlink.cc
void InitCopyRange(Napi::Env env, Napi::Object exports);   // js_copy_range.cc
void InitBlkdev(Napi::Env env, Napi::Object exports);      // js_blkdev.cc

}  // namespace kaio
