// errgen: a deterministic generator of realistic Sentry error events, an in-process benchmark
// of the error-ingest core, and an HTTP sender.
//
// The events are what python sentry-sdk 1.9 and @sentry/node 11 send (shapes taken from the
// fixtures in src/ingest/testdata/sentry/): six services (billing-api on Django REST
// framework, accounts on Flask, a Celery worker; storefront and shipping-service on Express, a
// Kafka consumer "notifier" on Node), each with its in-app modules, routes or tasks, releases,
// pods and installed modules. --issues distinct problems ("bugs") exist:
//   * ~90 % of them exceptions: a type (KeyError, IntegrityError chained from psycopg2's
//     UniqueViolation, requests' ConnectionError, TypeError "Cannot read properties of
//     undefined", AxiosError, pg errors, ...) raised under an in-app stack: framework frames
//     (django/rest_framework/flask/celery in site-packages, express in node_modules, node
//     internals), 2-4 in-app frames (the innermost one unique to the bug) and, for errors
//     raised inside a library, the library's frames (requests, redis, json, axios, pg...).
//     Python frames carry pre/post context and local variables (reprs with object addresses,
//     ids, Decimals, dicts); Node frames carry context for in-app files and column numbers.
//     Node stacks are either synchronous (express frames) or async (in-app frames only). About
//     5 % of python bugs are exceptions captured without a traceback (capture_exception of an
//     exception that was never raised: grouped by type and normalized value).
//   * the rest messages: python capture_message (no stack: grouped by the normalized message),
//     python logging-integration events (logentry template + params, a logger) and Node
//     captureMessage (a synthetic exception with the call site's stack).
// Exception values and messages embed variable ids, amounts, UUIDs, e-mails, IPs, URLs, dates
// (so grouping must ignore or normalize them), line numbers shift between the three releases
// of a service (grouping ignores them). Events pick their bug log-uniformly (a few bugs are
// frequent, most are rare); 10 % are messages. Each event has a unique event id (uuid4 hex),
// a user from a pool of 5000, a release, an environment (92 % production), trace and span ids,
// 2-12 breadcrumbs (SQL queries, outgoing HTTP, logs, redis; Node: HTTP, console), tags, the
// request for web services, contexts (runtime; Node also app, os, device, culture), the
// installed modules and the SDK block. Python events are ~11 KB (Django stacks are deep), Node
// events ~6 KB, 8.5 KB on average (2.7 KB gzipped; see the stats line).
//
// Every event is a pure function of --seed, --issues, --events, --window and --end-ns and its
// index: the same flags give the same bytes in every mode.
//
//   errgen gen --events N [--format store|envelope|sdk] [--out FILE]
//       store: the /store/ JSON bodies, one a line (NDJSON); envelope/sdk: the request bodies,
//       each preceded by its 4-byte little-endian length (as spangen otlp).
//   errgen inproc --events N [--format store|envelope] [--gzip] [--no-store]
//       in-process throughput of the ingest core on one thread, without HTTP: for each
//       pre-generated body [http::Decompress] [ingest::ParseSentryEnvelope]
//       ingest::DecodeSentryEvent, issues::GroupEvent, issues::EncodeEventPayload and
//       IssueStore::RecordEvent (SQLite in a temp dir, flush thread every 1 s; --no-store
//       skips it). Prints events/s, ns/event per stage, latency percentiles, peak RSS, and the
//       ratio to two physical limits measured in the same run on the same bytes: a simdjson
//       DOM parse alone (what any JSON ingest pays) and memcpy. Also counts the distinct
//       grouping hashes against the number of issues the generator made (a grouping check).
//   errgen send --url http://127.0.0.1:PORT --dsn-key KEY [--project 1] --events N
//              [--connections C] [--format store|envelope|sdk] [--gzip]
//       generates the request bodies first (not timed), then posts them over C keep-alive
//       HTTP/1.1 connections (bench/http_client.h), as the SDKs do:
//         store    every event to /api/P/store/ with X-Sentry-Auth (sentry_client of the
//                  event's SDK), Content-Type: application/json
//         envelope python events in python 1.9 envelopes (item header with length, trailing
//                  newline; X-Sentry-Auth) and Node events in @sentry/node 11 envelopes (no
//                  length, no final newline; auth in the query string sentry_key=..&
//                  sentry_version=7, Transfer-Encoding: chunked, no Content-Type), to
//                  /api/P/envelope/, one event item per envelope
//         sdk      each event as its SDK sends it: python to /store/, Node as envelopes
//       --gzip: Content-Encoding: gzip on every body (python 1.9 gzips everything; Node only
//       bodies over 32 KiB, so never here). Every answer must be 200 with the event's id;
//       429/503 are retried after 50 ms doubling to 1 s (counted), anything else is a failure.
//       Prints events/s, MB/s, request latency p50/p90/p99/max and the counts.
//
// Common flags: --seed S (42), --issues K (200; at least 2), --window SECONDS (3600),
// --end-ns NS (default 1795564800000000000 = 2026-11-25T00:00:00Z; the events cover the
// --window seconds before it). Every mode prints the generator's stats to stderr:
//   errgen: events= python= node= messages= stackless= chained= bytes= avg_bytes=
//           python_avg_bytes= node_avg_bytes= p50_bytes= p99_bytes= max_bytes= issues=
//           issues_expected= seconds=
// issues_expected: the distinct bugs that occur in these N events (all --issues of them unless
// N is small): the number of issues correct grouping makes.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/decompress.h"
#include "http_client.h"
#include "ingest/sentry.h"
#include "issues/event_json.h"
#include "issues/grouping.h"
#include "rng.h"
#include "simdjson.h"
#ifndef ERRGEN_NO_ISSUE_STORE
#include "issues/issue_store.h"
#endif

namespace {

namespace sl = sightline;

// ---------------------------------------------------------------------------------------------
// PRNG: xoshiro256** seeded by splitmix64 (as loggen/spangen). Integer-only.
struct Rng : BenchRng {
  using BenchRng::BenchRng;
  // Log-uniform integer in [1, max]: P(v) ~ 1/v.
  uint32_t zipf(uint32_t max) {
    uint32_t lg = 0;
    while ((1u << (lg + 1)) <= max) ++lg;
    for (;;) {
      uint32_t e = below(lg * 1024 + 1024);
      uint64_t v = (1ULL << (e >> 10));
      v += (v * (e & 1023)) >> 10;
      if (v <= max) return static_cast<uint32_t>(v);
    }
  }
  template <typename T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(static_cast<uint32_t>(N))];
  }
};

constexpr char kHex[] = "0123456789abcdef";
void AppendHex(std::string* o, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) o->push_back(kHex[(v >> (4 * i)) & 15]);
}
std::string Hex(uint64_t v, int digits) {
  std::string o;
  AppendHex(&o, v, digits);
  return o;
}
// uuid4().hex: 32 hex digits with the version (4) and variant nibbles set.
std::string Uuid4Hex(Rng& r) {
  uint64_t a = r.next(), b = r.next();
  a = (a & ~0xf000ULL) | 0x4000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return Hex(a, 16) + Hex(b, 16);
}
std::string UuidDashed(Rng& r) {
  std::string h = Uuid4Hex(r);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}
std::string Alnum(Rng& r, int n) {
  static constexpr char kA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string o;
  for (int i = 0; i < n; ++i) o.push_back(kA[r.below(62)]);
  return o;
}
std::string Letters(uint32_t v) {  // 0 -> "a", 25 -> "z", 26 -> "ba", ...
  std::string o;
  do {
    o.insert(o.begin(), static_cast<char>('a' + v % 26));
    v /= 26;
  } while (v);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Time formatting.
void AppendCivil(std::string* o, int64_t ns, int frac_digits) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  int64_t frac = ns % 1000000000;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  int n = snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  o->append(buf, static_cast<size_t>(n));
  if (frac_digits == 3) {
    n = snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(frac / 1000000));
  } else {
    n = snprintf(buf, sizeof buf, ".%06dZ", static_cast<int>(frac / 1000));
  }
  o->append(buf, static_cast<size_t>(n));
}
std::string Rfc3339(int64_t ns, int frac_digits) {
  std::string o;
  AppendCivil(&o, ns, frac_digits);
  return o;
}
// Epoch seconds with milliseconds, as @sentry/node writes timestamps: 1795615559.114
std::string EpochMs(int64_t ns) {
  char buf[40];
  snprintf(buf, sizeof buf, "%" PRId64 ".%03d", ns / 1000000000,
           static_cast<int>((ns % 1000000000) / 1000000));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// A small JSON writer (compact, as both SDKs send): commas are placed automatically.
class J {
 public:
  explicit J(std::string* o) : o_(o) {}
  J& ob() {
    Pre();
    o_->push_back('{');
    first_[depth_++] = true;
    return *this;
  }
  J& oe() {
    o_->push_back('}');
    --depth_;
    return *this;
  }
  J& ab() {
    Pre();
    o_->push_back('[');
    first_[depth_++] = true;
    return *this;
  }
  J& ae() {
    o_->push_back(']');
    --depth_;
    return *this;
  }
  J& k(std::string_view key) {
    Pre();
    Quote(key);
    o_->push_back(':');
    key_ = true;
    return *this;
  }
  J& s(std::string_view v) {
    Pre();
    Quote(v);
    return *this;
  }
  J& i(int64_t v) {
    Pre();
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    o_->append(buf, static_cast<size_t>(n));
    return *this;
  }
  J& b(bool v) {
    Pre();
    o_->append(v ? "true" : "false");
    return *this;
  }
  J& null() {
    Pre();
    o_->append("null");
    return *this;
  }
  J& raw(std::string_view json) {  // an already serialized JSON value
    Pre();
    o_->append(json);
    return *this;
  }
  J& ks(std::string_view key, std::string_view v) { return k(key).s(v); }
  J& ki(std::string_view key, int64_t v) { return k(key).i(v); }
  J& kb(std::string_view key, bool v) { return k(key).b(v); }
  J& kraw(std::string_view key, std::string_view v) { return k(key).raw(v); }

  void Quote(std::string_view v) {
    o_->push_back('"');
    for (char c : v) {
      switch (c) {
        case '"':
          o_->append("\\\"");
          break;
        case '\\':
          o_->append("\\\\");
          break;
        case '\n':
          o_->append("\\n");
          break;
        case '\t':
          o_->append("\\t");
          break;
        case '\r':
          o_->append("\\r");
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            o_->append(buf);
          } else {
            o_->push_back(c);
          }
      }
    }
    o_->push_back('"');
  }

 private:
  void Pre() {
    if (key_) {
      key_ = false;
      return;
    }
    if (depth_ > 0) {
      if (!first_[depth_ - 1]) o_->push_back(',');
      first_[depth_ - 1] = false;
    }
  }
  std::string* o_;
  bool first_[64] = {};
  int depth_ = 0;
  bool key_ = false;
};

// ---------------------------------------------------------------------------------------------
// The world: services, routes, in-app code, library frames, exception kinds, messages.
enum Plat { PY, NODE };
enum Framework { DJANGO, FLASK, CELERY, EXPRESS, CONSUMER };

struct Svc {
  const char* name;
  Plat plat;
  Framework fw;
  const char* versions[3];
  const char* host;                  // the public host of its requests ("" for workers)
  std::vector<const char*> modules;  // in-app: python dotted modules / node files under dist/
};
const Svc kSvcs[] = {
    {"billing-api",
     PY,
     DJANGO,
     {"3.8.0", "3.8.1", "3.9.0"},
     "api.shop.example.com",
     {"billing.views.invoices", "billing.views.payments", "billing.views.refunds",
      "billing.views.subscriptions", "billing.services.charges", "billing.services.invoicing",
      "billing.services.tax", "billing.services.currency", "billing.models.invoice",
      "billing.models.subscription", "billing.serializers", "billing.integrations.stripe_client",
      "billing.utils.money", "billing.utils.dates"}},
    {"accounts",
     PY,
     FLASK,
     {"1.22.4", "1.23.0", "1.23.1"},
     "accounts.shop.example.com",
     {"accounts.routes.auth", "accounts.routes.users", "accounts.routes.sessions",
      "accounts.services.password", "accounts.services.tokens", "accounts.services.profile",
      "accounts.models.user", "accounts.utils.validation", "accounts.mail"}},
    {"worker",
     PY,
     CELERY,
     {"2.4.0", "2.4.1", "2.5.0"},
     "",
     {"worker.tasks.emails", "worker.tasks.exports", "worker.tasks.sync", "worker.tasks.reports",
      "worker.jobs.reconcile", "worker.clients.crm", "worker.clients.warehouse",
      "worker.utils.csv"}},
    {"storefront",
     NODE,
     EXPRESS,
     {"5.12.0", "5.12.1", "5.13.0"},
     "www.shop.example.com",
     {"routes/cart", "routes/checkout", "routes/products", "routes/account", "services/cartService",
      "services/pricing", "services/inventoryClient", "lib/session", "lib/validate",
      "repositories/productRepo"}},
    {"shipping-service",
     NODE,
     EXPRESS,
     {"1.9.3", "1.10.0", "1.10.1"},
     "shipping.internal.example.com",
     {"routes/shipments", "routes/rates", "services/carrierClient", "services/labels",
      "services/tracking", "lib/address", "repositories/shipmentRepo"}},
    {"notifier",
     NODE,
     CONSUMER,
     {"0.31.0", "0.31.2", "0.32.0"},
     "",
     {"consumers/orderEvents", "consumers/userEvents", "senders/email", "senders/sms",
      "templates/render", "lib/retry"}},
};
constexpr int kNumSvcs = sizeof kSvcs / sizeof kSvcs[0];
const int kPySvcs[] = {0, 1, 2};
const int kNodeSvcs[] = {3, 4, 5};
const char* const kPodHash[kNumSvcs] = {"7d9f8b6c5", "5c4b9d7f8", "66f9c8d7b",
                                        "84bd6c9f7", "7f5d4c8b9", "59c7d8f64"};

// Routes (web services), tasks (celery) and topics (the Node consumer): the outermost in-app
// frame and the transaction.
struct Route {
  int svc;
  const char* method;       // "" for tasks/consumers
  const char* transaction;  // Django URL pattern, Flask endpoint, task name, express route
  const char* path;         // request path; {i} = a number, {s} = a slug
  const char* module;       // the handler's module (python) / file (node, under dist/)
  const char* function;
};
const Route kRoutes[] = {
    {0, "POST", "/api/v1/invoices/{pk}/pay/", "/api/v1/invoices/{i}/pay/", "billing.views.invoices",
     "pay"},
    {0, "GET", "/api/v1/invoices/{pk}/", "/api/v1/invoices/{i}/", "billing.views.invoices",
     "retrieve"},
    {0, "GET", "/api/v1/invoices/", "/api/v1/invoices/", "billing.views.invoices", "list"},
    {0, "POST", "/api/v1/refunds/", "/api/v1/refunds/", "billing.views.refunds", "create"},
    {0, "PATCH", "/api/v1/subscriptions/{pk}/", "/api/v1/subscriptions/{i}/",
     "billing.views.subscriptions", "partial_update"},
    {0, "POST", "/api/v1/subscriptions/{pk}/cancel/", "/api/v1/subscriptions/{i}/cancel/",
     "billing.views.subscriptions", "cancel"},
    {0, "POST", "/api/v1/payments/webhook/", "/api/v1/payments/webhook/", "billing.views.payments",
     "stripe_webhook"},
    {1, "POST", "auth.login", "/login", "accounts.routes.auth", "login"},
    {1, "POST", "users.change_password", "/users/{i}/password", "accounts.routes.users",
     "change_password"},
    {1, "GET", "users.get_user", "/users/{i}", "accounts.routes.users", "get_user"},
    {1, "PUT", "users.update_profile", "/users/{i}/profile", "accounts.routes.users",
     "update_profile"},
    {1, "POST", "sessions.refresh", "/sessions/refresh", "accounts.routes.sessions", "refresh"},
    {2, "", "worker.tasks.emails.send_receipt", "", "worker.tasks.emails", "send_receipt"},
    {2, "", "worker.tasks.exports.export_orders_csv", "", "worker.tasks.exports",
     "export_orders_csv"},
    {2, "", "worker.tasks.sync.sync_crm_contacts", "", "worker.tasks.sync", "sync_crm_contacts"},
    {2, "", "worker.tasks.reports.build_daily_report", "", "worker.tasks.reports",
     "build_daily_report"},
    {2, "", "worker.jobs.reconcile.reconcile_payouts", "", "worker.jobs.reconcile",
     "reconcile_payouts"},
    {3, "POST", "POST /api/cart/:cartId/items", "/api/cart/{i}/items", "routes/cart", "addItem"},
    {3, "DELETE", "DELETE /api/cart/:cartId/items/:itemId", "/api/cart/{i}/items/{i}",
     "routes/cart", "removeItem"},
    {3, "POST", "POST /api/checkout", "/api/checkout", "routes/checkout", "submitCheckout"},
    {3, "GET", "GET /api/products/:slug", "/api/products/{s}", "routes/products", "getProduct"},
    {3, "GET", "GET /api/account/orders", "/api/account/orders", "routes/account", "listOrders"},
    {4, "POST", "POST /v1/shipments", "/v1/shipments", "routes/shipments", "createShipment"},
    {4, "GET", "GET /v1/rates", "/v1/rates", "routes/rates", "quoteRates"},
    {4, "GET", "GET /v1/shipments/:id/tracking", "/v1/shipments/{i}/tracking", "routes/shipments",
     "getTracking"},
    {4, "POST", "POST /v1/labels", "/v1/labels", "routes/shipments", "printLabel"},
    {5, "", "order.paid", "", "consumers/orderEvents", "onOrderPaid"},
    {5, "", "shipment.delayed", "", "consumers/orderEvents", "onShipmentDelayed"},
    {5, "", "user.signup", "", "consumers/userEvents", "onUserSignup"},
};
constexpr int kNumRoutes = sizeof kRoutes / sizeof kRoutes[0];

