// loggen: a deterministic generator of realistic microservice JSON logs (NDJSON).
//
// Every line is one record of a structured logger in one of twelve services: RFC 3339 timestamp,
// level, service, env, host (pod), trace/span/request ids, user id, a message and, on some lines,
// nested `http`, `db` and `error` objects. Requests are simulated as traces that touch 2-5 services,
// with the lines of many requests interleaved. Part of the message text is real system-log text
// sampled from the loghub samples (../shared/data/loghub), stripped of their own prefixes.
//
// The output is a pure function of the flags (and of the loghub files' contents): the same flags
// give byte-identical output. Writes are buffered; it produces well over 1M lines/s.
//
//   loggen --lines 2000000 --seed 42 > logs.ndjson
//   loggen --lines 2000000 --format clickhouse > logs.ch.json   # same records, JSONEachRow
//   loggen --lines 2000000 --rare-token zq9xk7unicorn --rare-every 500000 --print-trace-at 1000000
//
// Flags:
//   --lines N            lines to write (default 1000000)
//   --seed S             PRNG seed (default 42)
//   --start-ns NS        first timestamp bound, ns since epoch (default 2026-11-01T00:00:00Z)
//   --rate R             simulated lines per second (default 2000); gaps are R^-1 +-50 %, so
//                        timestamps strictly increase
//   --ts-digits D        fractional digits of `ts`: 3, 6 or 9 (default 9)
//   --format F           ndjson (default) or clickhouse: JSONEachRow for the ClickHouse table of
//                        bench/clickhouse.sh (ts = epoch seconds, ts_ns, nested fields flattened)
//   --loghub DIR         loghub samples dir (default: ../shared/data/loghub next to the repo);
//                        missing files are tolerated (built-in templates only)
//   --rare-token T       append the word T to the message of every --rare-every'th line
//   --rare-every N       (default 500000); hits are at lines i with i % N == N/2 (0-based)
//   --print-trace-at N   print to stderr the trace id of line N (0-based) and how many lines it has
//   --out FILE           write to FILE instead of stdout
//   --stats              also print level and service distributions to stderr
//
// Stats go to stderr as `key=value` words, e.g.
//   loggen: lines=2000000 bytes=747123456 avg=373.6 seconds=1.52 lines_per_s=1315789 rare_hits=4
//   loggen: trace_at=1000000 trace_id=3f... trace_lines=7

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "rng.h"

