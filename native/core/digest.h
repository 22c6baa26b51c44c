// The checksums fio's verify headers carry, bit for bit as fio 3.x computes
// them (so a block either program wrote checks in the other), and the
// deterministic random fill of write buffers. Plain C++: no JavaScript.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kaio {

// The checksum kinds digestInto() knows; the numbers are shared with
// lib/bench/verify.ts (DIGEST_*).
enum class DigestKind : int {
  kCrc32c = 0,  // Castagnoli, register starts at ~0, no final inversion (fio's fio_crc32c)
  kCrc32 = 1,   // poly 0x04C11DB7 MSB first, starts at 0, no inversion (fio's fio_crc32)
  kCrc64 = 2,   // poly 0xAD93D23594C935A9 (Jones) LSB first, starts at 0 (fio's fio_crc64)
  kCrc16 = 3,   // poly 0x8005 LSB first (CRC-16/ARC), starts at 0 (fio's fio_crc16)
  kCrc7 = 4,    // poly 0x09 MSB first over a 7-bit register, starts at 0 (fio's fio_crc7)
};

// Bytes the digest of `kind` occupies (4, 4, 8, 2, 1), or 0 for an unknown kind.
size_t DigestSize(int kind);

// The digest of p[0..len), little-endian in the low DigestSize() bytes.
uint64_t Digest(int kind, const uint8_t* p, size_t len);

// CRC-32C with the CPU's CRC instruction when it has one (SSE4.2, ARMv8 CRC).
uint32_t Crc32cFio(const uint8_t* p, size_t len);
// Whether Crc32cFio uses the CPU's instruction on this machine.
bool Crc32cHardware();

// Fills p[0..len) with bytes drawn from a 64-bit generator seeded with
// `seed`: the same seed gives the same bytes, whatever the length.
void FillRandom(uint8_t* p, size_t len, uint64_t seed);

}  // namespace kaio

namespace kaio {

// How fio lays verify headers over a block (fio 3.x's struct verify_header,
// 40 bytes, little-endian, then the checksum header): one header every
// `interval` bytes, `hdr_size` bytes long in all, its digest (digest_kind,
// or -1 for none) over the rest of the interval, the whole header swapped
// with the bytes at verify_offset when that is not 0.
struct VerifyLayout {
  uint32_t interval;
  uint32_t hdr_size;
  uint16_t type;
  int digest_kind;
  uint32_t verify_offset;
};

// Writes every interval's header (and digest) over buf[0, len).
void VerifyFillHeaders(uint8_t* buf, size_t len, const VerifyLayout& l, uint64_t offset, uint64_t seed, uint16_t numberio,
                       uint16_t thread, uint32_t sec, uint32_t nsec);

// Checks every interval of buf[0, len) read at file `offset`: header
// fields, header CRC, the digest, and the pattern after the header when
// pattern_len is not 0. numberio < 0: not checked; check_seed: the header's
// rand_seed must be `seed`. Returns -1 when all is good, else the index of
// the first bad interval. buf is left as it was.
long VerifyCheck(uint8_t* buf, size_t len, const VerifyLayout& l, uint64_t offset, long numberio, bool check_seed, uint64_t seed,
                 const uint8_t* pattern, size_t pattern_len);

}  // namespace kaio
