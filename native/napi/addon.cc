#include "addon.h"

namespace kaio {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  exports.Set("Ring", DefineRing(env, data));
  exports.Set("contract", RingContract(env));
  exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("ioprioSet", Napi::Function::New(env, IoprioSet, "ioprioSet"));
  exports.Set("pipe", Napi::Function::New(env, MakePipe, "pipe"));
  exports.Set("dupFd", Napi::Function::New(env, DupFd, "dupFd"));
  InitPinned(env, exports);
  InitAio(env, exports);
  InitThreadpool(env, exports);
  InitDigest(env, exports);
  InitCachedRead(env, exports);
  InitBench(env, exports);
  InitResultBuffer(env, exports);
  InitDirUnlink(env, exports);
  InitCopyRange(env, exports);
  InitBlkdev(env, exports);
  return exports;
}

}  // namespace kaio

static Napi::Object InitKaio(Napi::Env env, Napi::Object exports) {
  return kaio::Init(env, exports);
}

NODE_API_MODULE(kaio, InitKaio)
