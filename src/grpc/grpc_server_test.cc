#include "grpc/grpc_server.h"

#include <arpa/inet.h>
#include <grpc/compression.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/status_map.h"

namespace sightline::rpc {
namespace {

using namespace std::chrono_literals;

constexpr char kUpper[] = "/test.Echo/Upper";

struct CallResult {
  ::grpc::Status status;
  std::string body;
};

// A generic client on its own completion queue and thread (the async API, not the callback
// API, so that the test does not depend on gRPC's process-wide callback queue).
class Client {
 public:
  explicit Client(int port)
      : channel_(::grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       ::grpc::InsecureChannelCredentials())),
        stub_(channel_),
        poller_([this] { Poll(); }) {}
  ~Client() {
    cq_.Shutdown();
    poller_.join();
  }

  // Starts a unary call; the future yields its status and response bytes.
  std::future<CallResult> Start(const std::string& method, const std::string& request,
                                bool gzip = false) {
    auto* state = new State;
    if (gzip) state->ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    state->ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    ::grpc::Slice slice(request);
    ::grpc::ByteBuffer buffer(&slice, 1);
    std::future<CallResult> f = state->done.get_future();
    state->call = stub_.PrepareUnaryCall(&state->ctx, method, buffer, &cq_);
    state->call->StartCall();
    state->call->Finish(&state->response, &state->status, state);
    return f;
  }

  CallResult Call(const std::string& method, const std::string& request, bool gzip = false) {
    return Start(method, request, gzip).get();
  }

 private:
  struct State {
    ::grpc::ClientContext ctx;
    std::unique_ptr<::grpc::GenericClientAsyncResponseReader> call;
    ::grpc::ByteBuffer response;
    ::grpc::Status status;
    std::promise<CallResult> done;
  };

  void Poll() {
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      std::unique_ptr<State> state(static_cast<State*>(tag));
      CallResult r{state->status, {}};
      std::vector<::grpc::Slice> slices;
      if (r.status.ok() && state->response.Dump(&slices).ok()) {
        for (const auto& sl : slices) {
          r.body.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
        }
      }
      state->done.set_value(std::move(r));
    }
  }

  std::shared_ptr<::grpc::Channel> channel_;
  ::grpc::GenericStub stub_;
  ::grpc::CompletionQueue cq_;
  std::thread poller_;
};

GrpcReply Upper(std::string_view in) {
  std::string out(in);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return {Status::OK(), "len=" + std::to_string(in.size()) + ":" + out};
}

// A gate handlers can wait on, with a count of how many are waiting.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool AwaitWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// A loopback TCP proxy that counts the bytes the client sends, to see what is on the wire.
class CountingProxy {
 public:
  explicit CountingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~CountingProxy() {
    shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : pumps_) t.join();
    for (int fd : fds_) close(fd);
    close(listen_fd_);
  }
  int port() const { return port_; }
  size_t upstream_bytes() const { return upstream_bytes_.load(); }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }
  void AcceptLoop() {
    for (;;) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr = Loopback(upstream_port_);
      if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(client);
        close(server);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(client);
      fds_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server, &upstream_bytes_); });
      pumps_.emplace_back([client, server] { Pump(server, client, nullptr); });
    }
  }
  static void Pump(int from, int to, std::atomic<size_t>* counter) {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = recv(from, buf, sizeof(buf), 0);
      if (n <= 0) break;
      if (counter != nullptr) *counter += static_cast<size_t>(n);
      for (ssize_t off = 0; off < n;) {
        ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
        if (w <= 0) return;
        off += w;
      }
    }
    shutdown(to, SHUT_WR);
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
  std::atomic<size_t> upstream_bytes_{0};
};

std::string Compressible(size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; s.size() < n; ++i) s += "span " + std::to_string(i % 1000) + " ok; ";
  s.resize(n);
  return s;
}

TEST(GrpcServerTest, StartsOnPortZeroAndEchoes) {
  GrpcServer server;
  server.Register(kUpper, Upper);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  ASSERT_GT(server.port(), 0);
  Client client(server.port());
  CallResult r = client.Call(kUpper, "hello grpc");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.body, "len=10:HELLO GRPC");

  // Empty request and binary bytes (protobuf messages are not text).
  r = client.Call(kUpper, "");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.body, "len=0:");
  std::string binary("\x0a\x00\xff\x80", 4);
  r = client.Call(kUpper, binary);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.body, "len=4:" + binary);
}

