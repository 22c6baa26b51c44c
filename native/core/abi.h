// Kernel ABI for io_uring, defined here so the build does not depend on the
// age of the machine's <linux/io_uring.h>. Layouts follow the kernel's uapi
// header; the static_asserts below catch any drift.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/syscall.h>

namespace kaio::abi {

// The io_uring syscalls share one number on every architecture (unified table).
constexpr long kSysIoUringSetup = 425;
constexpr long kSysIoUringEnter = 426;
constexpr long kSysIoUringRegister = 427;

struct SqringOffsets {
  uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
  uint64_t user_addr;
};

struct CqringOffsets {
  uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
  uint64_t user_addr;
};

struct Params {
  uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle;
  uint32_t features, wq_fd, resv[3];
  SqringOffsets sq_off;
  CqringOffsets cq_off;
};

struct Sqe {
  uint8_t opcode;
  uint8_t flags;     // IOSQE_*
  uint16_t ioprio;
  int32_t fd;
  uint64_t off;      // also addr2
  uint64_t addr;     // also splice_off_in
  uint32_t len;
  uint32_t op_flags; // rw_flags, fsync_flags, open_flags, statx_flags, cancel_flags...
  uint64_t user_data;
  uint16_t buf_index;
  uint16_t personality;
  int32_t file_index; // also splice_fd_in
  uint64_t addr3;
  uint64_t pad2;
};

struct Cqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};

struct ProbeOp {
  uint8_t op;
  uint8_t resv;
  uint16_t flags;  // IO_URING_OP_SUPPORTED
  uint32_t resv2;
};

struct Probe {
  uint8_t last_op;
  uint8_t ops_len;
  uint16_t resv;
  uint32_t resv2[3];
  ProbeOp ops[];
};

struct RsrcRegister {
  uint32_t nr;
  uint32_t flags;  // IORING_RSRC_REGISTER_SPARSE
  uint64_t resv2;
  uint64_t data;
  uint64_t tags;
};

// IORING_REGISTER_RING_FDS: data is the fd, offset the slot (-1: any free one).
struct RsrcUpdate {
  uint32_t offset;
  uint32_t resv;
  uint64_t data;
};

struct RsrcUpdate2 {
  uint32_t offset;
  uint32_t resv;
  uint64_t data;
  uint64_t tags;
  uint32_t nr;
  uint32_t resv2;
};

// IORING_REGISTER_FILES_UPDATE argument (io_uring_files_update).
struct FilesUpdate {
  uint32_t offset;
  uint32_t resv;
  uint64_t fds;  // pointer to int32_t[nr]
};

static_assert(sizeof(FilesUpdate) == 16, "io_uring_files_update");
static_assert(sizeof(SqringOffsets) == 40, "io_sqring_offsets");
static_assert(sizeof(CqringOffsets) == 40, "io_cqring_offsets");
static_assert(sizeof(Params) == 120, "io_uring_params");
static_assert(sizeof(Sqe) == 64, "io_uring_sqe");
static_assert(offsetof(Sqe, user_data) == 32, "io_uring_sqe.user_data");
static_assert(offsetof(Sqe, buf_index) == 40, "io_uring_sqe.buf_index");
static_assert(offsetof(Sqe, file_index) == 44, "io_uring_sqe.file_index");
static_assert(sizeof(Cqe) == 16, "io_uring_cqe");
static_assert(sizeof(ProbeOp) == 8, "io_uring_probe_op");
static_assert(sizeof(Probe) == 16, "io_uring_probe");
static_assert(sizeof(RsrcUpdate) == 16, "io_uring_rsrc_update");
static_assert(sizeof(RsrcRegister) == 32, "io_uring_rsrc_register");
static_assert(sizeof(RsrcUpdate2) == 32, "io_uring_rsrc_update2");

// mmap offsets
constexpr uint64_t kOffSqRing = 0;
constexpr uint64_t kOffCqRing = 0x8000000ULL;
constexpr uint64_t kOffSqes = 0x10000000ULL;

// io_uring_setup flags
constexpr uint32_t kSetupIopoll = 1u << 0;
constexpr uint32_t kSetupSqpoll = 1u << 1;
constexpr uint32_t kSetupCqsize = 1u << 3;
constexpr uint32_t kSetupClamp = 1u << 4;
constexpr uint32_t kSetupSubmitAll = 1u << 7;       // 5.18
constexpr uint32_t kSetupCoopTaskrun = 1u << 8;     // 5.19
constexpr uint32_t kSetupTaskrunFlag = 1u << 9;     // 5.19
constexpr uint32_t kSetupSingleIssuer = 1u << 12;   // 6.0
constexpr uint32_t kSetupDeferTaskrun = 1u << 13;   // 6.1
constexpr uint32_t kSetupNoSqarray = 1u << 16;      // 6.6

