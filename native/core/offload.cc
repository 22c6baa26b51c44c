#include "offload.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace kaio {

namespace {
constexpr size_t kPage = 4096;
constexpr unsigned kMaxThreads = 256;
// A place keeps its bounce buffer for the next op up to this size.
constexpr size_t kKeepBounce = 256 * 1024;
}  // namespace

// Shared by a context (JS thread) and the threads running its jobs.
struct OffloadChannel {
  std::mutex mu;
  std::vector<OffloadJob*> done;  // finished, waiting for the JS thread
  uv_async_t* async = nullptr;    // valid while !abandoned
  bool abandoned = false;
};

struct OffloadJob {
  std::shared_ptr<OffloadChannel> channel;
  uint32_t op = 0;
  int fd = -1;
  int rw_flags = 0;
  int64_t offset = 0;
  bool stream = false;
  bool retry_espipe = false;
  void* mem = nullptr;  // page-aligned bounce buffer
  size_t cap = 0;
  std::vector<iovec> iov;  // segments of mem
  ssize_t result = 0;
  uint32_t slot = 0;
  // The caller's memory was gone by the time the op was prepared: it fails
  // with EFAULT without a syscall.
  bool fault = false;

  ~OffloadJob() { std::free(mem); }
};

namespace {

// A condition variable whose timed wait counts on CLOCK_MONOTONIC through
// pthread_cond_timedwait. std::condition_variable::wait_for compiles to
// pthread_cond_clockwait, which is glibc 2.30 (above the prebuilds' floor
// of 2.28) and which musl does not have.
class MonotonicCond {
 public:
  MonotonicCond() {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond_, &attr);
    pthread_condattr_destroy(&attr);
  }
  MonotonicCond(const MonotonicCond&) = delete;
  MonotonicCond& operator=(const MonotonicCond&) = delete;
  ~MonotonicCond() { pthread_cond_destroy(&cond_); }

  void notify_one() { pthread_cond_signal(&cond_); }
  void notify_all() { pthread_cond_broadcast(&cond_); }