namespace {

// ---------------------------------------------------------------------------------------------
// PRNG: xoshiro256** seeded by splitmix64. Integer-only, so the stream is the same everywhere.
struct Rng : BenchRng {
  using BenchRng::BenchRng;
  // A Zipf(1)-like integer in [2^min_log2, max]: log-uniform, computed with integers only.
  uint32_t zipf(uint32_t max, uint32_t min_log2 = 0) {
    // 2^(u * log2(max)) with u uniform; log2 in 1/1024 steps, then a fixed-point exp2.
    uint32_t lg = 0;
    while ((1u << (lg + 1)) <= max) ++lg;  // floor(log2(max))
    if (min_log2 > lg) min_log2 = lg;
    uint32_t e = min_log2 * 1024 + below((lg - min_log2) * 1024 + 1);
    uint64_t v = (1ULL << (e >> 10));
    v += (v * (e & 1023)) >> 10;  // linear interpolation between powers of two
    if (v > max) v = max;
    return static_cast<uint32_t>(v);
  }
};

// A weighted choice table (weights in any units).
struct Weighted {
  std::vector<uint32_t> cum;
  explicit Weighted(std::initializer_list<uint32_t> w) {
    uint32_t t = 0;
    for (uint32_t x : w) cum.push_back(t += x);
  }
  uint32_t pick(Rng& r) const {
    uint32_t x = r.below(cum.back());
    return static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
  }
};

// ---------------------------------------------------------------------------------------------
// Output buffer with cheap formatting. Callers guarantee room (Writer flushes before a line when
// less than kSlack bytes are free; a line is far shorter), so appends need no bounds checks.
struct Buf {
  static constexpr size_t kSlack = 64 << 10;
  std::vector<char> data;
  char* p;
  size_t n = 0;
  explicit Buf(size_t cap) : data(cap), p(data.data()) {}
  void put(std::string_view s) {
    memcpy(p + n, s.data(), s.size());
    n += s.size();
  }
  template <size_t N>
  void lit(const char (&s)[N]) {  // a string literal: constant-size copy
    memcpy(p + n, s, N - 1);
    n += N - 1;
  }
  void put(char c) { p[n++] = c; }
  void u64(uint64_t v) {
    char tmp[24];
    int i = 24;
    do {
      tmp[--i] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    memcpy(p + n, tmp + i, 24 - i);
    n += 24 - i;
  }
  void padded(uint64_t v, int width) {  // zero-padded to width digits
    for (int i = width - 1; i >= 0; --i) {
      p[n + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    n += width;
  }
  void hex(uint64_t v, int digits) {
    static const char* h = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) {
      p[n + i] = h[v & 15];
      v >>= 4;
    }
    n += digits;
  }
  void fixed(uint64_t v, int decimals) {  // v / 10^decimals with that many decimals
    uint64_t q = 1;
    for (int i = 0; i < decimals; ++i) q *= 10;
    u64(v / q);
    put('.');
    padded(v % q, decimals);
  }
  bool nearly_full() const { return n + kSlack > data.size(); }
  void clear() { n = 0; }
};

// JSON-escape s (plain ASCII/UTF-8 text) into out.
void json_escape(std::string_view s, std::string& out) {
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      if (c == '\t') {
        out += "\\t";
      } else {
        static const char* h = "0123456789abcdef";
        out += "\\u00";
        out += h[c >> 4];
        out += h[c & 15];
      }
    } else {
      out += static_cast<char>(c);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The world: services, pods, flows.
constexpr int kServices = 12;
enum Svc { GW, ORDERS, PAYMENTS, INVENTORY, USERS, AUTH, SHIPPING, NOTIFY, SEARCH, CART, RECO, BILLING };
const char* const kServiceNames[kServices] = {
    "api-gateway", "orders", "payments", "inventory", "users", "auth",
    "shipping", "notifications", "search", "cart", "recommendations", "billing"};
const std::string_view kServiceViews[kServices] = {
    "api-gateway", "orders", "payments", "inventory", "users", "auth",
    "shipping", "notifications", "search", "cart", "recommendations", "billing"};
const int kProdPods[kServices] = {6, 4, 3, 3, 3, 3, 2, 2, 4, 3, 3, 2};
constexpr int kStagingPods = 1;

enum Level { DEBUG, INFO, WARN, ERROR, TRACE, FATAL, kLevels };
const char* const kLevelNames[kLevels] = {"debug", "info", "warn", "error", "trace", "fatal"};
// ~70 % info, 15 % debug, 8 % warn, 5 % error, 2 % other (trace, fatal).
const Weighted kLevelWeights{200, 672, 70, 40, 15, 3};

struct Flow {
  const char* method;
  const char* path;  // a template: {ID} {SKU} {ORD} {SHP} are filled per request
  std::vector<int> chain;  // services in call order; GW first for external requests
  uint32_t weight;
  bool background;
};
const std::vector<Flow> kFlows = {
    {"GET", "/v1/products/search", {GW, SEARCH, RECO}, 220, false},
    {"GET", "/v1/products/{SKU}", {GW, INVENTORY, RECO}, 140, false},
    {"GET", "/v1/cart", {GW, CART, INVENTORY}, 110, false},
    {"POST", "/v1/cart/items", {GW, CART, INVENTORY}, 80, false},
    {"POST", "/v1/orders", {GW, ORDERS, INVENTORY, PAYMENTS, BILLING}, 60, false},
    {"GET", "/v1/orders/{ORD}", {GW, ORDERS, SHIPPING}, 80, false},
    {"POST", "/v1/auth/login", {GW, AUTH, USERS}, 70, false},
    {"POST", "/v1/auth/refresh", {GW, AUTH}, 60, false},
    {"GET", "/v1/users/me", {GW, USERS, AUTH}, 60, false},
    {"POST", "/v1/checkout", {GW, CART, ORDERS, PAYMENTS, NOTIFY}, 40, false},
    {"GET", "/v1/shipments/{SHP}/tracking", {GW, SHIPPING, NOTIFY}, 30, false},
    {"GET", "/v1/recommendations", {GW, RECO, USERS}, 50, false},
    {"POST", "/internal/billing/run", {BILLING, PAYMENTS, NOTIFY}, 20, true},
    {"POST", "/internal/inventory/sync", {INVENTORY, SEARCH}, 20, true},
};

// ---------------------------------------------------------------------------------------------
// Message templates. Text is already JSON-escaped; {NAME} placeholders are expanded per line.
enum Ph {
  P_USER, P_ORD, P_SKU, P_AMT, P_CUR, P_N, P_NN, P_NNN, P_DUR, P_HEX8, P_HEX16, P_PROV, P_WH,
  P_SCOPE, P_KID, P_BOOL, P_CARRIER, P_SHIPST, P_CITY, P_TPL, P_MAILPROV, P_Q, P_PFX, P_MODEL,
  P_SVC, P_TABLE, P_COUPON, P_LOC, P_PATH, P_METHOD, P_IP, P_PART, P_OFF, P_SHP, P_FUNC, P_KEY,
  P_CLIENT, P_POD, P_ERRNO, P_BYTES, kPh
};
const char* const kPhNames[kPh] = {
    "USER", "ORD", "SKU", "AMT", "CUR", "N", "NN", "NNN", "DUR", "HEX8", "HEX16", "PROV", "WH",
    "SCOPE", "KID", "BOOL", "CARRIER", "SHIPST", "CITY", "TPL", "MAILPROV", "Q", "PFX", "MODEL",
    "SVC", "TABLE", "COUPON", "LOC", "PATH", "METHOD", "IP", "PART", "OFF", "SHP", "FUNC", "KEY",
    "CLIENT", "POD", "ERRNO", "BYTES"};

struct Piece {
  std::string lit;
  int ph;  // -1 for a literal
};
using Tmpl = std::vector<Piece>;

Tmpl compile(std::string_view t) {
  Tmpl out;
  std::string lit;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{') {
      size_t j = t.find('}', i);
      std::string_view name = t.substr(i + 1, j - i - 1);
      int ph = -1;
      for (int k = 0; k < kPh; ++k)
        if (name == kPhNames[k]) ph = k;
      if (ph < 0) {
        fprintf(stderr, "loggen: bad placeholder {%.*s}\n", static_cast<int>(name.size()), name.data());
        exit(2);
      }
      if (!lit.empty()) out.push_back({lit, -1});
      lit.clear();
      out.push_back({"", ph});
      i = j;
    } else {
      lit += t[i];
    }
  }
  if (!lit.empty()) out.push_back({lit, -1});
  return out;
}

// Domain messages per service (info level).
const std::vector<std::vector<const char*>> kDomainInfo = {
    /* api-gateway */ {"Rate limit check passed for {USER}: bucket {NN}/1000 tokens remaining",
                       "Routing {METHOD} {PATH} to upstream {SVC}:8080 (pod {POD})",
                       "Authenticated request from client {CLIENT} using API key ak_{HEX8}",
                       "TLS session resumed for client {IP}, cipher TLS_AES_128_GCM_SHA256"},
    /* orders */ {"Order {ORD} created for user {USER}: {N} items, total {AMT} {CUR}",
                  "Order {ORD} status changed from pending to confirmed",
                  "Loaded order {ORD} with {N} line items in {DUR} ms",
                  "Publishing OrderCreated event for {ORD} to topic orders.v1 partition {PART} offset {OFF}"},
    /* payments */ {"Payment authorized: charge ch_{HEX16} amount={AMT} currency={CUR} provider={PROV}",
                    "Created payment intent pi_{HEX16} for order {ORD}",
                    "3-D Secure challenge completed for charge ch_{HEX16} in {DUR} ms",
                    "Captured {AMT} {CUR} for order {ORD} via {PROV} (fee {N}.{NN} {CUR})"},
    /* inventory */ {"Reserved {N} units of SKU-{SKU} in warehouse {WH} (remaining {NNN})",
                     "Stock level for SKU-{SKU}: {NNN} available, {N} reserved",
                     "Released reservation res_{HEX8} for order {ORD}",
                     "Synced {NNN} stock records from warehouse {WH} in {DUR} ms"},
    /* users */ {"Loaded profile for user {USER} in {DUR} ms",
                 "Updated preferences for user {USER}: locale={LOC} currency={CUR}",
                 "Session refreshed for user {USER}, {N} active sessions",
                 "Address book of user {USER} has {N} entries, default country {LOC}"},
    /* auth */ {"Issued access token for user {USER} scope={SCOPE} expires_in=3600s",
                "Validated JWT kid={KID} for user {USER}",
                "Login succeeded for user {USER} via password, mfa={BOOL}",
                "Refresh token rotated for user {USER} (family rt_{HEX8})"},
    /* shipping */ {"Created shipment {SHP} carrier={CARRIER} for order {ORD}, eta {N} days",
                    "Tracking update for {SHP}: {SHIPST} at {CITY}",
                    "Label generated for {SHP} via {CARRIER} in {DUR} ms",
                    "Rate quote for order {ORD}: {AMT} {CUR} with {CARRIER}"},
    /* notifications */ {"Sent email template={TPL} to user {USER} via {MAILPROV} in {DUR} ms",
                         "Push notification delivered to {N} devices of user {USER}",
                         "Enqueued SMS template={TPL} for user {USER}, queue depth {NN}",
                         "Webhook delivered to partner endpoint in {DUR} ms (attempt {N})"},
    /* search */ {"Search q=\\\"{Q}\\\" returned {NN} hits in {DUR} ms (index=products_v3, shards={N})",
                  "Autocomplete prefix=\\\"{PFX}\\\" returned {N} suggestions",
                  "Reindexed SKU-{SKU} in index products_v3 (version {NNN})",
                  "Query plan for q=\\\"{Q}\\\": {N} clauses, boosted by popularity"},
    /* cart */ {"Added SKU-{SKU} x{N} to cart of user {USER} (cart size {N})",
                "Cart of user {USER} recalculated: subtotal {AMT} {CUR}, {N} items",
                "Applied coupon {COUPON} to cart of user {USER}",
                "Merged guest cart into cart of user {USER}: {N} items"},
    /* recommendations */ {"Computed {NN} recommendations for user {USER} model={MODEL} in {DUR} ms",
                           "Feature vector loaded for user {USER} ({NNN} features)",
                           "Candidate generation for SKU-{SKU}: {NNN} candidates, {NN} after filtering",
                           "A/B bucket for user {USER}: {MODEL}"},
    /* billing */ {"Invoice INV-2026-{NNN} generated for user {USER}: {AMT} {CUR}",
                   "Applied coupon {COUPON} to invoice INV-2026-{NNN}",
                   "Billing run processed {NNN} subscriptions in {DUR} ms",
                   "Tax computed for order {ORD}: {N}.{NN} {CUR} ({LOC})"},
};

const std::vector<const char*> kDebug = {
    "Entering handler {FUNC} for {METHOD} {PATH}",
    "Cache hit key={KEY} ttl={NNN}s",
    "Cache miss key={KEY}, loading from database",
    "Acquired connection from pool ({N}/20 in use) in {DUR} ms",
    "Outgoing call to {SVC}: {METHOD} {PATH}",
    "Config value feature.{MODEL}.enabled=true (source=remote)",
};
const std::vector<const char*> kTrace = {
    "span started name={FUNC} parent={HEX16}",
    "grpc frame received stream={NN} len={NNN}",
    "decoded request body in {DUR} ms ({BYTES} bytes)",
};
const std::vector<const char*> kWarn = {
    "Slow query detected: {DUR} ms on table {TABLE} (threshold 250 ms)",
    "Retrying call to {SVC} (attempt 2/3) after connection reset by peer",
    "Circuit breaker for {SVC} is half-open, allowing probe request",
    "Request payload of {BYTES} bytes exceeds soft limit 65536",
    "Deprecated API version v1 used by client {CLIENT}",
    "Cache miss ratio {NN}% above threshold for {KEY}",
    "Connection pool nearly exhausted: {N}/20 connections in use",
};
struct ErrT {
  const char* type;
  const char* msg;      // the log message
  const char* detail;   // error.message
};
const std::vector<ErrT> kErrors = {
    {"TimeoutError", "Failed to process {METHOD} {PATH}: upstream {SVC} timed out",
     "context deadline exceeded after {NNN} ms calling {SVC}"},
    {"ConnectionError", "Could not reach {SVC} at {IP}:8080",
     "dial tcp {IP}:8080: connect: connection refused"},
    {"DatabaseError", "Query on table {TABLE} failed",
     "pq: deadlock detected (SQLSTATE 40P01) on {TABLE}"},
    {"ValidationError", "Rejected request for user {USER}: invalid payload",
     "field quantity must be between 1 and 99, got {NNN}"},
    {"NotFoundError", "Resource not found: {PATH}", "no row for key {KEY}"},
    {"PaymentDeclinedError", "Payment declined for order {ORD} ({PROV})",
     "card_declined: insufficient_funds (decline code {ERRNO})"},
    {"RedisError", "Cache write failed for key {KEY}", "READONLY You can't write against a read only replica."},
    {"InternalError", "Unhandled exception in {FUNC}",
     "runtime error: invalid memory address or nil pointer dereference"},
};
const std::vector<const char*> kFatal = {
    "Unrecoverable error: lost connection to primary database, shutting down worker {N}",
    "Out of memory while allocating {BYTES} KiB buffer, exiting",
};
const std::vector<const char*> kDbStatements[kServices] = {
    {"SELECT key, quota, used FROM rate_limits WHERE client_id = $1"},
    {"SELECT id, status, total, currency FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20",
     "INSERT INTO orders (id, user_id, status, total, currency) VALUES ($1, $2, $3, $4, $5)",
     "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2"},
    {"INSERT INTO payments (id, order_id, amount, currency, provider) VALUES ($1, $2, $3, $4, $5)",
     "SELECT id, status FROM payments WHERE order_id = $1"},
    {"UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND warehouse = $3",
     "SELECT sku, available, reserved FROM stock WHERE sku = ANY($1)"},
    {"SELECT id, email, locale, created_at FROM users WHERE id = $1",
     "UPDATE users SET last_seen_at = now() WHERE id = $1"},
    {"SELECT token_hash, expires_at FROM refresh_tokens WHERE user_id = $1 AND revoked = false"},
    {"INSERT INTO shipments (id, order_id, carrier, status) VALUES ($1, $2, $3, $4)",
     "SELECT id, status, carrier FROM shipments WHERE order_id = $1"},
    {"INSERT INTO outbox (id, channel, template, user_id) VALUES ($1, $2, $3, $4)"},
    {"SELECT sku, title, price FROM products WHERE sku = ANY($1)"},
    {"SELECT sku, qty FROM cart_items WHERE cart_id = $1",
     "INSERT INTO cart_items (cart_id, sku, qty) VALUES ($1, $2, $3) ON CONFLICT (cart_id, sku) DO UPDATE SET qty = cart_items.qty + $3"},
    {"SELECT item_id, score FROM user_scores WHERE user_id = $1 ORDER BY score DESC LIMIT 50"},
    {"SELECT id, plan, renews_at FROM subscriptions WHERE renews_at < $1 LIMIT 500",
     "INSERT INTO invoices (id, user_id, amount, currency) VALUES ($1, $2, $3, $4)"},
};

// Word lists for placeholders.
const std::vector<const char*> kCurrencies = {"USD", "USD", "USD", "EUR", "EUR", "GBP", "CAD", "JPY"};
const std::vector<const char*> kProviders = {"stripe", "stripe", "adyen", "braintree", "paypal"};
const std::vector<const char*> kWarehouses = {"FRA1", "AMS2", "IAD1", "SFO3", "SIN1", "LHR2"};
const std::vector<const char*> kScopes = {"read:orders", "read:profile write:cart", "openid profile email",
                                          "read:orders write:orders"};
const std::vector<const char*> kCarriers = {"DHL", "UPS", "FedEx", "USPS", "DPD", "PostNL"};
const std::vector<const char*> kShipStatus = {"in_transit", "out_for_delivery", "delivered", "label_created",
                                              "arrived_at_facility"};
const std::vector<const char*> kCities = {"Leipzig", "Louisville", "Memphis", "Amsterdam", "Chicago",
                                          "Lyon", "Dallas", "Rotterdam", "Milan", "Osaka"};
const std::vector<const char*> kTemplates = {"order_confirmation", "password_reset", "shipping_update",
                                             "welcome", "invoice_ready", "cart_reminder"};
const std::vector<const char*> kMailProv = {"sendgrid", "ses", "mailgun", "postmark"};
const std::vector<const char*> kWords = {"wireless", "headphones", "running", "shoes", "coffee", "grinder",
                                         "usb-c", "cable", "desk", "lamp", "yoga", "mat", "backpack",
                                         "water", "bottle", "mechanical", "keyboard", "winter", "jacket",
                                         "organic", "tea", "phone", "case", "air", "fryer", "4k", "monitor"};
const std::vector<const char*> kModels = {"als-v7", "two-tower-v3", "popularity-baseline", "session-gru-v2"};
const std::vector<const char*> kTables = {"orders", "order_items", "payments", "stock", "users", "sessions",
                                          "shipments", "cart_items", "invoices", "subscriptions"};
const std::vector<const char*> kCoupons = {"WELCOME10", "FREESHIP", "BLACKFRIDAY25", "SPRING15", "VIP20"};
const std::vector<const char*> kLocales = {"en-US", "en-GB", "de-DE", "fr-FR", "nl-NL", "ja-JP", "es-ES"};
const std::vector<const char*> kFuncs = {"handleRequest", "OrderService.Create", "CartRepo.Load",
                                         "PaymentClient.Authorize", "StockRepo.Reserve", "TokenIssuer.Issue",
                                         "Recommender.Score", "SearchIndex.Query", "InvoiceJob.Run",
                                         "UserStore.Get"};
const std::vector<const char*> kKeyPrefixes = {"cart:", "user:", "product:", "session:", "reco:", "stock:"};
const std::vector<const char*> kClients = {"ios-app/5.12.0", "android-app/5.11.3", "web/2026.10.2",
                                           "partner-feed/1.4", "curl/8.4.0"};
const std::vector<const char*> kUserAgents = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)", "okhttp/4.12.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0", "ios-app/5.12.0 CFNetwork"};

// ---------------------------------------------------------------------------------------------
// loghub message text, stripped of each file's timestamp/host/pid prefix.
struct LoghubRule {
  const char* name;  // file name prefix
  int skip_tokens;   // whitespace-separated tokens to drop
  char delim;        // or: drop through the delim_count'th delim (then one space)
  int delim_count;
};
const LoghubRule kLoghubRules[] = {
    {"Android", 5, 0, 0},   {"Apache", 0, ']', 2},   {"BGL", 9, 0, 0},     {"HDFS", 4, 0, 0},
    {"HPC", 6, 0, 0},       {"Hadoop", 4, 0, 0},     {"HealthApp", 0, '|', 3}, {"Linux", 4, 0, 0},
    {"Mac", 4, 0, 0},       {"OpenSSH", 4, 0, 0},    {"OpenStack", 5, 0, 0}, {"Proxifier", 0, ']', 1},
    {"Spark", 3, 0, 0},     {"Thunderbird", 8, 0, 0}, {"Windows", 3, 0, 0},  {"Zookeeper", 4, 0, 0},
};
// Which loghub systems feed each service's messages.
const std::vector<std::vector<const char*>> kServiceLoghub = {
    {"Apache", "Proxifier"}, {"OpenStack", "Hadoop"}, {"Windows", "Zookeeper"}, {"HDFS", "BGL"},
    {"Linux", "OpenSSH"},    {"OpenSSH", "Linux"},    {"Thunderbird", "HPC"},   {"Android", "HealthApp"},
    {"Zookeeper", "Spark"},  {"Mac", "Android"},      {"Spark", "Hadoop"},      {"BGL", "Windows"},
};

std::string strip_prefix(std::string_view line, const LoghubRule& r) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  };
  if (r.delim) {
    for (int k = 0; k < r.delim_count; ++k) {
      size_t j = line.find(r.delim, i);
      if (j == std::string_view::npos) return std::string(line);
      i = j + 1;
    }
  } else {
    for (int k = 0; k < r.skip_tokens; ++k) {
      skip_ws();
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    }
  }
  skip_ws();
  std::string_view rest = line.substr(i);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r' || rest.back() == '\t'))
    rest.remove_suffix(1);
  constexpr size_t kMax = 200;  // keep messages to a plausible length
  if (rest.size() > kMax) rest = rest.substr(0, kMax);
  return std::string(rest);
}

