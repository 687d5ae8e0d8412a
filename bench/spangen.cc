// spangen: a deterministic generator of realistic distributed traces, and an OTLP/HTTP sender.
//
// Traces are requests to a small web shop of eight services (api-gateway, auth, users, orders,
// payments, inventory, shipping, notifications) written in Go, Java, Python and Node.js. Each
// trace has 3-12 spans: a SERVER span at the gateway, CLIENT/SERVER pairs for every service hop,
// CLIENT spans for PostgreSQL, Redis and third-party HTTP APIs (Stripe, a carrier, SendGrid),
// INTERNAL spans for business logic and a PRODUCER span for Kafka. Spans carry the attributes an
// OTel SDK with auto-instrumentation records (old-style semconv: http.method, http.route,
// http.status_code as an int, net.peer.name, db.system, db.statement, thread.*, enduser.id, ...,
// about ten a span) and every span's resource carries what SDKs and the k8s resource detector
// send (service.name/.version/.instance.id, telemetry.sdk.*, host.name, process.pid,
// process.runtime.*, k8s.*). About 2 % of spans are errors (status ERROR): one failing span per
// failing trace (a timeout of a database, Redis or third-party call, or an exception in code)
// has an `exception` event (exception.type, .message, .stacktrace of a few lines in that
// service's language) and the failure propagates to its callers (5xx) unless a caller handles
// it. Durations are log-normal per kind of work; children lie within their parent's interval
// (client spans enclose the remote server span by a network delay; some fan-outs run in
// parallel). Trace start times spread evenly over --window seconds ending at --end-ns
// (default the hour before 2026-11-01T00:00:00Z, where loggen's logs start), with jitter.
//
// The spans are a pure function of --seed and --spans (and --window/--end-ns): every mode sees
// the same spans, and the same flags give byte-identical output. The PRNG is integer-only;
// durations use exp() and are rounded to whole nanoseconds.
//
//   spangen otlp --spans N [--batch B] --out FILE
//       length-prefixed (4-byte little-endian length, then the bytes) binary protobuf
//       ExportTraceServiceRequest bodies of whole traces, ~B spans each (default 1000), one
//       ResourceSpans per pod (service instance) and one ScopeSpans per instrumentation scope,
//       as a collector's batch of SDK exports looks. Hand-encoded protobuf.
//   spangen send --in FILE --url http://127.0.0.1:PORT/v1/traces [--concurrency C]
//       posts every body (Content-Type: application/x-protobuf) over C keep-alive HTTP/1.1
//       connections (plain sockets), checks each answer is 200 and reads partial_success;
//       429/503 are retried after a short sleep (50 ms doubling to 1 s; counted). Prints
//       spans/s acknowledged, request latency p50/p99/max and totals as key=value words.
//   spangen tsv --spans N --out FILE
//       the same spans as TabSeparated rows for the ClickHouse table of bench/trace_bench.sh:
//       date, trace_id, span_id, parent_span_id (hex; "" for roots), service, name, kind (0-5),
//       start_ns, duration_ns, status_code (0-2), status_message, attributes.key,
//       attributes.value, resource.key, resource.value (Array(String) each; values as text),
//       scope_name, scope_version, events (JSON array: [{"time_ns":..,"name":..,"attributes":{..}}])
//   spangen ids --spans N --sample K [--counts]
//       K trace ids (hex) spread evenly over the traces, one a line; --counts adds each trace's
//       span count.
//
// Common flags: --seed S (default 42), --window SECONDS (default 3600), --end-ns NS (default
// 1793491200000000000 = 2026-11-01T00:00:00Z). Generating modes print to stderr:
//   spangen: spans= traces= error_spans= error_traces= payments_error_traces= start_ns=
//            end_ns= bytes= bodies= seconds=
// (payments_error_traces: traces with an error span of service payments, the answer to the
// benchmark's search `service=payments&error=true` over the whole window).

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http_client.h"
#include "rng.h"

namespace {

// ---------------------------------------------------------------------------------------------
// PRNG: xoshiro256** seeded by splitmix64 (as loggen). Integer-only.
struct Rng : BenchRng {
  using BenchRng::BenchRng;
  uint64_t nonzero() {
    uint64_t v;
    do v = next(); while (v == 0);
    return v;
  }
  // Log-uniform ("Zipf-like") integer in [1, max].
  uint32_t zipf(uint32_t max) {
    uint32_t lg = 0;
    while ((1u << (lg + 1)) <= max) ++lg;
    uint32_t e = below(lg * 1024 + 1);
    uint64_t v = (1ULL << (e >> 10));
    v += (v * (e & 1023)) >> 10;
    if (v > max) v = max;
    return static_cast<uint32_t>(v);
  }
  // Approximately standard normal: Irwin-Hall sum of 12 uniforms (integer), minus 6.
  double normal() {
    uint64_t acc = 0;
    for (int i = 0; i < 12; ++i) acc += next() >> 44;  // 20-bit uniforms
    return static_cast<double>(acc) / static_cast<double>(1 << 20) - 6.0;
  }
  // Log-normal with the given median (ns) and sigma (of the underlying normal).
  uint64_t lognormal(double median_ns, double sigma) {
    double v = median_ns * std::exp(sigma * normal());
    if (v < 1000) v = 1000;  // at least 1 us
    if (v > 60e9) v = 60e9;
    return static_cast<uint64_t>(std::llround(v));
  }
};

// ---------------------------------------------------------------------------------------------
// The world: services, their pods (resources) and instrumentation scopes.
enum Lang { GO, JAVA, PY, NODE, kLangs };
enum Svc { GW, AUTH, USERS, ORDERS, PAYMENTS, INVENTORY, SHIPPING, NOTIFY, kServices };
const char* const kSvcName[kServices] = {"api-gateway", "auth",      "users",    "orders",
                                         "payments",    "inventory", "shipping", "notifications"};
const Lang kSvcLang[kServices] = {GO, GO, JAVA, JAVA, JAVA, PY, NODE, PY};
const char* const kSvcVersion[kServices] = {"2.14.3", "1.9.0",  "3.2.1", "5.7.12",
                                            "4.1.0",  "2.23.4", "1.4.7", "0.18.2"};
const int kSvcPods[kServices] = {4, 2, 2, 3, 2, 3, 2, 2};
const int kSvcPort[kServices] = {8080, 8080, 8080, 8080, 8080, 8000, 3000, 8000};
const char* const kSvcDb[kServices] = {"", "auth", "users", "orders", "payments", "inventory", "shipping", ""};
const char* const kSvcPkg[kServices] = {"gateway",  "auth",      "com.shop.users", "com.shop.orders",
                                        "com.shop.payments", "inventory", "shipping", "notifications"};

enum ScopeKind { SC_SERVER, SC_CLIENT, SC_DB, SC_REDIS, SC_INTERNAL, SC_KAFKA, kScopeKinds };
struct ScopeDef {
  const char* name;
  const char* version;
};
const ScopeDef kScopes[kLangs][kScopeKinds] = {
    {{"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.58.0"},
     {"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.58.0"},
     {"github.com/XSAM/otelsql", "0.36.0"},
     {"github.com/redis/go-redis/extra/redisotel", "9.7.0"},
     {"shop/internal/tracing", ""},
     {"github.com/IBM/sarama/otelsarama", "0.58.0"}},
    {{"io.opentelemetry.tomcat-10.0", "2.10.0-alpha"},
     {"io.opentelemetry.java-http-client", "2.10.0-alpha"},
     {"io.opentelemetry.jdbc", "2.10.0-alpha"},
     {"io.opentelemetry.lettuce-5.1", "2.10.0-alpha"},
     {"io.opentelemetry.opentelemetry-instrumentation-annotations-1.16", "2.10.0-alpha"},
     {"io.opentelemetry.kafka-clients-0.11", "2.10.0-alpha"}},
    {{"opentelemetry.instrumentation.flask", "0.49b2"},
     {"opentelemetry.instrumentation.requests", "0.49b2"},
     {"opentelemetry.instrumentation.psycopg2", "0.49b2"},
     {"opentelemetry.instrumentation.redis", "0.49b2"},
     {"app.services", ""},
     {"opentelemetry.instrumentation.kafka", "0.49b2"}},
    {{"@opentelemetry/instrumentation-http", "0.56.0"},
     {"@opentelemetry/instrumentation-http", "0.56.0"},
     {"@opentelemetry/instrumentation-pg", "0.49.0"},
     {"@opentelemetry/instrumentation-ioredis", "0.46.0"},
     {"shipping-service", ""},
     {"@opentelemetry/instrumentation-kafkajs", "0.6.0"}},
};
constexpr int kScopeCount = static_cast<int>(kLangs) * static_cast<int>(kScopeKinds);

enum VType : uint8_t { V_STR, V_INT, V_BOOL, V_DBL };
struct Attr {
  const char* key;
  VType t;
  std::string s;
  int64_t i = 0;
  double d = 0;
};

struct Pod {
  int svc;
  std::string name;
  std::vector<Attr> resource;  // without service.name (carried separately)
  std::string pb_resource;     // encoded Resource message (with service.name)
  std::string tsv_resource;    // "\t[keys]\t[values]" fragment
};

// ---------------------------------------------------------------------------------------------
// Protobuf writer.
struct Pb {
  std::string b;
  void varint(uint64_t v) {
    while (v >= 0x80) {
      b.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    b.push_back(static_cast<char>(v));
  }
  void tag(int field, int wt) { varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wt)); }
  void bytes(int field, std::string_view s) {
    tag(field, 2);
    varint(s.size());
    b.append(s);
  }
  void fixed64(int field, uint64_t v) {
    tag(field, 1);
    char x[8];
    for (int i = 0; i < 8; ++i) x[i] = static_cast<char>(v >> (8 * i));
    b.append(x, 8);
  }
  void fixed32(int field, uint32_t v) {
    tag(field, 5);
    char x[4];
    for (int i = 0; i < 4; ++i) x[i] = static_cast<char>(v >> (8 * i));
    b.append(x, 4);
  }
  void u64(int field, uint64_t v) {
    tag(field, 0);
    varint(v);
  }
};