  // Waits until ready() or until ms have passed since the call; returns ready().
  template <typename Ready>
  bool wait_for(std::unique_lock<std::mutex>& lock, unsigned ms, Ready ready) {
    timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += static_cast<long>(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    while (!ready()) {
      if (pthread_cond_timedwait(&cond_, lock.mutex()->native_handle(), &deadline) == ETIMEDOUT) return ready();
    }
    return true;
  }

 private:
  pthread_cond_t cond_;
};

// Process-wide; never freed, so a thread still running at exit touches
// nothing that static destructors have torn down.
struct Workers {
  std::mutex mu;
  MonotonicCond cv;
  std::deque<OffloadJob*> queue;
  unsigned threads = 0;
  unsigned idle = 0;
  unsigned streams = 0;  // threads inside an op on a stream fd
};

Workers& W() {
  static Workers* w = new Workers();
  return *w;
}

// preadv2/pwritev2 as raw system calls: the libc wrappers are glibc 2.26 and musl 1.2.5, and
// musl-based systems (Alpine) still ship older musl. On the 64-bit ABIs kaio builds for, the
// offset is one register (pos_l) and pos_h is unused; -1 means the current position. Where
// the call itself is missing (ENOSYS: qemu-user, some sandboxes) and no flag is asked for,
// preadv/readv do the same, as glibc's wrapper does.
ssize_t SysPreadv2(int fd, const iovec* iov, int n, int64_t offset, int flags) {
  ssize_t r = syscall(SYS_preadv2, fd, iov, n, static_cast<long>(offset), 0L, flags);
  if (r < 0 && errno == ENOSYS && flags == 0) r = offset < 0 ? readv(fd, iov, n) : preadv(fd, iov, n, offset);
  return r;
}

ssize_t SysPwritev2(int fd, const iovec* iov, int n, int64_t offset, int flags) {
  ssize_t r = syscall(SYS_pwritev2, fd, iov, n, static_cast<long>(offset), 0L, flags);
  if (r < 0 && errno == ENOSYS && flags == 0) r = offset < 0 ? writev(fd, iov, n) : pwritev(fd, iov, n, offset);
  return r;
}

ssize_t RunOnce(OffloadJob* job, int64_t offset) {
  ssize_t r;
  int n = static_cast<int>(job->iov.size());
  do {
    switch (job->op) {
      case kBackendRead:
      case kBackendReadv:
        r = SysPreadv2(job->fd, job->iov.data(), n, offset, job->rw_flags);
        break;
      case kBackendWrite:
      case kBackendWritev:
        r = SysPwritev2(job->fd, job->iov.data(), n, offset, job->rw_flags);
        break;
      case kBackendFsync:
        r = fsync(job->fd);
        break;
      case kBackendFdatasync:
        r = fdatasync(job->fd);
        break;
      default:
        r = -1;
        errno = EINVAL;
    }
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

void Run(OffloadJob* job) {
  if (job->fault) {
    job->result = -EFAULT;
    return;
  }
  ssize_t r = RunOnce(job, job->offset);
  if (r == -ESPIPE && job->retry_espipe && job->offset >= 0 && job->op <= kBackendWritev) r = RunOnce(job, -1);
  job->result = r;
}

// The job goes back to its context, or is freed when the context is gone.
void Finish(OffloadJob* job) {
  OffloadChannel* ch = job->channel.get();
  bool orphan;
  {
    std::lock_guard<std::mutex> lock(ch->mu);
    orphan = ch->abandoned;
    if (!orphan) {
      ch->done.push_back(job);
      // Under the lock: teardown closes the handle only after it has set
      // `abandoned` under this same lock.
      uv_async_send(ch->async);
    }
  }
  if (orphan) delete job;  // may free the channel: outside its lock
}

bool SpawnLocked(Workers& w);

void WorkerMain() {
  Workers& w = W();
  std::unique_lock<std::mutex> lock(w.mu);
  const unsigned linger_ms = OffloadIdleMs();
  for (;;) {
    w.idle++;
    bool work = w.cv.wait_for(lock, linger_ms, [&] { return !w.queue.empty(); });
    w.idle--;
    if (!work) {
      // Idle for `linger_ms` and nothing queued, decided under the lock that
      // Enqueue() holds while it counts idle threads: a job queued from now
      // on starts a thread of its own. The thread touches nothing shared
      // after the lock is released.
      w.threads--;
      return;
    }
    OffloadJob* job = w.queue.front();
    w.queue.pop_front();
    bool stream = job->stream;
    if (stream) {
      w.streams++;
      // This thread may now block indefinitely: keep the base number of
      // threads free for the rest of the queue.
      if (!w.queue.empty() && w.idle == 0) SpawnLocked(w);
    }
    lock.unlock();
    bool skip;
    {
      std::lock_guard<std::mutex> g(job->channel->mu);
      skip = job->channel->abandoned;
    }
    if (skip)
      job->result = -ECANCELED;
    else
      Run(job);
    Finish(job);
    lock.lock();
    if (stream) w.streams--;
  }
}

bool SpawnLocked(Workers& w) {
  // Threads inside stream ops do not count against the base size.
  if (w.threads >= kMaxThreads || w.threads - w.streams >= OffloadPoolSize()) return false;
  try {
    std::thread t(WorkerMain);
    // Named before anyone can see it run (ps -L, /proc/<pid>/task/*/comm).
    pthread_setname_np(t.native_handle(), "kaio-offload");
    t.detach();
  } catch (...) {
    return false;
  }
  w.threads++;
  return true;
}

// One lock and at most one wake-up per idle thread for a whole batch.
void Enqueue(std::vector<OffloadJob*>& jobs) {
  Workers& w = W();
  size_t wake;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    for (OffloadJob* job : jobs) w.queue.push_back(job);
    while (w.idle < w.queue.size() && SpawnLocked(w)) {
    }
    if (w.threads == 0) {
      // Could not start any thread: fail the jobs rather than lose them.
      for (OffloadJob* job : jobs) {
        w.queue.pop_back();
        job->result = -EAGAIN;
        Finish(job);
      }
      jobs.clear();
      return;
    }
    wake = w.idle < jobs.size() ? w.idle : jobs.size();
  }
  jobs.clear();
  if (wake > 1)
    w.cv.notify_all();
  else if (wake == 1)
    w.cv.notify_one();
}

// Page-aligned room for segments of these lengths, each starting at the
// same offset within a page as its source address.
bool Layout(OffloadJob* job, const std::vector<iovec>& src) {
  size_t total = 0;
  for (const iovec& v : src) {
    size_t head = reinterpret_cast<uintptr_t>(v.iov_base) % kPage;
    total += (head + v.iov_len + kPage - 1) / kPage * kPage;
  }
  if (total == 0) total = kPage;
  if (job->cap < total) {
    std::free(job->mem);
    job->mem = nullptr;
    job->cap = 0;
    void* p = nullptr;
    if (posix_memalign(&p, kPage, total) != 0) return false;
    job->mem = p;
    job->cap = total;
  }
  job->iov.resize(src.size());
  char* at = static_cast<char*>(job->mem);
  for (size_t i = 0; i < src.size(); i++) {
    size_t head = reinterpret_cast<uintptr_t>(src[i].iov_base) % kPage;
    job->iov[i].iov_base = at + head;
    job->iov[i].iov_len = src[i].iov_len;
    at += (head + src[i].iov_len + kPage - 1) / kPage * kPage;
  }
  return true;
}

}  // namespace

namespace {

// A positive whole number from the environment, clamped to [1, most]; dflt
// when unset, not a number or not positive.
unsigned EnvCount(const char* name, unsigned dflt, unsigned most) {
  const char* s = std::getenv(name);
  long n = s ? std::strtol(s, nullptr, 10) : 0;
  if (n <= 0) return dflt;
  return n > static_cast<long>(most) ? most : static_cast<unsigned>(n);
}

}  // namespace

unsigned OffloadPoolSize() {
  static unsigned size = EnvCount("KAIO_THREADPOOL_SIZE", 4, 64);
  return size;
}

unsigned OffloadIdleMs() {
  static unsigned ms = EnvCount("KAIO_THREADPOOL_IDLE_MS", 30000, 86400000);
  return ms;
}

int Offload::Start(uv_loop_t* loop, unsigned slots, void (*ready)(void*), void* data) {
  channel_ = std::make_shared<OffloadChannel>();
  auto* async = new uv_async_t;
  int r = uv_async_init(loop, async, [](uv_async_t* h) {
    auto* self = static_cast<Offload*>(h->data);
    self->ready_(self->data_);
  });
  if (r < 0) {
    delete async;
    channel_.reset();
    return r;
  }
  async->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async));
  async_ = async;
  channel_->async = async;
  ready_ = ready;
  data_ = data;
  slots_.resize(slots);
  return 0;
}