struct Loghub {
  std::vector<std::vector<std::string>> per_service;  // JSON-escaped messages per service
  size_t total = 0;
  std::string dir;
};

Loghub load_loghub(const std::string& dir) {
  Loghub lh;
  lh.dir = dir;
  std::vector<std::pair<std::string, std::vector<std::string>>> files;
  for (const auto& r : kLoghubRules) {
    std::string path = dir + "/" + r.name + "_2k.log";
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::vector<std::string> msgs;
    std::string line;
    while (std::getline(in, line)) {
      std::string m = strip_prefix(line, r);
      if (m.size() < 8) continue;
      std::string esc;
      json_escape(m, esc);
      msgs.push_back(std::move(esc));
    }
    if (!msgs.empty()) files.emplace_back(r.name, std::move(msgs));
  }
  lh.per_service.resize(kServices);
  for (int s = 0; s < kServices; ++s) {
    for (const char* name : kServiceLoghub[s])
      for (auto& f : files)
        if (f.first == name) lh.per_service[s].insert(lh.per_service[s].end(), f.second.begin(), f.second.end());
    if (lh.per_service[s].empty())  // a service's files are missing: use whatever loaded
      for (auto& f : files) lh.per_service[s].insert(lh.per_service[s].end(), f.second.begin(), f.second.end());
    lh.total += lh.per_service[s].size();
  }
  return lh;
}

