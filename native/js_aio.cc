// Placeholder: filled in by the aio feature.
#include "addon.h"

namespace kaio {

void InitAio(Napi::Env, Napi::Object) {}

}  // namespace kaio
