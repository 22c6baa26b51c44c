// Keeps what in-flight ops need alive exactly while there are any: the
// adapter's JS object (the GC must not collect it under the kernel), its JS
// completion callback (weak while idle, so an unused context can be
// collected; it owns the slot table that holds the ops' buffers), and the
// event loop, through the poller's handle. Shared by the N-API adapters.
#pragma once

#include <napi.h>

#include "poller.h"

namespace kaio {

class BusyHold {
 public:
  void Bind(Napi::Reference<Napi::Object>* self, Napi::FunctionReference* callback,
            Poller* poller = nullptr) {
    self_ = self;
    callback_ = callback;
    poller_ = poller;
  }

  // The first op went in flight.
  void Take() {
    if (held_) return;
    held_ = true;
    self_->Ref();
    callback_->Ref();
    if (poller_) poller_->Ref();
  }

  // The last op in flight is done (or the adapter is closing).
  void Drop() {
    if (!held_) return;
    held_ = false;
    if (poller_) poller_->Unref();
    callback_->Unref();
    self_->Unref();
  }

  bool held() const { return held_; }

 private:
  Napi::Reference<Napi::Object>* self_ = nullptr;
  Napi::FunctionReference* callback_ = nullptr;
  Poller* poller_ = nullptr;
  bool held_ = false;
};

}  // namespace kaio
