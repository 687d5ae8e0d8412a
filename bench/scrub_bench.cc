// Measures the cost of PII scrubbing (pipeline/scrubber.h) on realistic log records: ~100k
// records, ~5% of them carrying PII or secrets in the body or an attribute. Reports MB/s and
// records/s of ScrubRecord with scrubbing on (defaults), on with IPs, and off (a disabled
// Scrubber), each timed over a fresh copy of the records plus that copy, so "off" is the
// baseline cost of touching the records; prints the on/off time ratio.
//
// Usage: scrub_bench [records=100000] [rounds=5]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "model/log_record.h"
#include "pipeline/scrubber.h"

namespace {

using sightline::model::AttrValue;
using sightline::model::LogRecord;
using sightline::pipeline::Scrubber;
using sightline::pipeline::ScrubberOptions;

std::vector<LogRecord> Generate(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  static const char* const kPaths[] = {"/api/v1/orders", "/api/v1/users/%d", "/healthz",
                                       "/api/v2/items?page=%d&limit=50", "/static/app.js"};
  static const char* const kMessages[] = {
      "request completed method=GET path=%s status=200 duration_ms=%d bytes=%d",
      "cache miss for key user:%d:profile, fetching from db (attempt %d)",
      "processed batch of %d events in %dms from partition 3",
      "connection pool stats: active=%d idle=%d waiting=0",
      "2026-01-15T10:20:30.123Z worker-%d finished job id=%d",
  };
  static const char* const kPii[] = {
      "password reset requested for jane.doe%d@example.com",
      "payment failed for card 4111 1111 1111 1111 (order %d)",
      "calling https://api.example.com/v1?api_key=sk%dabcdef&q=%d",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig%d",
      "sms sent to +82 10-%d-5678",
  };
  std::vector<LogRecord> out;
  out.reserve(n);
  char buf[512];
  char path[128];
  for (size_t i = 0; i < n; ++i) {
    LogRecord r;
    r.ts_ns = 1768472430000000000LL + static_cast<int64_t>(i) * 1000000;
    r.service = "checkout";
    r.host = "web-" + std::to_string(i % 16);
    const int a = static_cast<int>(rng() % 100000), b = static_cast<int>(rng() % 5000);
    std::snprintf(path, sizeof(path), kPaths[rng() % 5], a % 1000);
    const bool pii = rng() % 100 < 5;
    if (pii) {
      std::snprintf(buf, sizeof(buf), kPii[rng() % 5], 1000 + a % 9000, b);
    } else {
      const size_t m = rng() % 5;
      if (m == 0) {
        std::snprintf(buf, sizeof(buf), kMessages[0], path, b, a);
      } else {
        std::snprintf(buf, sizeof(buf), kMessages[m], a, b, a * 3);
      }
    }
    r.body = buf;
    r.attrs.push_back({"http.method", AttrValue::String("GET")});
    r.attrs.push_back({"http.route", AttrValue::String(path)});
    r.attrs.push_back({"http.status_code", AttrValue::Int(200)});
    r.attrs.push_back({"duration_ms", AttrValue::Double(b / 10.0)});
    r.attrs.push_back(
        {"user_agent", AttrValue::String("Mozilla/5.0 (X11; Linux x86_64) Chrome/120")});
    r.attrs.push_back({"request_id", AttrValue::String("550e8400-e29b-41d4-a716-" +
                                                       std::to_string(446655440000 + a))});
    r.attrs.push_back({"client.address", AttrValue::String("10.0." + std::to_string(a % 256) + "." +
                                                           std::to_string(b % 256))});
    if (pii && rng() % 2 == 0) r.attrs.push_back({"db_password", AttrValue::String("hunter2")});
    out.push_back(std::move(r));
  }
  return out;
}

size_t Bytes(const std::vector<LogRecord>& records) {
  size_t n = 0;
  for (const LogRecord& r : records) {
    n += r.body.size();
    for (const auto& a : r.attrs)
      n += a.key.size() + (a.value.type == AttrValue::Type::kString ? a.value.str.size() : 8);
  }
  return n;
}

struct Result {
  double seconds = 1e30;  // best round
  size_t replacements = 0;
};

Result Run(const Scrubber& scrubber, const std::vector<LogRecord>& records, int rounds) {
  Result best;
  for (int round = 0; round < rounds; ++round) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<LogRecord> copy = records;
    size_t replaced = 0;
    for (LogRecord& r : copy) replaced += scrubber.ScrubRecord(&r);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best.seconds = std::min(best.seconds, s);
    best.replacements = replaced;
  }
  return best;
}

std::unique_ptr<Scrubber> Make(const ScrubberOptions& o) {
  auto s = Scrubber::Create(o);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::vector<LogRecord> records = Generate(n, 42);
  const double mb = Bytes(records) / 1e6;
  std::printf("%zu records, %.1f MB of bodies+attributes, best of %d rounds\n", n, mb, rounds);

  ScrubberOptions on;
  ScrubberOptions ips = on;
  ips.ips = true;
  ScrubberOptions off;
  off.enabled = false;
  const Result r_off = Run(*Make(off), records, rounds);
  const Result r_on = Run(*Make(on), records, rounds);
  const Result r_ips = Run(*Make(ips), records, rounds);
  auto print = [&](const char* name, const Result& r) {
    std::printf("%-14s %8.1f MB/s %10.0f records/s %8zu replacements  %.3f s\n", name,
                mb / r.seconds, n / r.seconds, r.replacements, r.seconds);
  };
  print("off (copy)", r_off);
  print("on", r_on);
  print("on + ips", r_ips);
  std::printf("scrub-only cost: %.2f us/record, %.1f MB/s\n",
              (r_on.seconds - r_off.seconds) * 1e6 / n,
              mb / std::max(1e-9, r_on.seconds - r_off.seconds));
  std::printf("ratio on/off time: %.2fx  (on+ips/off: %.2fx)\n", r_on.seconds / r_off.seconds,
              r_ips.seconds / r_off.seconds);
  return 0;
}
