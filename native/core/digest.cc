// Table CRCs are built once from their polynomials; CRC-32C goes 8 bytes at
// a time through the CPU's instruction where the CPU has one.
#include "digest.h"

#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define KAIO_CRC_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#define KAIO_CRC_ARM 1
#endif

namespace kaio {

namespace {

struct Tables {
  uint32_t crc32c[256];
  uint32_t crc32[256];
  uint64_t crc64[256];
  uint16_t crc16[256];
  uint8_t crc7[256];
  bool hw = false;

  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      // Reflected (LSB-first) registers shift right and fold in the reversed polynomial.
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      crc32c[i] = c;
      uint64_t c64 = i;
      for (int k = 0; k < 8; k++) c64 = (c64 & 1) ? (c64 >> 1) ^ 0x95AC9329AC4BC9B5ull : c64 >> 1;
      crc64[i] = c64;
      uint32_t c16 = i;
      for (int k = 0; k < 8; k++) c16 = (c16 & 1) ? (c16 >> 1) ^ 0xA001u : c16 >> 1;
      crc16[i] = static_cast<uint16_t>(c16);
      // MSB-first registers shift left with the polynomial's top bit implied.
      uint32_t m = i << 24;
      for (int k = 0; k < 8; k++) m = (m & 0x80000000u) ? (m << 1) ^ 0x04C11DB7u : m << 1;
      crc32[i] = m;
      // CRC-7: the byte times x^7 modulo x^7 + x^3 + 1, a 7-bit remainder.
      uint32_t r = i << 7;
      for (int bit = 14; bit >= 7; bit--)
        if (r & (1u << bit)) r ^= 0x89u << (bit - 7);
      crc7[i] = static_cast<uint8_t>(r & 0x7f);
    }
#if defined(KAIO_CRC_X86)
    hw = __builtin_cpu_supports("sse4.2");
#elif defined(KAIO_CRC_ARM)
    hw = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#endif
  }
};

const Tables& T() {
  static const Tables tables;
  return tables;
}

uint32_t Crc32cTable(uint32_t crc, const uint8_t* p, size_t len) {
  const uint32_t* t = T().crc32c;
  while (len--) crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(KAIO_CRC_X86)
__attribute__((target("sse4.2"))) uint32_t Crc32cHw(uint32_t crc, const uint8_t* p, size_t len) {
#if defined(__x86_64__)
  uint64_t c = crc;
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
  }
  crc = static_cast<uint32_t>(c);
#endif
  for (; len >= 4; len -= 4, p += 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    crc = _mm_crc32_u32(crc, w);
  }
  while (len--) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}
#elif defined(KAIO_CRC_ARM)
__attribute__((target("+crc"))) uint32_t Crc32cHw(uint32_t crc, const uint8_t* p, size_t len) {
  for (; len >= 8; len -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    crc = __builtin_aarch64_crc32cx(crc, w);
  }
  while (len--) crc = __builtin_aarch64_crc32cb(crc, *p++);
  return crc;
}
#endif

}  // namespace

bool Crc32cHardware() { return T().hw; }

uint32_t Crc32cFio(const uint8_t* p, size_t len) {
#if defined(KAIO_CRC_X86) || defined(KAIO_CRC_ARM)
  if (T().hw) return Crc32cHw(~0u, p, len);
#endif
  return Crc32cTable(~0u, p, len);
}

size_t DigestSize(int kind) {
  switch (static_cast<DigestKind>(kind)) {
    case DigestKind::kCrc32c:
    case DigestKind::kCrc32:
      return 4;
    case DigestKind::kCrc64:
      return 8;
    case DigestKind::kCrc16:
      return 2;
    case DigestKind::kCrc7:
      return 1;
  }
  return 0;
}

uint64_t Digest(int kind, const uint8_t* p, size_t len) {
  const Tables& t = T();
  switch (static_cast<DigestKind>(kind)) {
    case DigestKind::kCrc32c:
      return Crc32cFio(p, len);
    case DigestKind::kCrc32: {
      uint32_t c = 0;
      while (len--) c = (c << 8) ^ t.crc32[((c >> 24) ^ *p++) & 0xff];
      return c;
    }
    case DigestKind::kCrc64: {
      uint64_t c = 0;
      while (len--) c = t.crc64[(c ^ *p++) & 0xff] ^ (c >> 8);
      return c;
    }
    case DigestKind::kCrc16: {
      uint32_t c = 0;
      while (len--) c = (c >> 8) ^ t.crc16[(c ^ *p++) & 0xff];
      return c & 0xffff;
    }
    case DigestKind::kCrc7: {
      uint32_t c = 0;
      while (len--) c = t.crc7[((c << 1) ^ *p++) & 0xff];
      return c;
    }
  }
  return 0;
}

void FillRandom(uint8_t* p, size_t len, uint64_t seed) {
  // splitmix64: every output word is a bijective mix of a counter, so any
  // seed (zero too) gives full-entropy bytes.
  uint64_t x = seed;
  for (; len >= 8; len -= 8, p += 8) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(p, &z, 8);
  }
  if (len) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(p, &z, len);
  }
}

}  // namespace kaio

