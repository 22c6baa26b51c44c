// N-API adapter for core/digest.h: kaio bench's verify checksums and buffer
// fill. Each call works on a range of one ArrayBufferView, checked here
// against the view's length (callers are kaio's own modules, but a range
// outside the view would be a write outside the buffer).
#include <cmath>
#include <cstring>

#include "../core/digest.h"
#include "addon.h"
#include "js_errors.h"

namespace kaio {

namespace {

struct Range {
  uint8_t* p;
  size_t len;
};

// The bytes [start, end) of the view at info[at], or a thrown error.
Range RangeOf(const Napi::CallbackInfo& info, size_t at) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  size_t length = 0;
  if (!ViewBytes(env, info[at], &data, &length)) throw Napi::TypeError::New(env, "expected an ArrayBufferView");
  double start = info[at + 1].IsNumber() ? info[at + 1].As<Napi::Number>().DoubleValue() : NAN;
  double end = info[at + 2].IsNumber() ? info[at + 2].As<Napi::Number>().DoubleValue() : NAN;
  if (!(start >= 0 && end >= start && end <= static_cast<double>(length)) || start != std::floor(start) || end != std::floor(end))
    throw Napi::RangeError::New(env, "range outside the view");
  return {static_cast<uint8_t*>(data) + static_cast<size_t>(start), static_cast<size_t>(end - start)};
}

int KindOf(const Napi::CallbackInfo& info) {
  int kind = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  if (DigestSize(kind) == 0) throw Napi::RangeError::New(info.Env(), "unknown digest kind");
  return kind;
}

// digestInto(kind, src, start, end, dst, dstOffset): the digest of
// src[start, end) little-endian into dst at dstOffset (DigestSize bytes).
Napi::Value DigestInto(const Napi::CallbackInfo& info) {
  int kind = KindOf(info);
  Range src = RangeOf(info, 1);
  size_t size = DigestSize(kind);
  double at = info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : NAN;
  void* data = nullptr;
  size_t length = 0;
  if (!ViewBytes(info.Env(), info[4], &data, &length)) throw Napi::TypeError::New(info.Env(), "expected an ArrayBufferView");
  if (!(at >= 0 && at + static_cast<double>(size) <= static_cast<double>(length)) || at != std::floor(at))
    throw Napi::RangeError::New(info.Env(), "range outside the view");
  uint64_t d = Digest(kind, src.p, src.len);
  uint8_t* out = static_cast<uint8_t*>(data) + static_cast<size_t>(at);
  for (size_t i = 0; i < size; i++) out[i] = static_cast<uint8_t>(d >> (8 * i));
  return info.Env().Undefined();
}

// crc32c(src, start, end) -> fio's CRC-32C of src[start, end), a number.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Range src = RangeOf(info, 0);
  return Napi::Number::New(info.Env(), Crc32cFio(src.p, src.len));
}

// fillRandom(buf, start, end, seedHigh, seedLow): deterministic bytes from
// the 64-bit seed (two 32-bit halves).
Napi::Value FillRandomJs(const Napi::CallbackInfo& info) {
  Range r = RangeOf(info, 0);
  uint32_t hi = info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  uint32_t lo = info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
  FillRandom(r.p, r.len, (static_cast<uint64_t>(hi) << 32) | lo);
  return info.Env().Undefined();
}

double Num(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// The view at info[0] and a layout from info[1..5] (len, interval, hdrSize,
// type, digestKind, verifyOffset), checked so that every header, digest and
// swap stays inside the view's first len bytes.
struct Block {
  uint8_t* p;
  size_t len;
  VerifyLayout l;
};

Block BlockOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* data = nullptr;
  size_t length = 0;
  if (!ViewBytes(env, info[0], &data, &length)) throw Napi::TypeError::New(env, "expected an ArrayBufferView");
  double len = Num(info, 1), interval = Num(info, 2), hdr = Num(info, 3), type = Num(info, 4), kind = Num(info, 5), vo = Num(info, 6);
  bool whole = len == std::floor(len) && interval == std::floor(interval) && hdr == std::floor(hdr) && vo == std::floor(vo);
  if (!whole || !(len >= 0 && len <= static_cast<double>(length)) || !(interval >= 1 && interval <= len) ||
      !(hdr == 0 || (hdr >= 40 && hdr <= interval)) || !(vo >= 0 && vo + hdr <= interval) || !(type >= 0 && type < 65536))
    throw Napi::RangeError::New(env, "verify layout outside the view");
  int k = static_cast<int>(kind);
  if (k >= 0 && (DigestSize(k) == 0 || 40 + DigestSize(k) > hdr)) throw Napi::RangeError::New(env, "digest does not fit the header");
  Block b{static_cast<uint8_t*>(data), static_cast<size_t>(len), {}};
  b.l.interval = static_cast<uint32_t>(interval);
  b.l.hdr_size = static_cast<uint32_t>(hdr);
  b.l.type = static_cast<uint16_t>(type);
  b.l.digest_kind = k < 0 ? -1 : k;
  b.l.verify_offset = static_cast<uint32_t>(vo);
  return b;
}

uint64_t Seed(const Napi::CallbackInfo& info, size_t at) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(Num(info, at))) << 32) | static_cast<uint32_t>(Num(info, at + 1));
}

// verifyHeaders(buf, len, interval, hdrSize, type, digestKind, verifyOffset,
//               offset, seedHigh, seedLow, numberio, thread, sec, nsec)
Napi::Value VerifyHeaders(const Napi::CallbackInfo& info) {
  Block b = BlockOf(info);
  VerifyFillHeaders(b.p, b.len, b.l, static_cast<uint64_t>(Num(info, 7)), Seed(info, 8), static_cast<uint16_t>(static_cast<uint32_t>(Num(info, 10))),
                    static_cast<uint16_t>(static_cast<uint32_t>(Num(info, 11))), static_cast<uint32_t>(Num(info, 12)),
                    static_cast<uint32_t>(Num(info, 13)));
  return info.Env().Undefined();
}

// verifyCheck(buf, len, interval, hdrSize, type, digestKind, verifyOffset,
//             offset, numberio (-1: any), checkSeed, seedHigh, seedLow, pattern?) -> -1 or the first bad interval
Napi::Value VerifyCheckJs(const Napi::CallbackInfo& info) {
  Block b = BlockOf(info);
  void* pat = nullptr;
  size_t plen = 0;
  if (info.Length() > 12 && !info[12].IsUndefined() && !ViewBytes(info.Env(), info[12], &pat, &plen))
    throw Napi::TypeError::New(info.Env(), "pattern must be an ArrayBufferView");
  long r = VerifyCheck(b.p, b.len, b.l, static_cast<uint64_t>(Num(info, 7)), static_cast<long>(Num(info, 8)), info[9].ToBoolean(),
                       Seed(info, 10), static_cast<const uint8_t*>(pat), plen);
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

}  // namespace

void InitDigest(Napi::Env env, Napi::Object exports) {
  exports.Set("digestInto", Napi::Function::New(env, DigestInto, "digestInto"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("fillRandom", Napi::Function::New(env, FillRandomJs, "fillRandom"));
  exports.Set("verifyHeaders", Napi::Function::New(env, VerifyHeaders, "verifyHeaders"));
  exports.Set("verifyCheck", Napi::Function::New(env, VerifyCheckJs, "verifyCheck"));
  exports.Set("crc32cHardware", Napi::Boolean::New(env, Crc32cHardware()));
}

}  // namespace kaio