// ---------------------------------------------------------------------------------------------
// Simulation state.
struct Pod {
  std::string name;
};

struct Step {
  int service;
  int hop;       // index into the request's chain (span)
  bool access;   // the hop's closing access-log line
};

struct Request {
  uint64_t trace_hi = 0, trace_lo = 0;
  uint64_t req_hi = 0, req_lo = 0;
  uint32_t user = 0;
  bool anonymous = false;
  bool staging = false;
  bool failed = false;
  int flow = 0;
  uint32_t order = 0, sku = 0, shipment = 0, amount_cents = 0;
  int currency = 0;
  std::array<uint64_t, 5> span{};
  std::array<int, 5> pod{};
  std::vector<Step> steps;
  size_t next = 0;
};

struct Record {
  uint64_t ts_ns = 0;
  int level = INFO;
  int service = 0;
  const Request* req = nullptr;
  int hop = 0;
  std::string msg;  // escaped
  bool has_http = false;
  const char* http_method = "";
  int http_status = 0;
  std::string http_path;
  uint64_t http_dur_x10 = 0;
  uint32_t http_bytes = 0;
  const char* user_agent = nullptr;
  bool has_db = false;
  const char* db_statement = "";
  uint32_t db_rows = 0;
  uint64_t db_dur_x100 = 0;
  bool has_error = false;
  const char* error_type = "";
  std::string error_msg;  // escaped
};

