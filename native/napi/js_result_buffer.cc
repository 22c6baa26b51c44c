// N-API adapter for core/result_memory.h.
#include "../core/result_memory.h"
#include "addon.h"

#include <cstdint>

namespace kaio {

namespace {

void FreeChunk(napi_env, void* data, void* hint) {
  ResultFree(ResultChunk{data, reinterpret_cast<uintptr_t>(hint)});
}

// A Buffer of `length` bytes over the chunk, unmapped once the Buffer's
// ArrayBuffer has been collected; where Node refuses external memory, a
// copy (and the chunk is unmapped now).
Napi::Value ChunkBuffer(Napi::Env env, const ResultChunk& chunk, size_t length) {
  napi_value out;
  napi_status s = napi_create_external_buffer(env, length, chunk.base, FreeChunk,
                                              reinterpret_cast<void*>(static_cast<uintptr_t>(chunk.mapped)), &out);
  if (s == napi_ok) return Napi::Value(env, out);
  Napi::Value copy;
  try {
    copy = Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t*>(chunk.base), length);
  } catch (...) {
    ResultFree(chunk);
    throw;
  }
  ResultFree(chunk);
  return copy;
}

// resultBuffer(length) -> a Buffer of `length` (> 0) uninitialized bytes
// over core/result_memory.h's memory, or undefined when none was mapped.
Napi::Value ResultBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double length = info[0].As<Napi::Number>().DoubleValue();
  ResultChunk chunk;
  if (!(length >= 1) || !ResultAlloc(static_cast<size_t>(length), &chunk)) return env.Undefined();
  return ChunkBuffer(env, chunk, static_cast<size_t>(length));
}

void FreeKept(napi_env, void* data, void* hint) {
  KeptFree(ResultChunk{data, reinterpret_cast<uintptr_t>(hint)});
}

// keptBuffer(length) -> a Buffer of `length` (> 0, below 2 MiB)
// uninitialized bytes over core/result_memory.h's kept memory, or undefined
// when there is none (allocator failure, or Node refuses external memory).
Napi::Value KeptBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double length = info[0].As<Napi::Number>().DoubleValue();
  ResultChunk chunk;
  if (!(length >= 1) || !(length < kResultHugeFrom) || !KeptAlloc(static_cast<size_t>(length), &chunk)) return env.Undefined();
  napi_value out;
  napi_status s = napi_create_external_buffer(env, static_cast<size_t>(length), chunk.base, FreeKept,
                                              reinterpret_cast<void*>(static_cast<uintptr_t>(chunk.mapped)), &out);
  if (s == napi_ok) return Napi::Value(env, out);
  KeptFree(chunk);
  return env.Undefined();
}

}  // namespace

void InitResultBuffer(Napi::Env env, Napi::Object exports) {
  exports.Set("resultBuffer", Napi::Function::New(env, ResultBuffer, "resultBuffer"));
  exports.Set("keptBuffer", Napi::Function::New(env, KeptBuffer, "keptBuffer"));
}

}  // namespace kaio
