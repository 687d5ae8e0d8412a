// bench/http_client.h: the benchmarks' HTTP/1.1 client over plain sockets (spangen, errgen).
//
// One Conn is one keep-alive connection, used by one thread. It connects lazily, sends a
// request (Content-Length, or the whole body as one chunk with Transfer-Encoding: chunked, as
// Node's http module sends it), reads the answer (Content-Length, chunked or to EOF) and
// closes the socket on a connection error or "Connection: close". Loopback benchmarks only: no
// TLS, no redirects, no proxies. Header-only; each benchmark is a single translation unit.
#ifndef SIGHTLINE_BENCH_HTTP_CLIENT_H_
#define SIGHTLINE_BENCH_HTTP_CLIENT_H_

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace benchhttp {

struct Url {
  std::string host, port, path;
};

// "http://host[:port][/path]" (port 80 and path "/" by default).
inline bool parse_url(const std::string& u, Url* out) {
  const std::string pre = "http://";
  if (u.compare(0, pre.size(), pre) != 0) return false;
  std::string rest = u.substr(pre.size());
  size_t slash = rest.find('/');
  std::string hp = slash == std::string::npos ? rest : rest.substr(0, slash);
  out->path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hp.rfind(':');
  if (colon == std::string::npos) {
    out->host = hp;
    out->port = "80";
  } else {
    out->host = hp.substr(0, colon);
    out->port = hp.substr(colon + 1);
  }
  return !out->host.empty();
}

class Conn {
 public:
  // `headers`: the header lines sent with Post() after "Host:", each ending in "\r\n".
  Conn(const Url& u, int timeout_s, std::string headers = "")
      : url_(u), timeout_s_(timeout_s), headers_(std::move(headers)) {}
  ~Conn() { Close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    rbuf_.clear();
  }

  // POST `body` to the URL's path with the constructor's headers and a Content-Length.
  // Returns the HTTP status, or -1 on a connection error (with *err set).
  int Post(std::string_view body, std::string* resp_body, int* retry_after, std::string* err) {
    return Request(url_.path, headers_, body, false, resp_body, retry_after, err);
  }

  // POST `body` to `target` (path and query) with `headers` (lines ending in "\r\n"), and
  // either a Content-Length or, if `chunked`, Transfer-Encoding: chunked with the body as one
  // chunk. Returns the HTTP status, or -1 on a connection error (with *err set).
  int Request(std::string_view target, std::string_view headers, std::string_view body,
              bool chunked, std::string* resp_body, int* retry_after, std::string* err) {
    if (fd_ < 0 && !Connect(err)) return -1;
    std::string head;
    head.reserve(160 + target.size() + headers.size());
    head.append("POST ").append(target).append(" HTTP/1.1\r\nHost: ");
    head.append(url_.host).append(":").append(url_.port).append("\r\n").append(headers);
    std::string tail;
    if (chunked) {
      char hex[32];
      snprintf(hex, sizeof hex, "%zx", body.size());
      head.append("Transfer-Encoding: chunked\r\n\r\n").append(hex).append("\r\n");
      tail = body.empty() ? "\r\n" : "\r\n0\r\n\r\n";  // an empty body is just the last chunk
    } else {
      head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
    }
    iovec iov[3] = {{head.data(), head.size()},
                    {const_cast<char*>(body.data()), body.size()},
                    {tail.data(), tail.size()}};
    size_t total = head.size() + body.size() + tail.size(), sent = 0;
    while (sent < total) {
      // Advance the iovecs past what was sent.
      iovec v[3];
      int cnt = 0;
      size_t skip = sent;
      for (auto& x : iov) {
        if (skip >= x.iov_len) {
          skip -= x.iov_len;
          continue;
        }
        v[cnt].iov_base = static_cast<char*>(x.iov_base) + skip;
        v[cnt].iov_len = x.iov_len - skip;
        skip = 0;
        ++cnt;
      }
      ssize_t w = ::writev(fd_, v, cnt);
      if (w < 0) {
        if (errno == EINTR) continue;
        *err = std::string("send: ") + strerror(errno);
        Close();
        return -1;
      }
      sent += static_cast<size_t>(w);
    }
    return ReadResponse(resp_body, retry_after, err);
  }

 private:
  Url url_;
  int timeout_s_;
  std::string headers_;
  int fd_ = -1;
  std::string rbuf_;

  bool Connect(std::string* err) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &res);
    if (rc != 0) {
      *err = std::string("resolve: ") + gai_strerror(rc);
      return false;
    }
    for (addrinfo* a = res; a; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      timeval tv{timeout_s_, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
        break;
      }
      *err = std::string("connect: ") + strerror(errno);
      ::close(fd);
    }
    freeaddrinfo(res);
    return fd_ >= 0;
  }

  bool Fill(std::string* err) {
    char buf[65536];
    for (;;) {
      ssize_t r = ::read(fd_, buf, sizeof buf);
      if (r > 0) {
        rbuf_.append(buf, static_cast<size_t>(r));
        return true;
      }
      if (r < 0 && errno == EINTR) continue;
      *err = r == 0 ? "connection closed by the server" : std::string("recv: ") + strerror(errno);
      return false;
    }
  }

  int ReadResponse(std::string* body, int* retry_after, std::string* err) {
    size_t he;
    while ((he = rbuf_.find("\r\n\r\n")) == std::string::npos) {
      if (rbuf_.size() > (1 << 20) || !Fill(err)) {
        Close();
        return -1;
      }
    }
    std::string head = rbuf_.substr(0, he + 2);
    rbuf_.erase(0, he + 4);
    int status = 0;
    if (sscanf(head.c_str(), "HTTP/%*d.%*d %d", &status) != 1) {
      *err = "bad status line";
      Close();
      return -1;
    }
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    auto header = [&](const char* name) -> std::string {
      std::string key = std::string("\r\n") + name + ":";
      size_t p = lower.find(key);
      if (p == std::string::npos) return "";
      p += key.size();
      size_t e = lower.find("\r\n", p);
      std::string v = head.substr(p, e - p);
      size_t a = v.find_first_not_of(" \t");
      return a == std::string::npos ? "" : v.substr(a);
    };
    *retry_after = atoi(header("retry-after").c_str());
    const bool close_after = header("connection").find("close") != std::string::npos ||
                             header("connection").find("Close") != std::string::npos;
    body->clear();
    std::string te = header("transfer-encoding");
    if (te.find("chunked") != std::string::npos) {
      for (;;) {
        size_t le;
        while ((le = rbuf_.find("\r\n")) == std::string::npos)
          if (!Fill(err)) return Close(), -1;
        size_t n = strtoul(rbuf_.substr(0, le).c_str(), nullptr, 16);
        rbuf_.erase(0, le + 2);
        while (rbuf_.size() < n + 2)
          if (!Fill(err)) return Close(), -1;
        body->append(rbuf_, 0, n);
        rbuf_.erase(0, n + 2);
        if (n == 0) break;  // (no trailers expected)
      }
    } else {
      std::string cl = header("content-length");
      if (cl.empty()) {  // read to EOF
        std::string e2;
        while (Fill(&e2)) {
        }
        *body = rbuf_;
        rbuf_.clear();
        Close();
        return status;
      }
      size_t n = strtoul(cl.c_str(), nullptr, 10);
      while (rbuf_.size() < n)
        if (!Fill(err)) return Close(), -1;
      body->assign(rbuf_, 0, n);
      rbuf_.erase(0, n);
    }
    if (close_after) Close();
    return status;
  }
};

// Nearest-rank percentile of sorted `v` (NAN when empty).
inline double pct(const std::vector<double>& v, double q) {
  if (v.empty()) return NAN;
  size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  if (r < 1) r = 1;
  if (r > v.size()) r = v.size();
  return v[r - 1];
}

}  // namespace benchhttp

#endif  // SIGHTLINE_BENCH_HTTP_CLIENT_H_
