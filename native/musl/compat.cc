// Linked into the musl prebuilds only (scripts/musl/build.sh); not part of binding.gyp.
//
// The static libstdc++ linked into that prebuild was compiled for glibc, and its
// __gthread_active_p() decides whether the process has threads by the address of glibc's
// __pthread_key_create, a weak reference. musl does not export that name, so without this
// definition the reference would be null, and libstdc++ would take the process for a
// single-threaded one: std::thread would refuse to start and its locks would be skipped.
// Defining it here (hidden, inside the addon) makes the answer the true one: threads exist.
#include <pthread.h>
#include <sys/auxv.h>

extern "C" __attribute__((visibility("hidden"))) int __pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) {
  return pthread_key_create(key, destructor);
}

#ifdef __aarch64__
// libgcc for aarch64 (built for glibc) asks glibc's internal name __getauxval whether the CPU
// has the LSE atomic instructions, to choose them at run time; musl calls it getauxval.
extern "C" __attribute__((visibility("hidden"))) unsigned long __getauxval(unsigned long type) {
  return getauxval(type);
}
#endif