TEST(GrpcServerTest, HandlerErrorsMapToGrpcCodes) {
  GrpcServer server;
  struct Case {
    const char* method;
    Status status;
    ::grpc::StatusCode want;
  };
  std::vector<Case> cases = {
      {"/t.S/Invalid", InvalidArgument("bad span id"), ::grpc::StatusCode::INVALID_ARGUMENT},
      {"/t.S/TooLarge", PayloadTooLarge("too big"), ::grpc::StatusCode::RESOURCE_EXHAUSTED},
      {"/t.S/Backpressure", ResourceExhausted("slow down"), ::grpc::StatusCode::UNAVAILABLE},
      {"/t.S/Unavailable", Unavailable("stopping"), ::grpc::StatusCode::UNAVAILABLE},
      {"/t.S/NotFound", NotFound("nope"), ::grpc::StatusCode::NOT_FOUND},
      {"/t.S/IO", IOError("fsync failed"), ::grpc::StatusCode::INTERNAL},
      {"/t.S/Internal", Internal("bug"), ::grpc::StatusCode::INTERNAL},
  };
  for (const Case& c : cases) {
    Status st = c.status;
    server.Register(c.method, [st](std::string_view) { return GrpcReply{st, "ignored"}; });
  }
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  for (const Case& c : cases) {
    CallResult r = client.Call(c.method, "x");
    EXPECT_EQ(r.status.error_code(), c.want) << c.method;
    EXPECT_EQ(r.status.error_message(), c.status.message()) << c.method;
    EXPECT_EQ(static_cast<int>(c.want), http::GrpcCodeFor(c.status.code())) << c.method;
  }
}

TEST(GrpcServerTest, GrpcCodeTable) {
  EXPECT_EQ(http::GrpcCodeFor(Code::kOk), 0);
  EXPECT_EQ(http::GrpcCodeFor(Code::kInvalidArgument), 3);
  EXPECT_EQ(http::GrpcCodeFor(Code::kNotFound), 5);
  EXPECT_EQ(http::GrpcCodeFor(Code::kPayloadTooLarge), 8);
  EXPECT_EQ(http::GrpcCodeFor(Code::kFailedPrecondition), 9);
  EXPECT_EQ(http::GrpcCodeFor(Code::kUnimplemented), 12);
  EXPECT_EQ(http::GrpcCodeFor(Code::kUnsupportedMediaType), 12);
  EXPECT_EQ(http::GrpcCodeFor(Code::kCorruption), 13);
  EXPECT_EQ(http::GrpcCodeFor(Code::kIOError), 13);
  EXPECT_EQ(http::GrpcCodeFor(Code::kInternal), 13);
  EXPECT_EQ(http::GrpcCodeFor(Code::kResourceExhausted), 14);
  EXPECT_EQ(http::GrpcCodeFor(Code::kUnavailable), 14);
}

TEST(GrpcServerTest, UnknownMethodIsUnimplemented) {
  GrpcServer server;
  server.Register(kUpper, Upper);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  CallResult r = client.Call("/test.Echo/Missing", "x");
  EXPECT_EQ(r.status.error_code(), ::grpc::StatusCode::UNIMPLEMENTED);
  // The server keeps serving registered methods afterwards.
  EXPECT_TRUE(client.Call(kUpper, "x").status.ok());
}