void put_be64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string 1; bool 2; int64 3; double 4 }.
void pb_attr(Pb& out, int field, const Attr& a) {
  Pb v;
  switch (a.t) {
    case V_STR: v.bytes(1, a.s); break;
    case V_BOOL: v.u64(2, a.i ? 1 : 0); break;
    case V_INT: v.u64(3, static_cast<uint64_t>(a.i)); break;
    case V_DBL: {
      uint64_t bits;
      memcpy(&bits, &a.d, 8);
      v.fixed64(4, bits);
      break;
    }
  }
  Pb kv;
  kv.bytes(1, a.key);
  kv.bytes(2, v.b);
  out.bytes(field, kv.b);
}

// ---------------------------------------------------------------------------------------------
// Text helpers.
void append_hex(std::string& o, uint64_t v, int digits = 16) {
  static const char* h = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) o.push_back(h[(v >> (4 * i)) & 15]);
}
std::string hex_str(uint64_t v, int digits = 16) {
  std::string s;
  append_hex(s, v, digits);
  return s;
}
std::string attr_text(const Attr& a) {
  switch (a.t) {
    case V_STR: return a.s;
    case V_INT: return std::to_string(a.i);
    case V_BOOL: return a.i ? "true" : "false";
    case V_DBL: {
      char buf[32];
      snprintf(buf, sizeof buf, "%.17g", a.d);
      return buf;
    }
  }
  return "";
}
// TabSeparated escaping of a String field.
void tsv_escape(std::string& o, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case '\t': o += "\\t"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\0': o += "\\0"; break;
      default: o.push_back(c);
    }
  }
}
// An element of an Array(String) in TabSeparated: quoted, ' and \ and control chars escaped.
void tsv_quoted(std::string& o, std::string_view s) {
  o.push_back('\'');
  for (char c : s) {
    switch (c) {
      case '\\': o += "\\\\"; break;
      case '\'': o += "\\'"; break;
      case '\t': o += "\\t"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\0': o += "\\0"; break;
      default: o.push_back(c);
    }
  }
  o.push_back('\'');
}
void json_escape(std::string& o, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      o += "\\n";
    } else if (c == '\t') {
      o += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o.push_back(static_cast<char>(c));
    }
  }
}
// Days since 1970-01-01 -> "YYYY-MM-DD" (Howard Hinnant's civil_from_days).
std::string date_of(uint64_t ns) {
  int64_t z = static_cast<int64_t>(ns / 1000000000ULL / 86400) + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];
  snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Spans.
enum Kind : uint8_t { K_UNSPEC, K_INTERNAL, K_SERVER, K_CLIENT, K_PRODUCER, K_CONSUMER };
// What kind of work a span is: decides its duration, its failure modes and its exception.
enum Work : uint8_t { W_SERVER, W_HTTP_CLIENT, W_DB, W_REDIS, W_EXTERNAL, W_INTERNAL, W_CPU, W_KAFKA };

struct Event {
  uint64_t time = 0;
  std::string name;
  std::vector<Attr> attrs;
};

struct Span {
  uint64_t trace_hi = 0, trace_lo = 0, span_id = 0, parent_id = 0;
  int parent = -1;  // index in the trace
  int svc = 0, pod = 0, scope = 0;
  Kind kind = K_INTERNAL;
  Work work = W_INTERNAL;
  bool parallel = false;  // children start together
  double median_ns = 0, sigma = 0.5;  // leaf duration
  std::string name;
  uint64_t start = 0, end = 0;
  uint8_t status = 0;  // 0 unset, 1 ok, 2 error
  std::string status_msg;
  uint32_t flags = 0;
  int http_status_attr = -1;  // index of http.status_code in attrs, if any
  std::vector<Attr> attrs;
  std::vector<Event> events;
  std::vector<int> children;
};

const char* const kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36",
    "ShopApp/4.12.0 (iOS 18.1; iPhone15,2)",
    "ShopApp/4.11.3 (Android 14; SM-S918B)",
    "okhttp/4.12.0",
};

// The spans of one trace, parents before children; valid until the next Generator::Next.
struct TraceView {
  const Span* p = nullptr;
  size_t n = 0;
  const Span* begin() const { return p; }
  const Span* end() const { return p + n; }
  size_t size() const { return n; }
  const Span& operator[](size_t i) const { return p[i]; }
};

class Generator {
 public:
  Generator(uint64_t seed, uint64_t total_spans, uint64_t end_ns, uint64_t window_ns)
      : rng_(seed), total_(total_spans), win_start_(end_ns - window_ns), window_(window_ns) {
    BuildWorld();
  }

  const std::vector<Pod>& pods() const { return pods_; }
  static const ScopeDef& scope(int i) { return kScopes[i / kScopeKinds][i % kScopeKinds]; }

  // The next trace (spans in pre-order, parents first). Returns false once --spans are out;
  // the last trace is cut to the spans that remain (a pre-order prefix: still a tree).
  bool Next(TraceView* out) {
    if (emitted_ >= total_) return false;
    BuildTrace();
    uint64_t left = total_ - emitted_;
    if (static_cast<uint64_t>(n_) > left) n_ = static_cast<int>(left);
    emitted_ += static_cast<uint64_t>(n_);
    out->p = spans_.data();
    out->n = static_cast<size_t>(n_);
    ++traces_;
    return true;
  }
  uint64_t traces() const { return traces_; }

 private:
  Rng rng_;
  uint64_t total_, win_start_, window_;
  uint64_t emitted_ = 0, traces_ = 0;
  std::vector<Pod> pods_;
  int pod_base_[kServices] = {};
  int trace_pod_[kServices] = {};
  std::vector<Span> spans_;  // pool, reused: only the first n_ belong to the current trace
  int n_ = 0;
  uint64_t trace_hi_ = 0, trace_lo_ = 0;
  uint32_t user_ = 0;
  uint64_t order_seq_ = 4100000;

  std::string RandAlnum(int n) {
    static const char* a = "bcdfghjklmnpqrstvwxz2456789";
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(a[rng_.below(27)]);
    return s;
  }