// features reported by io_uring_setup
constexpr uint32_t kFeatSingleMmap = 1u << 0;
constexpr uint32_t kFeatNodrop = 1u << 1;
constexpr uint32_t kFeatSubmitStable = 1u << 2;
constexpr uint32_t kFeatRwCurPos = 1u << 3;
constexpr uint32_t kFeatExtArg = 1u << 8;  // 5.11

// io_uring_enter flags
constexpr uint32_t kEnterGetevents = 1u << 0;
constexpr uint32_t kEnterSqWakeup = 1u << 1;
constexpr uint32_t kEnterExtArg = 1u << 3;         // 5.11
constexpr uint32_t kEnterRegisteredRing = 1u << 4;  // 5.18

// io_uring_enter's argument with kEnterExtArg (struct io_uring_getevents_arg).
struct GeteventsArg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t min_wait_usec;  // 6.12; 0 here
  uint64_t ts;             // address of a KernelTimespec, or 0
};
struct KernelTimespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};

// sq_flags bits the kernel sets
constexpr uint32_t kSqNeedWakeup = 1u << 0;
constexpr uint32_t kSqCqOverflow = 1u << 1;
constexpr uint32_t kSqTaskrun = 1u << 2;

// sqe->flags
constexpr uint8_t kSqeFixedFile = 1u << 0;
constexpr uint8_t kSqeIoDrain = 1u << 1;
constexpr uint8_t kSqeIoLink = 1u << 2;
constexpr uint8_t kSqeIoHardlink = 1u << 3;
constexpr uint8_t kSqeAsync = 1u << 4;

// op-specific flags
constexpr uint32_t kFsyncDatasync = 1u << 0;
constexpr uint32_t kCancelAll = 1u << 0;   // 5.19
constexpr uint32_t kCancelAny = 1u << 2;   // 5.19
constexpr uint16_t kProbeOpSupported = 1u << 0;
constexpr uint32_t kRsrcRegisterSparse = 1u << 0;  // 5.19

// Opcodes (enum io_uring_op). Minimum kernel in the comment.
enum Op : uint8_t {
  kOpNop = 0,             // 5.1
  kOpReadv = 1,           // 5.1
  kOpWritev = 2,          // 5.1
  kOpFsync = 3,           // 5.1
  kOpReadFixed = 4,       // 5.1
  kOpWriteFixed = 5,      // 5.1
  kOpPollAdd = 6,         // 5.1
  kOpAsyncCancel = 14,    // 5.5
  kOpFallocate = 17,      // 5.6
  kOpOpenat = 18,         // 5.6
  kOpClose = 19,          // 5.6
  kOpStatx = 21,          // 5.6
  kOpRead = 22,           // 5.6
  kOpWrite = 23,          // 5.6
  kOpSplice = 30,         // 5.7
  kOpRenameat = 35,       // 5.11
  kOpUnlinkat = 36,       // 5.11
  kOpMkdirat = 37,        // 5.15
  kOpSymlinkat = 38,      // 5.15
  kOpLinkat = 39,         // 5.15
  kOpFtruncate = 55,      // 6.9
  kOpReadvFixed = 60,     // 6.15
  kOpWritevFixed = 61,    // 6.15
};

// io_uring_register opcodes
enum RegisterOp : unsigned {
  kRegisterBuffers = 0,
  kUnregisterBuffers = 1,
  kRegisterFiles = 2,
  kUnregisterFiles = 3,
  kRegisterEventfd = 4,
  kRegisterFilesUpdate = 6,    // 5.5
  kUnregisterEventfd = 5,
  kRegisterProbe = 8,
  kRegisterFiles2 = 13,        // 5.13
  kRegisterFilesUpdate2 = 14,  // 5.13
  kRegisterBuffers2 = 15,      // 5.13
  kRegisterBuffersUpdate = 16, // 5.13
  kRegisterRingFds = 20,       // 5.18
  kUnregisterRingFds = 21,     // 5.18
};

// Kernel limits on registered buffers (io_uring/rsrc.c).
constexpr unsigned kMaxRegisteredBuffers = 1u << 14;
constexpr uint64_t kMaxRegisteredBufferBytes = 1ull << 30;

// struct statx (include/uapi/linux/stat.h); the build's headers may predate
// the DIO fields. Used by sysinfo.cc (STATX_DIOALIGN).
struct StatxTimestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct Statx {
  uint32_t stx_mask, stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink, stx_uid, stx_gid;
  uint16_t stx_mode, spare0;
  uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  StatxTimestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
  uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  uint64_t stx_mnt_id;
  uint32_t stx_dio_mem_align, stx_dio_offset_align;
  uint64_t spare3[12];
};
static_assert(sizeof(Statx) == 256, "struct statx");
static_assert(offsetof(Statx, stx_dio_mem_align) == 152, "statx.stx_dio_mem_align");

constexpr unsigned kStatxDioalign = 0x2000;  // 6.1
constexpr int kAtEmptyPath = 0x1000;


}  // namespace kaio::abi