TEST(GrpcServerTest, GzipRequestsAreDecompressed) {
  GrpcServer server;
  std::string got;
  server.Register("/t.S/Echo", [&got](std::string_view in) {
    got = std::string(in);
    return GrpcReply{Status::OK(), std::to_string(in.size())};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  const std::string payload = Compressible(4 << 20);
  for (bool gzip : {false, true}) {
    CountingProxy proxy(server.port());
    size_t wire;
    {
      Client client(proxy.port());
      CallResult r = client.Call("/t.S/Echo", payload, gzip);
      ASSERT_TRUE(r.status.ok()) << gzip << " " << r.status.error_message();
      EXPECT_EQ(r.body, std::to_string(payload.size()));
      EXPECT_TRUE(got == payload);
      wire = proxy.upstream_bytes();
    }
    // Proof that the request really went compressed (grpc-encoding: gzip) or not.
    if (gzip) {
      EXPECT_LT(wire, payload.size() / 10);
    } else {
      EXPECT_GT(wire, payload.size());
    }
  }
}

TEST(GrpcServerTest, MessageSizeCapAppliesToWireAndDecompressedSize) {
  GrpcServer server;
  std::atomic<int> calls{0};
  server.Register("/t.S/Count", [&calls](std::string_view) {
    ++calls;
    return GrpcReply{};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0", 1 << 20).ok());
  Client client(server.port());
  EXPECT_TRUE(client.Call("/t.S/Count", std::string(1000 << 10, 'a')).status.ok());
  EXPECT_EQ(client.Call("/t.S/Count", std::string(2 << 20, 'a')).status.error_code(),
            ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  // 32 MiB of zeros gzip to ~32 KiB: a decompression bomb must hit the same cap.
  EXPECT_EQ(client.Call("/t.S/Count", std::string(32 << 20, '\0'), true).status.error_code(),
            ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(calls.load(), 1);
}

TEST(GrpcServerTest, CallsRunConcurrently) {
  constexpr int kThreads = 4;
  GrpcServerOptions options;
  options.handler_threads = kThreads;
  GrpcServer server(options);
  std::mutex mu;
  std::condition_variable cv;
  int in_handler = 0;
  int max_in_handler = 0;
  server.Register("/t.S/Block", [&](std::string_view in) {
    std::unique_lock<std::mutex> lock(mu);
    ++in_handler;
    max_in_handler = std::max(max_in_handler, in_handler);
    cv.notify_all();
    // Returns only once all kThreads calls are inside a handler at the same time.
    bool all = cv.wait_for(lock, 10s, [&] { return max_in_handler >= kThreads; });
    --in_handler;
    return all ? GrpcReply{Status::OK(), std::string(in)} : GrpcReply{Internal("alone"), ""};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  std::vector<std::future<CallResult>> calls;
  for (int i = 0; i < kThreads; ++i) {
    calls.push_back(client.Start("/t.S/Block", "c" + std::to_string(i)));
  }
  for (int i = 0; i < kThreads; ++i) {
    CallResult r = calls[i].get();
    EXPECT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(r.body, "c" + std::to_string(i));
  }
  EXPECT_EQ(max_in_handler, kThreads);
}

TEST(GrpcServerTest, FullQueueAnswersUnavailable) {
  GrpcServerOptions options;
  options.handler_threads = 1;
  options.max_queued_calls = 1;
  GrpcServer server(options);
  Gate gate;
  server.Register("/t.S/Block", [&gate](std::string_view) {
    gate.Wait();
    return GrpcReply{};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  auto a = client.Start("/t.S/Block", "a");
  ASSERT_TRUE(gate.AwaitWaiting(1));
  auto b = client.Start("/t.S/Block", "b");
  auto c = client.Start("/t.S/Block", "c");
  // One of b and c is queued, the other refused at once, whichever arrived second.
  std::future<CallResult>* refused = nullptr;
  for (int i = 0; i < 200 && refused == nullptr; ++i) {
    if (b.wait_for(50ms) == std::future_status::ready) refused = &b;
    if (c.wait_for(0ms) == std::future_status::ready) refused = &c;
  }
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->get().status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  gate.Open();
  EXPECT_TRUE(a.get().status.ok());
  EXPECT_TRUE((refused == &b ? c : b).get().status.ok());
}

TEST(GrpcServerTest, QueuedBytesAreBounded) {
  GrpcServerOptions options;
  options.handler_threads = 1;
  options.max_queued_calls = 100;
  options.max_queued_bytes = 1000;
  GrpcServer server(options);
  Gate gate;
  server.Register("/t.S/Block", [&gate](std::string_view) {
    gate.Wait();
    return GrpcReply{};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  auto a = client.Start("/t.S/Block", "a");
  ASSERT_TRUE(gate.AwaitWaiting(1));
  // 800 + 800 bytes waiting exceed the 1000-byte budget: one of b and c is refused.
  auto b = client.Start("/t.S/Block", std::string(800, 'b'));
  auto c = client.Start("/t.S/Block", std::string(800, 'c'));
  std::future<CallResult>* refused = nullptr;
  for (int i = 0; i < 200 && refused == nullptr; ++i) {
    if (b.wait_for(50ms) == std::future_status::ready) refused = &b;
    if (c.wait_for(0ms) == std::future_status::ready) refused = &c;
  }
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->get().status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  gate.Open();
  EXPECT_TRUE(a.get().status.ok());
  EXPECT_TRUE((refused == &b ? c : b).get().status.ok());
}

TEST(GrpcServerTest, ShutdownDrainsInFlightCalls) {
  GrpcServer server;
  Gate gate;
  server.Register("/t.S/Block", [&gate](std::string_view) {
    gate.Wait();
    return GrpcReply{Status::OK(), "done"};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  const int port = server.port();
  Client client(port);
  auto in_flight = client.Start("/t.S/Block", "x");
  ASSERT_TRUE(gate.AwaitWaiting(1));
  std::thread stopper([&server] { server.Shutdown(); });
  std::this_thread::sleep_for(300ms);
  gate.Open();
  CallResult r = in_flight.get();
  stopper.join();
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(server.port(), 0);
  // Nothing listens any more.
  EXPECT_EQ(Client(port).Call("/t.S/Block", "y").status.error_code(),
            ::grpc::StatusCode::UNAVAILABLE);
  server.Shutdown();  // idempotent
}

TEST(GrpcServerTest, ShutdownDeadlineCancelsAndSkipsQueuedCalls) {
  GrpcServerOptions options;
  options.handler_threads = 1;
  options.shutdown_grace_ms = 100;
  GrpcServer server(options);
  Gate gate;
  std::atomic<int> handled{0};
  server.Register("/t.S/Block", [&](std::string_view) {
    ++handled;
    gate.Wait();
    return GrpcReply{};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  Client client(server.port());
  auto running = client.Start("/t.S/Block", "a");
  ASSERT_TRUE(gate.AwaitWaiting(1));
  auto queued = client.Start("/t.S/Block", "b");
  std::this_thread::sleep_for(200ms);  // let "b" reach the queue
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&server] { server.Shutdown(); });
  // Past the grace period both calls are cancelled; the clients learn it at once, with the
  // retryable UNAVAILABLE.
  EXPECT_EQ(running.get().status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(queued.get().status.error_code(), ::grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  std::this_thread::sleep_for(200ms);  // the server learns of the cancellation asynchronously
  gate.Open();  // the running handler cannot be interrupted; Shutdown waits for it
  stopper.join();
  EXPECT_EQ(handled.load(), 1);  // "b" never reached its handler
}

TEST(GrpcServerTest, StartErrors) {
  GrpcServer first;
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  EXPECT_EQ(first.Start("127.0.0.1:0").code(), Code::kFailedPrecondition);

  GrpcServer second;
  Status st = second.Start("127.0.0.1:" + std::to_string(first.port()));
  EXPECT_EQ(st.code(), Code::kIOError) << st.ToString();
  EXPECT_EQ(second.port(), 0);
  // A failed Start() can be retried.
  second.Register(kUpper, Upper);
  ASSERT_TRUE(second.Start("127.0.0.1:0").ok());
  EXPECT_TRUE(Client(second.port()).Call(kUpper, "again").status.ok());

  GrpcServer bad;
  EXPECT_EQ(bad.Start("").code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.Start("127.0.0.1:0", 0).code(), Code::kInvalidArgument);
  EXPECT_FALSE(bad.Start("no-such-host.invalid:1").ok());
}

TEST(GrpcServerTest, ListensOnIpv6Wildcard) {
  GrpcServer server;
  server.Register(kUpper, Upper);
  Status st = server.Start("[::]:0");
  if (!st.ok()) GTEST_SKIP() << "no IPv6 here: " << st.ToString();
  Client client(server.port());  // 127.0.0.1 reaches a dual-stack [::] listener
  EXPECT_TRUE(client.Call(kUpper, "v6").status.ok());
}

}  // namespace
}  // namespace sightline::rpc
