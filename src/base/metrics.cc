#include "base/metrics.h"

#include <cstdio>
#include <algorithm>
#include <set>

namespace sightline {

Metrics& Metrics::Global() {
  static Metrics* m = new Metrics();  // intentionally leaked: used until exit
  return *m;
}

Counter* Metrics::GetCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& e : entries_)
    if (e->name == name && e->counter) return e->counter.get();
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "counter";
  e->counter = std::make_unique<Counter>();
  Counter* c = e->counter.get();
  entries_.push_back(std::move(e));
  return c;
}

Gauge* Metrics::GetGauge(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& e : entries_)
    if (e->name == name && e->gauge) return e->gauge.get();
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "gauge";
  e->gauge = std::make_unique<Gauge>();
  Gauge* g = e->gauge.get();
  entries_.push_back(std::move(e));
  return g;
}

void Metrics::AddCallbackGauge(const std::string& name, const std::string& help,
                               std::function<double()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  auto e = std::make_unique<Entry>();
  e->name = name;
  e->help = help;
  e->type = "gauge";
  e->fn = std::move(fn);
  entries_.push_back(std::move(e));
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  std::set<std::string> described;
  // Keep each family's lines together (the text format requires it), in registration order
  // of families.
  std::vector<const Entry*> order;
  std::vector<std::string> families;
  for (const auto& e : entries_) {
    std::string f = e->name.substr(0, e->name.find('{'));
    if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
  }
  for (const auto& f : families)
    for (const auto& e : entries_)
      if (e->name.compare(0, f.size(), f) == 0 && (e->name.size() == f.size() || e->name[f.size()] == '{'))
        order.push_back(e.get());
  for (const Entry* e : order) {
    std::string family = e->name.substr(0, e->name.find('{'));
    if (described.insert(family).second) {
      out += "# HELP " + family + " " + e->help + "\n";
      out += "# TYPE " + family + " " + e->type + "\n";
    }
    char buf[64];
    if (e->counter) std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(e->counter->value()));
    else if (e->gauge) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(e->gauge->value()));
    else std::snprintf(buf, sizeof buf, "%.17g", e->fn());
    out += e->name + " " + buf + "\n";
  }
  return out;
}

}  // namespace sightline
