// Placeholder: filled in by the pinned feature.
#include "addon.h"

namespace kaio {

void InitPinned(Napi::Env, Napi::Object) {}

}  // namespace kaio
