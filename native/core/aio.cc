#include "aio.h"

#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace kaio {

namespace {

long Sys(long nr, long a, long b, long c = 0, long d = 0, long e = 0) {
  long r = syscall(nr, a, b, c, d, e);
  return r < 0 ? -errno : r;
}

void DestroyContext(abi::AioContextT ctx) {
  // EINTR cannot leave the context half-destroyed: the kernel has already
  // killed it and only the wait was interrupted, so retry to keep waiting.
  while (Sys(abi::kSysIoDestroy, static_cast<long>(ctx), 0) == -EINTR) {
  }
}

// Contexts being destroyed in the background (process-wide, like
// fs.aio-max-nr, which they still count against until they are gone).
std::mutex background_mu;
std::condition_variable background_done;
unsigned background_pending = 0;

void DestroyInBackground(abi::AioContextT ctx) {
  {
    std::lock_guard<std::mutex> lock(background_mu);
    background_pending++;
  }
  auto work = [ctx]() {
    DestroyContext(ctx);
    std::lock_guard<std::mutex> lock(background_mu);
    if (--background_pending == 0) background_done.notify_all();
  };
  try {
    std::thread(work).detach();
  } catch (const std::system_error&) {
    work();  // no thread to be had: wait here, as before
  }
}

// Waits for the background destroys; false when there were none.
bool AwaitBackgroundDestroys() {
  std::unique_lock<std::mutex> lock(background_mu);
  if (background_pending == 0) return false;
  background_done.wait(lock, [] { return background_pending == 0; });
  return true;
}

}  // namespace

int Aio::Setup(unsigned nr_events, bool user_ring) {
  abi::AioContextT ctx = 0;
  long r = Sys(abi::kSysIoSetup, static_cast<long>(nr_events), reinterpret_cast<long>(&ctx));
  // Contexts closed a moment ago may still count against fs.aio-max-nr.
  if (r == -EAGAIN && AwaitBackgroundDestroys())
    r = Sys(abi::kSysIoSetup, static_cast<long>(nr_events), reinterpret_cast<long>(&ctx));
  if (r < 0) return static_cast<int>(r);
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    int err = -errno;
    Sys(abi::kSysIoDestroy, static_cast<long>(ctx), 0);
    return err;
  }
  ctx_ = ctx;
  efd_ = efd;
  auto* ring = reinterpret_cast<abi::AioRing*>(ctx);
  if (user_ring && ring->magic == abi::kAioRingMagic &&
      ring->incompat_features == abi::kAioRingIncompatFeatures &&
      ring->header_length == sizeof(abi::AioRing) && ring->nr > 0)
    ring_ = ring;
  return 0;
}

void Aio::Destroy() {
  if (ctx_) {
    DestroyContext(ctx_);
    ctx_ = 0;
    ring_ = nullptr;
  }
  if (efd_ >= 0) {
    close(efd_);
    efd_ = -1;
  }
}

void Aio::DestroyInBackground() {
  // No iocb in flight holds the eventfd (each one that did held its own
  // reference), so it closes now, as with Destroy().
  if (efd_ >= 0) {
    close(efd_);
    efd_ = -1;
  }
  if (ctx_) {
    kaio::DestroyInBackground(ctx_);
    ctx_ = 0;
    ring_ = nullptr;
  }
}

int Aio::Submit(abi::Iocb** iocbs, long n) {
  submit_calls_++;
  long r;
  do {
    r = Sys(abi::kSysIoSubmit, static_cast<long>(ctx_), n, reinterpret_cast<long>(iocbs));
  } while (r == -EINTR);
  return static_cast<int>(r);
}

void Aio::Wake() {
  uint64_t one = 1;
  while (write(efd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void Aio::ClearEventfd() {
  uint64_t count;
  while (read(efd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

int Aio::GetEvents(long min_nr, long nr, abi::IoEvent* events, int timeout_ms) {
  getevents_calls_++;
  timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  long r = Sys(abi::kSysIoGetevents, static_cast<long>(ctx_), min_nr, nr,
               reinterpret_cast<long>(events), timeout_ms < 0 ? 0 : reinterpret_cast<long>(&ts));
  return static_cast<int>(r);
}

int ProbeAio() {
  abi::AioContextT ctx = 0;
  long r = Sys(abi::kSysIoSetup, 1, reinterpret_cast<long>(&ctx));
  if (r == -EAGAIN && AwaitBackgroundDestroys()) r = Sys(abi::kSysIoSetup, 1, reinterpret_cast<long>(&ctx));
  if (r < 0) return static_cast<int>(r);
  kaio::DestroyInBackground(ctx);  // nothing was submitted on it
  return 0;
}

}  // namespace kaio
