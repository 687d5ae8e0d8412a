// A gRPC server for unary methods whose messages are handled as raw bytes: no generated
// protobuf code, the handlers decode the wire format themselves (see ingest/). It serves
// OTLP/gRPC on port 4317.
//
// Each call reads exactly one request message, runs the registered handler on one of the
// server's own handler threads (never on a gRPC event thread, so handlers may block, e.g. on
// a WAL fsync), and replies with one response message or with the gRPC status that
// http/status_map.h's GrpcCodeFor() gives for the handler's Status. Up to `handler_threads`
// calls run at once; further calls queue, and above `max_queued_calls` are refused at once
// with UNAVAILABLE so that clients back off and retry.
//
// Requests compressed with gzip or deflate (grpc-encoding) are decompressed by gRPC before the
// handler sees them; `max_message_bytes` caps both the wire size and the decompressed size
// (RESOURCE_EXHAUSTED above it). Responses are not compressed.
//
// Ownership: the server keeps the handlers (and what they capture) until it is destroyed;
// whatever a handler points to must stay valid until Shutdown() has returned.
//
// Thread-safety: Register() before Start(); Start() and Shutdown() from one controlling
// thread. Handlers are called concurrently from several threads and must be thread-safe.
//
// Namespace `sightline::rpc`, not `sightline::grpc`: the latter would shadow gRPC's own
// `::grpc` inside namespace sightline.
#ifndef SIGHTLINE_GRPC_GRPC_SERVER_H_
#define SIGHTLINE_GRPC_GRPC_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sightline::rpc {

// What a handler returns. If `status` is OK, `body` is the serialized response message;
// otherwise `body` is ignored and the call ends with GrpcCodeFor(status.code()) and
// status.message() as the gRPC status.
struct GrpcReply {
  Status status;
  std::string body;
};

// `request_bytes` is the (decompressed) request message; it is valid only during the call.
using GrpcHandler = std::function<GrpcReply(std::string_view request_bytes)>;

struct GrpcServerOptions {
  // Threads that run handlers; also the number of calls that can be in a handler at once.
  int handler_threads = 8;
  // Calls waiting for a handler thread beyond this are refused with UNAVAILABLE.
  int max_queued_calls = 256;
  // Likewise once the waiting requests hold this many bytes (decompressed), so a burst of
  // large messages cannot exhaust memory; one call is always accepted when none waits.
  size_t max_queued_bytes = 256u << 20;
  // Shutdown() lets in-flight calls finish for this long, then cancels the rest.
  int shutdown_grace_ms = 5000;
};

class GrpcServer {
 public:
  GrpcServer();
  explicit GrpcServer(GrpcServerOptions options);
  // Calls Shutdown().
  ~GrpcServer();

  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Serves `method_path` ("/package.Service/Method", e.g.
  // "/opentelemetry.proto.collector.trace.v1.TraceService/Export") with `handler`, replacing
  // any earlier registration of the same path. Calls to unregistered paths end with
  // UNIMPLEMENTED. Must be called before Start().
  void Register(std::string method_path, GrpcHandler handler);

  // Listens on `listen_addr` ("host:port": "127.0.0.1:4317", "0.0.0.0:4317", "[::]:4317";
  // port 0 picks a free port, see port()) without TLS and starts serving. Succeeds at most
  // once; after an error it may be called again.
  // Errors: InvalidArgument (bad arguments), IOError (address in use or unusable; gRPC also
  // logs the cause to stderr), FailedPrecondition (already started).
  Status Start(const std::string& listen_addr, int max_message_bytes = 64 << 20);

  // The bound port once Start() succeeded, else 0.
  int port() const;

  // Stops accepting calls (new ones fail with UNAVAILABLE), waits up to
  // `shutdown_grace_ms` for in-flight calls, then cancels those still open (their clients
  // see UNAVAILABLE, which OTLP exporters retry), and joins the handler threads. A queued
  // call whose cancellation has reached the server (asynchronously) is not handed to its
  // handler; a handler already running is not interrupted, and Shutdown() returns only
  // after it does. Idempotent; no-op if never started. Must not be called from a handler.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sightline::rpc

#endif  // SIGHTLINE_GRPC_GRPC_SERVER_H_
