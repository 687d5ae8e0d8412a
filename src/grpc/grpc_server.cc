#include "grpc/grpc_server.h"

#include <grpc/compression.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/status_map.h"

namespace sightline::rpc {

namespace {

::grpc::Status ToGrpcStatus(const Status& s) {
  return ::grpc::Status(static_cast<::grpc::StatusCode>(http::GrpcCodeFor(s.code())), s.message());
}

// Ends the call with `status` as soon as it is created (unknown method, overload).
class FinishReactor final : public ::grpc::ServerGenericBidiReactor {
 public:
  explicit FinishReactor(const ::grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

class CallReactor;

// The handler table, the gRPC server and the handler thread pool.
//
// gRPC's callback API runs reactions on a small process-wide thread pool (in 1.51 on Linux,
// cores/2 clamped to 2..16 threads, shared by every callback-API server and client), so the
// reactions here only read, queue and write; handlers, which may block for a WAL fsync, run
// on our own threads.
struct Core {
  explicit Core(GrpcServerOptions o) : options(o) {}

  // Called by gRPC for every incoming call.
  ::grpc::ServerGenericBidiReactor* CreateReactor(::grpc::GenericCallbackServerContext* ctx);

  // Hands `call` to a handler thread; false if the queue is full or the pool is stopping.
  bool Enqueue(CallReactor* call);
  void WorkerLoop();
  void StopWorkers();

  const GrpcServerOptions options;
  std::unordered_map<std::string, GrpcHandler> handlers;    // read-only once started
  std::unique_ptr<::grpc::CallbackGenericService> service;  // outlives `server`
  std::unique_ptr<::grpc::Server> server;
  int port = 0;
  bool started = false;
  bool shut_down = false;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<CallReactor*> queue;  // guarded by mu
  size_t queued_bytes = 0;         // guarded by mu
  bool stopping = false;           // guarded by mu
  std::vector<std::thread> workers;
};

// Hands every call to Core. A fresh one per Start() attempt: gRPC ties a generic service to
// the first server built with it, even when that server then fails to listen.
class GenericService final : public ::grpc::CallbackGenericService {
 public:
  explicit GenericService(Core* core) : core_(core) {}
  ::grpc::ServerGenericBidiReactor* CreateReactor(
      ::grpc::GenericCallbackServerContext* ctx) override {
    return core_->CreateReactor(ctx);
  }

 private:
  Core* const core_;
};

// One unary call: read the request message, queue it for a handler thread, run the handler
// there, write the response together with the status. Deletes itself in OnDone().
class CallReactor final : public ::grpc::ServerGenericBidiReactor {
 public:
  CallReactor(Core* server, ::grpc::CallbackServerContext* ctx, const GrpcHandler* handler)
      : server_(server), ctx_(ctx), handler_(handler) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message, or the call was cancelled.
      Finish(::grpc::Status(::grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    if (!server_->Enqueue(this)) {
      Finish(::grpc::Status(::grpc::StatusCode::UNAVAILABLE, "server busy, retry later"));
    }
  }

  size_t request_bytes() const { return request_.Length(); }

  // Runs on a handler thread.
  void Run() {
    if (cancelled_.load(std::memory_order_acquire) || ctx_->IsCancelled()) {
      // The client gave up (deadline) or the server is shutting down: do not apply a request
      // whose sender will not learn that it succeeded.
      Finish(::grpc::Status::CANCELLED);
      return;
    }
    ::grpc::Slice slice;
    if (!request_.TrySingleSlice(&slice).ok() && !request_.DumpToSingleSlice(&slice).ok()) {
      Finish(::grpc::Status(::grpc::StatusCode::INTERNAL, "cannot read request message"));
      return;
    }
    std::string_view bytes(reinterpret_cast<const char*>(slice.begin()), slice.size());
    GrpcReply reply;
    try {
      reply = (*handler_)(bytes);
    } catch (const std::exception& e) {  // e.g. bad_alloc: fail the call, not the process
      reply.status = Internal(std::string("handler failed: ") + e.what());
    }
    request_.Clear();
    slice = ::grpc::Slice();
    if (!reply.status.ok()) {
      Finish(ToGrpcStatus(reply.status));
      return;
    }
    ::grpc::Slice body(reply.body);
    response_ = ::grpc::ByteBuffer(&body, 1);
    StartWriteAndFinish(&response_, ::grpc::WriteOptions(), ::grpc::Status::OK);
  }

  void OnCancel() override { cancelled_.store(true, std::memory_order_release); }
  void OnDone() override { delete this; }

 private:
  Core* const server_;
  ::grpc::CallbackServerContext* const ctx_;  // owned by gRPC, valid until OnDone()
  const GrpcHandler* const handler_;          // owned by server_->handlers, which outlives calls
  ::grpc::ByteBuffer request_;
  ::grpc::ByteBuffer response_;
  std::atomic<bool> cancelled_{false};
};

::grpc::ServerGenericBidiReactor* Core::CreateReactor(::grpc::GenericCallbackServerContext* ctx) {
  auto it = handlers.find(ctx->method());
  if (it == handlers.end()) {
    return new FinishReactor(
        ::grpc::Status(::grpc::StatusCode::UNIMPLEMENTED, "unknown method " + ctx->method()));
  }
  return new CallReactor(this, ctx, &it->second);
}

bool Core::Enqueue(CallReactor* call) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping || queue.size() >= static_cast<size_t>(options.max_queued_calls)) return false;
    const size_t bytes = call->request_bytes();
    if (!queue.empty() && queued_bytes + bytes > options.max_queued_bytes) return false;
    queued_bytes += bytes;
    queue.push_back(call);
  }
  cv.notify_one();
  return true;
}

void Core::WorkerLoop() {
  for (;;) {
    CallReactor* call;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping and drained
      call = queue.front();
      queue.pop_front();
      queued_bytes -= std::min(queued_bytes, call->request_bytes());
    }
    call->Run();
  }
}

void Core::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  cv.notify_all();
  for (std::thread& t : workers) t.join();
  workers.clear();
}

}  // namespace