// Names of in-app functions: verb + noun (python snake_case, node camelCase). The innermost
// in-app frame of bug b gets slot b's name, so every bug's stack differs from every other's.
const char* const kVerbs[] = {"get",     "create",   "update",  "load",      "apply",
                              "compute", "validate", "sync",    "send",      "build",
                              "parse",   "fetch",    "resolve", "reserve",   "charge",
                              "refund",  "render",   "export",  "normalize", "merge"};
const char* const kNouns[] = {"invoice",  "customer", "payment",    "order",   "subscription",
                              "discount", "tax_rate", "line_items", "address", "token",
                              "session",  "profile",  "report",     "batch",   "webhook",
                              "ledger",   "coupon",   "plan",       "receipt", "account"};
constexpr uint32_t kNV = sizeof kVerbs / sizeof kVerbs[0];
constexpr uint32_t kNN = sizeof kNouns / sizeof kNouns[0];
std::string CamelNoun(const char* noun) {
  std::string o;
  bool up = true;
  for (const char* p = noun; *p; ++p) {
    if (*p == '_') {
      up = true;
      continue;
    }
    o.push_back(up ? static_cast<char>(toupper(*p)) : *p);
    up = false;
  }
  return o;
}
std::string FuncName(Plat p, uint32_t slot) {
  const char* v = kVerbs[slot % kNV];
  const char* n = kNouns[(slot / kNV) % kNN];
  uint32_t extra = slot / (kNV * kNN);
  if (p == PY) {
    std::string f = std::string(v) + "_" + n;
    if (extra) f += "_" + Letters(extra);
    return f;
  }
  std::string f = std::string(v) + CamelNoun(n);
  if (extra) f += CamelNoun(Letters(extra).c_str());
  return f;
}
// "billing.services.charges" -> "ChargesService"; "services/cartService" -> "CartService".
std::string ClassOf(Plat p, const std::string& module) {
  if (p == PY) {
    std::string last = module.substr(module.rfind('.') + 1);
    std::string kind = module.find(".views.") != std::string::npos ? "ViewSet" : "Service";
    if (module.find(".models.") != std::string::npos) kind = "Manager";
    return CamelNoun(last.c_str()) + kind;
  }
  std::string last = module.substr(module.rfind('/') + 1);
  last[0] = static_cast<char>(toupper(last[0]));
  if (module.rfind("routes/", 0) == 0) return last + "Controller";
  return last;
}

// Python parameters of in-app functions: name and how its value is rendered (vars).
enum VarKind {
  V_FIXED,  // the text as is
  V_INT,    // 48213
  V_STRID,  // 'cus_Q8x2LmZ1'
  V_DEC,    // Decimal('129.99')
  V_OBJ,    // <billing.services.charges.ChargesService object at 0x7f3a2c1d9e50> (text = class)
  V_MODEL,  // <Invoice: INV-2026-48213> (text = model name)
  V_REQ,    // <WSGIRequest: POST '/api/v1/invoices/48213/pay/'>
  V_DICT,   // {"sku": "'A-1021'", "quantity": "0"}
  V_LIST,   // ["'A-1021'", "'B-77'"]
  V_BOOL,   // True
  V_STR,    // 'EUR' from a pool
};
struct VarSpec {
  std::string name;
  VarKind kind;
  std::string text;
};
struct Param {
  const char* name;
  VarKind kind;
  const char* text;
};
const Param kParams[] = {
    {"invoice", V_MODEL, "Invoice"}, {"customer_id", V_INT, ""},
    {"amount", V_DEC, ""},           {"currency", V_STR, ""},
    {"items", V_LIST, ""},           {"payload", V_DICT, ""},
    {"user", V_MODEL, "User"},       {"attempt", V_INT, ""},
    {"order_id", V_INT, ""},         {"subscription", V_MODEL, "Subscription"},
    {"charge_id", V_STRID, ""},      {"dry_run", V_BOOL, ""},
    {"account", V_MODEL, "Account"}, {"token", V_STRID, ""},
    {"address", V_DICT, ""},         {"plan_id", V_STRID, ""},
    {"batch_size", V_INT, ""},
};

// A library frame (framework, client library, standard library or runtime internals).
enum LibKind { PYLIB, PYSTD, NODELIB, NODEINT, NODEANON };
struct LibFrame {
  LibKind kind;
  const char* path;    // under site-packages/ or node_modules/, or the stdlib/internal name
  const char* module;  // python module / node module
  const char* function;
  int lineno, colno;
  const char* context;  // python: the source line (context for node library frames is omitted)
  const char* vars;     // python: "name=value|name=value" (value "@req" = the request repr)
};
// Framework frames, outermost first.
const LibFrame kDjango[] = {
    {PYLIB, "django/core/handlers/exception.py", "django.core.handlers.exception", "inner", 55, 0,
     "                response = get_response(request)",
     "request=@req|exc=None|get_response=<bound method BaseHandler._get_response of "
     "<django.core.handlers.wsgi.WSGIHandler object at 0x7f5c1e2b4d90>>"},
    {PYLIB, "django/core/handlers/base.py", "django.core.handlers.base", "_get_response", 197, 0,
     "                response = wrapped_callback(request, *callback_args, **callback_kwargs)",
     "self=<django.core.handlers.wsgi.WSGIHandler object at 0x7f5c1e2b4d90>|request=@req|"
     "response=None|callback_args=()|wrapped_callback=<function View.as_view.<locals>.view at "
     "0x7f5c1c0e3f60>"},
    {PYLIB, "django/views/decorators/csrf.py", "django.views.decorators.csrf", "_view_wrapper", 65,
     0, "        return view_func(request, *args, **kwargs)",
     "request=@req|args=()|view_func=<function View.as_view.<locals>.view at 0x7f5c1c0e3f60>"},
    {PYLIB, "rest_framework/viewsets.py", "rest_framework.viewsets", "view", 125, 0,
     "            return self.dispatch(request, *args, **kwargs)",
     "self=<billing.views.ViewSet object at 0x7f5c1b7a2e50>|request=@req|args=()|"
     "actions={'post': 'create'}"},
    {PYLIB, "rest_framework/views.py", "rest_framework.views", "dispatch", 509, 0,
     "            response = self.handle_exception(exc)",
     "self=<billing.views.ViewSet object at 0x7f5c1b7a2e50>|request=<rest_framework.request."
     "Request: POST '/api/v1/'>|args=()|handler=<bound method>"},
    {PYLIB, "rest_framework/views.py", "rest_framework.views", "handle_exception", 469, 0,
     "            self.raise_uncaught_exception(exc)",
     "self=<billing.views.ViewSet object at 0x7f5c1b7a2e50>|exception_handler=<function "
     "exception_handler at 0x7f5c1d2a1ee0>|context={'view': '<billing.views.ViewSet object>'}"},
    {PYLIB, "rest_framework/views.py", "rest_framework.views", "raise_uncaught_exception", 480, 0,
     "        raise exc",
     "self=<billing.views.ViewSet object at 0x7f5c1b7a2e50>|"
     "renderer_format='json'|use_plaintext_traceback=False"},
    {PYLIB, "rest_framework/views.py", "rest_framework.views", "dispatch", 506, 0,
     "            response = handler(request, *args, **kwargs)",
     "self=<billing.views.ViewSet object at 0x7f5c1b7a2e50>|handler=<bound method>"},
};
const LibFrame kFlask[] = {
    {PYLIB, "flask/app.py", "flask.app", "wsgi_app", 1511, 0,
     "                response = self.full_dispatch_request()",
     "self=<Flask 'accounts'>|environ={'REQUEST_METHOD': \"'POST'\"}|start_response=<function>"},
    {PYLIB, "flask/app.py", "flask.app", "full_dispatch_request", 919, 0,
     "            rv = self.handle_user_exception(e)", "self=<Flask 'accounts'>|rv=None"},
    {PYLIB, "flask/app.py", "flask.app", "full_dispatch_request", 917, 0,
     "                rv = self.dispatch_request()", "self=<Flask 'accounts'>|rv=None"},
    {PYLIB, "flask/app.py", "flask.app", "dispatch_request", 902, 0,
     "        return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)  # type: "
     "ignore[no-any-return]",
     "self=<Flask 'accounts'>|req=<Request 'http://accounts/' [POST]>|rule=<Rule '/login' "
     "(POST, OPTIONS) -> auth.login>|view_args={}"},
};
const LibFrame kCelery[] = {
    {PYLIB, "celery/app/trace.py", "celery.app.trace", "trace_task", 453, 0,
     "                    R = retval = fun(*args, **kwargs)",
     "uuid=@uuid|args=[]|kwargs={}|request=None|task_request=<Context: {}>"},
    {PYLIB, "celery/app/trace.py", "celery.app.trace", "__protected_call__", 736, 0,
     "                return self.run(*args, **kwargs)", "self=<@task: worker.tasks of worker>"},
    {PYLIB, "sentry_sdk/integrations/celery.py", "sentry_sdk.integrations.celery", "_inner", 207, 0,
     "                return f(*args, **kwargs)",
     "args=()|kwargs={}|hub=<sentry_sdk.hub.Hub object at 0x7f0e6b9d3c50>"},
};
const LibFrame kExpress[] = {
    {NODELIB, "express/lib/router/index.js", "express.lib.router:index", "next", 280, 10, "", ""},
    {NODELIB, "express/lib/router/index.js", "express.lib.router:index", "Function.process_params",
     346, 12, "", ""},
    {NODELIB, "express/lib/router/index.js", "express.lib.router:index", "?", 284, 15, "", ""},
    {NODELIB, "express/lib/router/layer.js", "express.lib.router:layer",
     "Layer.handle [as handle_request]", 95, 5, "", ""},
    {NODELIB, "express/lib/router/route.js", "express.lib.router:route", "Route.dispatch", 119, 3,
     "", ""},
    {NODELIB, "express/lib/router/route.js", "express.lib.router:route", "next", 149, 13, "", ""},
    {NODELIB, "express/lib/router/layer.js", "express.lib.router:layer",
     "Layer.handle [as handle_request]", 95, 5, "", ""},
};
const LibFrame kConsumer[] = {
    {NODELIB, "kafkajs/src/consumer/runner.js", "kafkajs.src.consumer:runner",
     "Runner.processEachMessage", 231, 9, "", ""},
    {NODELIB, "kafkajs/src/consumer/runner.js", "kafkajs.src.consumer:runner", "?", 156, 18, "",
     ""},
};
const LibFrame kAsyncTail[] = {
    {NODEINT, "node:internal/process/task_queues", "task_queues",
     "process.processTicksAndRejections", 95, 5, "", ""},
};

