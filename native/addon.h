// Per-environment (main thread or worker) state of the addon. No globals:
// each Node environment gets its own instance data.
#pragma once

#include <napi.h>

namespace kaio {

struct AddonData {
  Napi::FunctionReference ring_ctor;
};

Napi::Function DefineRing(Napi::Env env, AddonData* data);
Napi::Value Probe(const Napi::CallbackInfo& info);

}  // namespace kaio
