// A small HTTP/1.1 server on Boost.Beast: keep-alive, a body cap enforced while reading,
// a router with exact and prefix routes, and graceful stop. Handlers run on the server's
// I/O threads and may block (for example on a WAL fsync); size `threads` accordingly.
//
// Thread-safety: Route() before Start(); Start/Stop from one controlling thread.
#ifndef SIGHTLINE_HTTP_SERVER_H_
#define SIGHTLINE_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sightline::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw target: path and query
  std::string path;    // decoded path without query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // lower-case names
  std::string body;
  std::string remote;

  // First value of a query parameter, or of a form field in an
  // application/x-www-form-urlencoded POST body; "" if absent.
  std::string Param(const std::string& name) const;
  bool HasParam(const std::string& name) const;
  std::string Header(const std::string& lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<void(const Request&, Response*)>;

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 4318;
  int threads = 4;
  size_t max_body_bytes = 64 << 20;  // compressed bytes on the wire; 413 above
};

// Decodes %XX and '+' (as space) in URL query components.
// With plus_is_space (query strings, forms) '+' also decodes to a space; in paths it is a
// literal '+' (RFC 3986), as Go's url.JoinPath and browsers send it.
std::string UrlDecode(std::string_view s, bool plus_is_space = true);
void ParseQueryString(std::string_view qs, std::multimap<std::string, std::string>* out);

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Exact match on method and path; method "*" matches any method.
  void Route(const std::string& method, const std::string& path, Handler h);
  // Matches any path starting with `prefix` (longest prefix wins).
  void RoutePrefix(const std::string& method, const std::string& prefix, Handler h);

  // Binds and starts the I/O threads. Errors: IOError (address in use, ...).
  Status Start();
  // Stops accepting, lets in-flight requests finish (up to a few seconds), joins threads.
  void Stop();
  int bound_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sightline::http

#endif  // SIGHTLINE_HTTP_SERVER_H_