// Library frames under the crashing in-app frame (outermost first).
const LibFrame kTailRequests[] = {
    {PYLIB, "requests/api.py", "requests.api", "post", 115, 0,
     "    return request(\"post\", url, data=data, json=json, **kwargs)",
     "url='https://api.stripe.com/v1/charges'|data=None|json={'amount': '12999'}"},
    {PYLIB, "requests/api.py", "requests.api", "request", 59, 0,
     "        return session.request(method=method, url=url, **kwargs)",
     "method='post'|url='https://api.stripe.com/v1/charges'|session=<requests.sessions.Session "
     "object at 0x7f2d1c3b9a90>"},
    {PYLIB, "requests/sessions.py", "requests.sessions", "request", 589, 0,
     "        resp = self.send(prep, **send_kwargs)",
     "self=<requests.sessions.Session object at 0x7f2d1c3b9a90>|method='post'|prep=<"
     "PreparedRequest [POST]>|send_kwargs={'timeout': '10', 'allow_redirects': 'True'}"},
    {PYLIB, "requests/sessions.py", "requests.sessions", "send", 703, 0,
     "        r = adapter.send(request, **kwargs)",
     "self=<requests.sessions.Session object at 0x7f2d1c3b9a90>|request=<PreparedRequest "
     "[POST]>|adapter=<requests.adapters.HTTPAdapter object at 0x7f2d1c3b9d10>"},
    {PYLIB, "requests/adapters.py", "requests.adapters", "send", 519, 0,
     "            raise ConnectionError(e, request=request)",
     "self=<requests.adapters.HTTPAdapter object at 0x7f2d1c3b9d10>|request=<PreparedRequest "
     "[POST]>|timeout=Timeout(connect=10, read=10, total=None)|e=MaxRetryError(\"HTTPSConnection"
     "Pool(host='api.stripe.com', port=443): Max retries exceeded\")"},
};
const LibFrame kTailRedis[] = {
    {PYLIB, "redis/commands/core.py", "redis.commands.core", "get", 1829, 0,
     "        return self.execute_command(\"GET\", name)",
     "self=Redis<ConnectionPool<Connection<host=redis-master,port=6379,db=0>>>|name='rl:42'"},
    {PYLIB, "redis/client.py", "redis.client", "execute_command", 1258, 0,
     "            return conn.retry.call_with_retry(",
     "self=Redis<ConnectionPool<Connection<host=redis-master,port=6379,db=0>>>|args=('GET', "
     "'rl:42')|command_name='GET'"},
    {PYLIB, "redis/connection.py", "redis.connection", "read_response", 824, 0,
     "            raise TimeoutError(f\"Timeout reading from {hosterr}\")",
     "self=Connection<host=redis-master,port=6379,db=0>|disable_decoding=False|hosterr="
     "'redis-master:6379'"},
};
const LibFrame kTailJson[] = {
    {PYSTD, "json/__init__.py", "json", "loads", 346, 0,
     "        return _default_decoder.decode(s)",
     "s=''|cls=None|object_hook=None|parse_float=None|kw={}"},
    {PYSTD, "json/decoder.py", "json.decoder", "decode", 337, 0,
     "        obj, end = self.raw_decode(s, idx=_w(s, 0).end())",
     "self=<json.decoder.JSONDecoder object at 0x7f3e2d1c0b50>|s=''"},
    {PYSTD, "json/decoder.py", "json.decoder", "raw_decode", 355, 0,
     "            raise JSONDecodeError(\"Expecting value\", s, err.value) from None",
     "self=<json.decoder.JSONDecoder object at 0x7f3e2d1c0b50>|s=''|idx=0"},
};
const LibFrame kTailDoesNotExist[] = {
    {PYLIB, "django/db/models/manager.py", "django.db.models.manager", "manager_method", 87, 0,
     "            return getattr(self.get_queryset(), name)(*args, **kwargs)",
     "self=<django.db.models.manager.Manager object at 0x7f5c1b2c8e10>|args=()|kwargs={'pk': "
     "'48213'}"},
    {PYLIB, "django/db/models/query.py", "django.db.models.query", "get", 649, 0,
     "            raise self.model.DoesNotExist(",
     "self=<QuerySet []>|args=()|kwargs={'pk': '48213'}|clone=<QuerySet []>|limit=21|num=0"},
};
const LibFrame kTailSave[] = {
    {PYLIB, "django/db/models/base.py", "django.db.models.base", "save", 814, 0,
     "        self.save_base(",
     "self=<Refund: Refund object (None)>|force_insert=False|using='default'"},
    {PYLIB, "django/db/models/base.py", "django.db.models.base", "_save_table", 1067, 0,
     "            results = self._do_insert(", "self=<Refund: Refund object (None)>|raw=False"},
    {PYLIB, "django/db/backends/utils.py", "django.db.backends.utils", "_execute", 89, 0,
     "                return self.cursor.execute(sql, params)",
     "self=<django.db.backends.utils.CursorDebugWrapper object at 0x7f5c1a2b3c40>|sql='INSERT "
     "INTO \"billing_refund\" (\"external_id\", \"amount\") VALUES (%s, %s) RETURNING "
     "\"billing_refund\".\"id\"'|params=('re_3Kx9', '129.99')"},
    {PYLIB, "django/db/utils.py", "django.db.utils", "__exit__", 91, 0,
     "                raise dj_exc_value.with_traceback(traceback) from exc_value",
     "self=<django.db.utils.DatabaseErrorWrapper object at 0x7f5c1a2b3d00>|exc_type=<class "
     "'psycopg2.errors.UniqueViolation'>|db_exc_type=<class 'django.db.utils.IntegrityError'>"},
};
const LibFrame kTailDrf[] = {
    {PYLIB, "rest_framework/serializers.py", "rest_framework.serializers", "is_valid", 235, 0,
     "            raise ValidationError(self.errors)",
     "self=RefundSerializer(data={'amount': '-5'})|raise_exception=True"},
};
const LibFrame kTailAxios[] = {
    {NODELIB, "axios/lib/core/Axios.js", "axios.lib.core:Axios", "Axios.request", 45, 41, "", ""},
    {NODEINT, "node:internal/process/task_queues", "task_queues",
     "process.processTicksAndRejections", 90, 21, "", ""},
    {NODEINT, "node:internal/streams/readable", "readable", "endReadableNT", 1698, 12, "", ""},
    {NODEINT, "node:events", "events", "IncomingMessage.emit", 531, 35, "", ""},
    {NODELIB, "axios/lib/adapters/http.js", "axios.lib.adapters:http",
     "IncomingMessage.handleStreamEnd", 599, 11, "", ""},
    {NODELIB, "axios/lib/core/settle.js", "axios.lib.core:settle", "settle", 19, 12, "", ""},
};
const LibFrame kTailPg[] = {
    {NODEINT, "node:internal/process/task_queues", "task_queues",
     "process.processTicksAndRejections", 95, 5, "", ""},
    {NODELIB, "pg/lib/client.js", "pg.lib:client", "?", 535, 17, "", ""},
};
const LibFrame kTailNet[] = {
    {NODEINT, "node:net", "net", "TCPConnectWrap.afterConnect [as oncomplete]", 1607, 16, "", ""},
};
const LibFrame kTailJsonParse[] = {
    {NODEANON, "<anonymous>", "", "JSON.parse", 0, 0, "", ""},
};
const LibFrame kTailDate[] = {
    {NODEANON, "<anonymous>", "", "Date.toISOString", 0, 0, "", ""},
};
struct Tail {
  const LibFrame* f;
  int n;
};
#define SL_TAIL(a) \
  Tail { a, static_cast<int>(sizeof a / sizeof a[0]) }

// Exception kinds: type, module (python; "" = null), value template, the crashing line
// alternatives, and library frames under the crashing in-app frame.
// Value placeholders: {i} number, {s} random token, {u} uuid, {f} decimal, {ip}, {e} e-mail,
// {h} 0x address, {d} RFC 3339 date, {md5} 32 hex, {url}, {fn} the crashing function.
struct ExcKind {
  Plat plat;
  const char* type;
  const char* module;
  const char* value;
  const char* lines[3];
  Tail tail;
  int chained;  // python: 1 = IntegrityError from UniqueViolation
};
const ExcKind kExcKinds[] = {
    {PY,
     "KeyError",
     "",
     "'{s}'",
     {"        rate = self._rates[currency]", "    return mapping[key]",
      "        customer = self._by_external_id[external_id]"},
     {nullptr, 0},
     0},
    {PY,
     "ValueError",
     "",
     "invalid literal for int() with base 10: '{s}'",
     {"    quantity = int(payload[\"quantity\"])",
      "        page = int(request.GET.get(\"page\", 1))", "    user_id = int(token.subject)"},
     {nullptr, 0},
     0},
    {PY,
     "ValueError",
     "",
     "Invoice {i} has no line items",
     {"            raise ValueError(f\"Invoice {invoice.pk} has no line items\")",
      "        raise ValueError(f\"Invoice {invoice_id} has no line items\")", ""},
     {nullptr, 0},
     0},
    {PY,
     "TypeError",
     "",
     "unsupported operand type(s) for +: 'NoneType' and 'Decimal'",
     {"        total = invoice.subtotal + invoice.tax", "    return amount + fee",
      "        balance += line.amount"},
     {nullptr, 0},
     0},
    {PY,
     "TypeError",
     "",
     "'NoneType' object is not subscriptable",
     {"    country = address[\"country\"]", "        plan_id = subscription.metadata[\"plan\"]",
      "    return payload[\"data\"][\"object\"]"},
     {nullptr, 0},
     0},
    {PY,
     "AttributeError",
     "",
     "'NoneType' object has no attribute 'email'",
     {"        send_mail(subject, body, to=[customer.email])",
      "    recipient = order.customer.email", "        if user.profile.email != email:"},
     {nullptr, 0},
     0},
    {PY,
     "ZeroDivisionError",
     "",
     "division by zero",
     {"        ratio = paid / invoice.total", "    return round(used / quota * 100, 1)",
      "        unit_price = line.amount / line.quantity"},
     {nullptr, 0},
     0},
    {PY,
     "InvalidOperation",
     "decimal",
     "[<class 'decimal.ConversionSyntax'>]",
     {"    amount = Decimal(raw_amount)", "        price = Decimal(row[\"price\"])",
      "    return Decimal(value).quantize(CENTS)"},
     {nullptr, 0},
     0},
    {PY,
     "IntegrityError",
     "django.db.utils",
     "duplicate key value violates unique constraint \"billing_refund_charge_id_key\"\n"
     "DETAIL:  Key (charge_id)=({i}) already exists.\n",
     {"        refund.save()", "    return Refund.objects.create(**data)",
      "            obj.save(update_fields=[\"status\"])"},
     SL_TAIL(kTailSave),
     1},
    {PY,
     "ConnectionError",
     "requests.exceptions",
     "HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: "
     "/v1/charges/ch_{s} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection "
     "object at {h}>: Failed to establish a new connection: [Errno 111] Connection refused'))",
     {"        resp = requests.post(url, json=body, timeout=10)",
      "    response = requests.post(f\"{API}/v1/charges\", json=payload, timeout=self.timeout)",
      ""},
     SL_TAIL(kTailRequests),
     0},
    {PY,
     "TimeoutError",
     "redis.exceptions",
     "Timeout reading from redis-master.cache.svc.cluster.local:6379",
     {"        hits = cache.get(f\"rl:{user_id}\")", "    cached = self.redis.get(key)", ""},
     SL_TAIL(kTailRedis),
     0},
    {PY,
     "JSONDecodeError",
     "json.decoder",
     "Expecting value: line {i} column {i} (char {i})",
     {"        data = json.loads(request.body)", "    payload = json.loads(resp.text)", ""},
     SL_TAIL(kTailJson),
     0},
    {PY,
     "DoesNotExist",
     "billing.models.invoice",
     "Invoice matching query does not exist.",
     {"        invoice = Invoice.objects.get(pk=pk)",
      "    sub = Subscription.objects.get(external_id=external_id)", ""},
     SL_TAIL(kTailDoesNotExist),
     0},
    {PY,
     "ValidationError",
     "rest_framework.exceptions",
     "{'amount': [ErrorDetail(string='Ensure this value is greater than or equal to 0.01.', "
     "code='min_value')]}",
     {"        serializer.is_valid(raise_exception=True)", "", ""},
     SL_TAIL(kTailDrf),
     0},
    {PY,
     "PaymentDeclined",
     "billing.integrations.stripe_client",
     "Your card was declined. (charge ch_{s}, amount {f} EUR)",
     {"            raise PaymentDeclined(err.user_message)",
      "        raise PaymentDeclined(f\"{err.user_message} (charge {charge_id})\")", ""},
     {nullptr, 0},
     0},
    {PY,
     "PermissionError",
     "",
     "[Errno 13] Permission denied: '/var/exports/orders-{i}.csv'",
     {"    with open(path, \"w\", newline=\"\") as fh:", "        os.replace(tmp_path, path)", ""},
     {nullptr, 0},
     0},
    {PY,
     "SoftTimeLimitExceeded",
     "billiard.exceptions",
     "SoftTimeLimitExceeded()",
     {"        for row in cursor.fetchmany(batch_size):", "    while pending:", ""},
     {nullptr, 0},
     0},
    {NODE,
     "TypeError",
     "",
     "Cannot read properties of undefined (reading '{prop}')",
     {"    const total = cart.items.reduce((sum, i) => sum + i.price * i.qty, 0);",
      "  const zip = order.shipping.address.postalCode;",
      "    return user.preferences.locale || 'en-US';"},
     {nullptr, 0},
     0},
    {NODE,
     "TypeError",
     "",
     "{prop}.map is not a function",
     {"  const ids = payload.items.map((i) => i.sku);",
      "    return rates.map((r) => ({ ...r, total: r.amount + fee }));", ""},
     {nullptr, 0},
     0},
    {NODE,
     "Error",
     "",
     "invalid quantity {i}",
     {"  if (q < 1) throw new Error(`invalid quantity ${q}`);",
      "    if (!Number.isInteger(qty)) throw new Error(`invalid quantity ${qty}`);", ""},
     {nullptr, 0},
     0},
    {NODE,
     "RangeError",
     "",
     "Invalid time value",
     {"    const day = new Date(input.deliveryDate).toISOString().slice(0, 10);",
      "  return new Date(ts * 1000).toISOString();", ""},
     SL_TAIL(kTailDate),
     0},
    {NODE,
     "SyntaxError",
     "",
     "Unexpected token '<', \"<html><he\"... is not valid JSON",
     {"    const body = JSON.parse(raw);", "  return JSON.parse(await res.text());", ""},
     SL_TAIL(kTailJsonParse),
     0},
    {NODE,
     "AxiosError",
     "",
     "Request failed with status code {status}",
     {"    const { data } = await this.http.post(`/v1/reservations`, body);",
      "  const res = await axios.get(`${CARRIER_URL}/rates`, { params, timeout: 5000 });",
      "    return (await this.client.get(`/stock/${sku}`)).data;"},
     SL_TAIL(kTailAxios),
     0},
    {NODE,
     "error",
     "",
     "duplicate key value violates unique constraint \"shipments_order_id_key\"",
     {"    const { rows } = await this.pool.query(INSERT_SHIPMENT, values);",
      "  await db.query('INSERT INTO labels (shipment_id, url) VALUES ($1, $2)', [id, url]);", ""},
     SL_TAIL(kTailPg),
     0},
    {NODE,
     "Error",
     "",
     "connect ECONNREFUSED {ip}:5432",
     {"    const client = await this.pool.connect();", "  await pool.connect();", ""},
     SL_TAIL(kTailNet),
     0},
    {NODE,
     "ValidationError",
     "",
     "\"quantity\" must be greater than or equal to {i}",
     {"  if (error) throw new ValidationError(error.details[0].message);",
      "    if (result.error) throw new ValidationError(result.error.message);", ""},
     {nullptr, 0},
     0},
    {NODE,
     "NotFoundError",
     "",
     "Order {i} not found",
     {"  if (!order) throw new NotFoundError(`Order ${orderId} not found`);",
      "    if (!row) throw new NotFoundError(`Order ${id} not found`);", ""},
     {nullptr, 0},
     0},
    {NODE,
     "TimeoutError",
     "",
     "Operation timed out after {i} ms",
     {"    await withTimeout(this.carrier.createLabel(req), 5000);",
      "  const result = await pTimeout(send(message), { milliseconds: 8000 });", ""},
     {nullptr, 0},
     0},
};
constexpr int kNumExcKinds = sizeof kExcKinds / sizeof kExcKinds[0];

// Templates of exceptions captured without a traceback (grouped by type and normalized value;
// {fn} makes each bug's value distinct, the rest normalizes away).
struct Stackless {
  const char* type;
  const char* module;
  const char* value;
};
const Stackless kStackless[] = {
    {"PaymentError", "billing.errors", "{fn} failed for order {i} after {f} seconds"},
    {"SyncError", "worker.errors", "{fn}: upstream answered 503 for account {u}"},
    {"RuntimeError", "", "{fn} gave up on {url} at {d}"},
    {"LookupError", "", "{fn} found no customer for {e}"},
};

// Message templates (placeholders as above, all of them normalized by grouping). Python
// logging events use the same text with %s for each placeholder (the template is grouped).
const char* const kMessages[] = {
    "Payment {i} declined for customer {e}",
    "Retrying webhook delivery to {url} (attempt {i} of 5)",
    "Stock for product {i} below threshold: {i} left",
    "Slow checkout for cart {u}: {f} seconds",
    "Rate limit exceeded for user {i} from {ip}",
    "Invoice {i} total mismatch: expected {f}, got {f}",
    "Export job {u} finished with {i} errors",
    "Could not reach {url}: timed out after {i} ms",
    "Session {md5} expired at {d}",
    "Discount code applied twice to order {i}",
    "Carrier rejected address for shipment {i} ({ip})",
    "Fallback pricing used for {i} items at {d}",
};
const char* const kMsgAreas[] = {"checkout", "billing", "inventory", "accounts", "shipping",
                                 "search",   "exports", "webhooks",  "payouts",  "catalog"};

// Installed modules as the SDKs report them.
const char* const kPyModulesDjango =
    R"({"asgiref":"3.7.2","billiard":"4.2.0","boto3":"1.34.51","botocore":"1.34.51",)"
    R"("celery":"5.3.6","certifi":"2024.2.2","cffi":"1.16.0","charset-normalizer":"3.3.2",)"
    R"("click":"8.1.7","cryptography":"42.0.5","django":"4.2.11",)"
    R"("django-cors-headers":"4.3.1","django-environ":"0.11.2","django-filter":"23.5",)"
    R"("django-redis":"5.4.0","djangorestframework":"3.14.0","drf-spectacular":"0.27.1",)"
    R"("gunicorn":"21.2.0","idna":"3.6","inflection":"0.5.1","jmespath":"1.0.1",)"
    R"("jsonschema":"4.21.1","kombu":"5.3.5","packaging":"24.0","pip":"24.0",)"
    R"("psycopg2-binary":"2.9.9","pycparser":"2.21","pyjwt":"2.8.0",)"
    R"("python-dateutil":"2.9.0.post0","pytz":"2024.1","pyyaml":"6.0.1","redis":"5.0.3",)"
    R"("requests":"2.31.0","s3transfer":"0.10.0","sentry-sdk":"1.9.10","setuptools":"69.1.1",)"
    R"("six":"1.16.0","sqlparse":"0.4.4","stripe":"8.7.0","typing-extensions":"4.10.0",)"
    R"("tzdata":"2024.1","uritemplate":"4.1.1","urllib3":"2.0.7","vine":"5.1.0",)"
    R"("wheel":"0.42.0"})";