int Offload::Queue(uint32_t slot, uint32_t op, int fd, const std::vector<iovec>& src, int64_t position,
                   int rw_flags, bool stream, bool retry_espipe) {
  Slot& s = slots_[slot];
  if (!s.job) {
    s.job = new OffloadJob();
    s.job->channel = channel_;
    s.job->slot = slot;
  }
  OffloadJob* job = s.job;
  job->op = op;
  job->fd = fd;
  job->rw_flags = rw_flags;
  job->offset = position;
  job->stream = stream;
  job->retry_espipe = retry_espipe;
  job->result = 0;
  job->fault = false;
  job->iov.clear();
  if (op <= kBackendWritev) {
    for (const iovec& v : src) job->fault |= v.iov_len && !v.iov_base;
    if (!Layout(job, src)) return -ENOMEM;
    if (op == kBackendWrite || op == kBackendWritev) {
      // Copied now: later changes to the caller's memory (or its release)
      // cannot reach the thread, and what the caller validated is what is
      // written.
      for (size_t i = 0; i < src.size() && !job->fault; i++)
        if (src[i].iov_len) std::memcpy(job->iov[i].iov_base, src[i].iov_base, src[i].iov_len);
    }
  }
  s.busy = true;
  in_flight_++;
  if (!referenced_) {
    referenced_ = true;
    uv_ref(reinterpret_cast<uv_handle_t*>(async_));
  }
  staged_.push_back(job);
  // The first op of a batch starts at once (a thread works while the caller
  // prepares the rest); the others go together at Flush().
  if (!eager_done_) {
    eager_done_ = true;
    Enqueue(staged_);
  }
  return 0;
}

void Offload::Flush() {
  eager_done_ = false;
  if (!staged_.empty()) Enqueue(staged_);
}

bool Offload::Take(Done* done) {
  if (!channel_) return false;
  if (taken_pos_ == taken_.size()) {
    taken_.clear();
    taken_pos_ = 0;
    std::lock_guard<std::mutex> lock(channel_->mu);
    taken_.swap(channel_->done);
  }
  if (taken_pos_ == taken_.size()) return false;
  OffloadJob* job = taken_[taken_pos_++];
  done->slot = job->slot;
  done->op = job->op;
  done->result = static_cast<int32_t>(job->result);
  done->bounce = job->iov.data();
  done->segments = job->iov.size();
  return true;
}

void Offload::Release(uint32_t slot) {
  Slot& s = slots_[slot];
  OffloadJob* job = s.job;
  if (job->cap > kKeepBounce) {
    std::free(job->mem);
    job->mem = nullptr;
    job->cap = 0;
  }
  s.busy = false;
  if (--in_flight_ == 0 && referenced_) {
    referenced_ = false;
    uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  }
}

void Offload::Shutdown() {
  if (!channel_) return;
  std::shared_ptr<OffloadChannel> ch = std::move(channel_);
  std::vector<OffloadJob*> drop;
  {
    // Not started yet: never will be.
    Workers& w = W();
    std::lock_guard<std::mutex> lock(w.mu);
    for (auto it = w.queue.begin(); it != w.queue.end();) {
      if ((*it)->channel == ch) {
        drop.push_back(*it);
        it = w.queue.erase(it);
      } else {
        ++it;
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(ch->mu);
    ch->abandoned = true;
    ch->async = nullptr;
    for (OffloadJob* j : ch->done) drop.push_back(j);
    ch->done.clear();
  }
  for (size_t i = taken_pos_; i < taken_.size(); i++) drop.push_back(taken_[i]);
  for (OffloadJob* j : staged_) drop.push_back(j);
  staged_.clear();
  taken_.clear();
  taken_pos_ = 0;
  // Jobs a thread is in now are the thread's to free; the rest are ours.
  for (OffloadJob* j : drop) slots_[j->slot].busy = false;
  for (Slot& s : slots_) {
    if (!s.busy) delete s.job;
    s.job = nullptr;
  }
  slots_.clear();
  in_flight_ = 0;
  referenced_ = false;
  if (async_) {
    uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    async_ = nullptr;
  }
}

}  // namespace kaio