namespace kaio {

namespace {

constexpr uint16_t kMagic = 0xacca;
constexpr size_t kHeader = 40;
constexpr size_t kCrcAt = 36;

template <typename T>
void Put(uint8_t* p, T v) {
  for (size_t i = 0; i < sizeof(T); i++) p[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
}

template <typename T>
T Get(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); i++) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return static_cast<T>(v);
}

void Swap(uint8_t* p, uint32_t by, uint32_t n) {
  uint8_t tmp[256];
  for (uint32_t done = 0; done < n;) {
    uint32_t k = n - done < sizeof tmp ? n - done : static_cast<uint32_t>(sizeof tmp);
    std::memcpy(tmp, p + done, k);
    std::memcpy(p + done, p + by + done, k);
    std::memcpy(p + by + done, tmp, k);
    done += k;
  }
}

bool PatternMatches(const uint8_t* p, size_t n, const uint8_t* pattern, size_t plen, size_t phase) {
  size_t k = phase % plen;
  // The first partial period byte by byte, then whole periods with memcmp.
  size_t i = 0;
  for (; i < n && k != 0; i++, k = k + 1 == plen ? 0 : k + 1)
    if (p[i] != pattern[k]) return false;
  for (; i + plen <= n; i += plen)
    if (std::memcmp(p + i, pattern, plen) != 0) return false;
  return n == i || std::memcmp(p + i, pattern, n - i) == 0;
}

}  // namespace

void VerifyFillHeaders(uint8_t* buf, size_t len, const VerifyLayout& l, uint64_t offset, uint64_t seed, uint16_t numberio,
                       uint16_t thread, uint32_t sec, uint32_t nsec) {
  size_t inc = l.interval && l.interval <= len ? l.interval : len;
  size_t dsize = l.digest_kind >= 0 ? DigestSize(l.digest_kind) : 0;
  for (size_t p = 0, k = 0; p < len; p += inc, k++) {
    uint8_t* h = buf + p;
    size_t n = len - p < inc ? len - p : inc;
    Put<uint16_t>(h + 0, kMagic);
    Put<uint16_t>(h + 2, l.type);
    Put<uint32_t>(h + 4, static_cast<uint32_t>(n));
    Put<uint64_t>(h + 8, seed);
    Put<uint64_t>(h + 16, offset + k * l.interval);
    Put<uint32_t>(h + 24, sec);
    Put<uint32_t>(h + 28, nsec);
    Put<uint16_t>(h + 32, thread);
    Put<uint16_t>(h + 34, numberio);
    Put<uint32_t>(h + kCrcAt, Crc32cFio(h, kCrcAt));
    if (dsize && n > l.hdr_size) {
      uint64_t d = Digest(l.digest_kind, h + l.hdr_size, n - l.hdr_size);
      for (size_t i = 0; i < dsize; i++) h[kHeader + i] = static_cast<uint8_t>(d >> (8 * i));
    }
    if (l.verify_offset) Swap(h, l.verify_offset, l.hdr_size);
  }
}

long VerifyCheck(uint8_t* buf, size_t len, const VerifyLayout& l, uint64_t offset, long numberio, bool check_seed, uint64_t seed,
                 const uint8_t* pattern, size_t pattern_len) {
  size_t inc = l.interval && l.interval <= len ? l.interval : len;
  size_t dsize = l.digest_kind >= 0 ? DigestSize(l.digest_kind) : 0;
  for (size_t p = 0, k = 0; p < len; p += inc, k++) {
    uint8_t* h = buf + p;
    size_t n = len - p < inc ? len - p : inc;
    if (l.verify_offset) Swap(h, l.verify_offset, l.hdr_size);
    bool ok = true;
    if (l.hdr_size) {
      ok = Get<uint16_t>(h) == kMagic && Get<uint32_t>(h + 4) == n && (!check_seed || Get<uint64_t>(h + 8) == seed) &&
           Get<uint64_t>(h + 16) == offset + k * l.interval &&
           (numberio < 0 || Get<uint16_t>(h + 34) == static_cast<uint16_t>(numberio)) && Get<uint32_t>(h + kCrcAt) == Crc32cFio(h, kCrcAt);
      if (ok && dsize && n > l.hdr_size) {
        uint64_t d = Digest(l.digest_kind, h + l.hdr_size, n - l.hdr_size);
        for (size_t i = 0; i < dsize && ok; i++) ok = h[kHeader + i] == static_cast<uint8_t>(d >> (8 * i));
      }
    }
    if (ok && pattern_len && n > l.hdr_size) ok = PatternMatches(h + l.hdr_size, n - l.hdr_size, pattern, pattern_len, p + l.hdr_size);
    if (l.verify_offset) Swap(h, l.verify_offset, l.hdr_size);
    if (!ok) return static_cast<long>(k);
  }
  return -1;
}

}  // namespace kaio