const char* const kPyModulesFlask =
    R"({"argon2-cffi":"23.1.0","bcrypt":"4.1.2","blinker":"1.7.0","certifi":"2024.2.2",)"
    R"("cffi":"1.16.0","click":"8.1.7","cryptography":"42.0.5","flask":"3.0.2",)"
    R"("flask-cors":"4.0.0","flask-limiter":"3.5.1","flask-sqlalchemy":"3.1.1",)"
    R"("greenlet":"3.0.3","gunicorn":"21.2.0","idna":"3.6","itsdangerous":"2.1.2",)"
    R"("jinja2":"3.1.3","limits":"3.10.0","markupsafe":"2.1.5","marshmallow":"3.21.1",)"
    R"("packaging":"24.0","pip":"24.0","psycopg2-binary":"2.9.9","pyjwt":"2.8.0",)"
    R"("redis":"5.0.3","requests":"2.31.0","sentry-sdk":"1.9.10","setuptools":"69.1.1",)"
    R"("sqlalchemy":"2.0.28","typing-extensions":"4.10.0","urllib3":"2.0.7",)"
    R"("werkzeug":"3.0.1","wheel":"0.42.0"})";
const char* const kPyModulesCelery =
    R"({"amqp":"5.2.0","billiard":"4.2.0","boto3":"1.34.51","botocore":"1.34.51",)"
    R"("celery":"5.3.6","certifi":"2024.2.2","click":"8.1.7","click-didyoumean":"0.3.0",)"
    R"("click-plugins":"1.1.1","click-repl":"0.3.0","django":"4.2.11",)"
    R"("hubspot-api-client":"8.2.1","idna":"3.6","jmespath":"1.0.1","kombu":"5.3.5",)"
    R"("openpyxl":"3.1.2","pandas":"2.2.1","numpy":"1.26.4","pip":"24.0",)"
    R"("prompt-toolkit":"3.0.43","psycopg2-binary":"2.9.9","python-dateutil":"2.9.0.post0",)"
    R"("pytz":"2024.1","redis":"5.0.3","requests":"2.31.0","s3transfer":"0.10.0",)"
    R"("sentry-sdk":"1.9.10","setuptools":"69.1.1","six":"1.16.0","tzdata":"2024.1",)"
    R"("urllib3":"2.0.7","vine":"5.1.0","wcwidth":"0.2.13","wheel":"0.42.0"})";
const char* const kNodeModules =
    R"({"@sentry/node":"11.12.0","@sentry/core":"11.12.0","@sentry/opentelemetry":"11.12.0",)"
    R"("@sentry/server-utils":"11.12.0","@opentelemetry/api":"1.9.1",)"
    R"("@opentelemetry/core":"2.2.0","@opentelemetry/instrumentation":"0.223.0",)"
    R"("@opentelemetry/instrumentation-http":"0.223.0",)"
    R"("@opentelemetry/sdk-trace-base":"2.2.0","axios":"1.7.9","body-parser":"1.20.3",)"
    R"("compression":"1.7.5","cookie-parser":"1.4.7","cors":"2.8.5","dotenv":"16.4.7",)"
    R"("express":"4.21.2","express-rate-limit":"7.5.0","helmet":"8.0.0","ioredis":"5.4.2",)"
    R"("joi":"17.13.3","jsonwebtoken":"9.0.2","kafkajs":"2.2.4","lodash":"4.17.21",)"
    R"("luxon":"3.5.0","morgan":"1.10.0","nanoid":"5.0.9","p-retry":"6.2.1",)"
    R"("p-timeout":"6.1.3","pg":"8.13.1","pino":"9.6.0","pino-http":"10.3.0",)"
    R"("prom-client":"15.1.3","uuid":"11.0.5","zod":"3.24.1"})";
const char* const kPyIntegrations[] = {
    R"(["argv","atexit","dedupe","django","excepthook","logging","modules","redis","stdlib",)"
    R"("threading"])",
    R"(["argv","atexit","dedupe","excepthook","flask","logging","modules","redis",)"
    R"("sqlalchemy","stdlib","threading"])",
    R"(["argv","atexit","celery","dedupe","excepthook","logging","modules","redis","stdlib",)"
    R"("threading"])",
};
const char* const kNodeIntegrations =
    R"(["EventFilters","FunctionToString","LinkedErrors","Dedupe","RequestData",)"
    R"("NodeSystemError","Console","Http","NodeFetch","OnUncaughtException",)"
    R"("OnUnhandledRejection","ContextLines","LocalVariablesAsync","Context","ChildProcess",)"
    R"("ProcessSession","Modules","Express","Postgres","Redis","Kafka","SpanStreaming"])";

// SQL of query breadcrumbs (python) and paths of outgoing HTTP calls.
const char* const kSql[] = {
    "SELECT \"billing_invoice\".\"id\", \"billing_invoice\".\"number\", "
    "\"billing_invoice\".\"customer_id\", \"billing_invoice\".\"status\", "
    "\"billing_invoice\".\"total\" FROM \"billing_invoice\" WHERE \"billing_invoice\".\"id\" = "
    "%s LIMIT 21",
    "SELECT \"auth_user\".\"id\", \"auth_user\".\"email\", \"auth_user\".\"is_active\" FROM "
    "\"auth_user\" WHERE \"auth_user\".\"id\" = %s LIMIT 21",
    "UPDATE \"billing_subscription\" SET \"status\" = %s, \"updated_at\" = %s WHERE "
    "\"billing_subscription\".\"id\" = %s",
    "SELECT COUNT(*) AS \"__count\" FROM \"billing_invoiceline\" WHERE "
    "\"billing_invoiceline\".\"invoice_id\" = %s",
    "INSERT INTO \"billing_payment\" (\"invoice_id\", \"amount\", \"currency\", \"created_at\") "
    "VALUES (%s, %s, %s, %s) RETURNING \"billing_payment\".\"id\"",
    "SELECT \"accounts_session\".\"id\", \"accounts_session\".\"user_id\", "
    "\"accounts_session\".\"expires_at\" FROM \"accounts_session\" WHERE "
    "\"accounts_session\".\"token\" = %s",
};
const char* const kHttpCalls[] = {
    "https://api.stripe.com/v1/customers/cus_{s}",
    "https://api.stripe.com/v1/payment_intents",
    "http://inventory.shop.svc:8000/api/stock/{i}",
    "http://pricing.shop.svc:8080/v2/quote",
    "https://api.hubapi.com/crm/v3/objects/contacts/{i}",
    "http://auth.shop.svc:8080/introspect",
};
const char* const kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "shop-ios/4.12.0 (iPhone15,2; iOS 18.1)",
    "okhttp/4.12.0",
};
const char* const kFirst[] = {"anna", "ben",  "chloe", "david", "emma", "felix", "grace",
                              "hugo", "isla", "jonas", "katie", "liam", "mia",   "noah"};
const char* const kLast[] = {"smith",   "muller", "garcia", "rossi",  "dubois", "kowalski",
                             "nielsen", "silva",  "tanaka", "okafor", "novak",  "larsen"};
const char* const kCurrencies[] = {"'EUR'", "'USD'", "'GBP'", "'SEK'", "'CHF'"};
const char* const kProps[] = {"id", "items", "price", "address", "length", "email", "sku"};

// ---------------------------------------------------------------------------------------------
// Generated code: a frame with its source context.
struct Frame {
  std::string filename, abs_path, module, function, context_line;
  std::vector<std::string> pre, post;
  int lineno = 0, colno = 0;
  int in_app = -1;            // 1 / 0 as sent; -1 = not sent
  bool app = false;           // in-app code: line numbers shift between releases
  int shift = 0;              // lines added per release above this frame
  std::vector<VarSpec> vars;  // python only
};
struct Exc {
  std::string type, module, value_tpl;
  std::vector<Frame> frames;  // outermost first
  bool stack = true;
  std::string mechanism;  // python: "" = null; node: "generic"
  int handled = -1;       // -1 = not sent
  bool synthetic = false;
  std::string kind_prop;  // placeholder values fixed per bug ({prop}, {status})
  std::string kind_status;
};
enum BugKind { B_EXC, B_STACKLESS, B_MSG_PY, B_MSG_LOG, B_MSG_NODE };
struct Bug {
  BugKind kind;
  Plat plat;
  int svc;
  int route;
  std::vector<Exc> excs;            // Sentry order: the cause first, the outermost exception last
  std::string message;              // message template ({i}...); for B_MSG_LOG with %s
  std::vector<std::string> params;  // B_MSG_LOG: placeholder of each %s
  std::string logger;
  std::string level = "error";
  std::string fn;  // the unique in-app function
};

// Python and JS filler lines around generated code ({p} = a parameter, {fn} = the function).
const char* const kPyFill[] = {
    "        if not {p}:",
    "            raise ValidationError(\"{p} is required\")",
    "        log.info(\"%s: processing %s\", \"{fn}\", {p})",
    "        {p} = self._normalize({p})",
    "        with transaction.atomic():",
    "        started = time.monotonic()",
    "        metrics.incr(\"{fn}.calls\")",
    "        result = None",
    "        cache_key = f\"{fn}:{{p}}\"",
    "        if settings.DEBUG:",
    "            log.debug(\"%r\", {p})",
    "        self._check_permissions({p})",
    "        retries = 0",
    "",
};
const char* const kPyAfter[] = {
    "        log.debug(\"{fn} took %.3fs\", time.monotonic() - started)",
    "        return result",
    "",
    "    def _normalize(self, value):",
    "        return value.strip() if isinstance(value, str) else value",
    "        except (KeyError, ValueError):",
    "            log.warning(\"{fn}: bad input\", exc_info=True)",
    "            raise",
    "        self._audit(\"{fn}\", {p})",
    "        return Response(serializer.data, status=status.HTTP_200_OK)",
};
const char* const kJsFill[] = {
    "    const started = Date.now();",
    "    logger.debug({ {p} }, '{fn}');",
    "    if (!{p}) throw new NotFoundError('{p}');",
    "    const key = `{fn}:${{p}.id}`;",
    "    await this.cache.del(key);",
    "    const span = tracer.startSpan('{fn}');",
    "    let attempt = 0;",
    "    metrics.increment('{fn}.calls');",
    "",
};
const char* const kJsAfter[] = {
    "    span.end();",
    "    logger.info({ ms: Date.now() - started }, '{fn} done');",
    "    return result;",
    "  }",
    "",
    "  async {fn}Batch(list) {",
    "    return Promise.all(list.map((x) => this.{fn}(x)));",
    "  }",
};
const char* const kJsParams[] = {"cart", "order", "req",     "payload", "shipment",
                                 "user", "item",  "message", "rate",    "address"};

std::string Subst(std::string s, const std::string& p, const std::string& fn) {
  for (size_t at; (at = s.find("{p}")) != std::string::npos;) s.replace(at, 3, p);
  for (size_t at; (at = s.find("{fn}")) != std::string::npos;) s.replace(at, 4, fn);
  return s;
}

class World {
 public:
  World(uint64_t seed, uint32_t issues) {
    Rng r(seed * 0x9e3779b97f4a7c15ULL + 0x5eed);
    n_msgs_ = std::max<uint32_t>(1, issues / 10);
    n_excs_ = issues - n_msgs_;
    uint32_t py_slot = 0, node_slot = 0;
    for (uint32_t b = 0; b < n_excs_; ++b) {
      Bug bug;
      bug.plat = r.chance(550) ? PY : NODE;
      bug.svc = bug.plat == PY ? r.pick(kPySvcs) : r.pick(kNodeSvcs);
      bug.route = PickRoute(r, bug.svc);
      bug.fn = FuncName(bug.plat, bug.plat == PY ? py_slot++ : node_slot++);
      if (bug.plat == PY && r.chance(50)) {
        bug.kind = B_STACKLESS;
        const Stackless& k = r.pick(kStackless);
        Exc e;
        e.type = k.type;
        e.module = k.module;
        e.value_tpl = Subst(k.value, "", bug.fn);
        e.stack = false;
        bug.excs.push_back(std::move(e));
      } else {
        bug.kind = B_EXC;
        BuildExceptionBug(r, &bug);
      }
      bugs_.push_back(std::move(bug));
    }
    for (uint32_t m = 0; m < n_msgs_; ++m) {
      Bug bug;
      const uint32_t t = m % (sizeof kMessages / sizeof kMessages[0]);
      const uint32_t area = (m / (sizeof kMessages / sizeof kMessages[0])) % 10;
      const uint32_t extra = m / (10 * (sizeof kMessages / sizeof kMessages[0]));
      std::string text = std::string("[") + kMsgAreas[area] + "] " + kMessages[t];
      if (extra) text += " (shard" + Letters(extra) + ")";
      uint32_t roll = r.below(10);
      bug.kind = roll < 4 ? B_MSG_PY : roll < 7 ? B_MSG_LOG : B_MSG_NODE;
      bug.plat = bug.kind == B_MSG_NODE ? NODE : PY;
      bug.svc = bug.plat == PY ? r.pick(kPySvcs) : r.pick(kNodeSvcs);
      bug.route = PickRoute(r, bug.svc);
      bug.level = r.chance(600) ? "warning" : r.chance(500) ? "error" : "info";
      if (bug.kind == B_MSG_LOG) {
        // "{i}" -> "%s" with the placeholder kept for the params.
        std::string tpl;
        for (size_t i = 0; i < text.size();) {
          if (text[i] == '{') {
            size_t e = text.find('}', i);
            bug.params.push_back(text.substr(i, e - i + 1));
            tpl += "%s";
            i = e + 1;
          } else {
            tpl.push_back(text[i++]);
          }
        }
        text = tpl;
        bug.level = r.chance(700) ? "error" : "warning";
        bug.logger =
            kSvcs[bug.svc].modules[r.below(static_cast<uint32_t>(kSvcs[bug.svc].modules.size()))];
      }
      bug.message = text;
      if (bug.kind == B_MSG_NODE) {
        // captureMessage: a synthetic exception with the call site's stack.
        bug.fn = FuncName(NODE, node_slot++);
        Exc e;
        e.value_tpl = text;
        e.mechanism = "generic";
        e.handled = 1;
        e.synthetic = true;
        BuildStack(r, bug, nullptr, "    Sentry.captureMessage(msg, '" + bug.level + "');", &e);
        bug.excs.push_back(std::move(e));
      }
      bugs_.push_back(std::move(bug));
    }
    // Popularity: rank -> bug, exceptions and messages separately.
    for (uint32_t i = 0; i < n_excs_; ++i) exc_rank_.push_back(i);
    for (uint32_t i = 0; i < n_msgs_; ++i) msg_rank_.push_back(n_excs_ + i);
    for (uint32_t i = n_excs_; i > 1; --i) std::swap(exc_rank_[i - 1], exc_rank_[r.below(i)]);
    for (uint32_t i = n_msgs_; i > 1; --i) std::swap(msg_rank_[i - 1], msg_rank_[r.below(i)]);
  }

  const Bug& bug(uint32_t i) const { return bugs_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(bugs_.size()); }
  // The bug of an event: 10 % messages; log-uniform popularity.
  uint32_t Sample(Rng& r) const {
    if (r.chance(100)) return msg_rank_[r.zipf(n_msgs_) - 1];
    return exc_rank_[r.zipf(n_excs_) - 1];
  }

 private:
  static int PickRoute(Rng& r, int svc) {
    int n = 0;
    for (const Route& rt : kRoutes) n += rt.svc == svc;
    int k = static_cast<int>(r.below(static_cast<uint32_t>(n)));
    for (int i = 0; i < kNumRoutes; ++i) {
      if (kRoutes[i].svc == svc && k-- == 0) return i;
    }
    return 0;
  }