class Generator {
 public:
  Generator(uint64_t seed, uint64_t start_ns, uint64_t rate, Loghub lh)
      : rng_(seed), world_(seed ^ 0x5eed5eed5eed5eedULL), ts_(start_ns), loghub_(std::move(lh)) {
    mean_gap_ = rate ? 1000000000ULL / rate : 500000;
    if (mean_gap_ < 2) mean_gap_ = 2;
    uint32_t w = 0;
    for (const auto& f : kFlows) flow_cum_.push_back(w += f.weight);
    for (int s = 0; s < kServices; ++s) {
      for (int env = 0; env < 2; ++env) {
        std::string rs = random_k8s(6);
        int count = env ? kStagingPods : kProdPods[s];
        for (int p = 0; p < count; ++p)
          pods_[s][env].push_back(Pod{std::string(kServiceNames[s]) + (env ? "-stg-" : "-") + rs + "-" + random_k8s(5)});
      }
    }
    for (const auto& v : kDomainInfo) {
      domain_.emplace_back();
      for (const char* t : v) domain_.back().push_back(compile(t));
    }
    for (const char* t : kDebug) debug_.push_back(compile(t));
    for (const char* t : kTrace) trace_.push_back(compile(t));
    for (const char* t : kWarn) warn_.push_back(compile(t));
    for (const char* t : kFatal) fatal_.push_back(compile(t));
    for (const auto& e : kErrors) {
      err_msg_.push_back(compile(e.msg));
      err_detail_.push_back(compile(e.detail));
    }
    active_.resize(kActive);
    for (auto& r : active_) new_request(r);
  }

  // Produces the next record into rec.
  // rec.req stays valid until the following call: a finished request is replaced lazily.
  void next(Record& rec) {
    if (finished_slot_ < kActive) new_request(active_[finished_slot_]);
    finished_slot_ = kActive;
    ts_ += mean_gap_ / 2 + rng_.below(static_cast<uint32_t>(mean_gap_ + 1));
    size_t slot = rng_.below(kActive);
    Request& r = active_[slot];
    const Step st = r.steps[r.next++];
    fill(rec, r, st);
    if (r.next >= r.steps.size()) finished_slot_ = slot;
  }
  const std::vector<Pod>& pods(int s, int env) const { return pods_[s][env]; }
  size_t loghub_total() const { return loghub_.total; }

 private:
  static constexpr size_t kActive = 48;  // requests in flight, interleaved

  std::string random_k8s(int n) {
    static const char* alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string s;
    for (int i = 0; i < n; ++i) s += alphabet[world_.below(27)];
    return s;
  }

  void new_request(Request& r) {
    r.trace_hi = rng_.next();
    r.trace_lo = rng_.next();
    r.req_hi = rng_.next();
    r.req_lo = rng_.next();
    uint32_t x = rng_.below(flow_cum_.back());
    r.flow = static_cast<int>(std::upper_bound(flow_cum_.begin(), flow_cum_.end(), x) - flow_cum_.begin());
    const Flow& f = kFlows[r.flow];
    r.user = rng_.zipf(500000, 10);  // u_1024 .. u_500000, the low ids the busiest
    r.anonymous = !f.background && (r.flow <= 1) && rng_.chance(150);
    r.staging = rng_.chance(60);
    r.failed = false;
    r.order = 4000000 + rng_.below(6000000);
    r.sku = 10000 + rng_.zipf(89999);
    r.shipment = 100000 + rng_.below(900000);
    r.amount_cents = 499 + rng_.zipf(50000);
    r.currency = static_cast<int>(rng_.below(static_cast<uint32_t>(kCurrencies.size())));
    r.steps.clear();
    r.next = 0;
    const int env = r.staging ? 1 : 0;
    for (size_t h = 0; h < f.chain.size(); ++h) {
      r.span[h] = rng_.next();
      r.pod[h] = static_cast<int>(rng_.below(static_cast<uint32_t>(pods_[f.chain[h]][env].size())));
    }
    // Downstream services log first (1-3 lines each), then the entry point's lines.
    for (size_t h = f.chain.size(); h-- > 1;) {
      int lines = 1 + static_cast<int>(rng_.below(3));
      for (int i = 0; i < lines; ++i) r.steps.push_back({f.chain[h], static_cast<int>(h), false});
      if (rng_.chance(300)) r.steps.push_back({f.chain[h], static_cast<int>(h), true});
    }
    if (!f.background) {
      if (rng_.chance(250)) r.steps.push_back({f.chain[0], 0, false});
      r.steps.push_back({f.chain[0], 0, true});
    } else {
      int lines = 1 + static_cast<int>(rng_.below(3));
      for (int i = 0; i < lines; ++i) r.steps.push_back({f.chain[0], 0, false});
    }
  }

  template <class V>
  const char* pick(const V& v) {
    return v[rng_.below(static_cast<uint32_t>(v.size()))];
  }

  void duration(std::string& out, uint32_t base_ms_x10) {
    // Skewed: mostly around base, a long tail up to 32x.
    uint64_t d = base_ms_x10 / 4 + rng_.below(base_ms_x10 + 1);
    uint32_t tail = rng_.below(100);
    if (tail >= 97) d *= 8 + rng_.below(24);
    else if (tail >= 85) d *= 2 + rng_.below(3);
    out += std::to_string(d / 10);
    out += '.';
    out += static_cast<char>('0' + d % 10);
  }

  void request_path(std::string& out, const Request& r) {
    const Flow& f = kFlows[r.flow];
    for (const char* p = f.path; *p; ++p) {
      if (*p == '{') {
        const char* e = strchr(p, '}');
        std::string_view name(p + 1, e - p - 1);
        if (name == "SKU") out += "SKU-" + std::to_string(r.sku);
        else if (name == "ORD") out += "ORD-" + std::to_string(r.order);
        else if (name == "SHP") out += "SHP-" + std::to_string(r.shipment);
        p = e;
      } else {
        out += *p;
      }
    }
    if (r.flow == 0) {  // search query string
      out += "?q=";
      out += pick(kWords);
      out += "+";
      out += pick(kWords);
      out += "&page=";
      out += std::to_string(1 + rng_.below(3));
    }
  }

  void user_str(std::string& out, const Request& r) {
    if (r.anonymous) {
      out += "anonymous";
    } else {
      out += "u_";
      out += std::to_string(r.user);
    }
  }

