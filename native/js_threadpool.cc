// Placeholder: filled in by the threadpool feature.
#include "addon.h"

namespace kaio {

void InitThreadpool(Napi::Env, Napi::Object) {}

}  // namespace kaio
