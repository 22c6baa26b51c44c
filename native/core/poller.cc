#include "poller.h"

namespace kaio {

namespace {

template <typename Handle>
void CloseHandle(Handle* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* handle) {
    delete reinterpret_cast<Handle*>(handle);
  });
}

}  // namespace

int Poller::Start(uv_loop_t* loop, int fd, bool spin, Callback cb, void* data) {
  cb_ = cb;
  data_ = data;
  poll_ = new uv_poll_t;
  int r = uv_poll_init(loop, poll_, fd);
  if (r < 0) {
    delete poll_;
    poll_ = nullptr;
    return r;
  }
  poll_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  r = uv_poll_start(poll_, UV_READABLE, OnPoll);
  if (r < 0) {
    Close();
    return r;
  }
  if (spin) {
    idle_ = new uv_idle_t;
    uv_idle_init(loop, idle_);
    idle_->data = this;
  }
  return 0;
}

void Poller::Ref() {
  if (referenced_ || !poll_) return;
  referenced_ = true;
  uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  if (idle_) uv_idle_start(idle_, OnIdle);
}

void Poller::Unref() {
  if (!referenced_ || !poll_) return;
  referenced_ = false;
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  if (idle_) uv_idle_stop(idle_);
}

void Poller::Close() {
  if (idle_) {
    uv_idle_stop(idle_);
    CloseHandle(idle_);
    idle_ = nullptr;
  }
  if (poll_) {
    uv_poll_stop(poll_);
    CloseHandle(poll_);
    poll_ = nullptr;
  }
  referenced_ = false;
}

void Poller::OnPoll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<Poller*>(handle->data);
  // An error status (EBADF after the fd is gone) is not for us to report:
  // the owner sees the same state on its next operation.
  if (status < 0 || !self) return;
  self->cb_(self->data_);
}

void Poller::OnIdle(uv_idle_t* handle) {
  auto* self = static_cast<Poller*>(handle->data);
  if (self) self->cb_(self->data_);
}

}  // namespace kaio
