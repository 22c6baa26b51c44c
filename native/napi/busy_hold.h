// Keeps what in-flight ops need alive exactly while there are any: the
// adapter's JS object (the GC must not collect it under the kernel), its JS
// completion callback (weak while idle, so an unused context can be
// collected; it owns the slot table that holds the ops' buffers), and the
// event loop, through the poller's handle. Shared by the N-API adapters.
#pragma once

#include <napi.h>

#include <cstdint>

#include "../core/poller.h"

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
    if (held_ || deferred_) return;
    held_ = true;
    self_->Ref();
    callback_->Ref();
    if (poller_) poller_->Ref();
  }

  // The last op in flight is done.
  void Drop() {
    if (!deferred_) DropNow();
  }

  // The adapter is closing: nothing is in flight any more, whatever a
  // deferral would settle to.
  void DropNow() {
    if (!held_) return;
    held_ = false;
    if (poller_) poller_->Unref();
    callback_->Unref();
    self_->Unref();
  }

  bool held() const { return held_; }

  // Within one native call that submits and reaps (submitAndWait, a poll
  // callback delivering completions) the adapter and its callback are
  // reachable from the stack, and the loop is not checked for liveness:
  // the references change once, at the call's end, to what the ops then in
  // flight need. At queue depth 1 every op otherwise took and dropped them
  // (two global handles made strong and weak again, a uv_ref pair) inside
  // the same call. Nested calls settle at the outermost.
  class Deferral {
   public:
    Deferral(BusyHold& hold, const uint64_t& in_flight) : hold_(hold), in_flight_(in_flight) { hold_.deferred_++; }
    ~Deferral() {
      if (--hold_.deferred_ != 0) return;
      if (in_flight_ != 0)
        hold_.Take();
      else
        hold_.Drop();
    }
    Deferral(const Deferral&) = delete;
    Deferral& operator=(const Deferral&) = delete;

   private:
    BusyHold& hold_;
    const uint64_t& in_flight_;
  };

 private:
  Napi::Reference<Napi::Object>* self_ = nullptr;
  Napi::FunctionReference* callback_ = nullptr;
  Poller* poller_ = nullptr;
  bool held_ = false;
  unsigned deferred_ = 0;
};

}  // namespace kaio