  void BuildExceptionBug(Rng& r, Bug* bug) {
    int kind;
    do kind = static_cast<int>(r.below(kNumExcKinds));
    while (kExcKinds[kind].plat != bug->plat);
    const ExcKind& k = kExcKinds[kind];
    int nlines = k.lines[2][0] ? 3 : k.lines[1][0] ? 2 : 1;
    std::string crash = k.lines[r.below(static_cast<uint32_t>(nlines))];
    Exc e;
    e.type = k.type;
    e.module = k.module;
    e.value_tpl = k.value;
    e.kind_prop = r.pick(kProps);
    static const char* const kStatus[] = {"500", "502", "503", "504", "404", "409"};
    e.kind_status = r.pick(kStatus);
    if (bug->plat == NODE) {
      e.mechanism = r.chance(400) ? "auto.http.express.onerror" : "generic";
      e.handled = e.mechanism == "generic" ? 1 : 0;
    } else {
      const Framework fw = kSvcs[bug->svc].fw;
      e.mechanism = fw == DJANGO ? "django" : fw == FLASK ? "flask" : "celery";
      e.handled = 0;
      if (r.chance(300)) {  // caught and passed to capture_exception
        e.mechanism = "";
        e.handled = -1;
      }
    }
    BuildStack(r, *bug, &k, crash, &e);
    if (k.chained == 1) {
      // psycopg2's UniqueViolation, caught by Django and re-raised as IntegrityError: its own
      // traceback is the one frame where it was raised.
      Exc cause;
      cause.type = "UniqueViolation";
      cause.module = "psycopg2.errors";
      cause.value_tpl = k.value;
      cause.mechanism = e.mechanism;
      cause.handled = e.handled;
      const LibFrame& lf = kTailSave[2];
      cause.frames.push_back(FromLib(r, lf));
      bug->excs.push_back(std::move(cause));
    }
    bug->excs.push_back(std::move(e));
  }

  // The stack of bug `b` (outermost first): framework frames, the handler, 0-2 middle frames,
  // the crashing frame (named b.fn, context `crash`), and the kind's library tail.
  void BuildStack(Rng& r, const Bug& b, const ExcKind* k, const std::string& crash, Exc* e) {
    const Svc& svc = kSvcs[b.svc];
    const Route& rt = kRoutes[b.route];
    const bool async_node = b.plat == NODE && r.chance(500);
    if (b.plat == PY) {
      const LibFrame* fw = svc.fw == DJANGO ? kDjango : svc.fw == FLASK ? kFlask : kCelery;
      int n = svc.fw == DJANGO ? 8 : svc.fw == FLASK ? 4 : 3;
      for (int i = 0; i < n; ++i) e->frames.push_back(FromLib(r, fw[i]));
    } else if (async_node) {
      e->frames.push_back(FromLib(r, kAsyncTail[0]));
    } else {
      const LibFrame* fw = svc.fw == EXPRESS ? kExpress : kConsumer;
      int n = svc.fw == EXPRESS ? 7 : 2;
      for (int i = 0; i < n; ++i) e->frames.push_back(FromLib(r, fw[i]));
    }
    // In-app: handler, middle frames, crashing frame.
    std::vector<std::pair<std::string, std::string>> chain;  // (module, function)
    chain.emplace_back(rt.module, rt.function);
    int middle = static_cast<int>(r.below(3));
    for (int i = 0; i < middle; ++i) {
      std::string mod = svc.modules[r.below(static_cast<uint32_t>(svc.modules.size()))];
      chain.emplace_back(mod, FuncName(b.plat, r.below(kNV * kNN)));
    }
    chain.emplace_back(svc.modules[r.below(static_cast<uint32_t>(svc.modules.size()))], b.fn);
    for (size_t i = 0; i < chain.size(); ++i) {
      const bool last = i + 1 == chain.size();
      std::string line =
          last ? crash : CallLine(r, b.plat, chain[i + 1].first, chain[i + 1].second, async_node);
      e->frames.push_back(
          AppFrame(r, b, chain[i].first, chain[i].second, line, i == 0, async_node && i > 0));
    }
    if (k && k->tail.f) {
      for (int i = 0; i < k->tail.n; ++i) e->frames.push_back(FromLib(r, k->tail.f[i]));
    }
  }

  static std::string CallLine(Rng& r, Plat p, const std::string& module, const std::string& fn,
                              bool async_node) {
    if (p == PY) {
      static const char* const kLhs[] = {"result", "invoice", "data", "payload", "resp", "rows"};
      std::string obj = module.substr(module.rfind('.') + 1);
      return std::string("        ") + r.pick(kLhs) + " = " + obj + "." + fn + "(" +
             kParams[r.below(sizeof kParams / sizeof kParams[0])].name + ")";
    }
    std::string obj = ClassOf(NODE, module);
    obj[0] = static_cast<char>(tolower(obj[0]));
    return std::string("    const result = ") + (async_node ? "await " : "") + "this." + obj + "." +
           fn + "(" + r.pick(kJsParams) + ");";
  }

  Frame AppFrame(Rng& r, const Bug& b, const std::string& module, const std::string& fn,
                 const std::string& line, bool handler, bool async_frame) {
    Frame f;
    f.app = true;
    f.in_app = 1;
    f.lineno = static_cast<int>(r.range(18, 420));
    f.shift = static_cast<int>(r.below(14));
    const Svc& svc = kSvcs[b.svc];
    if (b.plat == PY) {
      std::string path = module;
      std::replace(path.begin(), path.end(), '.', '/');
      f.filename = path + ".py";
      f.abs_path = "/srv/app/" + f.filename;
      f.module = module;
      f.function = fn;
      // Vars: self (or the request for flask views), then 1-3 parameters and locals.
      const bool flask_view = svc.fw == FLASK && handler;
      const bool task = svc.fw == CELERY && handler;
      if (task) {
        f.vars.push_back({"self", V_FIXED,
                          "<@task: " + std::string(kRoutes[b.route].transaction) +
                              " of worker at 0x7f0e6b9d3c50>"});
      } else if (!flask_view) {
        f.vars.push_back({"self", V_OBJ, module + "." + ClassOf(PY, module)});
      }
      if (handler && svc.fw == DJANGO) {
        f.vars.push_back({"request", V_REQ, ""});
        f.vars.push_back({"pk", V_STRID, ""});
      }
      int np = static_cast<int>(r.range(1, 3));
      std::string first_param = "value";
      for (int i = 0; i < np; ++i) {
        const Param& p = kParams[r.below(sizeof kParams / sizeof kParams[0])];
        if (i == 0) first_param = p.name;
        bool dup = false;
        for (const auto& v : f.vars) dup |= v.name == p.name;
        if (!dup) f.vars.push_back({p.name, p.kind, p.text});
      }
      if (r.chance(500)) f.vars.push_back({"started", V_FIXED, "1795612643.2718"});
      std::string def = handler && svc.fw != DJANGO
                            ? "def " + fn + "(" + first_param + "):"
                            : "    def " + fn + "(self, " + first_param + "):";
      if (task) def = "def " + fn + "(self, " + first_param + "):";
      f.pre.push_back(def);
      f.pre.push_back(std::string(handler ? "    " : "        ") + "\"\"\"" +
                      CamelNoun(fn.c_str()) + " for the given " + first_param + ".\"\"\"");
      for (int i = 0; i < 3; ++i) f.pre.push_back(Subst(r.pick(kPyFill), first_param, fn));
      f.context_line = line;
      for (int i = 0; i < 5; ++i) f.post.push_back(Subst(r.pick(kPyAfter), first_param, fn));
    } else {
      f.filename = "/usr/src/app/dist/" + module + ".js";
      f.abs_path = "";
      std::string dir = module.substr(0, module.rfind('/'));
      std::replace(dir.begin(), dir.end(), '/', '.');
      f.module = "dist." + dir + ":" + module.substr(module.rfind('/') + 1);
      std::string prefix = async_frame ? "async " : "";
      f.function = handler ? prefix + fn : prefix + ClassOf(NODE, module) + "." + fn;
      f.colno = static_cast<int>(r.range(5, 40));
      const char* p = r.pick(kJsParams);
      f.pre.push_back(handler ? "async function " + fn + "(req, res) {"
                              : "  async " + fn + "(" + p + ") {");
      for (int i = 0; i < 4; ++i) f.pre.push_back(Subst(r.pick(kJsFill), p, fn));
      f.context_line = line;
      for (int i = 0; i < 5; ++i) f.post.push_back(Subst(r.pick(kJsAfter), p, fn));
    }
    return f;
  }

  static Frame FromLib(Rng& r, const LibFrame& l) {
    Frame f;
    f.function = l.function;
    f.lineno = l.lineno;
    f.colno = l.colno;
    f.module = l.module;
    switch (l.kind) {
      case PYLIB:
      case PYSTD:
        f.filename = l.path;
        f.abs_path = std::string(l.kind == PYLIB ? "/usr/local/lib/python3.11/site-packages/"
                                                 : "/usr/local/lib/python3.11/") +
                     l.path;
        f.in_app = 0;
        f.context_line = l.context;
        for (int i = 0; i < 5; ++i) f.pre.push_back(Subst(r.pick(kPyFill), "value", l.function));
        for (int i = 0; i < 5; ++i) f.post.push_back(Subst(r.pick(kPyAfter), "value", l.function));
        for (std::string_view v = l.vars; !v.empty();) {
          size_t bar = v.find('|');
          std::string_view item = v.substr(0, bar);
          size_t eq = item.find('=');
          std::string val(item.substr(eq + 1));
          VarSpec vs{std::string(item.substr(0, eq)), V_FIXED, val};
          if (val == "@req") vs.kind = V_REQ;
          f.vars.push_back(std::move(vs));
          if (bar == std::string_view::npos) break;
          v.remove_prefix(bar + 1);
        }
        break;
      case NODELIB:
        f.filename = std::string("/usr/src/app/node_modules/") + l.path;
        f.in_app = 0;
        break;
      case NODEINT:
      case NODEANON:
        f.filename = l.path;
        f.in_app = 0;
        if (l.kind == NODEANON) f.lineno = f.colno = 0;
        break;
    }
    return f;
  }

  std::vector<Bug> bugs_;
  uint32_t n_excs_ = 0, n_msgs_ = 0;
  std::vector<uint32_t> exc_rank_, msg_rank_;
};

// ---------------------------------------------------------------------------------------------
// Events.
struct GenFlags {
  uint64_t seed = 42;
  uint32_t issues = 200;
  uint64_t events = 200000;
  uint64_t window_s = 3600;
  int64_t end_ns = 1795564800000000000LL;  // 2026-11-25T00:00:00Z
};

enum Format { F_STORE, F_ENVELOPE, F_SDK };

struct Event {
  uint32_t bug = 0;
  Plat plat = PY;
  std::string event_id;
  std::string trace_id;
  std::string release;
  std::string environment;
  int64_t ts_ns = 0;
  std::string json;  // the event payload (what /store/ gets, the envelope's event item)
};

class Generator {
 public:
  explicit Generator(const GenFlags& f) : f_(f), world_(f.seed, f.issues) {}
  const World& world() const { return world_; }

  // Event i (a pure function of the flags and i).
  void Make(uint64_t i, Event* ev) const {
    Rng r(f_.seed ^ (0xd1b54a32d192ed03ULL * (i + 1)));
    ev->bug = world_.Sample(r);
    const Bug& b = world_.bug(ev->bug);
    ev->plat = b.plat;
    const Svc& svc = kSvcs[b.svc];
    const uint64_t window_ns = f_.window_s * 1000000000ULL;
    const uint64_t step = window_ns / std::max<uint64_t>(1, f_.events);
    ev->ts_ns = f_.end_ns - static_cast<int64_t>(window_ns) + static_cast<int64_t>(i * step) +
                static_cast<int64_t>(step ? r.next() % step : 0);
    ev->event_id = Uuid4Hex(r);
    ev->trace_id = Uuid4Hex(r);
    const uint32_t rel = r.below(10) < 2 ? 0 : r.below(10) < 5 ? 1 : 2;
    ev->release = std::string(svc.name) + "@" + svc.versions[rel];
    ev->environment = r.chance(920) ? "production" : "staging";
    Ctx c{r, b, svc, *ev, rel, 0, "", 1, "", ""};
    c.pod = r.below(3);
    Rng pod_rng(static_cast<uint64_t>(b.svc) * 16 + c.pod);
    c.server_name = std::string(svc.name) + "-" + kPodHash[b.svc] + "-" + Alnum(pod_rng, 5);
    for (char& ch : c.server_name) ch = static_cast<char>(tolower(ch));
    c.user = r.zipf(5000);
    c.span_id = Hex(r.next(), 16);
    c.path = FillPath(r, kRoutes[b.route].path);
    ev->json.clear();
    ev->json.reserve(12000);
    if (b.plat == PY) {
      PythonEvent(c, &ev->json);
    } else {
      NodeEvent(c, &ev->json);
    }
  }

  // The request line target and headers of an event of platform `plat` (they depend on the
  // platform only), and its body.
  struct Head {
    std::string target, headers;
    bool chunked = false;
  };
  static Head MakeHead(Plat plat, Format fmt, bool gzip, const std::string& key, int project) {
    const bool py = plat == PY;
    const bool envelope = fmt == F_ENVELOPE || (fmt == F_SDK && !py);
    const std::string client = py ? "sentry.python/1.9.10" : "sentry.javascript.node/11.12.0";
    Head h;
    if (!envelope || py) {
      h.target = "/api/" + std::to_string(project) + (envelope ? "/envelope/" : "/store/");
      h.headers = "Accept-Encoding: identity\r\nUser-Agent: " + client +
                  "\r\nX-Sentry-Auth: Sentry sentry_key=" + key +
                  ", sentry_version=7, sentry_client=" + client + "\r\nContent-Type: " +
                  (envelope ? "application/x-sentry-envelope" : "application/json") + "\r\n";
      if (gzip) h.headers += "Content-Encoding: gzip\r\n";
    } else {
      // @sentry/node 11: auth in the query string, chunked, no content type.
      h.target = "/api/" + std::to_string(project) +
                 "/envelope/?sentry_version=7&sentry_key=" + key +
                 "&sentry_client=sentry.javascript.node%2F11.12.0";
      h.headers = "user-agent: sentry.javascript.node/11.12.0\r\nConnection: keep-alive\r\n";
      if (gzip) h.headers += "content-encoding: gzip\r\n";
      h.chunked = true;
    }
    return h;
  }
  static std::string MakeBody(const Event& ev, Format fmt, bool gzip, const std::string& key) {
    const bool py = ev.plat == PY;
    const bool envelope = fmt == F_ENVELOPE || (fmt == F_SDK && !py);
    std::string body;
    if (!envelope) {
      body = ev.json;
    } else if (py) {
      // python 1.9: header {event_id, sent_at}, item header with length, trailing newline.
      body = "{\"event_id\":\"" + ev.event_id + "\",\"sent_at\":\"" +
             Rfc3339(ev.ts_ns + 2500000, 6) + "\"}\n";
      body += "{\"type\":\"event\",\"content_type\":\"application/json\",\"length\":" +
              std::to_string(ev.json.size()) + "}\n";
      body += ev.json;
      body += "\n";
    } else {
      // @sentry/node 11: header with the SDK and the dynamic sampling context; item header
      // without length; no final newline.
      body = "{\"event_id\":\"" + ev.event_id + "\",\"sent_at\":\"" +
             Rfc3339(ev.ts_ns + 33000000, 3) +
             "\",\"sdk\":{\"name\":\"sentry.javascript.node\",\"version\":\"11.12.0\"},"
             "\"trace\":{\"environment\":\"" +
             ev.environment + "\",\"release\":\"" + ev.release + "\",\"public_key\":\"" + key +
             "\",\"trace_id\":\"" + ev.trace_id + "\"}}\n{\"type\":\"event\"}\n";
      body += ev.json;
    }
    return gzip ? Gzip(body) : body;
  }