  void hex(std::string& out, uint64_t v, int digits) {
    static const char* h = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) out += h[(v >> (i * 4)) & 15];
  }

  void expand(std::string& out, const Tmpl& t, const Request& r) {
    for (const Piece& p : t) {
      if (p.ph < 0) {
        out += p.lit;
        continue;
      }
      switch (p.ph) {
        case P_USER: user_str(out, r); break;
        case P_ORD: out += "ORD-"; out += std::to_string(r.order); break;
        case P_SKU: out += std::to_string(r.sku); break;
        case P_AMT:
          out += std::to_string(r.amount_cents / 100);
          out += '.';
          out += static_cast<char>('0' + r.amount_cents / 10 % 10);
          out += static_cast<char>('0' + r.amount_cents % 10);
          break;
        case P_CUR: out += kCurrencies[r.currency]; break;
        case P_N: out += static_cast<char>('1' + rng_.below(9)); break;
        case P_NN: out += std::to_string(10 + rng_.below(990)); break;
        case P_NNN: out += std::to_string(rng_.zipf(99999)); break;
        case P_DUR: duration(out, 120); break;
        case P_HEX8: hex(out, rng_.next(), 8); break;
        case P_HEX16: hex(out, rng_.next(), 16); break;
        case P_PROV: out += pick(kProviders); break;
        case P_WH: out += pick(kWarehouses); break;
        case P_SCOPE: out += pick(kScopes); break;
        case P_KID: out += "k"; out += std::to_string(2026100 + rng_.below(3)); break;
        case P_BOOL: out += rng_.chance(300) ? "true" : "false"; break;
        case P_CARRIER: out += pick(kCarriers); break;
        case P_SHIPST: out += pick(kShipStatus); break;
        case P_CITY: out += pick(kCities); break;
        case P_TPL: out += pick(kTemplates); break;
        case P_MAILPROV: out += pick(kMailProv); break;
        case P_Q: out += pick(kWords); out += ' '; out += pick(kWords); break;
        case P_PFX: {
          const char* w = pick(kWords);
          out.append(w, std::min<size_t>(strlen(w), 2 + rng_.below(3)));
          break;
        }
        case P_MODEL: out += pick(kModels); break;
        case P_SVC: out += kServiceNames[rng_.below(kServices)]; break;
        case P_TABLE: out += pick(kTables); break;
        case P_COUPON: out += pick(kCoupons); break;
        case P_LOC: out += pick(kLocales); break;
        case P_PATH: request_path(out, r); break;
        case P_METHOD: out += kFlows[r.flow].method; break;
        case P_IP:
          out += "10.";
          out += std::to_string(rng_.below(8));
          out += '.';
          out += std::to_string(rng_.below(256));
          out += '.';
          out += std::to_string(1 + rng_.below(254));
          break;
        case P_PART: out += std::to_string(rng_.below(12)); break;
        case P_OFF: out += std::to_string(18000000 + rng_.below(4000000)); break;
        case P_SHP: out += "SHP-"; out += std::to_string(r.shipment); break;
        case P_FUNC: out += pick(kFuncs); break;
        case P_KEY:
          out += pick(kKeyPrefixes);
          out += std::to_string(rng_.zipf(200000));
          break;
        case P_CLIENT: out += pick(kClients); break;
        case P_POD: {
          const auto& v = pods_[rng_.below(kServices)][0];
          out += v[rng_.below(static_cast<uint32_t>(v.size()))].name;
          break;
        }
        case P_ERRNO: out += std::to_string(1000 + rng_.below(9000)); break;
        case P_BYTES: out += std::to_string(rng_.zipf(4000000, 16)); break;
        default: break;
      }
    }
  }

  void fill(Record& rec, Request& r, const Step& st) {
    const Flow& f = kFlows[r.flow];
    const int s = st.service;
    rec.ts_ns = ts_;
    rec.service = s;
    rec.req = &r;
    rec.hop = st.hop;
    rec.msg.clear();
    rec.has_http = rec.has_db = rec.has_error = false;
    rec.user_agent = nullptr;
    int level = static_cast<int>(kLevelWeights.pick(rng_));
    rec.level = level;

    if (st.access && (level == INFO || level == DEBUG || level == WARN)) {
      // An access-log line with an `http` object.
      rec.level = level == DEBUG ? INFO : level;
      rec.has_http = true;
      rec.http_method = f.method;
      rec.http_path.clear();
      if (st.hop == 0) {
        request_path(rec.http_path, r);
      } else {
        rec.http_path = "/internal/";
        rec.http_path += kServiceNames[s];
        rec.http_path += (f.method[0] == 'G') ? "/lookup" : "/apply";
      }
      int status = 200;
      if (r.failed && rng_.chance(400)) status = 500 + static_cast<int>(rng_.below(4));
      else if (f.method[0] == 'P' && rng_.chance(400)) status = 201;
      else if (rng_.chance(30)) status = 404;
      else if (rng_.chance(20)) status = 401;
      else if (rng_.chance(10)) status = 429;
      rec.http_status = status;
      uint64_t d = 20 + rng_.below(400);
      if (rng_.chance(100)) d *= 10 + rng_.below(30);
      d *= static_cast<uint64_t>(f.chain.size() - st.hop);
      rec.http_dur_x10 = d;
      rec.http_bytes = 200 + rng_.zipf(60000);
      if (st.hop == 0 && rng_.chance(300)) rec.user_agent = pick(kUserAgents);
      if (status >= 500) rec.level = rng_.chance(500) ? ERROR : WARN;
      rec.msg += f.method;
      rec.msg += ' ';
      rec.msg += rec.http_path;
      rec.msg += ' ';
      rec.msg += std::to_string(status);
      rec.msg += ' ';
      rec.msg += std::to_string(d / 10);
      rec.msg += '.';
      rec.msg += static_cast<char>('0' + d % 10);
      rec.msg += "ms";
      return;
    }

    switch (level) {
      case ERROR: {
        r.failed = true;
        size_t e = rng_.below(static_cast<uint32_t>(kErrors.size()));
        if (s == PAYMENTS && rng_.chance(400)) e = 5;
        rec.has_error = true;
        rec.error_type = kErrors[e].type;
        expand(rec.msg, err_msg_[e], r);
        rec.error_msg.clear();
        expand(rec.error_msg, err_detail_[e], r);
        return;
      }
      case FATAL:
        expand(rec.msg, fatal_[rng_.below(static_cast<uint32_t>(fatal_.size()))], r);
        rec.has_error = true;
        rec.error_type = "FatalError";
        rec.error_msg = "process exiting with code 2";
        return;
      case TRACE:
        expand(rec.msg, trace_[rng_.below(static_cast<uint32_t>(trace_.size()))], r);
        return;
      case WARN:
        if (!loghub_.per_service[s].empty() && rng_.chance(300)) break;
        expand(rec.msg, warn_[rng_.below(static_cast<uint32_t>(warn_.size()))], r);
        if (rec.msg.compare(0, 10, "Slow query") == 0) add_db(rec, s, 2500);
        return;
      case DEBUG: {
        uint32_t k = rng_.below(100);
        if (k < 35) {  // a database query with a `db` object
          rec.msg = "db query completed";
          add_db(rec, s, 40);
          return;
        }
        if (k < 60 && !loghub_.per_service[s].empty()) break;
        expand(rec.msg, debug_[rng_.below(static_cast<uint32_t>(debug_.size()))], r);
        return;
      }
      default: {  // INFO
        uint32_t k = rng_.below(100);
        if (k < 40 || loghub_.per_service[s].empty()) {
          const auto& d = domain_[s];
          expand(rec.msg, d[rng_.below(static_cast<uint32_t>(d.size()))], r);
          return;
        }
        if (k < 50) {
          rec.msg = "db query completed";
          add_db(rec, s, 40);
          return;
        }
        break;  // loghub text
      }
    }
    const auto& lh = loghub_.per_service[s];
    // Popularity is skewed like real logs: a few messages recur a lot, most are rare.
    rec.msg += lh[rng_.zipf(static_cast<uint32_t>(lh.size())) - 1];
  }

  void add_db(Record& rec, int s, uint32_t base_x100) {
    rec.has_db = true;
    const auto& v = kDbStatements[s];
    rec.db_statement = v[rng_.below(static_cast<uint32_t>(v.size()))];
    rec.db_rows = rng_.chance(200) ? 0 : rng_.zipf(500);
    uint64_t d = base_x100 / 2 + rng_.below(base_x100 * 2);
    if (rng_.chance(50)) d *= 10 + rng_.below(50);
    rec.db_dur_x100 = d;
  }

  Rng rng_;
  Rng world_;
  uint64_t ts_;
  uint64_t mean_gap_;
  Loghub loghub_;
  std::vector<uint32_t> flow_cum_;
  std::vector<Pod> pods_[kServices][2];
  std::vector<std::vector<Tmpl>> domain_;
  std::vector<Tmpl> debug_, trace_, warn_, fatal_, err_msg_, err_detail_;
  std::vector<Request> active_;
  size_t finished_slot_ = kActive;
};

