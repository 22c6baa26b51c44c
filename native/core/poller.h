// Watches a kernel fd (ring fd or eventfd) from Node's own libuv loop, so
// completions arrive on the JS thread without a helper thread. The handle is
// referenced only while the owner has work in flight.
#pragma once

#include <uv.h>

namespace kaio {

class Poller {
 public:
  using Callback = void (*)(void* data);

  Poller() = default;
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller() { Close(); }

  // Starts watching fd for readability; unreferenced until Ref(). With spin,
  // the callback also runs on every loop turn while referenced (for rings
  // that must be polled, e.g. IORING_SETUP_IOPOLL, which never wake the fd).
  int Start(uv_loop_t* loop, int fd, bool spin, Callback cb, void* data);
  void Ref();
  void Unref();
  // Stops the callbacks at once; the handles are freed by libuv later.
  void Close();
  bool active() const { return poll_ != nullptr; }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnIdle(uv_idle_t* handle);

  uv_poll_t* poll_ = nullptr;
  uv_idle_t* idle_ = nullptr;
  bool referenced_ = false;
  Callback cb_ = nullptr;
  void* data_ = nullptr;
};

}  // namespace kaio
