// Injectable time source (LevelDB's Env idea, reduced to what Sightline needs): production
// code asks a Clock for the time so that tests can control retention, flush timers and
// timestamp clamping.
#ifndef SIGHTLINE_BASE_CLOCK_H_
#define SIGHTLINE_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace sightline {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in Unix nanoseconds. Thread-safe.
  virtual int64_t NowNs() const = 0;
  // A process-wide real clock; never null, never freed.
  static Clock* Real();
};

// A clock tests set by hand. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_ns) : now_(now_ns) {}
  int64_t NowNs() const override { return now_.load(); }
  void Set(int64_t ns) { now_.store(ns); }
  void Advance(int64_t ns) { now_.fetch_add(ns); }

 private:
  std::atomic<int64_t> now_;
};

inline constexpr int64_t kNsPerSec = 1'000'000'000;
inline constexpr int64_t kNsPerDay = 86'400 * kNsPerSec;

}  // namespace sightline

#endif  // SIGHTLINE_BASE_CLOCK_H_