  void BuildWorld() {
    static const char* const kRuntime[kLangs] = {"go", "OpenJDK Runtime Environment", "cpython", "nodejs"};
    static const char* const kRuntimeVer[kLangs] = {"go1.23.4", "21.0.5+11-LTS", "3.12.8", "20.18.1"};
    static const char* const kSdkVer[kLangs] = {"1.33.0", "1.44.1", "1.29.0", "1.29.0"};
    static const char* const kLangName[kLangs] = {"go", "java", "python", "nodejs"};
    static const char* const kExe[kLangs] = {"/app/server", "/opt/java/openjdk/bin/java", "/usr/local/bin/python3.12",
                                             "/usr/local/bin/node"};
    const int nodes = 6;
    std::vector<std::string> node_names;
    for (int i = 0; i < nodes; ++i) {
      node_names.push_back("ip-10-0-" + std::to_string(rng_.range(16, 63)) + "-" + std::to_string(rng_.range(2, 250)) +
                           ".eu-west-1.compute.internal");
    }
    for (int s = 0; s < kServices; ++s) {
      pod_base_[s] = static_cast<int>(pods_.size());
      std::string rs = RandAlnum(10);
      for (int p = 0; p < kSvcPods[s]; ++p) {
        Pod pod;
        pod.svc = s;
        pod.name = std::string(kSvcName[s]) + "-" + rs + "-" + RandAlnum(5);
        Lang l = kSvcLang[s];
        auto str = [&](const char* k, std::string v) { pod.resource.push_back(Attr{k, V_STR, std::move(v)}); };
        auto num = [&](const char* k, int64_t v) {
          Attr a{k, V_INT, {}};
          a.i = v;
          pod.resource.push_back(a);
        };
        str("service.namespace", "shop");
        str("service.version", kSvcVersion[s]);
        std::string uuid = hex_str(rng_.next(), 16) + hex_str(rng_.next(), 16);
        uuid = uuid.substr(0, 8) + "-" + uuid.substr(8, 4) + "-4" + uuid.substr(13, 3) + "-a" + uuid.substr(17, 3) +
               "-" + uuid.substr(20, 12);
        str("service.instance.id", uuid);
        str("deployment.environment", "production");
        str("telemetry.sdk.name", "opentelemetry");
        str("telemetry.sdk.language", kLangName[l]);
        str("telemetry.sdk.version", kSdkVer[l]);
        if (l == JAVA) {
          str("telemetry.distro.name", "opentelemetry-java-instrumentation");
          str("telemetry.distro.version", "2.10.0");
        }
        str("host.name", pod.name);
        str("host.arch", "amd64");
        str("os.type", "linux");
        num("process.pid", l == JAVA ? 7 : rng_.range(1, 40));
        str("process.executable.path", kExe[l]);
        str("process.runtime.name", kRuntime[l]);
        str("process.runtime.version", kRuntimeVer[l]);
        str("container.id", hex_str(rng_.next()) + hex_str(rng_.next()) + hex_str(rng_.next()) + hex_str(rng_.next()));
        str("k8s.namespace.name", "shop");
        str("k8s.deployment.name", kSvcName[s]);
        str("k8s.pod.name", pod.name);
        str("k8s.node.name", node_names[rng_.below(nodes)]);
        str("cloud.provider", "aws");
        str("cloud.region", "eu-west-1");
        // Encoded Resource { attributes = 1 } with service.name first, as SDKs put it.
        Pb r;
        pb_attr(r, 1, Attr{"service.name", V_STR, kSvcName[s]});
        for (const auto& a : pod.resource) pb_attr(r, 1, a);
        pod.pb_resource = r.b;
        std::string& t = pod.tsv_resource;
        t = "\t[";
        for (size_t i = 0; i < pod.resource.size(); ++i) {
          if (i) t.push_back(',');
          tsv_quoted(t, pod.resource[i].key);
        }
        t += "]\t[";
        for (size_t i = 0; i < pod.resource.size(); ++i) {
          if (i) t.push_back(',');
          tsv_quoted(t, attr_text(pod.resource[i]));
        }
        t += "]";
        pods_.push_back(std::move(pod));
      }
    }
  }

  // ---- span construction -------------------------------------------------------------------
  Span& New(int parent, int svc, Kind kind, Work work, ScopeKind sk) {
    if (static_cast<size_t>(n_) >= spans_.size()) spans_.emplace_back();
    Span& s = spans_[n_];
    s.trace_hi = trace_hi_;
    s.trace_lo = trace_lo_;
    s.span_id = rng_.nonzero();
    s.parent = parent;
    s.parent_id = parent >= 0 ? spans_[parent].span_id : 0;
    s.svc = svc;
    if (trace_pod_[svc] < 0) trace_pod_[svc] = pod_base_[svc] + static_cast<int>(rng_.below(kSvcPods[svc]));
    s.pod = trace_pod_[svc];
    s.scope = static_cast<int>(kSvcLang[svc]) * static_cast<int>(kScopeKinds) + static_cast<int>(sk);
    s.kind = kind;
    s.work = work;
    s.parallel = false;
    s.median_ns = 0;
    s.sigma = 0.5;
    s.name.clear();
    s.start = s.end = 0;
    s.status = 0;
    s.status_msg.clear();
    // Sampled; HAS_IS_REMOTE; IS_REMOTE when the parent is in another process.
    s.flags = 0x101 | ((parent >= 0 && spans_[parent].svc != svc) ? 0x200 : 0);
    s.http_status_attr = -1;
    s.attrs.clear();
    s.events.clear();
    s.children.clear();
    const int idx = n_++;
    if (parent >= 0) spans_[parent].children.push_back(idx);
    return s;
  }
  static void Str(Span& s, const char* k, std::string v) { s.attrs.push_back(Attr{k, V_STR, std::move(v)}); }
  static void Int(Span& s, const char* k, int64_t v) {
    Attr a{k, V_INT, {}};
    a.i = v;
    s.attrs.push_back(std::move(a));
  }
  static void Bool(Span& s, const char* k, bool v) {
    Attr a{k, V_BOOL, {}};
    a.i = v;
    s.attrs.push_back(std::move(a));
  }
  static void HttpStatus(Span& s, int code) {
    s.http_status_attr = static_cast<int>(s.attrs.size());
    Int(s, "http.status_code", code);
  }
  void Thread(Span& s) {
    if (kSvcLang[s.svc] == JAVA) {
      int n = static_cast<int>(rng_.range(1, 200));
      Int(s, "thread.id", 30 + n);
      Str(s, "thread.name", "http-nio-8080-exec-" + std::to_string(n));
    }
  }
  std::string Ip() {
    return "10.42." + std::to_string(rng_.range(0, 7)) + "." + std::to_string(rng_.range(2, 254));
  }

  // The gateway's SERVER span (the root).
  int Root(const char* method, const char* route, std::string target, int status) {
    Span& s = New(-1, GW, K_SERVER, W_SERVER, SC_SERVER);
    s.name = std::string(method) + " " + route;
    Str(s, "http.method", method);
    Str(s, "http.scheme", "https");
    Str(s, "http.route", route);
    Str(s, "http.target", std::move(target));
    Str(s, "http.flavor", "1.1");
    Str(s, "net.host.name", "api.shop.example");
    Int(s, "net.host.port", 443);
    Str(s, "http.client_ip",
        rng_.chance(500) ? "203.0.113." + std::to_string(rng_.range(1, 254))
                         : "198.51.100." + std::to_string(rng_.range(1, 254)));
    Str(s, "http.user_agent", kUserAgents[rng_.below(sizeof kUserAgents / sizeof kUserAgents[0])]);
    if (user_) Str(s, "enduser.id", std::to_string(user_));
    HttpStatus(s, status);
    return n_ - 1;
  }

  // A CLIENT span in `from` and the SERVER span in `to` under it; returns the server span.
  int Call(int parent, int to, const char* method, const char* route, const std::string& target, int status) {
    const int from = spans_[parent].svc;
    Span& c = New(parent, from, K_CLIENT, W_HTTP_CLIENT, SC_CLIENT);
    c.name = method;
    Str(c, "http.method", method);
    Str(c, "http.url", "http://" + std::string(kSvcName[to]) + ":" + std::to_string(kSvcPort[to]) + target);
    Str(c, "net.peer.name", kSvcName[to]);
    Int(c, "net.peer.port", kSvcPort[to]);
    Str(c, "http.flavor", "1.1");
    HttpStatus(c, status);
    if (!strcmp(method, "POST") || !strcmp(method, "PUT")) Int(c, "http.request_content_length", rng_.range(80, 2400));
    Thread(c);
    const int ci = n_ - 1;
    Span& s = New(ci, to, K_SERVER, W_SERVER, SC_SERVER);
    s.name = std::string(method) + " " + route;
    Str(s, "http.method", method);
    Str(s, "http.scheme", "http");
    Str(s, "http.route", route);
    Str(s, "http.target", target);
    Str(s, "http.flavor", "1.1");
    Str(s, "net.host.name", kSvcName[to]);
    Int(s, "net.host.port", kSvcPort[to]);
    Str(s, "net.sock.peer.addr", Ip());
    HttpStatus(s, status);
    if (user_) Str(s, "enduser.id", std::to_string(user_));
    Thread(s);
    return n_ - 1;
  }

