// The io_uring syscalls, raw (no liburing): -errno on failure.
#pragma once

#include <unistd.h>

#include <cerrno>

#include "abi.h"

namespace kaio::sys {

inline int Setup(unsigned entries, abi::Params* p) {
  long r = syscall(abi::kSysIoUringSetup, entries, p);
  return r < 0 ? -errno : static_cast<int>(r);
}

inline int Enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
  long r = syscall(abi::kSysIoUringEnter, fd, to_submit, min_complete, flags, nullptr, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

// io_uring_enter with IORING_ENTER_EXT_ARG: arg is an abi::GeteventsArg.
inline int EnterArg(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, const abi::GeteventsArg* arg) {
  long r = syscall(abi::kSysIoUringEnter, fd, to_submit, min_complete, flags | abi::kEnterExtArg, arg, sizeof(*arg));
  return r < 0 ? -errno : static_cast<int>(r);
}

inline int Register(int fd, unsigned opcode, const void* arg, unsigned nr) {
  long r = syscall(abi::kSysIoUringRegister, fd, opcode, arg, nr);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace kaio::sys