// ---------------------------------------------------------------------------------------------
// Serialization.
void days_to_civil(int64_t z, int& y, unsigned& m, unsigned& d) {  // H. Hinnant's algorithm
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}

struct Writer {
  Buf out{4 << 20};
  int fd = 1;
  bool clickhouse = false;
  int ts_digits = 9;
  uint64_t ts_div = 1;  // 10^(9 - ts_digits)
  uint64_t bytes = 0;
  // Cached "YYYY-MM-DDTHH:MM:SS" for the current second.
  uint64_t cached_sec = UINT64_MAX;
  char sec_text[48];

  void flush() {
    size_t off = 0;
    while (off < out.n) {
      ssize_t w = ::write(fd, out.data.data() + off, out.n - off);
      if (w <= 0) {
        perror("loggen: write");
        exit(1);
      }
      off += static_cast<size_t>(w);
    }
    bytes += out.n;
    out.clear();
  }

  void ts_text(uint64_t ns) {
    uint64_t sec = ns / 1000000000ULL;
    if (sec != cached_sec) {
      cached_sec = sec;
      int y;
      unsigned mo, d;
      days_to_civil(static_cast<int64_t>(sec / 86400), y, mo, d);
      unsigned sod = static_cast<unsigned>(sec % 86400);
      snprintf(sec_text, sizeof sec_text, "%04d-%02u-%02uT%02u:%02u:%02u", y, mo, d, sod / 3600, sod / 60 % 60,
               sod % 60);
    }
    out.put(std::string_view(sec_text, 19));
    out.put('.');
    out.padded((ns % 1000000000ULL) / ts_div, ts_digits);
    out.put('Z');
  }

  void uuid(uint64_t hi, uint64_t lo) {
    // 8-4-4-4-12, version 4, variant 10xx
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    out.hex(hi >> 32, 8);
    out.put('-');
    out.hex((hi >> 16) & 0xffff, 4);
    out.put('-');
    out.hex(hi & 0xffff, 4);
    out.put('-');
    out.hex(lo >> 48, 4);
    out.put('-');
    out.hex(lo & 0xffffffffffffULL, 12);
  }

  void write(const Record& r, const Generator& g) {
    const Request& q = *r.req;
    const int env = q.staging ? 1 : 0;
    if (out.nearly_full()) flush();
    uint64_t ts = r.ts_ns / ts_div * ts_div;
    if (clickhouse) {
      out.lit("{\"ts\":");
      out.u64(ts / 1000000000ULL);
      out.lit(",\"ts_ns\":");
      out.u64(ts % 1000000000ULL);
    } else {
      out.lit("{\"ts\":\"");
      ts_text(ts);
      out.put('"');
    }
    out.lit(",\"level\":\"");
    out.put(std::string_view(kLevelNames[r.level]));
    out.lit("\",\"service\":\"");
    out.put(kServiceViews[r.service]);
    out.lit("\",\"env\":\"");
    if (env) out.lit("staging"); else out.lit("production");
    out.lit("\",\"host\":\"");
    out.put(g.pods(r.service, env)[q.pod[r.hop]].name);
    out.lit("\",\"trace_id\":\"");
    out.hex(q.trace_hi, 16);
    out.hex(q.trace_lo, 16);
    out.lit("\",\"span_id\":\"");
    out.hex(q.span[r.hop], 16);
    out.lit("\",\"request_id\":\"");
    uuid(q.req_hi, q.req_lo);
    out.lit("\",\"user_id\":\"");
    if (q.anonymous) {
      out.lit("anonymous");
    } else {
      out.lit("u_");
      out.u64(q.user);
    }
    out.lit("\",\"msg\":\"");
    out.put(r.msg);
    out.put('"');
    if (r.has_http) {
      if (clickhouse) {
        out.lit(",\"http_method\":\"");
        out.put(r.http_method);
        out.lit("\",\"http_status\":");
        out.u64(static_cast<uint64_t>(r.http_status));
        out.lit(",\"http_path\":\"");
        out.put(r.http_path);
        out.lit("\",\"http_duration_ms\":");
        out.fixed(r.http_dur_x10, 1);
        out.lit(",\"http_bytes\":");
        out.u64(r.http_bytes);
        if (r.user_agent) {
          out.lit(",\"http_user_agent\":\"");
          out.put(r.user_agent);
          out.put('"');
        }
      } else {
        out.lit(",\"http\":{\"method\":\"");
        out.put(r.http_method);
        out.lit("\",\"status\":");
        out.u64(static_cast<uint64_t>(r.http_status));
        out.lit(",\"path\":\"");
        out.put(r.http_path);
        out.lit("\",\"duration_ms\":");
        out.fixed(r.http_dur_x10, 1);
        out.lit(",\"bytes\":");
        out.u64(r.http_bytes);
        if (r.user_agent) {
          out.lit(",\"user_agent\":\"");
          out.put(r.user_agent);
          out.put('"');
        }
        out.put('}');
      }
    }
    if (r.has_db) {
      if (clickhouse) {
        out.lit(",\"db_statement\":\"");
        out.put(r.db_statement);
        out.lit("\",\"db_rows\":");
        out.u64(r.db_rows);
        out.lit(",\"db_duration_ms\":");
        out.fixed(r.db_dur_x100, 2);
      } else {
        out.lit(",\"db\":{\"statement\":\"");
        out.put(r.db_statement);
        out.lit("\",\"rows\":");
        out.u64(r.db_rows);
        out.lit(",\"duration_ms\":");
        out.fixed(r.db_dur_x100, 2);
        out.put('}');
      }
    }
    if (r.has_error) {
      if (clickhouse) {
        out.lit(",\"error_type\":\"");
        out.put(r.error_type);
        out.lit("\",\"error_message\":\"");
        out.put(r.error_msg);
        out.put('"');
      } else {
        out.lit(",\"error\":{\"type\":\"");
        out.put(r.error_type);
        out.lit("\",\"message\":\"");
        out.put(r.error_msg);
        out.lit("\"}");
      }
    }
    out.lit("}\n");
  }
};