  int Db(int parent, const char* op, const char* table, const char* statement, double median_ms = 1.2) {
    const int svc = spans_[parent].svc;
    Span& s = New(parent, svc, K_CLIENT, W_DB, SC_DB);
    s.name = std::string(op) + " " + kSvcDb[svc] + "." + table;
    s.median_ns = median_ms * 1e6;
    s.sigma = 0.8;
    Str(s, "db.system", "postgresql");
    Str(s, "db.name", kSvcDb[svc]);
    Str(s, "db.user", std::string(kSvcDb[svc]) + "_svc");
    Str(s, "db.statement", statement);
    Str(s, "db.operation", op);
    Str(s, "db.sql.table", table);
    Str(s, "net.peer.name", std::string(kSvcDb[svc]) + "-db.shop.svc.cluster.local");
    Int(s, "net.peer.port", 5432);
    if (kSvcLang[svc] == JAVA) Str(s, "db.connection_string", std::string("postgresql://") + kSvcDb[svc] + "-db:5432");
    Thread(s);
    return n_ - 1;
  }

  int Redis(int parent, const char* cmd, std::string key) {
    const int svc = spans_[parent].svc;
    Span& s = New(parent, svc, K_CLIENT, W_REDIS, SC_REDIS);
    s.name = cmd;
    s.median_ns = 0.35e6;
    s.sigma = 0.6;
    Str(s, "db.system", "redis");
    Str(s, "db.statement", std::string(cmd) + " " + key);
    Str(s, "db.operation", cmd);
    Int(s, "db.redis.database_index", 0);
    Str(s, "net.peer.name", "redis-master.shop.svc.cluster.local");
    Int(s, "net.peer.port", 6379);
    Thread(s);
    return n_ - 1;
  }

  int External(int parent, const char* method, const char* host, std::string path, const char* peer, double median_ms) {
    const int svc = spans_[parent].svc;
    Span& s = New(parent, svc, K_CLIENT, W_EXTERNAL, SC_CLIENT);
    s.name = method;
    s.median_ns = median_ms * 1e6;
    s.sigma = 0.45;
    Str(s, "http.method", method);
    Str(s, "http.url", std::string("https://") + host + path);
    Str(s, "net.peer.name", host);
    Int(s, "net.peer.port", 443);
    Str(s, "peer.service", peer);
    Str(s, "http.flavor", "1.1");
    HttpStatus(s, 200);
    Thread(s);
    return n_ - 1;
  }

  int Internal(int parent, const char* cls, const char* fn, double median_ms, Work work = W_INTERNAL) {
    const int svc = spans_[parent].svc;
    Span& s = New(parent, svc, K_INTERNAL, work, SC_INTERNAL);
    s.name = std::string(cls) + "." + fn;
    s.median_ns = median_ms * 1e6;
    s.sigma = 0.6;
    Str(s, "code.namespace", std::string(kSvcPkg[svc]) + "." + cls);
    Str(s, "code.function", fn);
    Int(s, "code.lineno", rng_.range(20, 400));
    Thread(s);
    return n_ - 1;
  }

  int Produce(int parent, const char* topic, const std::string& key) {
    const int svc = spans_[parent].svc;
    Span& s = New(parent, svc, K_PRODUCER, W_KAFKA, SC_KAFKA);
    s.name = std::string(topic) + " publish";
    s.median_ns = 0.9e6;
    s.sigma = 0.5;
    Str(s, "messaging.system", "kafka");
    Str(s, "messaging.destination.name", topic);
    Str(s, "messaging.operation", "publish");
    Str(s, "messaging.kafka.message.key", key);
    Str(s, "messaging.client_id", std::string(kSvcName[svc]) + "-producer-1");
    Int(s, "messaging.kafka.destination.partition", rng_.below(12));
    Str(s, "net.peer.name", "kafka-0.kafka-headless.shop.svc.cluster.local");
    Thread(s);
    return n_ - 1;
  }

  // An auth check: gateway -> auth, session lookup in Redis.
  void AuthCheck(int gw) {
    int a = Call(gw, AUTH, "POST", "/auth/verify", "/auth/verify", 200);
    Redis(a, "GET", "session:" + hex_str(rng_.next(), 16));
  }

  // ---- traces --------------------------------------------------------------------------------
  void BuildTrace() {
    n_ = 0;
    trace_hi_ = rng_.nonzero();
    trace_lo_ = rng_.next();
    for (int& p : trace_pod_) p = -1;
    user_ = rng_.chance(80) ? 0 : rng_.zipf(250000);
    const std::string uid = std::to_string(user_ ? user_ : 1);
    const std::string order = std::to_string(order_seq_ - rng_.zipf(20000));
    const std::string sku = "sku-" + std::to_string(10000 + rng_.zipf(40000));
    uint32_t f = rng_.below(1000);
    if (f < 300) {  // order details: 3-9 spans
      const bool missing = rng_.chance(15);
      int g = Root("GET", "/api/orders/{id}", "/api/orders/" + order, missing ? 404 : 200);
      if (rng_.chance(500)) AuthCheck(g);
      int o = Call(g, ORDERS, "GET", "/orders/{id}", "/orders/" + order, missing ? 404 : 200);
      spans_[o].attrs.push_back(Attr{"order.id", V_STR, order});
      spans_[o].parallel = true;
      Redis(o, "GET", "order:" + order);
      if (!missing && rng_.chance(600)) {
        Db(o, "SELECT", "orders",
           "SELECT o.id, o.status, o.total_cents, o.currency, o.created_at FROM orders o WHERE o.id = $1");
        Db(o, "SELECT", "order_items",
           "SELECT i.sku, i.quantity, i.unit_price_cents FROM order_items i WHERE i.order_id = $1 ORDER BY i.line");
      }
      if (!missing && user_ && rng_.chance(300)) {
        int u = Call(o, USERS, "GET", "/users/{id}", "/users/" + uid, 200);
        Db(u, "SELECT", "users", "SELECT id, email, display_name, locale FROM users WHERE id = ?", 0.8);
      }
    } else if (f < 420) {  // checkout: 11-12 spans
      int g = Root("POST", "/api/orders", "/api/orders", 201);
      int o = Call(g, ORDERS, "POST", "/orders", "/orders", 201);
      ++order_seq_;
      const std::string oid = std::to_string(order_seq_);
      spans_[o].attrs.push_back(Attr{"order.id", V_STR, oid});
      int v = Internal(o, "CheckoutService", "validateCart", 1.5);
      Int(spans_[v], "cart.items", rng_.range(1, 9));
      int inv = Call(o, INVENTORY, "POST", "/inventory/reservations", "/inventory/reservations", 201);
      Db(inv, "UPDATE", "stock",
         "UPDATE stock SET reserved = reserved + %s WHERE sku = %s AND available - reserved >= %s", 2.0);
      int p = Call(o, PAYMENTS, "POST", "/payments/charges", "/payments/charges", 201);
      int ext = External(p, "POST", "api.stripe.com", "/v1/payment_intents", "stripe", 180);
      Int(spans_[ext], "payment.amount_cents", rng_.range(499, 45000));
      Str(spans_[ext], "payment.currency", rng_.chance(700) ? "EUR" : "USD");
      Db(o, "INSERT", "orders",
         "INSERT INTO orders (id, user_id, status, total_cents, currency, created_at) VALUES ($1, $2, $3, $4, $5, now())",
         1.6);
      if (rng_.chance(800)) Produce(o, "order-events", oid);
    } else if (f < 520) {  // product page: 3-4 spans
      int g = Root("GET", "/api/products/{sku}", "/api/products/" + sku, 200);
      int i = Call(g, INVENTORY, "GET", "/inventory/products/<sku>", "/inventory/products/" + sku, 200);
      spans_[i].attrs.push_back(Attr{"product.sku", V_STR, sku});
      if (rng_.chance(350)) Redis(i, "GET", "product:" + sku);
    } else if (f < 620) {  // product search: 4-5 spans
      int g = Root("GET", "/api/products", "/api/products?q=" + std::to_string(rng_.zipf(5000)) + "&page=1", 200);
      int i = Call(g, INVENTORY, "GET", "/inventory/products", "/inventory/products?page=1", 200);
      if (rng_.chance(400)) Redis(i, "GET", "products:page:" + std::to_string(rng_.zipf(500)));
      Db(i, "SELECT", "products",
         "SELECT p.sku, p.title, p.price_cents, s.available FROM products p JOIN stock s ON s.sku = p.sku WHERE "
         "p.search_vector @@ plainto_tsquery(%s) ORDER BY p.rank DESC LIMIT 24 OFFSET %s",
         6.0);
    } else if (f < 770) {  // profile: 5-7 spans
      int g = Root("GET", "/api/users/me", "/api/users/me", 200);
      AuthCheck(g);
      int u = Call(g, USERS, "GET", "/users/{id}", "/users/" + uid, 200);
      if (rng_.chance(500)) {
        Redis(u, "HGETALL", "user:" + uid);
      } else {
        Db(u, "SELECT", "users", "SELECT id, email, display_name, locale FROM users WHERE id = ?", 0.8);
      }
    } else if (f < 850) {  // shipment tracking: 4-5 spans
      const std::string sh = std::to_string(700000 + rng_.zipf(90000));
      int g = Root("GET", "/api/shipments/{id}", "/api/shipments/" + sh, 200);
      int s = Call(g, SHIPPING, "GET", "/shipments/:id", "/shipments/" + sh, 200);
      Db(s, "SELECT", "shipments", "SELECT id, carrier, tracking_number, status FROM shipments WHERE id = $1", 0.9);
      if (rng_.chance(500))
        External(s, "GET", "api.carrier.example", "/v2/track/1Z" + hex_str(rng_.next(), 12), "carrier-api", 240);
    } else if (f < 920) {  // login: 6 spans
      int g = Root("POST", "/api/auth/login", "/api/auth/login", 200);
      int a = Call(g, AUTH, "POST", "/auth/login", "/auth/login", 200);
      Db(a, "SELECT", "credentials", "SELECT user_id, password_hash FROM credentials WHERE email = $1", 0.9);
      Internal(a, "Passwords", "VerifyBcrypt", 55, W_CPU);
      Redis(a, "SET", "session:" + hex_str(rng_.next(), 16));
    } else if (f < 970) {  // cancel an order: 10 spans
      int g = Root("POST", "/api/orders/{id}/cancel", "/api/orders/" + order + "/cancel", 200);
      int o = Call(g, ORDERS, "POST", "/orders/{id}/cancel", "/orders/" + order + "/cancel", 200);
      spans_[o].attrs.push_back(Attr{"order.id", V_STR, order});
      Db(o, "UPDATE", "orders", "UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1", 1.4);
      int p = Call(o, PAYMENTS, "POST", "/payments/refunds", "/payments/refunds", 201);
      Db(p, "UPDATE", "charges", "UPDATE charges SET refunded_cents = ? WHERE order_id = ?", 1.2);
      int n = Call(o, NOTIFY, "POST", "/notifications/email", "/notifications/email", 202);
      External(n, "POST", "api.sendgrid.com", "/v3/mail/send", "sendgrid", 90);
    } else {  // refund by support: 8-9 spans
      int g = Root("POST", "/api/payments/{id}/refund", "/api/payments/ch_" + hex_str(rng_.next(), 12) + "/refund", 201);
      AuthCheck(g);
      int p = Call(g, PAYMENTS, "POST", "/payments/{id}/refund", "/payments/refund", 201);
      Internal(p, "RefundPolicy", "check", 0.6);
      External(p, "POST", "api.stripe.com", "/v1/refunds", "stripe", 210);
      Db(p, "UPDATE", "charges", "UPDATE charges SET refunded_cents = ? WHERE id = ?", 1.2);
    }

    // Times: the trace starts in proportion to the spans generated so far, with jitter.
    const double frac = static_cast<double>(emitted_) / static_cast<double>(total_);
    const uint64_t gap = window_ / (total_ / 7 + 1);
    uint64_t t0 = win_start_ + static_cast<uint64_t>(frac * static_cast<double>(window_));
    t0 += gap ? (rng_.next() % gap) : 0;
    Layout(0, t0);

    // Failures: ~4 % of traces have one failing span; ~1.5 % of request-level timeouts more.
    if (rng_.chance(42) && n_ > 1) Fail();
  }

