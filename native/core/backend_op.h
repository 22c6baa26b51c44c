// Ops of the AIO and thread-pool backends (lib/binding.ts BackendOp): what
// the offload threads run, and what an AIO context hands to io_submit.
#pragma once

#include <cstdint>

namespace kaio {

enum BackendOp : uint32_t {
  kBackendRead = 0,
  kBackendWrite = 1,
  kBackendReadv = 2,
  kBackendWritev = 3,
  kBackendFsync = 4,
  kBackendFdatasync = 5,
};

}  // namespace kaio
