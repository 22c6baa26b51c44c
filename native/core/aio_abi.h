// Kernel ABI for Linux native AIO (include/uapi/linux/aio_abi.h and the
// user-visible ring header of fs/aio.c), defined here so the build does not
// depend on the machine's headers. The static_asserts catch any drift.
#pragma once

#include <endian.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>

namespace kaio::abi {

// Syscall numbers differ per architecture; glibc's table has them all.
constexpr long kSysIoSetup = SYS_io_setup;
constexpr long kSysIoDestroy = SYS_io_destroy;
constexpr long kSysIoSubmit = SYS_io_submit;
constexpr long kSysIoGetevents = SYS_io_getevents;

using AioContextT = unsigned long;  // aio_context_t: the ring's address

// enum { IOCB_CMD_* }
enum IocbCmd : uint16_t {
  kIocbCmdPread = 0,
  kIocbCmdPwrite = 1,
  kIocbCmdFsync = 2,
  kIocbCmdFdsync = 3,
  kIocbCmdNoop = 6,
  kIocbCmdPreadv = 7,
  kIocbCmdPwritev = 8,
};

constexpr uint32_t kIocbFlagResfd = 1u << 0;   // signal aio_resfd (an eventfd) on completion
constexpr uint32_t kIocbFlagIoprio = 1u << 1;  // aio_reqprio holds an ioprio value, 4.18

struct Iocb {
  uint64_t aio_data;
  // The kernel orders these two by endianness (PADDED in aio_abi.h).
#if __BYTE_ORDER == __LITTLE_ENDIAN
  uint32_t aio_key;
  int32_t aio_rw_flags;  // RWF_*, 4.13
#else
  int32_t aio_rw_flags;
  uint32_t aio_key;
#endif
  uint16_t aio_lio_opcode;
  int16_t aio_reqprio;
  uint32_t aio_fildes;
  uint64_t aio_buf;
  uint64_t aio_nbytes;
  int64_t aio_offset;
  uint64_t aio_reserved2;
  uint32_t aio_flags;
  uint32_t aio_resfd;
};

struct IoEvent {
  uint64_t data;  // aio_data of the iocb
  uint64_t obj;   // address of the iocb
  int64_t res;
  int64_t res2;
};

// struct aio_ring: the head of the completion ring io_setup maps into the
// process. Reaping from it skips a syscall; the kernel keeps it valid as
// long as magic and incompat_features say so.
struct AioRing {
  uint32_t id;
  uint32_t nr;    // number of io_events
  uint32_t head;  // written by user space (or io_getevents)
  uint32_t tail;  // written by the kernel
  uint32_t magic;
  uint32_t compat_features;
  uint32_t incompat_features;
  uint32_t header_length;  // sizeof(struct aio_ring)
  IoEvent io_events[];
};

constexpr uint32_t kAioRingMagic = 0xa10a10a1;
constexpr uint32_t kAioRingIncompatFeatures = 0;

static_assert(sizeof(Iocb) == 64, "struct iocb");
static_assert(offsetof(Iocb, aio_lio_opcode) == 16, "iocb.aio_lio_opcode");
static_assert(offsetof(Iocb, aio_buf) == 24, "iocb.aio_buf");
static_assert(offsetof(Iocb, aio_offset) == 40, "iocb.aio_offset");
static_assert(offsetof(Iocb, aio_flags) == 56, "iocb.aio_flags");
static_assert(offsetof(Iocb, aio_resfd) == 60, "iocb.aio_resfd");
static_assert(sizeof(IoEvent) == 32, "struct io_event");
static_assert(sizeof(AioRing) == 32, "struct aio_ring");

}  // namespace kaio::abi