  static std::string Gzip(const std::string& in) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      fprintf(stderr, "errgen: deflateInit2 failed\n");
      exit(1);
    }
    std::string out(deflateBound(&zs, in.size()) + 32, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      fprintf(stderr, "errgen: deflate failed\n");
      exit(1);
    }
    return out;
  }

 private:
  struct Ctx {
    Rng& r;
    const Bug& b;
    const Svc& svc;
    Event& ev;
    uint32_t rel;
    uint32_t pod = 0;
    std::string server_name;
    uint32_t user = 1;
    std::string span_id;
    std::string path;
  };

  static std::string FillPath(Rng& r, const char* tpl) {
    std::string o;
    for (const char* p = tpl; *p; ++p) {
      if (p[0] == '{' && p[1] == 'i' && p[2] == '}') {
        o += std::to_string(r.range(1000, 99999));
        p += 2;
      } else if (p[0] == '{' && p[1] == 's' && p[2] == '}') {
        static const char* const kSlugs[] = {"trail-runner-2", "merino-crew-sock",
                                             "espresso-grinder", "rain-shell-m", "desk-lamp"};
        o += r.pick(kSlugs);
        p += 2;
      } else {
        o.push_back(*p);
      }
    }
    return o;
  }

  // Fills the value placeholders of `tpl` with fresh values.
  static std::string FillValue(Rng& r, const std::string& tpl, const Exc* e) {
    std::string o;
    o.reserve(tpl.size() + 32);
    for (size_t i = 0; i < tpl.size();) {
      if (tpl[i] != '{') {
        o.push_back(tpl[i++]);
        continue;
      }
      size_t end = tpl.find('}', i);
      if (end == std::string::npos) {
        o.append(tpl, i, std::string::npos);
        break;
      }
      std::string_view ph(tpl.data() + i + 1, end - i - 1);
      if (ph == "i") {
        o += std::to_string(r.zipf(99999));
      } else if (ph == "s") {
        o += Alnum(r, 10);
      } else if (ph == "u") {
        o += UuidDashed(r);
      } else if (ph == "f") {
        o += std::to_string(r.range(1, 9999)) + "." + std::to_string(r.range(10, 99));
      } else if (ph == "ip") {
        o += "10." + std::to_string(r.below(256)) + "." + std::to_string(r.below(256)) + "." +
             std::to_string(r.range(1, 254));
      } else if (ph == "e") {
        o += std::string(r.pick(kFirst)) + "." + r.pick(kLast) + std::to_string(r.below(100)) +
             "@example.com";
      } else if (ph == "h") {
        o += "0x7f" + Hex(r.next(), 10);
      } else if (ph == "d") {
        o +=
            Rfc3339(1795000000000000000LL + static_cast<int64_t>(r.next() % 900000000000000ULL), 3);
      } else if (ph == "md5") {
        o += Hex(r.next(), 16) + Hex(r.next(), 16);
      } else if (ph == "url") {
        static const char* const kHosts[] = {"hooks.partner-a.example.com", "api.crm.example.net",
                                             "erp.example.org"};
        o += std::string("https://") + r.pick(kHosts) + "/v1/events/" +
             std::to_string(r.zipf(99999)) + "?attempt=" + std::to_string(r.range(1, 5));
      } else if (ph == "prop" && e) {
        o += e->kind_prop;
      } else if (ph == "status" && e) {
        o += e->kind_status;
      } else {
        o.append(tpl, i, end - i + 1);  // not a placeholder (code in a message)
      }
      i = end + 1;
    }
    return o;
  }

  static std::string UserEmail(uint32_t u) {
    return std::string(kFirst[u % 14]) + "." + kLast[(u / 14) % 12] + std::to_string(u) +
           "@example.com";
  }
  static std::string UserIp(uint32_t u) {
    return "203.0." + std::to_string(113 + u % 3) + "." + std::to_string(1 + u % 250);
  }

  void PyVar(Ctx& c, J& j, const VarSpec& v) const {
    Rng& r = c.r;
    j.k(v.name);
    switch (v.kind) {
      case V_FIXED:
        if (v.text == "{}" || (!v.text.empty() && v.text[0] == '{' && v.text.back() == '}' &&
                               v.text.find("': ") != std::string::npos)) {
          // A dict repr: python serializes dicts as objects of reprs.
          j.ob();
          std::string_view t(v.text);
          t = t.substr(1, t.size() - 2);
          while (!t.empty()) {
            size_t colon = t.find("': ");
            if (colon == std::string_view::npos) break;
            std::string_view key = t.substr(1, colon - 1);
            t.remove_prefix(colon + 3);
            size_t comma = t.find(", '");
            std::string_view val = t.substr(0, comma);
            j.ks(key, val);
            if (comma == std::string_view::npos) break;
            t.remove_prefix(comma + 2);
          }
          j.oe();
        } else if (v.text == "@uuid") {
          j.s("'" + UuidDashed(r) + "'");
        } else {
          j.s(v.text);
        }
        break;
      case V_INT:
        j.s(std::to_string(r.zipf(99999)));
        break;
      case V_STRID: {
        static const char* const kPre[] = {"cus_", "ch_", "sub_", "", "ord_"};
        j.s("'" + std::string(r.pick(kPre)) + Alnum(r, 10) + "'");
        break;
      }
      case V_DEC:
        j.s("Decimal('" + std::to_string(r.range(1, 2999)) + "." + std::to_string(r.range(10, 99)) +
            "')");
        break;
      case V_OBJ:
        j.s("<" + v.text + " object at 0x7f" + Hex(r.next(), 10) + ">");
        break;
      case V_MODEL: {
        if (v.text == "User") {
          j.s("<User: " + UserEmail(c.user) + ">");
        } else {
          std::string up = v.text.substr(0, 3);
          for (char& ch : up) ch = static_cast<char>(toupper(ch));
          j.s("<" + v.text + ": " + up + "-2026-" + std::to_string(r.range(10000, 99999)) + ">");
        }
        break;
      }
      case V_REQ:
        if (kRoutes[c.b.route].method[0]) {
          j.s(std::string("<WSGIRequest: ") + kRoutes[c.b.route].method + " '" + c.path + "'>");
        } else {
          j.s("None");
        }
        break;
      case V_DICT:
        j.ob()
            .ks("sku", "'A-" + std::to_string(r.range(1000, 9999)) + "'")
            .ks("quantity", std::to_string(r.below(5)))
            .ks("note", "''")
            .oe();
        break;
      case V_LIST: {
        j.ab();
        uint32_t n = r.range(1, 4);
        for (uint32_t i = 0; i < n; ++i) j.s("'SKU-" + std::to_string(r.range(100, 999)) + "'");
        j.ae();
        break;
      }
      case V_BOOL:
        j.s(r.chance(500) ? "True" : "False");
        break;
      case V_STR:
        j.s(r.pick(kCurrencies));
        break;
    }
  }

  void Frames(Ctx& c, J& j, const Exc& e) const {
    const bool py = c.b.plat == PY;
    j.k("stacktrace").ob().k("frames").ab();
    for (const Frame& f : e.frames) {
      const int lineno = f.app ? f.lineno + static_cast<int>(c.rel) * f.shift : f.lineno;
      j.ob();
      if (py) {
        j.ks("filename", f.filename).ks("abs_path", f.abs_path).ks("function", f.function);
        j.ks("module", f.module).ki("lineno", lineno);
        j.k("pre_context").ab();
        for (const auto& l : f.pre) j.s(l);
        j.ae();
        j.ks("context_line", f.context_line);
        j.k("post_context").ab();
        for (const auto& l : f.post) j.s(l);
        j.ae();
        j.k("vars").ob();
        for (const auto& v : f.vars) PyVar(c, j, v);
        j.oe();
        j.kb("in_app", f.in_app == 1);
      } else {
        j.ks("filename", f.filename);
        if (!f.module.empty()) j.ks("module", f.module);
        j.ks("function", f.function);
        if (lineno) j.ki("lineno", lineno).ki("colno", f.colno);
        j.kb("in_app", f.in_app == 1);
        if (f.app) {
          j.k("pre_context").ab();
          for (const auto& l : f.pre) j.s(l);
          j.ae();
          j.ks("context_line", f.context_line);
          j.k("post_context").ab();
          for (const auto& l : f.post) j.s(l);
          j.ae();
        }
      }
      j.oe();
    }
    j.ae().oe();
  }

  void Exceptions(Ctx& c, J& j) const {
    const bool py = c.b.plat == PY;
    j.k("exception").ob().k("values").ab();
    // The cause and the outer exception of a chain share their (normalized) value.
    std::string shared;
    for (const Exc& e : c.b.excs) {
      std::string value = shared.empty() ? FillValue(c.r, e.value_tpl, &e) : shared;
      if (c.b.excs.size() > 1) shared = value;
      j.ob();
      if (py) {
        if (e.module.empty()) {
          j.k("module").null();
        } else {
          j.ks("module", e.module);
        }
        j.ks("type", e.type).ks("value", value);
        if (e.mechanism.empty()) {
          j.k("mechanism").null();
        } else {
          j.k("mechanism").ob().ks("type", e.mechanism).kb("handled", e.handled == 1).oe();
        }
        if (e.stack) Frames(c, j, e);
      } else {
        if (!e.type.empty()) j.ks("type", e.type);
        j.ks("value", value);
        if (e.stack) Frames(c, j, e);
        j.k("mechanism").ob().ks("type", e.mechanism).kb("handled", e.handled == 1);
        if (e.synthetic) j.kb("synthetic", true);
        j.oe();
      }
      j.oe();
    }
    j.ae().oe();
  }

  void PyBreadcrumbs(Ctx& c, J& j) const {
    Rng& r = c.r;
    uint32_t n = r.range(2, 12);
    int64_t t = c.ev.ts_ns - static_cast<int64_t>(n) * 40000000;
    j.k("breadcrumbs").ob().k("values").ab();
    for (uint32_t i = 0; i < n; ++i) {
      t += r.range(1, 80) * 1000000 + r.below(1000) * 1000;
      std::string ts = Rfc3339(t, 6);
      uint32_t kind = r.below(10);
      j.ob();
      if (kind < 5) {
        j.ks("message", r.pick(kSql)).ks("category", "query");
        j.k("data").ob().k("db.params").ab().s(std::to_string(r.zipf(99999))).ae();
        j.kb("db.executemany", false).oe();
        j.ks("type", "default");
      } else if (kind < 7) {
        j.ks("type", "http").ks("category", "httplib");
        const uint32_t status = r.chance(900) ? 200 : 502;
        j.k("data").ob().ks("url", FillValue(r, r.pick(kHttpCalls), nullptr));
        j.ks("method", r.chance(500) ? "GET" : "POST").ki("status_code", status);
        j.ks("reason", status == 200 ? "OK" : "Bad Gateway").oe();
      } else if (kind < 9) {
        j.ks("type", "log").ks("level", r.chance(800) ? "info" : "warning");
        j.ks("category", c.svc.modules[r.below(static_cast<uint32_t>(c.svc.modules.size()))]);
        j.ks("message", FillValue(r, "processing {i} for customer {e}", nullptr));
        j.k("data").ob().oe();
      } else {
        std::string key = "session:" + Alnum(r, 12);
        j.ks("type", "redis").ks("category", "redis").ks("message", "GET '" + key + "'");
        j.k("data").ob().ks("redis.key", key).ks("redis.command", "GET");
        j.kb("redis.is_cluster", false).oe();
      }
      j.ks("timestamp", ts);
      j.oe();
    }
    j.ae().oe();
  }

  void NodeBreadcrumbs(Ctx& c, J& j) const {
    Rng& r = c.r;
    uint32_t n = r.range(2, 10);
    int64_t t = c.ev.ts_ns - static_cast<int64_t>(n) * 40000000;
    j.k("breadcrumbs").ab();  // @sentry/node sends a bare list
    for (uint32_t i = 0; i < n; ++i) {
      t += r.range(1, 80) * 1000000;
      uint32_t kind = r.below(10);
      j.ob().kraw("timestamp", EpochMs(t));
      if (kind < 5) {
        const uint32_t status = r.chance(900) ? 200 : 503;
        j.ks("category", "http").k("data").ob().ks("http.method", r.chance(600) ? "GET" : "POST");
        j.ks("url", FillValue(r, r.pick(kHttpCalls), nullptr)).ki("status_code", status).oe();
        j.ks("type", "http");
      } else if (kind < 8) {
        std::string msg = FillValue(r, "cart {i} loaded in {i} ms", nullptr);
        j.ks("category", "console").ks("level", "log").ks("message", msg);
        j.k("data").ob().k("arguments").ab().s(msg).ae().ks("logger", "console").oe();
      } else {
        j.ks("category", "auth").ks("message", "token refreshed").ks("level", "info");
      }
      j.oe();
    }
    j.ae();
  }

  void PythonEvent(Ctx& c, std::string* out) const {
    Rng& r = c.r;
    const Bug& b = c.b;
    const Route& rt = kRoutes[b.route];
    J j(out);
    j.ob();
    if (b.kind == B_MSG_PY) {
      j.ks("message", FillValue(r, b.message, nullptr)).ks("level", b.level);
    } else if (b.kind == B_MSG_LOG) {
      j.ks("level", b.level).ks("logger", b.logger);
      j.k("logentry").ob().ks("message", b.message).k("params").ab();
      for (const auto& p : b.params) {
        std::string v = FillValue(r, p, nullptr);
        if (p == "{i}") {
          j.raw(v);
        } else {
          j.s(v);
        }
      }
      j.ae().oe();
    } else {
      j.ks("level", "error");
      Exceptions(c, j);
    }
    j.ks("event_id", c.ev.event_id).ks("timestamp", Rfc3339(c.ev.ts_ns, 6));
    PyBreadcrumbs(c, j);
    j.k("user").ob().ks("id", std::to_string(10000 + c.user)).ks("email", UserEmail(c.user));
    if (c.svc.fw != CELERY) j.ks("ip_address", UserIp(c.user));
    j.oe();
    if (rt.method[0]) {
      j.k("request").ob();
      j.ks("url", std::string("https://") + c.svc.host + c.path).ks("query_string", "");
      j.ks("method", rt.method);
      j.k("env").ob().ks("SERVER_NAME", c.server_name).ks("SERVER_PORT", "8000").oe();
      j.k("headers").ob().ks("Host", c.svc.host).ks("User-Agent", r.pick(kUserAgents));
      j.ks("Accept", "application/json").ks("Accept-Encoding", "gzip, deflate, br");
      j.ks("Content-Type", "application/json").ks("X-Forwarded-For", UserIp(c.user));
      j.ks("X-Forwarded-Proto", "https").ks("X-Request-Id", UuidDashed(r));
      j.ks("Authorization", "[Filtered]").ks("Cookie", "[Filtered]");
      j.oe();
      if (rt.method[0] == 'P') {
        j.k("data").ob().ks("amount", std::to_string(r.range(1, 999)) + ".00");
        j.ks("currency", "EUR").ki("quantity", r.below(4)).oe();
      }
      j.oe();
    }
    j.ks("transaction", rt.transaction);
    j.k("transaction_info").ob().ks("source", c.svc.fw == DJANGO ? "route" : "component").oe();
    j.k("tags").ob();
    static const char* const kTiers[] = {"free", "pro", "enterprise"};
    j.ks("customer_tier", r.pick(kTiers)).ks("region", r.chance(700) ? "eu-west-1" : "us-east-1");
    if (c.svc.fw == CELERY) {
      j.ks("celery_task_id", UuidDashed(r)).ks("celery_task_name", rt.transaction);
    }
    j.oe();
    j.k("contexts").ob();
    j.k("trace").ob().ks("trace_id", c.ev.trace_id).ks("span_id", c.span_id);
    if (r.chance(600)) {
      j.ks("parent_span_id", Hex(r.next(), 16));
    } else {
      j.k("parent_span_id").null();
    }
    j.ks("op", c.svc.fw == CELERY ? "queue.task.celery" : "http.server").k("description").null();
    j.oe();
    j.k("runtime").ob().ks("name", "CPython").ks("version", "3.11.9");
    j.ks("build", "3.11.9 (main, Apr  2 2024, 15:40:32) [GCC 12.2.0]").oe();
    j.oe();
    j.kraw("modules", c.svc.fw == DJANGO  ? kPyModulesDjango
                      : c.svc.fw == FLASK ? kPyModulesFlask
                                          : kPyModulesCelery);
    j.k("extra").ob().k("sys.argv").ab();
    if (c.svc.fw == CELERY) {
      j.s("/usr/local/bin/celery").s("-A").s("worker").s("worker").s("-l").s("info");
    } else {
      j.s("/usr/local/bin/gunicorn").s("--workers").s("4").s("--bind").s("0.0.0.0:8000");
      j.s(c.svc.fw == DJANGO ? "billing.wsgi:application" : "accounts.app:app");
    }
    j.ae().oe();
    j.ks("release", c.ev.release).ks("environment", c.ev.environment);
    j.ks("server_name", c.server_name);
    j.k("sdk").ob().ks("name", "sentry.python").ks("version", "1.9.10");
    j.k("packages").ab().ob().ks("name", "pypi:sentry-sdk").ks("version", "1.9.10").oe().ae();
    j.kraw("integrations", kPyIntegrations[c.svc.fw]).oe();
    j.ks("platform", "python");
    j.oe();
  }

  void NodeEvent(Ctx& c, std::string* out) const {
    Rng& r = c.r;
    const Bug& b = c.b;
    const Route& rt = kRoutes[b.route];
    J j(out);
    j.ob();
    Exceptions(c, j);
    j.ks("event_id", c.ev.event_id);
    j.ks("level", b.kind == B_MSG_NODE ? b.level : "error");
    if (b.kind == B_MSG_NODE) j.ks("message", FillValue(r, b.message, nullptr));
    j.ks("platform", "node");
    j.k("contexts").ob();
    j.k("trace").ob().ks("trace_id", c.ev.trace_id).ks("span_id", c.span_id).oe();
    j.k("runtime").ob().ks("name", "node").ks("version", "v20.18.1").oe();
    j.k("app").ob().ks("app_start_time", Rfc3339(c.ev.ts_ns - 86400000000000LL, 3));
    j.ki("app_memory", 90000000 + r.below(60000000)).oe();
    j.k("os").ob().ks("kernel_version", "6.1.0-27-cloud-amd64").ks("name", "Debian");
    j.ks("version", "12.8").oe();
    j.k("device").ob().ks("boot_time", "2026-11-20T08:55:24.473Z").ks("arch", "x64");
    j.ki("memory_size", 8339550208).ki("free_memory", 2000000000 + r.below(2000000000));
    j.ki("processor_count", 4)
        .ks("cpu_description", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz");
    j.ki("processor_frequency", 2900).oe();
    j.k("culture").ob().ks("locale", "en-US").ks("timezone", "UTC").oe();
    j.k("cloud_resource").ob().ks("cloud.provider", "aws").ks("cloud.region", "eu-west-1").oe();
    j.oe();
    j.ks("server_name", c.server_name).kraw("timestamp", EpochMs(c.ev.ts_ns));
    j.ks("environment", c.ev.environment).ks("release", c.ev.release);
    j.k("sdk").ob().kraw("integrations", kNodeIntegrations).ks("name", "sentry.javascript.node");
    j.ks("version", "11.12.0");
    j.k("packages").ab().ob().ks("name", "npm:@sentry/node").ks("version", "11.12.0").oe().ae();
    j.oe();
    j.k("tags").ob().ks("tier", "frontend").ks("region", r.chance(700) ? "eu-west-1" : "us-east-1");
    j.oe();
    j.k("user").ob().ks("id", std::to_string(10000 + c.user)).ks("email", UserEmail(c.user)).oe();
    NodeBreadcrumbs(c, j);
    if (rt.method[0]) {
      j.k("request").ob().ks("method", rt.method);
      j.ks("url", std::string("http://") + c.svc.host + c.path);
      j.k("headers").ob().ks("host", c.svc.host).ks("user-agent", r.pick(kUserAgents));
      j.ks("accept", "application/json").ks("accept-encoding", "gzip, deflate, br");
      j.ks("x-forwarded-for", UserIp(c.user)).ks("x-request-id", UuidDashed(r)).oe();
      j.oe();
      j.ks("transaction", rt.transaction);
    }
    j.kraw("modules", kNodeModules);
    j.oe();
  }

  GenFlags f_;
  World world_;
};