  uint64_t Layout(int i, uint64_t start) {
    Span& s = spans_[i];
    s.start = start;
    if (s.children.empty()) {
      double med = s.median_ns > 0 ? s.median_ns : 0.4e6;
      s.end = start + rng_.lognormal(med, s.sigma);
      return s.end;
    }
    const bool remote = s.kind == K_CLIENT;  // a client span wraps one remote server span
    uint64_t t = start + (remote ? rng_.lognormal(0.25e6, 0.5) : rng_.lognormal(s.kind == K_SERVER ? 0.12e6 : 0.03e6, 0.7));
    // (Layout never grows spans_, so references stay valid through the recursion.)
    if (s.parallel) {
      uint64_t mx = t;
      for (int c : s.children) mx = std::max(mx, Layout(c, t + rng_.lognormal(0.02e6, 0.5)));
      t = mx;
    } else {
      for (int c : s.children) t = Layout(c, t + rng_.lognormal(remote ? 0.001e6 : 0.03e6, 0.6));
    }
    s.end = t + (remote ? rng_.lognormal(0.25e6, 0.5) : rng_.lognormal(s.kind == K_SERVER ? 0.08e6 : 0.02e6, 0.7));
    return s.end;
  }

  struct ExcText {
    const char* type;
    const char* message;
  };
  ExcText Exception(const Span& s) {
    const Lang l = kSvcLang[s.svc];
    switch (s.work) {
      case W_DB:
        switch (l) {
          case JAVA: return {"org.postgresql.util.PSQLException", "ERROR: canceling statement due to statement timeout"};
          case GO: return {"*pgconn.PgError", "ERROR: canceling statement due to statement timeout (SQLSTATE 57014)"};
          case PY: return {"psycopg2.errors.QueryCanceled", "canceling statement due to statement timeout"};
          default: return {"error", "Connection terminated due to connection timeout"};
        }
      case W_REDIS:
        switch (l) {
          case JAVA: return {"io.lettuce.core.RedisCommandTimeoutException", "Command timed out after 1 second(s)"};
          case GO: return {"*errors.errorString", "redis: connection pool timeout"};
          case PY: return {"redis.exceptions.TimeoutError", "Timeout reading from socket"};
          default: return {"Error", "Command timed out"};
        }
      case W_EXTERNAL:
        switch (l) {
          case JAVA: return {"java.net.SocketTimeoutException", "Read timed out"};
          case GO: return {"*url.Error", "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"};
          case PY: return {"requests.exceptions.ReadTimeout", "HTTPSConnectionPool(host='api.sendgrid.com', port=443): Read timed out. (read timeout=5)"};
          default: return {"Error", "socket hang up"};
        }
      case W_KAFKA: return {"org.apache.kafka.common.errors.TimeoutException", "Expiring 1 record(s) for order-events-3: 30012 ms has passed since batch creation"};
      default:
        switch (l) {
          case JAVA: return {"java.lang.IllegalStateException", "reservation expired before payment was captured"};
          case GO: return {"*errors.errorString", "context canceled"};
          case PY: return {"KeyError", "'warehouse_id'"};
          default: return {"TypeError", "Cannot read properties of undefined (reading 'carrier')"};
        }
    }
  }

  std::string Stack(const Span& s, const ExcText& e) {
    const Lang l = kSvcLang[s.svc];
    const std::string svc = kSvcName[s.svc];
    std::string o;
    switch (l) {
      case JAVA: {
        std::string pkg = kSvcPkg[s.svc];
        o = std::string(e.type) + ": " + e.message + "\n";
        if (s.work == W_DB) {
          o += "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2733)\n"
               "\tat org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2420)\n"
               "\tat org.postgresql.jdbc.PgPreparedStatement.executeWithFlags(PgPreparedStatement.java:194)\n"
               "\tat com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeUpdate(HikariProxyPreparedStatement.java)\n";
        } else if (s.work == W_EXTERNAL || s.work == W_HTTP_CLIENT) {
          o += "\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)\n"
               "\tat java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)\n"
               "\tat com.stripe.net.HttpURLConnectionClient.request(HttpURLConnectionClient.java:94)\n";
        }
        o += "\tat " + pkg + ".service.Handler.execute(Handler.java:" +
             std::to_string(rng_.range(40, 300)) + ")\n";
        o += "\tat " + pkg + ".web.Controller.handle(Controller.java:" + std::to_string(rng_.range(30, 120)) + ")\n";
        o += "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n";
        o += "\t... 48 more";
        break;
      }
      case GO:
        o = "goroutine " + std::to_string(rng_.range(100, 90000)) + " [running]:\n";
        o += "shop/" + svc + "/internal/handler.(*Handler).ServeHTTP(0xc000" + hex_str(rng_.next(), 6) +
             ", {0x1a2b3c0, 0xc0004" + hex_str(rng_.next(), 5) + "})\n";
        o += "\t/src/internal/handler/handler.go:" + std::to_string(rng_.range(40, 300)) + " +0x" + hex_str(rng_.next(), 3) + "\n";
        o += "net/http.HandlerFunc.ServeHTTP(...)\n\t/usr/local/go/src/net/http/server.go:2220\n";
        o += "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.(*middleware).serveHTTP(...)\n"
             "\t/go/pkg/mod/go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.58.0/handler.go:179";
        break;
      case PY:
        o = "Traceback (most recent call last):\n";
        o += "  File \"/usr/local/lib/python3.12/site-packages/flask/app.py\", line 880, in full_dispatch_request\n"
             "    rv = self.dispatch_request()\n";
        o += "  File \"/app/" + svc + "/views.py\", line " + std::to_string(rng_.range(20, 200)) + ", in handle\n"
             "    result = service.run(payload)\n";
        o += "  File \"/app/" + svc + "/service.py\", line " + std::to_string(rng_.range(20, 200)) + ", in run\n";
        o += std::string(e.type) + ": " + e.message;
        break;
      default:
        o = std::string(e.type) + ": " + e.message + "\n";
        o += "    at TLSSocket.socketOnEnd (node:_http_client:524:23)\n";
        o += "    at ShipmentService.track (/app/dist/services/shipment.js:" + std::to_string(rng_.range(20, 200)) + ":19)\n";
        o += "    at async /app/dist/routes/shipments.js:41:22";
        break;
    }
    return o;
  }

