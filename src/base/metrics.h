// Sightline's own metrics, rendered at /metrics in the Prometheus text format.
// Counters and gauges are lock-free atomics; registration happens at start-up.
// Thread-safe.
#ifndef SIGHTLINE_BASE_METRICS_H_
#define SIGHTLINE_BASE_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sightline {

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// A process-wide registry. Metrics are owned by the registry and live forever, so
// returned pointers may be cached.
class Metrics {
 public:
  static Metrics& Global();
  // `name` may carry labels: `sightline_ingest_records_total{protocol="otlp"}`.
  Counter* GetCounter(const std::string& name, const std::string& help);
  Gauge* GetGauge(const std::string& name, const std::string& help);
  // A gauge computed at scrape time.
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> fn);
  std::string RenderPrometheus() const;

 private:
  struct Entry {
    std::string name, help, type;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> fn;
  };
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace sightline

#endif  // SIGHTLINE_BASE_METRICS_H_
