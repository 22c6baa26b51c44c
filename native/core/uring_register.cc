// io_uring_register(2): buffers, files, probe and the rest go through here.
#include <cerrno>

#include "uring.h"
#include "uring_sys.h"

namespace kaio {

int Uring::Register(unsigned opcode, const void* arg, unsigned nr_args) {
  int r;
  do {
    r = sys::Register(fd_, opcode, arg, nr_args);
  } while (r == -EINTR);
  return r;
}

}  // namespace kaio