  void SetError(Span& s, int http_status) {
    s.status = 2;
    if (s.http_status_attr >= 0) s.attrs[s.http_status_attr].i = http_status;
  }

  void AddException(Span& s) {
    ExcText e = Exception(s);
    Event ev;
    ev.time = s.end > s.start + 2000 ? s.end - rng_.range(1000, 50000) % (s.end - s.start) : s.end;
    ev.name = "exception";
    ev.attrs.push_back(Attr{"exception.type", V_STR, e.type});
    ev.attrs.push_back(Attr{"exception.message", V_STR, e.message});
    ev.attrs.push_back(Attr{"exception.stacktrace", V_STR, Stack(s, e)});
    if (kSvcLang[s.svc] == JAVA || kSvcLang[s.svc] == PY) {
      Attr esc{"exception.escaped", V_BOOL, {}};
      esc.i = s.kind == K_SERVER;
      ev.attrs.push_back(esc);
    }
    s.events.push_back(std::move(ev));
    if (s.status_msg.empty()) s.status_msg = std::string(e.type) + ": " + e.message;
  }

  // One span fails (a timeout or an exception) and the failure climbs towards the root: client
  // spans see a 5xx (or no answer), server spans fail unless they handle it (30 %).
  void Fail() {
    uint32_t total = 0;
    auto weight = [](const Span& s) -> uint32_t {
      switch (s.work) {
        case W_EXTERNAL: return 6;
        case W_DB: return 3;
        case W_REDIS: return 2;
        case W_KAFKA: return 2;
        case W_INTERNAL: case W_CPU: return 2;
        case W_SERVER: return 1;
        default: return 0;
      }
    };
    for (int i = 1; i < n_; ++i) total += weight(spans_[i]);
    if (total == 0) return;
    uint32_t x = rng_.below(total);
    int origin = 1;
    for (int i = 1; i < n_; ++i) {
      uint32_t w = weight(spans_[i]);
      if (x < w) {
        origin = i;
        break;
      }
      x -= w;
    }
    Span& o = spans_[origin];
    SetError(o, o.work == W_EXTERNAL ? 503 : 500);
    if (o.work == W_EXTERNAL && rng_.chance(600)) {  // a read timeout: no status code at all
      o.attrs.erase(o.attrs.begin() + o.http_status_attr);
      o.http_status_attr = -1;
    }
    AddException(o);
    for (int i = o.parent; i >= 0; i = spans_[i].parent) {
      Span& s = spans_[i];
      if (s.kind == K_SERVER && i != 0 && rng_.chance(300)) break;  // handled (fallback, retry)
      SetError(s, i == 0 ? 502 : 500);
      if (s.kind == K_SERVER && kSvcLang[s.svc] == JAVA && rng_.chance(500)) AddException(s);
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Output.
struct Out {
  int fd = 1;
  std::string buf;
  uint64_t bytes = 0;
  void write(std::string_view s) {
    buf.append(s);
    if (buf.size() >= (4u << 20)) flush();
  }
  void flush() {
    size_t off = 0;
    while (off < buf.size()) {
      ssize_t w = ::write(fd, buf.data() + off, buf.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        perror("spangen: write");
        exit(1);
      }
      off += static_cast<size_t>(w);
    }
    bytes += buf.size();
    buf.clear();
  }
};

void encode_span(const Span& s, Pb& p) {
  char id[16];
  put_be64(id, s.trace_hi);
  put_be64(id + 8, s.trace_lo);
  p.bytes(1, std::string_view(id, 16));
  put_be64(id, s.span_id);
  p.bytes(2, std::string_view(id, 8));
  if (s.parent_id) {
    put_be64(id, s.parent_id);
    p.bytes(4, std::string_view(id, 8));
  }
  p.bytes(5, s.name);
  p.u64(6, s.kind);
  p.fixed64(7, s.start);
  p.fixed64(8, s.end);
  for (const auto& a : s.attrs) pb_attr(p, 9, a);
  for (const auto& e : s.events) {
    Pb ev;
    ev.fixed64(1, e.time);
    ev.bytes(2, e.name);
    for (const auto& a : e.attrs) pb_attr(ev, 3, a);
    p.bytes(11, ev.b);
  }
  if (s.status) {
    Pb st;
    if (!s.status_msg.empty()) st.bytes(2, s.status_msg);
    st.u64(3, s.status);
    p.bytes(15, st.b);
  }
  p.fixed32(16, s.flags);
}

struct Stats {
  uint64_t spans = 0, error_spans = 0, error_traces = 0, payments_error_traces = 0, server_spans = 0;
  uint64_t min_start = UINT64_MAX, max_end = 0;
  std::vector<uint8_t> edges = std::vector<uint8_t>(kServices * kServices);  // parent svc -> child svc
  std::vector<std::string> server_ops;  // distinct "service operation" of SERVER spans
  void add(const TraceView& t) {
    bool err = false, pay = false;
    for (const auto& s : t) {
      ++spans;
      if (s.parent >= 0 && t[s.parent].svc != s.svc) edges[t[s.parent].svc * kServices + s.svc] = 1;
      if (s.kind == K_SERVER || s.kind == K_CONSUMER) {
        ++server_spans;
        std::string op = std::string(kSvcName[s.svc]) + " " + s.name;
        if (std::find(server_ops.begin(), server_ops.end(), op) == server_ops.end()) server_ops.push_back(op);
      }
      if (s.status == 2) {
        ++error_spans;
        err = true;
        if (s.svc == PAYMENTS) pay = true;
      }
      min_start = std::min(min_start, s.start);
      max_end = std::max(max_end, s.end);
    }
    error_traces += err;
    payments_error_traces += pay;
  }
};

void print_stats(const Stats& st, uint64_t traces, uint64_t bytes, uint64_t bodies, double secs) {
  fprintf(stderr,
          "spangen: spans=%llu traces=%llu error_spans=%llu error_pct=%.2f error_traces=%llu payments_error_traces=%llu "
          "server_spans=%llu server_ops=%zu edges=%d start_ns=%llu end_ns=%llu bytes=%llu bytes_per_span=%.1f "
          "bodies=%llu seconds=%.2f\n",
          (unsigned long long)st.spans, (unsigned long long)traces, (unsigned long long)st.error_spans,
          st.spans ? 100.0 * (double)st.error_spans / (double)st.spans : 0.0, (unsigned long long)st.error_traces,
          (unsigned long long)st.payments_error_traces, (unsigned long long)st.server_spans, st.server_ops.size(),
          static_cast<int>(std::count(st.edges.begin(), st.edges.end(), 1)), (unsigned long long)(st.spans ? st.min_start : 0),
          (unsigned long long)st.max_end, (unsigned long long)bytes, st.spans ? (double)bytes / (double)st.spans : 0.0,
          (unsigned long long)bodies, secs);
}

int open_out(const std::string& path) {
  if (path.empty() || path == "-") return 1;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path.c_str());
    exit(1);
  }
  return fd;
}

struct GenFlags {
  uint64_t spans = 1000000, seed = 42, end_ns = 1793491200ULL * 1000000000ULL, window_s = 3600;
  uint64_t batch = 1000, sample = 100;
  bool counts = false;
  std::string out;
};

int cmd_otlp(const GenFlags& f) {
  auto t0 = std::chrono::steady_clock::now();
  Generator g(f.seed, f.spans, f.end_ns, f.window_s * 1000000000ULL);
  const auto& pods = g.pods();
  const size_t groups = pods.size() * kScopeCount;
  std::vector<std::string> group_spans(groups);  // encoded `spans = 2` fields of a ScopeSpans
  std::vector<uint8_t> used(groups, 0);
  std::vector<std::string> pb_scope(kScopeCount);
  for (int i = 0; i < kScopeCount; ++i) {
    Pb sc;
    sc.bytes(1, Generator::scope(i).name);
    if (*Generator::scope(i).version) sc.bytes(2, Generator::scope(i).version);
    pb_scope[i] = sc.b;
  }
  Out out;
  out.fd = open_out(f.out);
  Stats st;
  uint64_t in_body = 0, bodies = 0;
  Pb sp;
  auto emit = [&]() {
    Pb req;
    for (size_t pod = 0; pod < pods.size(); ++pod) {
      Pb rs;
      bool any = false;
      for (int sc = 0; sc < kScopeCount; ++sc) {
        size_t k = pod * kScopeCount + sc;
        if (!used[k]) continue;
        if (!any) {
          rs.bytes(1, pods[pod].pb_resource);
          any = true;
        }
        Pb ss;
        ss.bytes(1, pb_scope[sc]);
        ss.b += group_spans[k];
        rs.bytes(2, ss.b);
        group_spans[k].clear();
        used[k] = 0;
      }
      if (!any) continue;
      rs.bytes(3, "https://opentelemetry.io/schemas/1.24.0");
      req.bytes(1, rs.b);
    }
    char len[4];
    uint32_t n = static_cast<uint32_t>(req.b.size());
    for (int i = 0; i < 4; ++i) len[i] = static_cast<char>(n >> (8 * i));
    out.write(std::string_view(len, 4));
    out.write(req.b);
    ++bodies;
    in_body = 0;
  };
  TraceView t;
  while (g.Next(&t)) {
    st.add(t);
    for (const Span& s : t) {
      size_t k = static_cast<size_t>(s.pod) * kScopeCount + s.scope;
      sp.b.clear();
      encode_span(s, sp);
      Pb field;
      field.bytes(2, sp.b);
      group_spans[k] += field.b;
      used[k] = 1;
      ++in_body;
    }
    if (in_body >= f.batch) emit();
  }
  if (in_body) emit();
  out.flush();
  if (out.fd != 1) ::close(out.fd);
  print_stats(st, g.traces(), out.bytes, bodies,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

int cmd_tsv(const GenFlags& f) {
  auto t0 = std::chrono::steady_clock::now();
  Generator g(f.seed, f.spans, f.end_ns, f.window_s * 1000000000ULL);
  const auto& pods = g.pods();
  Out out;
  out.fd = open_out(f.out);
  Stats st;
  std::string row;
  TraceView t;
  std::string last_date;
  uint64_t last_day = UINT64_MAX;
  while (g.Next(&t)) {
    st.add(t);
    for (const Span& s : t) {
      row.clear();
      uint64_t day = s.start / 1000000000ULL / 86400;
      if (day != last_day) {
        last_day = day;
        last_date = date_of(s.start);
      }
      row += last_date;
      row.push_back('\t');
      append_hex(row, s.trace_hi);
      append_hex(row, s.trace_lo);
      row.push_back('\t');
      append_hex(row, s.span_id);
      row.push_back('\t');
      if (s.parent_id) append_hex(row, s.parent_id);
      row.push_back('\t');
      row += kSvcName[s.svc];
      row.push_back('\t');
      tsv_escape(row, s.name);
      row.push_back('\t');
      row += std::to_string(s.kind);
      row.push_back('\t');
      row += std::to_string(s.start);
      row.push_back('\t');
      row += std::to_string(s.end - s.start);
      row.push_back('\t');
      row += std::to_string(s.status);
      row.push_back('\t');
      tsv_escape(row, s.status_msg);
      row += "\t[";
      for (size_t i = 0; i < s.attrs.size(); ++i) {
        if (i) row.push_back(',');
        tsv_quoted(row, s.attrs[i].key);
      }
      row += "]\t[";
      for (size_t i = 0; i < s.attrs.size(); ++i) {
        if (i) row.push_back(',');
        tsv_quoted(row, attr_text(s.attrs[i]));
      }
      row += "]";
      row += pods[s.pod].tsv_resource;
      row.push_back('\t');
      tsv_escape(row, Generator::scope(s.scope).name);
      row.push_back('\t');
      tsv_escape(row, Generator::scope(s.scope).version);
      row.push_back('\t');
      std::string ev = "[";
      for (size_t i = 0; i < s.events.size(); ++i) {
        const Event& e = s.events[i];
        if (i) ev.push_back(',');
        ev += "{\"time_ns\":" + std::to_string(e.time) + ",\"name\":\"";
        json_escape(ev, e.name);
        ev += "\",\"attributes\":{";
        for (size_t j = 0; j < e.attrs.size(); ++j) {
          if (j) ev.push_back(',');
          ev.push_back('"');
          json_escape(ev, e.attrs[j].key);
          ev += "\":";
          if (e.attrs[j].t == V_STR) {
            ev.push_back('"');
            json_escape(ev, e.attrs[j].s);
            ev.push_back('"');
          } else {
            ev += attr_text(e.attrs[j]);
          }
        }
        ev += "}}";
      }
      ev += "]";
      tsv_escape(row, ev);
      row.push_back('\n');
      out.write(row);
    }
  }
  out.flush();
  if (out.fd != 1) ::close(out.fd);
  print_stats(st, g.traces(), out.bytes, 0, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

int cmd_ids(const GenFlags& f) {
  auto t0 = std::chrono::steady_clock::now();
  Generator g(f.seed, f.spans, f.end_ns, f.window_s * 1000000000ULL);
  struct T {
    uint64_t hi, lo;
    uint32_t n;
  };
  std::vector<T> all;
  Stats st;
  TraceView t;
  while (g.Next(&t)) {
    st.add(t);
    all.push_back(T{t[0].trace_hi, t[0].trace_lo, static_cast<uint32_t>(t.size())});
  }
  const uint64_t k = std::min<uint64_t>(f.sample, all.size());
  Out out;
  out.fd = open_out(f.out);
  for (uint64_t i = 0; i < k; ++i) {
    const T& x = all[(2 * i + 1) * all.size() / (2 * k)];
    std::string line;
    append_hex(line, x.hi);
    append_hex(line, x.lo);
    if (f.counts) line += " " + std::to_string(x.n);
    line.push_back('\n');
    out.write(line);
  }
  out.flush();
  if (out.fd != 1) ::close(out.fd);
  print_stats(st, g.traces(), 0, 0, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// send: OTLP/HTTP over plain sockets, HTTP/1.1 keep-alive (the client is bench/http_client.h).

// Counts the spans of an ExportTraceServiceRequest (walks resource_spans/scope_spans/spans).
bool pb_read_varint(const uint8_t*& p, const uint8_t* e, uint64_t* v) {
  uint64_t r = 0;
  for (int sh = 0; sh < 64 && p < e; sh += 7) {
    uint8_t b = *p++;
    r |= static_cast<uint64_t>(b & 0x7f) << sh;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}
// Calls fn(field, data, len) for every LEN field, skips others; false if malformed.
template <typename Fn>
bool pb_each(const uint8_t* p, const uint8_t* e, Fn fn) {
  while (p < e) {
    uint64_t tag, v;
    if (!pb_read_varint(p, e, &tag)) return false;
    switch (tag & 7) {
      case 0:
        if (!pb_read_varint(p, e, &v)) return false;
        fn(static_cast<int>(tag >> 3), nullptr, v);
        break;
      case 1:
        if (e - p < 8) return false;
        p += 8;
        break;
      case 5:
        if (e - p < 4) return false;
        p += 4;
        break;
      case 2:
        if (!pb_read_varint(p, e, &v) || v > static_cast<uint64_t>(e - p)) return false;
        if (!fn(static_cast<int>(tag >> 3), p, v)) return false;
        p += v;
        break;
      default: return false;
    }
  }
  return true;
}
int64_t count_spans(const uint8_t* p, size_t n) {
  int64_t spans = 0;
  bool ok = pb_each(p, p + n, [&](int f, const uint8_t* d, uint64_t len) {
    if (f != 1 || !d) return true;
    return pb_each(d, d + len, [&](int f2, const uint8_t* d2, uint64_t len2) {
      if (f2 != 2 || !d2) return true;
      return pb_each(d2, d2 + len2, [&](int f3, const uint8_t* d3, uint64_t) {
        if (f3 == 2 && d3) ++spans;
        return true;
      });
    });
  });
  return ok ? spans : -1;
}
// rejected_spans of an ExportTraceServiceResponse (0 if absent).
int64_t rejected_spans(std::string_view body) {
  int64_t rej = 0;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(body.data());
  pb_each(p, p + body.size(), [&](int f, const uint8_t* d, uint64_t len) {
    if (f != 1 || !d) return true;
    return pb_each(d, d + len, [&](int f2, const uint8_t* d2, uint64_t v) {
      if (f2 == 1 && !d2) rej = static_cast<int64_t>(v);
      return true;
    });
  });
  return rej;
}

using benchhttp::Conn;
using benchhttp::parse_url;
using benchhttp::pct;
using benchhttp::Url;

int cmd_send(const std::string& in, const std::string& url_s, int conc, int timeout_s, int max_retry_s) {
  Url url;
  if (!parse_url(url_s, &url)) {
    fprintf(stderr, "spangen send: --url must be http://host:port/path\n");
    return 2;
  }
  int fd = ::open(in.c_str(), O_RDONLY);
  if (fd < 0) {
    perror(in.c_str());
    return 1;
  }
  struct stat stt;
  fstat(fd, &stt);
  const size_t size = static_cast<size_t>(stt.st_size);
  const uint8_t* data = nullptr;
  if (size) {
    void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    data = static_cast<const uint8_t*>(m);
  }
  ::close(fd);
  struct Body {
    size_t off, len;
    int64_t spans;
  };
  std::vector<Body> bodies;
  int64_t total_spans = 0;
  for (size_t p = 0; p < size;) {
    if (size - p < 4) {
      fprintf(stderr, "spangen send: truncated length prefix at %zu\n", p);
      return 1;
    }
    uint32_t n = data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (static_cast<uint32_t>(data[p + 3]) << 24);
    p += 4;
    if (n > size - p) {
      fprintf(stderr, "spangen send: truncated body at %zu\n", p);
      return 1;
    }
    int64_t c = count_spans(data + p, n);
    if (c < 0) {
      fprintf(stderr, "spangen send: body %zu is not a valid ExportTraceServiceRequest\n", bodies.size());
      return 1;
    }
    bodies.push_back(Body{p, n, c});
    total_spans += c;
    p += n;
  }
  if (conc < 1) conc = 1;
  std::atomic<size_t> next{0};
  std::atomic<bool> abort_all{false};
  std::atomic<int64_t> acked{0}, rejected{0}, retries{0}, conn_errors{0}, failed{0}, failed_spans{0};
  std::mutex mu;
  std::vector<double> lat_ms;
  lat_ms.reserve(bodies.size());
  std::string first_error;
  auto t0 = std::chrono::steady_clock::now();
  auto worker = [&]() {
    Conn c(url, timeout_s, "User-Agent: spangen/1\r\nContent-Type: application/x-protobuf\r\n");
    std::vector<double> mine;
    std::string resp, err;
    for (;;) {
      if (abort_all.load()) break;
      size_t i = next.fetch_add(1);
      if (i >= bodies.size()) break;
      const Body& b = bodies[i];
      std::string_view body(reinterpret_cast<const char*>(data + b.off), b.len);
      auto start = std::chrono::steady_clock::now();
      int backoff_ms = 50, errs = 0;
      bool done = false;
      while (!done) {
        auto r0 = std::chrono::steady_clock::now();
        int retry_after = 0;
        int st = c.Post(body, &resp, &retry_after, &err);
        auto r1 = std::chrono::steady_clock::now();
        const double waited = std::chrono::duration<double>(r1 - start).count();
        if (st == 200) {
          int64_t rej = rejected_spans(resp);
          rejected += rej;
          acked += b.spans - rej;
          mine.push_back(std::chrono::duration<double, std::milli>(r1 - r0).count());
          done = true;
        } else if ((st == 429 || st == 503 || (st < 0 && errs < 5)) && waited < max_retry_s) {
          if (st < 0) {
            ++conn_errors;
            ++errs;
          } else {
            ++retries;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
          backoff_ms = std::min(backoff_ms * 2, 1000);
        } else {
          std::lock_guard<std::mutex> l(mu);
          if (first_error.empty()) {
            first_error = st < 0 ? err : "HTTP " + std::to_string(st) + ": " + resp.substr(0, 300);
          }
          ++failed;
          failed_spans += b.spans;
          done = true;
          // The server is gone (no connection after retries): stop instead of trying every body.
          if (st < 0) abort_all = true;
        }
      }
    }
    std::lock_guard<std::mutex> l(mu);
    lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> th;
  for (int i = 0; i < conc; ++i) th.emplace_back(worker);
  for (auto& x : th) x.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(lat_ms.begin(), lat_ms.end());
  if (!first_error.empty()) fprintf(stderr, "spangen send: first failure: %s\n", first_error.c_str());
  const size_t taken = std::min(next.load(), bodies.size());
  if (taken < bodies.size()) {  // aborted: the bodies never sent count as failed
    for (size_t i = taken; i < bodies.size(); ++i) failed_spans += bodies[i].spans;
    failed += static_cast<int64_t>(bodies.size() - taken);
    fprintf(stderr, "spangen send: aborted, %zu bodies not sent\n", bodies.size() - taken);
  }
  printf("spangen_send: bodies=%zu spans=%lld bytes=%zu concurrency=%d seconds=%.3f spans_per_s=%.0f mb_per_s=%.1f "
         "acked=%lld rejected=%lld failed_bodies=%lld failed_spans=%lld retries=%lld conn_errors=%lld "
         "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
         bodies.size(), (long long)total_spans, size, conc, secs, secs > 0 ? (double)acked.load() / secs : 0.0,
         secs > 0 ? (double)size / secs / 1e6 : 0.0, (long long)acked.load(), (long long)rejected.load(),
         (long long)failed.load(), (long long)failed_spans.load(), (long long)retries.load(),
         (long long)conn_errors.load(), pct(lat_ms, 0.5), pct(lat_ms, 0.99), lat_ms.empty() ? NAN : lat_ms.back());
  fflush(stdout);
  return failed.load() ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
[[noreturn]] void usage(const char* why) {
  fprintf(stderr,
          "spangen: %s\nusage:\n"
          "  spangen otlp --spans N [--batch B] [--out FILE]\n"
          "  spangen send --in FILE --url http://127.0.0.1:PORT/v1/traces [--concurrency C] [--timeout S] [--max-retry-s S]\n"
          "  spangen tsv  --spans N [--out FILE]\n"
          "  spangen ids  --spans N [--sample K] [--counts] [--out FILE]\n"
          "common: [--seed S] [--window SECONDS] [--end-ns NS]\n",
          why);
  exit(2);
}

uint64_t parse_u64(const char* s, const char* flag) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end || !*s) usage((std::string("bad number for ") + flag).c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("missing mode");
  std::string_view mode = argv[1];
  if (mode == "-h" || mode == "--help") usage("help");
  GenFlags f;
  std::string in, url;
  int conc = 2, timeout_s = 300, max_retry_s = 300;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
      return argv[++i];
    };
    if (a == "--spans") f.spans = parse_u64(val(), "--spans");
    else if (a == "--seed") f.seed = parse_u64(val(), "--seed");
    else if (a == "--batch") f.batch = parse_u64(val(), "--batch");
    else if (a == "--window") f.window_s = parse_u64(val(), "--window");
    else if (a == "--end-ns") f.end_ns = parse_u64(val(), "--end-ns");
    else if (a == "--sample") f.sample = parse_u64(val(), "--sample");
    else if (a == "--counts") f.counts = true;
    else if (a == "--out") f.out = val();
    else if (a == "--in") in = val();
    else if (a == "--url") url = val();
    else if (a == "--concurrency") conc = static_cast<int>(parse_u64(val(), "--concurrency"));
    else if (a == "--timeout") timeout_s = static_cast<int>(parse_u64(val(), "--timeout"));
    else if (a == "--max-retry-s") max_retry_s = static_cast<int>(parse_u64(val(), "--max-retry-s"));
    else if (a == "-h" || a == "--help") usage("help");
    else usage((std::string("unknown flag ") + argv[i]).c_str());
  }
  if (f.batch == 0) usage("--batch must be > 0");
  if (f.window_s == 0 || f.window_s * 1000000000ULL > f.end_ns) usage("bad --window");
  if (mode == "otlp") return cmd_otlp(f);
  if (mode == "tsv") return cmd_tsv(f);
  if (mode == "ids") return cmd_ids(f);
  if (mode == "send") {
    if (in.empty() || url.empty()) usage("send needs --in and --url");
    return cmd_send(in, url, conc, timeout_s, max_retry_s);
  }
  usage("unknown mode");
}