struct GrpcServer::Impl {
  explicit Impl(GrpcServerOptions o) : core(o) {}
  Core core;
};

GrpcServer::GrpcServer() : GrpcServer(GrpcServerOptions()) {}

GrpcServer::GrpcServer(GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

GrpcServer::~GrpcServer() { Shutdown(); }

void GrpcServer::Register(std::string method_path, GrpcHandler handler) {
  if (impl_->core.started || !handler) return;
  impl_->core.handlers[std::move(method_path)] = std::move(handler);
}

Status GrpcServer::Start(const std::string& listen_addr, int max_message_bytes) {
  Core& s = impl_->core;
  if (s.started) return FailedPrecondition("grpc server already started");
  if (listen_addr.empty()) return InvalidArgument("grpc listen address is empty");
  if (max_message_bytes <= 0) return InvalidArgument("grpc max message size must be positive");
  if (s.options.handler_threads <= 0 || s.options.max_queued_calls < 0) {
    return InvalidArgument("grpc handler_threads must be positive, max_queued_calls >= 0");
  }

  ::grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen_addr, ::grpc::InsecureServerCredentials(), &port);
  s.service = std::make_unique<GenericService>(&s);
  builder.RegisterCallbackGenericService(s.service.get());
  builder.SetMaxReceiveMessageSize(max_message_bytes);  // also caps the decompressed size
  builder.SetMaxSendMessageSize(max_message_bytes);
  // Accept gzip and deflate requests (grpc-encoding); reply uncompressed (tiny responses).
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, true);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, true);
  builder.SetDefaultCompressionAlgorithm(GRPC_COMPRESS_NONE);
  // gRPC sets SO_REUSEPORT by default, which would let a second server bind the same port
  // silently; a busy port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);

  s.server = builder.BuildAndStart();
  if (s.server == nullptr || port == 0) {
    if (s.server != nullptr) s.server->Shutdown();
    s.server.reset();
    s.service.reset();
    return IOError("grpc: cannot listen on " + listen_addr + " (address in use or invalid)");
  }
  s.port = port;
  s.started = true;
  s.workers.reserve(s.options.handler_threads);
  for (int i = 0; i < s.options.handler_threads; ++i) {
    s.workers.emplace_back([&s] { s.WorkerLoop(); });
  }
  return Status::OK();
}

int GrpcServer::port() const { return impl_->core.port; }

void GrpcServer::Shutdown() {
  Core& s = impl_->core;
  if (!s.started || s.shut_down) return;
  s.shut_down = true;
  // Returns once every call is done. The handler threads must keep running meanwhile: queued
  // calls still need them to reach Finish() (cancelled ones skip their handler).
  s.server->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(s.options.shutdown_grace_ms));
  s.server->Wait();
  s.StopWorkers();
  s.server.reset();
  s.service.reset();
  s.port = 0;
}

}  // namespace sightline::rpc