[[noreturn]] void usage(const char* why) {
  fprintf(stderr,
          "loggen: %s\nusage: loggen [--lines N] [--seed S] [--start-ns NS] [--rate R] [--ts-digits 3|6|9]\n"
          "              [--format ndjson|clickhouse] [--loghub DIR] [--rare-token T [--rare-every N]]\n"
          "              [--print-trace-at N] [--out FILE] [--stats]\n",
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

std::string default_loghub() {
  // ../shared/data/loghub relative to the repo (this file is <repo>/bench/loggen.cc).
  std::string src = __FILE__;
  size_t p = src.rfind('/');
  std::vector<std::string> candidates;
  if (p != std::string::npos) candidates.push_back(src.substr(0, p) + "/../../shared/data/loghub");
  candidates.push_back("../shared/data/loghub");
  candidates.push_back("../../shared/data/loghub");
  for (const auto& c : candidates) {
    std::ifstream probe(c + "/HDFS_2k.log");
    if (probe) return c;
  }
  return candidates.front();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t lines = 1000000, seed = 42, start_ns = 1793491200ULL * 1000000000ULL, rate = 2000;
  uint64_t rare_every = 500000, trace_at = UINT64_MAX;
  int ts_digits = 9;
  bool clickhouse = false, stats = false;
  std::string loghub_dir, rare_token, out_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
      return argv[++i];
    };
    if (a == "--lines") lines = parse_u64(val(), "--lines");
    else if (a == "--seed") seed = parse_u64(val(), "--seed");
    else if (a == "--start-ns") start_ns = parse_u64(val(), "--start-ns");
    else if (a == "--rate") rate = parse_u64(val(), "--rate");
    else if (a == "--ts-digits") ts_digits = static_cast<int>(parse_u64(val(), "--ts-digits"));
    else if (a == "--format") {
      std::string_view f = val();
      if (f == "clickhouse") clickhouse = true;
      else if (f != "ndjson") usage("--format must be ndjson or clickhouse");
    } else if (a == "--loghub") loghub_dir = val();
    else if (a == "--rare-token") rare_token = val();
    else if (a == "--rare-every") rare_every = parse_u64(val(), "--rare-every");
    else if (a == "--print-trace-at") trace_at = parse_u64(val(), "--print-trace-at");
    else if (a == "--out") out_path = val();
    else if (a == "--stats") stats = true;
    else if (a == "-h" || a == "--help") usage("help");
    else usage((std::string("unknown flag ") + argv[i]).c_str());
  }
  if (ts_digits != 3 && ts_digits != 6 && ts_digits != 9) usage("--ts-digits must be 3, 6 or 9");
  if (rate == 0) usage("--rate must be > 0");
  if (rare_every == 0) usage("--rare-every must be > 0");
  if (loghub_dir.empty()) loghub_dir = default_loghub();

  Loghub lh = load_loghub(loghub_dir);
  if (lh.total == 0)
    fprintf(stderr, "loggen: no loghub samples under %s; using built-in templates only\n", loghub_dir.c_str());

  Writer w;
  w.clickhouse = clickhouse;
  w.ts_digits = ts_digits;
  for (int i = ts_digits; i < 9; ++i) w.ts_div *= 10;
  if (!out_path.empty()) {
    w.fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w.fd < 0) {
      perror(out_path.c_str());
      return 1;
    }
  }

  Generator gen(seed, start_ns, rate, std::move(lh));
  Record rec;
  rec.msg.reserve(512);
  uint64_t rare_hits = 0;
  uint64_t level_count[kLevels] = {}, service_count[kServices] = {};
  bool trace_known = false;
  uint64_t trace_hi = 0, trace_lo = 0, trace_lines = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < lines; ++i) {
    gen.next(rec);
    if (!rare_token.empty() && i % rare_every == rare_every / 2) {
      rec.msg += ' ';
      rec.msg += rare_token;
      ++rare_hits;
    }
    if (i == trace_at) {
      trace_known = true;
      trace_hi = rec.req->trace_hi;
      trace_lo = rec.req->trace_lo;
      trace_lines = rec.req->steps.size();  // every line of a request is emitted, in order
    }
    w.write(rec, gen);
    ++level_count[rec.level];
    ++service_count[rec.service];
  }
  w.flush();
  if (w.fd != 1) ::close(w.fd);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fprintf(stderr, "loggen: lines=%llu bytes=%llu avg=%.1f seconds=%.2f lines_per_s=%.0f rare_hits=%llu loghub_msgs=%zu\n",
          static_cast<unsigned long long>(lines), static_cast<unsigned long long>(w.bytes),
          lines ? static_cast<double>(w.bytes) / static_cast<double>(lines) : 0.0, secs,
          secs > 0 ? static_cast<double>(lines) / secs : 0.0, static_cast<unsigned long long>(rare_hits),
          gen.loghub_total());
  if (trace_known)
    fprintf(stderr, "loggen: trace_at=%llu trace_id=%016llx%016llx trace_lines=%llu\n",
            static_cast<unsigned long long>(trace_at), static_cast<unsigned long long>(trace_hi),
            static_cast<unsigned long long>(trace_lo), static_cast<unsigned long long>(trace_lines));
  else if (trace_at != UINT64_MAX)
    fprintf(stderr, "loggen: trace_at=%llu beyond --lines\n", static_cast<unsigned long long>(trace_at));
  if (stats) {
    fprintf(stderr, "loggen: levels");
    for (int l = 0; l < kLevels; ++l)
      fprintf(stderr, " %s=%.2f%%", kLevelNames[l], 100.0 * static_cast<double>(level_count[l]) / static_cast<double>(lines ? lines : 1));
    fprintf(stderr, "\nloggen: services");
    for (int s = 0; s < kServices; ++s)
      fprintf(stderr, " %s=%.2f%%", kServiceNames[s], 100.0 * static_cast<double>(service_count[s]) / static_cast<double>(lines ? lines : 1));
    fprintf(stderr, "\n");
  }
  return 0;
}