// ---------------------------------------------------------------------------------------------
// Generation into memory (in parallel; the result does not depend on the thread count).
struct Stats {
  uint64_t events = 0, python = 0, node = 0, messages = 0, stackless = 0, chained = 0;
  uint64_t bytes = 0, py_bytes = 0, node_bytes = 0;
  std::vector<uint32_t> sizes;
  std::vector<char> seen;
  uint64_t issues_expected = 0;
  double seconds = 0;
};

void CountEvent(const World& w, uint32_t bug, Plat plat, size_t json_size, size_t body_size,
                Stats* st) {
  const Bug& b = w.bug(bug);
  st->events++;
  (plat == PY ? st->python : st->node)++;
  (plat == PY ? st->py_bytes : st->node_bytes) += json_size;
  st->bytes += body_size;
  st->messages += b.kind == B_MSG_PY || b.kind == B_MSG_LOG || b.kind == B_MSG_NODE;
  st->stackless += b.kind == B_STACKLESS;
  st->chained += b.excs.size() > 1;
  st->sizes.push_back(static_cast<uint32_t>(json_size));
  if (!st->seen[bug]) {
    st->seen[bug] = 1;
    st->issues_expected++;
  }
}

void PrintStats(const GenFlags& f, Stats& st) {
  std::sort(st.sizes.begin(), st.sizes.end());
  auto q = [&](double p) -> uint32_t {
    if (st.sizes.empty()) return 0;
    size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(st.sizes.size())));
    return st.sizes[std::min(st.sizes.size(), std::max<size_t>(k, 1)) - 1];
  };
  fprintf(stderr,
          "errgen: events=%" PRIu64 " python=%" PRIu64 " node=%" PRIu64 " messages=%" PRIu64
          " stackless=%" PRIu64 " chained=%" PRIu64 " bytes=%" PRIu64
          " avg_bytes=%.0f python_avg_bytes=%.0f node_avg_bytes=%.0f p50_bytes=%u p99_bytes=%u "
          "max_bytes=%u issues=%u issues_expected=%" PRIu64 " seconds=%.3f\n",
          st.events, st.python, st.node, st.messages, st.stackless, st.chained, st.bytes,
          st.events ? static_cast<double>(st.bytes) / static_cast<double>(st.events) : 0.0,
          st.python ? static_cast<double>(st.py_bytes) / static_cast<double>(st.python) : 0.0,
          st.node ? static_cast<double>(st.node_bytes) / static_cast<double>(st.node) : 0.0, q(0.5),
          q(0.99), st.sizes.empty() ? 0 : st.sizes.back(), f.issues, st.issues_expected,
          st.seconds);
}

struct Corpus {
  std::string data;         // request bodies back to back, then SIMDJSON_PADDING spaces
  std::vector<size_t> off;  // n + 1 offsets into data
  std::vector<std::string> ids;
  std::vector<uint32_t> bug;
  std::vector<Plat> plat;
};

// Pre-generates the request bodies of events [0, N) with their stats, in blocks generated in
// parallel (the bytes do not depend on the thread count) and appended in order.
void BuildCorpus(const GenFlags& f, Format fmt, bool gzip, const std::string& key, Corpus* c,
                 Stats* st) {
  auto t0 = std::chrono::steady_clock::now();
  const Generator g(f);
  const uint64_t n = f.events;
  c->data.clear();
  c->off.assign(1, 0);
  c->ids.assign(n, "");
  c->bug.assign(n, 0);
  c->plat.assign(n, PY);
  st->seen.assign(g.world().size(), 0);
  constexpr uint64_t kBlock = 8192;
  std::vector<std::string> bodies(kBlock);
  std::vector<uint32_t> json_size(kBlock);
  const unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  for (uint64_t b0 = 0; b0 < n; b0 += kBlock) {
    const uint64_t b1 = std::min(n, b0 + kBlock);
    std::atomic<uint64_t> next{b0};
    std::vector<std::thread> th;
    for (unsigned t = 0; t < threads; ++t) {
      th.emplace_back([&]() {
        Event ev;
        for (;;) {
          const uint64_t i = next.fetch_add(64);
          if (i >= b1) break;
          for (uint64_t k = i; k < std::min(b1, i + 64); ++k) {
            g.Make(k, &ev);
            bodies[k - b0] = Generator::MakeBody(ev, fmt, gzip, key);
            json_size[k - b0] = static_cast<uint32_t>(ev.json.size());
            c->ids[k] = ev.event_id;
            c->bug[k] = ev.bug;
            c->plat[k] = ev.plat;
          }
        }
      });
    }
    for (auto& t : th) t.join();
    if (b0 == 0) {  // reserve for the whole corpus from the first block's average
      size_t first = 0;
      for (uint64_t k = b0; k < b1; ++k) first += bodies[k - b0].size();
      c->data.reserve(static_cast<size_t>(static_cast<double>(first) / static_cast<double>(b1) *
                                          static_cast<double>(n) * 1.05) +
                      4096);
    }
    for (uint64_t k = b0; k < b1; ++k) {
      c->data += bodies[k - b0];
      c->off.push_back(c->data.size());
      CountEvent(g.world(), c->bug[k], c->plat[k], json_size[k - b0], bodies[k - b0].size(), st);
      std::string().swap(bodies[k - b0]);
    }
  }
  c->data.append(simdjson::SIMDJSON_PADDING, ' ');  // lets simdjson parse bodies in place
  st->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------
// gen
int CmdGen(const GenFlags& f, Format fmt, bool gzip, const std::string& out_path) {
  Corpus c;
  Stats st;
  BuildCorpus(f, fmt, gzip, "0123456789abcdef0123456789abcdef", &c, &st);
  FILE* out = out_path.empty() || out_path == "-" ? stdout : fopen(out_path.c_str(), "wb");
  if (!out) {
    perror(out_path.c_str());
    return 1;
  }
  for (size_t i = 0; i + 1 < c.off.size(); ++i) {
    const size_t len = c.off[i + 1] - c.off[i];
    if (fmt == F_STORE && !gzip) {
      fwrite(c.data.data() + c.off[i], 1, len, out);
      fputc('\n', out);
    } else {
      const uint8_t le[4] = {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8),
                             static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 24)};
      fwrite(le, 1, 4, out);
      fwrite(c.data.data() + c.off[i], 1, len, out);
    }
  }
  if (out != stdout) fclose(out);
  PrintStats(f, st);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// inproc
// A "VmHWM:" / "VmRSS:" line of /proc/self/status, in kB (-1 if unavailable).
long RssKb(const char* key) {
  FILE* fp = fopen("/proc/self/status", "r");
  if (!fp) return -1;
  char line[256];
  long kb = -1;
  const size_t klen = strlen(key);
  while (fgets(line, sizeof line, fp)) {
    if (strncmp(line, key, klen) == 0) kb = strtol(line + klen, nullptr, 10);
  }
  fclose(fp);
  return kb;
}

using Clock = std::chrono::steady_clock;
inline int64_t Ns(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

int CmdInproc(const GenFlags& f, Format fmt, bool gzip, bool use_store) {
  if (fmt == F_SDK) {
    fprintf(stderr, "errgen inproc: --format must be store or envelope\n");
    return 2;
  }
  Corpus c;
  Stats st;
  BuildCorpus(f, fmt, gzip, "0123456789abcdef0123456789abcdef", &c, &st);
  PrintStats(f, st);
  const size_t n = c.off.size() - 1;
  if (n == 0) return 0;
  const int64_t now_ns = f.end_ns + 60 * 1000000000LL;

  // The event JSON of every body (what the decoder gets), for the baselines: views into the
  // corpus, or into its gunzipped copy; both end in SIMDJSON_PADDING spare bytes.
  std::string plain;
  std::vector<size_t> plain_off(1, 0);
  if (gzip) {
    for (size_t i = 0; i < n; ++i) {
      std::string_view body(c.data.data() + c.off[i], c.off[i + 1] - c.off[i]);
      auto d = sl::http::Decompress(body, "gzip", 100 << 20);
      if (!d.ok()) {
        fprintf(stderr, "errgen inproc: gunzip failed: %s\n", d.status().ToString().c_str());
        return 1;
      }
      plain += *d;
      plain_off.push_back(plain.size());
    }
    plain.append(simdjson::SIMDJSON_PADDING, ' ');
  }
  std::vector<std::string_view> payloads(n);
  size_t payload_bytes = 0, max_payload = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view body =
        gzip ? std::string_view(plain.data() + plain_off[i], plain_off[i + 1] - plain_off[i])
             : std::string_view(c.data.data() + c.off[i], c.off[i + 1] - c.off[i]);
    if (fmt == F_ENVELOPE) {
      sl::ingest::SentryEnvelope env;
      sl::Status s = sl::ingest::ParseSentryEnvelope(body, &env);
      if (!s.ok() || env.items.empty()) {
        fprintf(stderr, "errgen inproc: bad envelope %zu: %s\n", i, s.ToString().c_str());
        return 1;
      }
      body = env.items[0].payload;
    }
    payloads[i] = body;
    payload_bytes += body.size();
    max_payload = std::max(max_payload, body.size());
  }

  // Baseline 1: memcpy of the same bytes into a reused buffer (the read bandwidth; best of 5).
  std::string dst(max_payload, '\0');
  double memcpy_ns = 1e300;
  for (int pass = 0; pass < 5; ++pass) {
    auto t0 = Clock::now();
    for (std::string_view p : payloads) {
      memcpy(dst.data(), p.data(), p.size());
      asm volatile("" : : "r"(dst.data()) : "memory");
    }
    memcpy_ns =
        std::min(memcpy_ns, static_cast<double>(Ns(t0, Clock::now())) / static_cast<double>(n));
  }

  // Baseline 2: a simdjson DOM parse of every event in place, one reused parser (the floor any
  // JSON ingest pays; best of 3), and as the decoder calls it (a fresh parser and a padded
  // copy per event).
  double simd_ns = 1e300, simd_fresh_ns = 0;
  size_t simd_errors = 0;
  {
    simdjson::dom::parser parser;
    for (int pass = 0; pass < 3; ++pass) {
      auto t0 = Clock::now();
      for (std::string_view p : payloads) {
        auto doc = parser.parse(p.data(), p.size(), false);
        if (doc.error()) ++simd_errors;
      }
      simd_ns =
          std::min(simd_ns, static_cast<double>(Ns(t0, Clock::now())) / static_cast<double>(n));
    }
    auto t0 = Clock::now();
    for (std::string_view p : payloads) {
      const simdjson::padded_string padded(p);
      simdjson::dom::parser fresh;
      auto doc = fresh.parse(padded);
      if (doc.error()) ++simd_errors;
    }
    simd_fresh_ns = static_cast<double>(Ns(t0, Clock::now())) / static_cast<double>(n);
  }
  const long rss_before_kb = RssKb("VmRSS:");

  // The issue store (SQLite in a temp dir, flush thread as the server runs it).
  std::string tmpdir;
#ifndef ERRGEN_NO_ISSUE_STORE
  std::unique_ptr<sl::issues::IssueStore> store;
  int64_t project_id = 1;
  if (use_store) {
    std::string tmpl =
        (getenv("TMPDIR") ? std::string(getenv("TMPDIR")) : "/tmp") + "/errgen-inproc.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      perror("mkdtemp");
      return 1;
    }
    tmpdir = buf.data();
    sl::issues::IssueStoreOptions o;
    o.path = tmpdir + "/issues.db";
    o.flush_interval_ms = 1000;
    auto s = sl::issues::IssueStore::Open(o);
    if (!s.ok()) {
      fprintf(stderr, "errgen inproc: IssueStore::Open: %s\n", s.status().ToString().c_str());
      return 1;
    }
    store = std::move(s).value();
    auto def = store->EnsureDefaultProject("");
    if (!def.ok()) {
      fprintf(stderr, "errgen inproc: EnsureDefaultProject: %s\n", def.status().ToString().c_str());
      return 1;
    }
    project_id = def->first.id;
  }
#else
  if (use_store) {
    fprintf(stderr, "errgen inproc: built without the issue store (ERRGEN_NO_ISSUE_STORE)\n");
  }
  use_store = false;
