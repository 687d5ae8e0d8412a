// The benchmark generators' PRNG: xoshiro256** seeded with splitmix64, so that the same seed
// gives the same data on every machine. Each generator derives its own Rng from this and adds
// the distributions it needs.
#ifndef SIGHTLINE_BENCH_RNG_H_
#define SIGHTLINE_BENCH_RNG_H_

#include <cstdint>

struct BenchRng {
  uint64_t s[4];
  explicit BenchRng(uint64_t seed) {
    for (auto& x : s) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      x = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
  uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }  // [lo, hi]
  bool chance(uint32_t per_mille) { return below(1000) < per_mille; }
};

#endif  // SIGHTLINE_BENCH_RNG_H_
