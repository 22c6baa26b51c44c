// Tells V8 what a native object holds outside its heap, so that objects
// dropped without close() are collected before they exhaust a system-wide
// resource. V8 starts a garbage collection once the external memory
// reported since the last one grows by about 64 MiB; the weights below pick
// how many idle objects that is (see each Cost function).
#pragma once

#include <node_api.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>

namespace kaio {

// One charge, taken once and given back once.
class ExternalMemory {
 public:
  ExternalMemory() = default;
  ExternalMemory(const ExternalMemory&) = delete;
  ExternalMemory& operator=(const ExternalMemory&) = delete;

  void Charge(napi_env env, int64_t bytes) {
    int64_t total;
    if (bytes_ != 0 || bytes <= 0 || napi_adjust_external_memory(env, bytes, &total) != napi_ok) return;
    env_ = env;
    bytes_ = bytes;
  }

  void Release() {
    if (bytes_ == 0) return;
    int64_t total;
    napi_adjust_external_memory(env_, -bytes_, &total);
    bytes_ = 0;
  }

 private:
  napi_env env_ = nullptr;
  int64_t bytes_ = 0;
};

// Every idle object weighs at least this much (its fd or kernel object,
// mapped rings, tables): ~250 of them dropped trigger a collection.
constexpr int64_t kExternalBase = 256 * 1024;

// Each fd an object holds counts against RLIMIT_NOFILE (the soft limit,
// read at each call: the process may lower it). The whole limit weighs
// 256 MiB, so V8's ~64 MiB trigger fires once objects made since the last
// collection hold about a quarter of it: ~64 dropped Rings under
// `ulimit -n 256`. Node raises the soft limit to the hard one at startup
// (often 1,048,576), where an fd weighs 256 bytes and the base decides.
inline int64_t FdExternalCost(unsigned fds) {
  constexpr int64_t kWholeLimit = int64_t{256} << 20;
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur == 0 ||
      rl.rlim_cur > static_cast<rlim_t>(kWholeLimit))
    return 0;
  return kWholeLimit / static_cast<int64_t>(rl.rlim_cur) * fds;
}

// fs.aio-max-nr, read once (65536 when unreadable).
inline int64_t AioMaxNr() {
  static const int64_t max_nr = [] {
    long long v = 0;
    if (FILE* f = std::fopen("/proc/sys/fs/aio-max-nr", "r")) {
      if (std::fscanf(f, "%lld", &v) != 1) v = 0;
      std::fclose(f);
    }
    return static_cast<int64_t>(v > 0 ? v : 65536);
  }();
  return max_nr;
}

// An AIO context reserves `entries` events of the system-wide fs.aio-max-nr
// (fs.aio-nr grows by exactly that). The whole system budget weighs 8 GiB,
// so V8's ~64 MiB trigger fires once contexts made since the last
// collection hold ~0.8% of it (512 events: 4 idle contexts of the default
// 128 entries on the default 65536 limit); for tiny contexts the base fires
// first (~250 contexts). Incremental marking and N-API finalizers (run from
// the loop) lag behind the trigger: test 46 measures the peak of dropped
// contexts alive at once and keeps it under 5% of fs.aio-max-nr.
inline int64_t AioExternalCost(unsigned entries) {
  int64_t per_event = (int64_t{8} << 30) / AioMaxNr();
  if (per_event < 1) per_event = 1;
  // Its eventfd is an fd too.
  return kExternalBase + per_event * static_cast<int64_t>(entries) + FdExternalCost(1);
}

// A thread-pool context holds its request table and bounce buffers (kept
// per place up to 256 KiB, see core/offload.cc); count a page per place.
inline int64_t ThreadpoolExternalCost(unsigned entries) {
  return kExternalBase / 4 + 4096 * static_cast<int64_t>(entries);
}

}  // namespace kaio
