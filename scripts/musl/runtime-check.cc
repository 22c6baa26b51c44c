// A musl program built exactly as the musl prebuild is (scripts/musl/build.sh: musl's C
// headers, Debian's libstdc++ headers, libstdc++/libgcc linked in statically, native/musl's
// compatibility pieces), run by scripts/musl/check.js under musl's dynamic linker. It does
// what the addon needs of that C++ runtime on musl, which the loader check alone cannot show
// without a musl Node: threads started with std::thread, a mutex and condition variable
// between them, an exception thrown in one function and caught in another, std::string and
// std::shared_ptr, and one read through kaio's own io_uring core (native/core/uring.h).
// Prints one line per check; exits 0 only when every one passed (the io_uring read is
// skipped, and says so, where io_uring_setup is ENOSYS: under qemu-user).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../../native/core/uring.h"

namespace {

int failures = 0;

void Report(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) failures++;
}

void CheckThreads() {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;
  auto counter = std::make_shared<int>(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t, counter] {
      for (int round = 0; round < 1000; round++) {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return turn % 4 == t; });
        ++*counter;
        turn++;
        cv.notify_all();
      }
    });
  }
  for (auto& th : threads) th.join();
  Report(*counter == 4000 && turn == 4000 && counter.use_count() == 1,
         "std::thread x4 taking turns through std::mutex + std::condition_variable (4000 turns)");
}

[[gnu::noinline]] void Throws(const std::string& why) { throw std::runtime_error(why); }

void CheckExceptions() {
  std::string caught;
  try {
    Throws(std::string("thrown across a call"));
  } catch (const std::exception& e) {
    caught = e.what();
  }
  Report(caught == "thrown across a call", "an exception thrown in one function is caught in its caller");
  bool in_thread = false;
  std::thread th([&] {
    try {
      Throws("in a thread");
    } catch (const std::runtime_error&) {
      in_thread = true;
    }
  });
  th.join();
  Report(in_thread, "an exception thrown and caught in a std::thread");
}

void CheckUringRead(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Report(false, std::string("open ") + path + ": " + std::strerror(errno));
  char expect[4096] = {};
  ssize_t want = pread(fd, expect, sizeof expect, 0);
  kaio::Uring ring;
  kaio::UringOptions options;
  options.entries = 8;
  int r = ring.Setup(options);
  if (r == -ENOSYS) {
    // qemu-user (the arm64 build's check on an x64 machine) has no io_uring.
    close(fd);
    std::printf("skip one read through kaio's io_uring core: io_uring_setup: %s (an emulator without io_uring)\n", std::strerror(-r));
    return;
  }
  if (r < 0) {
    close(fd);
    return Report(false, std::string("io_uring_setup: ") + std::strerror(-r));
  }
  char got[4096] = {};
  kaio::abi::Sqe* sqe = ring.GetSqe();
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = kaio::abi::kOpRead;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uintptr_t>(got);
  sqe->len = sizeof got;
  sqe->off = 0;
  sqe->user_data = 42;
  r = ring.Submit(1);
  int32_t res = -1;
  uint64_t tag = 0;
  if (r >= 0) ring.Drain([&](const kaio::abi::Cqe& cqe) { res = cqe.res; tag = cqe.user_data; }, 1);
  ring.Close();
  close(fd);
  Report(r >= 0 && tag == 42 && res == want && std::memcmp(got, expect, sizeof got) == 0,
         "one read through kaio's io_uring core returns the file's bytes (" + std::to_string(res) + " of " +
             std::to_string(want) + ")");
}

}  // namespace

int main(int argc, char** argv) {
  CheckThreads();
  CheckExceptions();
  CheckUringRead(argc > 1 ? argv[1] : "/proc/self/exe");
  return failures == 0 ? 0 : 1;
}
