#include "offload.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "../napi/js_errors.h"
#include "../napi/js_context.h"

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

// Process-wide; never freed, so a thread still running at exit touches
// nothing that static destructors have torn down.
struct Workers {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<OffloadJob*> queue;
  unsigned threads = 0;
  unsigned idle = 0;
  unsigned streams = 0;  // threads inside an op on a stream fd
};

Workers& W() {
  static Workers* w = new Workers();
  return *w;
}

ssize_t RunOnce(OffloadJob* job, int64_t offset) {
  ssize_t r;
  int n = static_cast<int>(job->iov.size());
  do {
    switch (job->op) {
      case kBackendRead:
      case kBackendReadv:
        r = preadv2(job->fd, job->iov.data(), n, offset, job->rw_flags);
        break;
      case kBackendWrite:
      case kBackendWritev:
        r = pwritev2(job->fd, job->iov.data(), n, offset, job->rw_flags);
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
  for (;;) {
    w.idle++;
    w.cv.wait(lock, [&] { return !w.queue.empty(); });
    w.idle--;
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
    std::thread(WorkerMain).detach();
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

unsigned OffloadPoolSize() {
  static unsigned size = [] {
    const char* s = std::getenv("KAIO_THREADPOOL_SIZE");
    long n = s ? std::strtol(s, nullptr, 10) : 0;
    if (n <= 0) return 4u;
    return n > 64 ? 64u : static_cast<unsigned>(n);
  }();
  return size;
}

Offload::~Offload() {
  // Without an env only the native parts can go; Shutdown(env) normally ran.
  Shutdown(nullptr);
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

bool Offload::Queue(napi_env env, uint32_t slot, uint32_t id, uint32_t op, int fd, napi_value bufs, size_t checked,
                    int64_t position, int rw_flags, bool stream, bool retry_espipe) {
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
    bool vectored = op == kBackendReadv || op == kBackendWritev;
    std::vector<iovec> src;
    ToIovecs(env, bufs, vectored, checked, &src);
    for (const iovec& v : src) job->fault |= v.iov_len && !v.iov_base;
    if (!Layout(job, src)) {
      ThrowErrno(env, -ENOMEM, "posix_memalign");
      return false;
    }
    if (op == kBackendWrite || op == kBackendWritev) {
      // Copied now: later changes to the caller's memory (or its release)
      // cannot reach the thread, and what JS validated is what is written.
      for (size_t i = 0; i < src.size() && !job->fault; i++)
        if (src[i].iov_len) std::memcpy(job->iov[i].iov_base, src[i].iov_base, src[i].iov_len);
    } else {
      s.lengths.resize(src.size());
      for (size_t i = 0; i < src.size(); i++) s.lengths[i] = src[i].iov_len;
      if (napi_create_reference(env, bufs, 1, &s.target) != napi_ok) {
        s.target = nullptr;
        return false;
      }
    }
  }
  s.id = id;
  s.busy = true;
  in_flight_++;
  if (!referenced_) {
    referenced_ = true;
    uv_ref(reinterpret_cast<uv_handle_t*>(async_));
  }
  staged_.push_back(job);
  // The first op of a batch starts at once (a thread works while JS
  // prepares the rest); the others go together at Flush().
  if (!eager_done_) {
    eager_done_ = true;
    Enqueue(staged_);
  }
  return true;
}

void Offload::Flush() {
  eager_done_ = false;
  if (!staged_.empty()) Enqueue(staged_);
}

// Fills the caller's views from the bounce buffer; the op's result, or
// -EFAULT when a view was detached or shrunk meanwhile. Every view the
// result reaches is checked before any is written: a readv whose second
// view shrank fills none of them.
int32_t Offload::CopyOut(napi_env env, Slot& s, OffloadJob* job) {
  napi_ref target = s.target;
  s.target = nullptr;
  if (!target) return static_cast<int32_t>(job->result);
  int32_t res = static_cast<int32_t>(job->result);
  napi_value v = RefValue(env, target);
  napi_delete_reference(env, target);
  if (res <= 0) return res;
  if (!v) return -EFAULT;
  bool list = job->op == kBackendReadv;
  std::vector<void*>& dest = copy_dest_;
  dest.clear();
  size_t left = static_cast<size_t>(res);
  for (size_t i = 0; i < job->iov.size() && left > 0; i++) {
    napi_value item = v;
    // A vectored op's target is JS's [view, length, ...] copy of its list.
    if (list && napi_get_element(env, v, static_cast<uint32_t>(2 * i), &item) != napi_ok) return -EFAULT;
    void* data = nullptr;
    size_t len = 0;
    if (!ViewBytes(env, item, &data, &len) || len < s.lengths[i] || (s.lengths[i] && !data)) return -EFAULT;
    dest.push_back(data);
    left -= left < s.lengths[i] ? left : s.lengths[i];
  }
  left = static_cast<size_t>(res);
  for (size_t i = 0; i < dest.size(); i++) {
    size_t n = left < s.lengths[i] ? left : s.lengths[i];
    if (n) std::memcpy(dest[i], job->iov[i].iov_base, n);
    left -= n;
  }
  return res;
}

bool Offload::TakeOne(napi_env env, uint32_t* slot, uint32_t* id, int32_t* res) {
  if (!channel_) return false;
  if (taken_pos_ == taken_.size()) {
    taken_.clear();
    taken_pos_ = 0;
    std::lock_guard<std::mutex> lock(channel_->mu);
    taken_.swap(channel_->done);
  }
  if (taken_pos_ == taken_.size()) return false;
  OffloadJob* job = taken_[taken_pos_++];
  Slot& s = slots_[job->slot];
  *slot = job->slot;
  *id = s.id;
  *res = CopyOut(env, s, job);
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
  return true;
}

void Offload::Shutdown(napi_env env) {
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
    if (s.target && env) napi_delete_reference(env, s.target);
    s.target = nullptr;
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
