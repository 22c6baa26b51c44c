// io_uring_setup(2) and the shared rings: setup with the flags this kernel
// takes, mapping the SQ/CQ/SQE memory, teardown, and the opcode probe.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "uring.h"
#include "uring_sys.h"

namespace kaio {

namespace {

template <typename T>
T* at(void* base, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace

int Uring::Setup(const UringOptions& o) {
  if (fd_ >= 0) return -EBUSY;
  int r = SetupOnce(o);
  if (r < 0 || !defer_taskrun() || !o.defer_wake_eventfd) return r;
  r = RegisterEventfd();
  if (r == 0) return 0;
  // A DEFER_TASKRUN ring nobody can be woken for is no use: set up again
  // without the flag (the ring fd is then the one to watch).
  Close();
  UringOptions plain = o;
  plain.defer_taskrun = false;
  return SetupOnce(plain);
}

int Uring::SetupOnce(const UringOptions& o) {
  abi::Params p;
  std::memset(&p, 0, sizeof(p));
  p.flags = abi::kSetupClamp;
  if (o.cq_entries) {
    p.flags |= abi::kSetupCqsize;
    p.cq_entries = o.cq_entries;
  }
  if (o.iopoll) p.flags |= abi::kSetupIopoll;
  if (o.sqpoll) {
    p.flags |= abi::kSetupSqpoll;
    p.sq_thread_idle = o.sq_thread_idle_ms;
  }
  // Optional flags, newest first: an older kernel answers EINVAL and is
  // asked again without the newest one left.
  uint32_t ladder[5];
  unsigned steps = 0;
  if (o.no_sqarray) ladder[steps++] = abi::kSetupNoSqarray;
  // DEFER_TASKRUN needs SINGLE_ISSUER, which the ladder drops after it.
  if (o.defer_taskrun && o.single_issuer && !o.sqpoll && !o.iopoll)
    ladder[steps++] = abi::kSetupDeferTaskrun;
  if (o.single_issuer) ladder[steps++] = abi::kSetupSingleIssuer;
  // COOP_TASKRUN only matters for the submitting task; SQPOLL has its own.
  if (o.coop_taskrun && !o.sqpoll)
    ladder[steps++] = abi::kSetupCoopTaskrun | abi::kSetupTaskrunFlag;
  if (o.submit_all) ladder[steps++] = abi::kSetupSubmitAll;
  uint32_t optional = 0;
  for (unsigned i = 0; i < steps; i++) optional |= ladder[i];

  abi::Params attempt;
  int fd;
  for (unsigned i = 0;; i++) {
    attempt = p;
    attempt.flags |= optional;
    fd = sys::Setup(o.entries, &attempt);
    if (fd >= 0 || fd != -EINVAL || i == steps) break;
    optional &= ~ladder[i];
  }
  if (fd < 0) return fd;
  fd_ = fd;
  setup_flags_ = attempt.flags;
  features_ = attempt.features;
  enter_fd_ = fd;
  int r = MapRings(attempt);
  if (r < 0) {
    Close();
    return r;
  }
  if (o.register_ring_fd) RegisterRingFd();
  return 0;
}

int Uring::RegisterEventfd() {
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return -errno;
  int r = Register(abi::kRegisterEventfd, &efd, 1);
  if (r < 0) {
    close(efd);
    return r;
  }
  event_fd_ = efd;
  return 0;
}

void Uring::Rearm() {
  if (event_fd_ < 0) return;
  uint64_t count = 1;
  // Something is ready already (it completed while the callback ran): only
  // make sure the count is not 0 (it may be: CQEs left over past what one
  // reap takes raise nothing), without reading it first.
  bool ready = CqReady() || NeedsFlush();
  if (!ready) {
    // EAGAIN: the count was 0 already.
    while (read(event_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    // The read (the eventfd's lock) orders the kernel's IORING_SQ_TASKRUN or
    // CQ tail store before a signal we consumed against these loads.
    ready = CqReady() || NeedsFlush();
  }
  if (!ready) return;
  count = 1;
  while (write(event_fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

void Uring::WaitWake(int timeout_ms) {
  if (fd_ < 0) return;
  pollfd p = {wake_fd(), POLLIN, 0};
  poll(&p, 1, timeout_ms);
}

void Uring::RegisterRingFd() {
  abi::RsrcUpdate up = {};
  up.offset = ~0u;  // any free slot
  up.data = static_cast<uint64_t>(fd_);
  if (Register(abi::kRegisterRingFds, &up, 1) != 1) return;  // EINVAL (< 5.18), EBUSY (table full)
  enter_fd_ = static_cast<int>(up.offset);
  enter_flags_ = abi::kEnterRegisteredRing;
}

int Uring::MapRings(const abi::Params& p) {
  sq_entries_ = p.sq_entries;
  cq_entries_ = p.cq_entries;
  bool no_array = setup_flags_ & abi::kSetupNoSqarray;
  // Without the index array the SQ ring ends at its fields (p.sq_off.array
  // is 0); NO_SQARRAY kernels all have SINGLE_MMAP, so the CQ size covers it.
  cq_ring_size_ = p.cq_off.cqes + p.cq_entries * sizeof(abi::Cqe);
  sq_ring_size_ = no_array ? cq_ring_size_ : p.sq_off.array + p.sq_entries * sizeof(uint32_t);
  bool single = features_ & abi::kFeatSingleMmap;
  if (single) {
    if (cq_ring_size_ > sq_ring_size_) sq_ring_size_ = cq_ring_size_;
    cq_ring_size_ = sq_ring_size_;
  }
  sq_ring_ = mmap(nullptr, sq_ring_size_, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_POPULATE, fd_, abi::kOffSqRing);
  if (sq_ring_ == MAP_FAILED) {
    sq_ring_ = nullptr;
    return -errno;
  }
  if (single) {
    cq_ring_ = sq_ring_;
  } else {
    cq_ring_ = mmap(nullptr, cq_ring_size_, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd_, abi::kOffCqRing);
    if (cq_ring_ == MAP_FAILED) {
      cq_ring_ = nullptr;
      return -errno;
    }
  }
  sqes_size_ = p.sq_entries * sizeof(abi::Sqe);
  void* sqes = mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd_, abi::kOffSqes);
  if (sqes == MAP_FAILED) return -errno;
  sqes_ = static_cast<abi::Sqe*>(sqes);

  sq_khead_ = at<std::atomic<uint32_t>>(sq_ring_, p.sq_off.head);
  sq_ktail_ = at<std::atomic<uint32_t>>(sq_ring_, p.sq_off.tail);
  sq_kflags_ = at<std::atomic<uint32_t>>(sq_ring_, p.sq_off.flags);
  sq_mask_ = *at<uint32_t>(sq_ring_, p.sq_off.ring_mask);
  cq_khead_ = at<std::atomic<uint32_t>>(cq_ring_, p.cq_off.head);
  cq_ktail_ = at<std::atomic<uint32_t>>(cq_ring_, p.cq_off.tail);
  cq_mask_ = *at<uint32_t>(cq_ring_, p.cq_off.ring_mask);
  cqes_ = at<abi::Cqe>(cq_ring_, p.cq_off.cqes);

  // SQEs are always handed out in ring order, so the indirection array (if
  // the ring has one) is the identity and is written once.
  if (!no_array) {
    uint32_t* array = at<uint32_t>(sq_ring_, p.sq_off.array);
    for (uint32_t i = 0; i < p.sq_entries; i++) array[i] = i;
  }
  sqe_head_ = sqe_tail_ = sq_ktail_->load(std::memory_order_relaxed);
  return 0;
}

void Uring::Close() {
  if (sqes_) munmap(sqes_, sqes_size_);
  if (cq_ring_ && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_ring_size_);
  if (sq_ring_) munmap(sq_ring_, sq_ring_size_);
  sqes_ = nullptr;
  cq_ring_ = sq_ring_ = nullptr;
  if (enter_flags_ & abi::kEnterRegisteredRing) {
    // The registered slot holds a reference to the ring: drop it first, or
    // close() would leave the ring alive until the thread exits.
    abi::RsrcUpdate up = {};
    up.offset = static_cast<uint32_t>(enter_fd_);
    sys::Register(fd_, abi::kUnregisterRingFds, &up, 1);
  }
  enter_flags_ = 0;
  enter_fd_ = -1;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // After the ring, which held a reference to it.
  if (event_fd_ >= 0) close(event_fd_);
  event_fd_ = -1;
}

int ProbeOps(int ring_fd, bool supported[256]) {
  constexpr unsigned kOps = 256;
  size_t size = sizeof(abi::Probe) + kOps * sizeof(abi::ProbeOp);
  auto* probe = static_cast<abi::Probe*>(calloc(1, size));
  if (!probe) return -ENOMEM;
  int r = sys::Register(ring_fd, abi::kRegisterProbe, probe, kOps);
  for (unsigned i = 0; i < kOps; i++) supported[i] = false;
  if (r >= 0) {
    for (unsigned i = 0; i < probe->ops_len && i < kOps; i++) {
      const abi::ProbeOp& op = probe->ops[i];
      supported[op.op] = op.flags & abi::kProbeOpSupported;
    }
    r = probe->last_op + 1;
  }
  free(probe);
  return r;
}

}  // namespace kaio