#endif

  // Warm-up (decoder, grouping regexes, allocator) on up to 1000 events, not recorded.
  {
    std::string out;
    for (size_t i = 0; i < std::min<size_t>(n, 1000); ++i) {
      sl::model::ErrorEvent ev;
      if (!sl::ingest::DecodeSentryEvent(payloads[i], now_ns, &ev).ok()) continue;
      auto g = sl::issues::GroupEvent(ev);
      out.clear();
      sl::issues::EncodeEventPayload(ev, &out);
    }
  }

  // The measured pass: every stage the server runs on an event body, minus HTTP and the log
  // store: [gunzip] [envelope split] decode, group, encode the stored form, record.
  int64_t t_unzip = 0, t_env = 0, t_decode = 0, t_group = 0, t_encode = 0, t_record = 0;
  size_t decode_errors = 0, record_errors = 0, created = 0, duplicates = 0, stored_bytes = 0;
  std::vector<double> lat_us;
  lat_us.reserve(n);
  std::set<std::string> hashes;
  std::vector<std::string> hash_of(n);
  std::vector<std::string> comp_of(getenv("ERRGEN_EXPLAIN") ? n : 0);
  std::string out;
  const auto wall0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    std::string_view body(c.data.data() + c.off[i], c.off[i + 1] - c.off[i]);
    auto a = Clock::now();
    std::string unzipped;
    if (gzip) {
      auto d = sl::http::Decompress(body, "gzip", 100 << 20);
      if (d.ok()) unzipped = std::move(d).value();
      body = unzipped;
    }
    auto b = Clock::now();
    std::string_view json = body;
    sl::ingest::SentryEnvelope env;
    if (fmt == F_ENVELOPE) {
      if (sl::ingest::ParseSentryEnvelope(body, &env).ok() && !env.items.empty()) {
        json = env.items[0].payload;
      }
    }
    auto d0 = Clock::now();
    sl::model::ErrorEvent ev;
    sl::Status s = sl::ingest::DecodeSentryEvent(json, now_ns, &ev);
    if (!s.ok()) {
      ++decode_errors;
      continue;
    }
    ev.project_id = "1";
    auto d1 = Clock::now();
    sl::issues::GroupingResult g = sl::issues::GroupEvent(ev);
    auto d2 = Clock::now();
    out.clear();
    sl::issues::EncodeEventPayload(ev, &out);
    stored_bytes += out.size();
    auto d3 = Clock::now();
#ifndef ERRGEN_NO_ISSUE_STORE
    if (use_store) {
      auto rr = store->RecordEvent(project_id, g, ev);
      if (!rr.ok()) {
        ++record_errors;
      } else {
        created += rr->created;
        duplicates += rr->duplicate;
      }
    }
#endif
    auto d4 = Clock::now();
    t_unzip += Ns(a, b);
    t_env += Ns(b, d0);
    t_decode += Ns(d0, d1);
    t_group += Ns(d1, d2);
    t_encode += Ns(d2, d3);
    t_record += Ns(d3, d4);
    lat_us.push_back(static_cast<double>(Ns(a, d4)) / 1000.0);
    hash_of[i] = std::move(g.hash);
    if (!comp_of.empty()) {
      comp_of[i] = g.variant;
      for (const auto& x : g.components) comp_of[i] += "\n    " + x;
    }
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - wall0).count();
  double flush_s = 0;
#ifndef ERRGEN_NO_ISSUE_STORE
  if (use_store) {
    auto t0 = Clock::now();
    sl::Status fs = store->Flush();
    flush_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!fs.ok()) fprintf(stderr, "errgen inproc: Flush: %s\n", fs.ToString().c_str());
    store.reset();
  }
#endif
  if (!tmpdir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tmpdir, ec);
  }

  // Grouping check: every bug should be exactly one hash, and no two bugs share one.
  std::vector<std::string> bug_hash(st.seen.size());
  size_t split_bugs = 0, merged = 0;
  for (size_t i = 0; i < n; ++i) {
    if (hash_of[i].empty()) continue;
    hashes.insert(hash_of[i]);
    std::string& h = bug_hash[c.bug[i]];
    if (h.empty()) {
      h = hash_of[i];
    } else if (h != hash_of[i] && h != "*") {
      ++split_bugs;
      if (!comp_of.empty()) {  // ERRGEN_EXPLAIN=1: show the first difference
        size_t first = 0;
        while (c.bug[first] != c.bug[i] || hash_of[first] != h) ++first;
        fprintf(stderr, "bug %u split:\n  %s\n  vs\n  %s\n", c.bug[i], comp_of[first].c_str(),
                comp_of[i].c_str());
      }
      h = "*";
    }
  }
  {
    std::set<std::string> per_bug;
    size_t with_hash = 0;
    for (const auto& h : bug_hash) {
      if (h.empty() || h == "*") continue;
      ++with_hash;
      per_bug.insert(h);
    }
    merged = with_hash - per_bug.size();
  }

  std::sort(lat_us.begin(), lat_us.end());
  const double nd = static_cast<double>(lat_us.size() ? lat_us.size() : 1);
  const double full_ns = wall_s * 1e9 / nd;
  const double stage_ns =
      static_cast<double>(t_unzip + t_env + t_decode + t_group + t_encode + t_record) / nd;
  const long rss_after_kb = RssKb("VmRSS:");
  printf(
      "errgen_inproc: events=%zu format=%s gzip=%d store=%d body_bytes=%zu payload_bytes=%zu "
      "avg_bytes=%.0f seconds=%.3f events_per_s=%.0f ns_per_event=%.0f unzip_ns=%.0f "
      "envelope_ns=%.0f decode_ns=%.0f group_ns=%.0f encode_ns=%.0f record_ns=%.0f "
      "stored_avg_bytes=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f flush_s=%.3f "
      "simdjson_ns=%.0f simdjson_fresh_parser_ns=%.0f memcpy_ns=%.0f memcpy_gb_s=%.2f "
      "x_simdjson=%.1f x_memcpy=%.0f decode_x_simdjson=%.2f simdjson_events_per_s=%.0f "
      "rss_before_kb=%ld rss_after_kb=%ld peak_rss_kb=%ld decode_errors=%zu record_errors=%zu "
      "simdjson_errors=%zu issues_expected=%" PRIu64
      " distinct_hashes=%zu bugs_split=%zu bugs_merged=%zu issues_created=%zu duplicates=%zu\n",
      lat_us.size(), fmt == F_STORE ? "store" : "envelope", gzip ? 1 : 0, use_store ? 1 : 0,
      c.off.back(), payload_bytes, static_cast<double>(payload_bytes) / static_cast<double>(n),
      wall_s, nd / wall_s, full_ns, static_cast<double>(t_unzip) / nd,
      static_cast<double>(t_env) / nd, static_cast<double>(t_decode) / nd,
      static_cast<double>(t_group) / nd, static_cast<double>(t_encode) / nd,
      static_cast<double>(t_record) / nd, static_cast<double>(stored_bytes) / nd,
      benchhttp::pct(lat_us, 0.5), benchhttp::pct(lat_us, 0.9), benchhttp::pct(lat_us, 0.99),
      lat_us.empty() ? NAN : lat_us.back(), flush_s, simd_ns, simd_fresh_ns, memcpy_ns,
      static_cast<double>(payload_bytes) / static_cast<double>(n) / memcpy_ns, stage_ns / simd_ns,
      stage_ns / memcpy_ns, static_cast<double>(t_decode) / nd / simd_ns, 1e9 / simd_ns,
      rss_before_kb, rss_after_kb, RssKb("VmHWM:"), decode_errors, record_errors, simd_errors,
      st.issues_expected, hashes.size(), split_bugs, merged, created, duplicates);
  fflush(stdout);
  if (split_bugs || merged) {
    fprintf(stderr,
            "errgen inproc: WARNING: grouping made %zu hashes for %" PRIu64
            " generated issues (%zu split, %zu merged)\n",
            hashes.size(), st.issues_expected, split_bugs, merged);
  }
  return decode_errors || record_errors ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// send
int CmdSend(const GenFlags& f, Format fmt, bool gzip, const std::string& url_s,
            const std::string& key, int project, int conns, int timeout_s, int max_retry_s) {
  benchhttp::Url url;
  if (!benchhttp::parse_url(url_s, &url)) {
    fprintf(stderr, "errgen send: --url must be http://host:port\n");
    return 2;
  }
  Corpus c;
  Stats st;
  BuildCorpus(f, fmt, gzip, key, &c, &st);
  const Generator::Head heads[2] = {Generator::MakeHead(PY, fmt, gzip, key, project),
                                    Generator::MakeHead(NODE, fmt, gzip, key, project)};
  PrintStats(f, st);
  const size_t n = c.off.size() - 1;
  if (conns < 1) conns = 1;
  std::atomic<size_t> next{0};
  std::atomic<bool> abort_all{false};
  std::atomic<int64_t> ok{0}, bad_id{0}, retries{0}, conn_errors{0}, failed{0};
  std::mutex mu;
  std::vector<double> lat_ms;
  lat_ms.reserve(n);
  std::string first_error;
  auto cpu_s = []() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  const double cpu0 = cpu_s();
  auto t0 = Clock::now();
  auto worker = [&]() {
    benchhttp::Conn conn(url, timeout_s);
    std::vector<double> mine;
    std::string resp, err;
    for (;;) {
      if (abort_all.load()) break;
      size_t i = next.fetch_add(1);
      if (i >= n) break;
      std::string_view body(c.data.data() + c.off[i], c.off[i + 1] - c.off[i]);
      const Generator::Head& q = heads[c.plat[i]];
      auto start = Clock::now();
      int backoff_ms = 50, errs = 0;
      for (bool done = false; !done;) {
        auto r0 = Clock::now();
        int retry_after = 0;
        int status = conn.Request(q.target, q.headers, body, q.chunked, &resp, &retry_after, &err);
        auto r1 = Clock::now();
        const double waited = std::chrono::duration<double>(r1 - start).count();
        if (status == 200) {
          ++ok;
          if (resp.find(c.ids[i]) == std::string::npos) ++bad_id;
          mine.push_back(std::chrono::duration<double, std::milli>(r1 - r0).count());
          done = true;
        } else if ((status == 429 || status == 503 || (status < 0 && errs < 5)) &&
                   waited < max_retry_s) {
          if (status < 0) {
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
            first_error = status < 0 ? err
                                     : "HTTP " + std::to_string(status) + " for " + q.target +
                                           ": " + resp.substr(0, 300);
          }
          ++failed;
          done = true;
          if (status < 0) abort_all = true;  // the server is gone
        }
      }
    }
    std::lock_guard<std::mutex> l(mu);
    lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> th;
  for (int i = 0; i < conns; ++i) th.emplace_back(worker);
  for (auto& x : th) x.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double send_cpu_s = cpu_s() - cpu0;
  std::sort(lat_ms.begin(), lat_ms.end());
  if (!first_error.empty())
    fprintf(stderr, "errgen send: first failure: %s\n", first_error.c_str());
  const size_t taken = std::min(next.load(), n);
  if (taken < n) {
    failed += static_cast<int64_t>(n - taken);
    fprintf(stderr, "errgen send: aborted, %zu events not sent\n", n - taken);
  }
  static const char* const kFmt[] = {"store", "envelope", "sdk"};
  printf(
      "errgen_send: events=%zu format=%s gzip=%d connections=%d bytes=%zu seconds=%.3f "
      "events_per_s=%.0f mb_per_s=%.1f ok=%lld failed=%lld bad_id=%lld retries=%lld "
      "conn_errors=%lld cpu_s=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      "issues_expected=%" PRIu64 "\n",
      n, kFmt[fmt], gzip ? 1 : 0, conns, c.off.back(), secs,
      secs > 0 ? static_cast<double>(ok.load()) / secs : 0.0,
      secs > 0 ? static_cast<double>(c.off.back()) / secs / 1e6 : 0.0, (long long)ok.load(),
      (long long)failed.load(), (long long)bad_id.load(), (long long)retries.load(),
      (long long)conn_errors.load(), send_cpu_s, benchhttp::pct(lat_ms, 0.5),
      benchhttp::pct(lat_ms, 0.9), benchhttp::pct(lat_ms, 0.99),
      lat_ms.empty() ? NAN : lat_ms.back(), st.issues_expected);
  fflush(stdout);
  return failed.load() || bad_id.load() ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
[[noreturn]] void Usage(const char* why) {
  fprintf(stderr,
          "errgen: %s\nusage:\n"
          "  errgen gen    --events N [--format store|envelope|sdk] [--gzip] [--out FILE]\n"
          "  errgen inproc --events N [--format store|envelope] [--gzip] [--no-store]\n"
          "  errgen send   --url http://127.0.0.1:PORT --dsn-key KEY [--project 1] --events N\n"
          "                [--connections C] [--format store|envelope|sdk] [--gzip]\n"
          "                [--timeout S] [--max-retry-s S]\n"
          "common: [--seed S] [--issues K] [--window SECONDS] [--end-ns NS]\n",
          why);
  exit(2);
}

uint64_t ParseU64(const char* s, const char* flag) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || !end || *end || !*s) Usage((std::string("bad number for ") + flag).c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage("missing mode");
  std::string_view mode = argv[1];
  if (mode == "-h" || mode == "--help") Usage("help");
  GenFlags f;
  bool events_set = false, gzip = false, use_store = true;
  Format fmt = F_STORE;
  std::string url, key, out;
  int project = 1, conns = 4, timeout_s = 60, max_retry_s = 120;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) Usage((std::string("missing value for ") + argv[i]).c_str());
      return argv[++i];
    };
    if (a == "--events") {
      f.events = ParseU64(val(), "--events");
      events_set = true;
    } else if (a == "--seed") {
      f.seed = ParseU64(val(), "--seed");
    } else if (a == "--issues") {
      f.issues = static_cast<uint32_t>(ParseU64(val(), "--issues"));
    } else if (a == "--window") {
      f.window_s = ParseU64(val(), "--window");
    } else if (a == "--end-ns") {
      f.end_ns = static_cast<int64_t>(ParseU64(val(), "--end-ns"));
    } else if (a == "--format") {
      std::string_view v = val();
      if (v == "store") {
        fmt = F_STORE;
      } else if (v == "envelope") {
        fmt = F_ENVELOPE;
      } else if (v == "sdk") {
        fmt = F_SDK;
      } else {
        Usage("--format must be store, envelope or sdk");
      }
    } else if (a == "--gzip") {
      gzip = true;
    } else if (a == "--no-store") {
      use_store = false;
    } else if (a == "--url") {
      url = val();
    } else if (a == "--dsn-key") {
      key = val();
    } else if (a == "--project") {
      project = static_cast<int>(ParseU64(val(), "--project"));
    } else if (a == "--connections") {
      conns = static_cast<int>(ParseU64(val(), "--connections"));
    } else if (a == "--timeout") {
      timeout_s = static_cast<int>(ParseU64(val(), "--timeout"));
    } else if (a == "--max-retry-s") {
      max_retry_s = static_cast<int>(ParseU64(val(), "--max-retry-s"));
    } else if (a == "--out") {
      out = val();
    } else if (a == "-h" || a == "--help") {
      Usage("help");
    } else {
      Usage((std::string("unknown flag ") + argv[i]).c_str());
    }
  }
  if (f.issues < 2) Usage("--issues must be at least 2");
  if (f.window_s == 0 || static_cast<int64_t>(f.window_s * 1000000000ULL) > f.end_ns) {
    Usage("bad --window");
  }
  if (mode == "gen") {
    if (!events_set) f.events = 1000;
    return CmdGen(f, fmt, gzip, out);
  }
  if (mode == "inproc") {
    if (!events_set) f.events = 50000;
    return CmdInproc(f, fmt, gzip, use_store);
  }
  if (mode == "send") {
    if (url.empty() || key.empty()) Usage("send needs --url and --dsn-key");
    while (!url.empty() && url.back() == '/') url.pop_back();
    return CmdSend(f, fmt, gzip, url, key, project, conns, timeout_s, max_retry_s);
  }
  Usage("unknown mode");
}
