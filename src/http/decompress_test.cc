#include "http/decompress.h"

#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <string>
#include <vector>

namespace sightline::http {
namespace {

// window_bits: 15 + 16 gzip, 15 zlib, -15 raw deflate.
std::string Deflate(std::string_view data, int window_bits, int level = Z_DEFAULT_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
std::string Gzip(std::string_view data) { return Deflate(data, 15 + 16); }

std::string Zstd(std::string_view data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string Sample(size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; s.size() < n; ++i) s += "{\"msg\":\"line " + std::to_string(i) + "\"}\n";
  s.resize(n);
  return s;
}

std::string Ok(StatusOr<std::string> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

TEST(DecompressTest, IdentityPassthroughStillCapped) {
  EXPECT_EQ(Ok(Decompress("hello", "", 5)), "hello");
  EXPECT_EQ(Ok(Decompress("hello", "identity", 100)), "hello");
  EXPECT_EQ(Ok(Decompress("hello", " Identity ", 100)), "hello");
  auto r = Decompress("hello", "", 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(r.status().message(), "decompressed body exceeds 4 bytes");
}

TEST(DecompressTest, GzipRoundTrip) {
  const std::string data = Sample(300000);
  const std::string gz = Gzip(data);
  EXPECT_EQ(Ok(Decompress(gz, "gzip", 1 << 20)), data);
  EXPECT_EQ(Ok(Decompress(gz, "x-gzip", 1 << 20)), data);
  EXPECT_EQ(Ok(Decompress(gz, "GZIP", 1 << 20)), data);
  EXPECT_EQ(Ok(Decompress(Gzip(""), "gzip", 10)), "");
  EXPECT_EQ(Ok(Decompress("", "gzip", 10)), "");
}

TEST(DecompressTest, GzipExactCap) {
  const std::string data = Sample(100000);
  const std::string gz = Gzip(data);
  EXPECT_EQ(Ok(Decompress(gz, "gzip", data.size())), data);
  auto r = Decompress(gz, "gzip", data.size() - 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(r.status().message(),
            "decompressed body exceeds " + std::to_string(data.size() - 1) + " bytes");
  EXPECT_EQ(Decompress(gz, "gzip", 0).status().code(), Code::kPayloadTooLarge);
}

TEST(DecompressTest, GzipMultipleMembersAndPadding) {
  const std::string a = Sample(5000), b = "second member";
  EXPECT_EQ(Ok(Decompress(Gzip(a) + Gzip(b), "gzip", 1 << 20)), a + b);
  EXPECT_EQ(Ok(Decompress(Gzip(a) + std::string(16, '\0'), "gzip", 1 << 20)), a);
  auto r = Decompress(Gzip(a) + "junk", "gzip", 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  // The cap covers all members together.
  EXPECT_EQ(Decompress(Gzip(a) + Gzip(a), "gzip", a.size() + 10).status().code(),
            Code::kPayloadTooLarge);
}

TEST(DecompressTest, Deflate) {
  const std::string data = Sample(50000);
  EXPECT_EQ(Ok(Decompress(Deflate(data, 15), "deflate", 1 << 20)), data);   // zlib (RFC 1950)
  EXPECT_EQ(Ok(Decompress(Deflate(data, -15), "deflate", 1 << 20)), data);  // raw (RFC 1951)
  EXPECT_EQ(Ok(Decompress(Deflate(data, 15), "gzip", 1 << 20)), data);      // lenient gzip
  EXPECT_EQ(Decompress(Deflate(data, 15) + "x", "deflate", 1 << 20).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Decompress(Deflate(data, -15), "deflate", 100).status().code(), Code::kPayloadTooLarge);
}

TEST(DecompressTest, Zstd) {
  const std::string data = Sample(300000);
  EXPECT_EQ(Ok(Decompress(Zstd(data), "zstd", 1 << 20)), data);
  EXPECT_EQ(Ok(Decompress(Zstd(data) + Zstd("tail"), "zstd", 1 << 20)), data + "tail");
  EXPECT_EQ(Ok(Decompress(Zstd(""), "zstd", 0)), "");
  EXPECT_EQ(Ok(Decompress(Zstd(data), "zstd", data.size())), data);
  EXPECT_EQ(Decompress(Zstd(data), "zstd", data.size() - 1).status().code(),
            Code::kPayloadTooLarge);
}

std::string Brotli(std::string_view data, int quality = 5) {
  size_t n = BrotliEncoderMaxCompressedSize(data.size());
  std::string out(n, '\0');
  EXPECT_TRUE(BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_DEFAULT_MODE,
                                    data.size(), reinterpret_cast<const uint8_t*>(data.data()),
                                    &n, reinterpret_cast<uint8_t*>(out.data())));
  out.resize(n);
  return out;
}

TEST(DecompressTest, Brotli) {
  const std::string data = Sample(300000);
  const std::string br = Brotli(data);
  EXPECT_EQ(Ok(Decompress(br, "br", 1 << 20)), data);
  EXPECT_EQ(Ok(Decompress(br, " BR ", data.size())), data);
  EXPECT_EQ(Decompress(br, "br", data.size() - 1).status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(Decompress(br.substr(0, br.size() / 2), "br", 1 << 20).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Decompress(br + "x", "br", 1 << 20).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Decompress("\xff\xff\xff\xff", "br", 1 << 20).status().code(),
            Code::kInvalidArgument);
  // 256 MiB of zeros compress to a few hundred bytes; decoding stops at the cap.
  const std::string zeros(256 << 20, '\0');
  const std::string bomb = Brotli(zeros, 1);
  EXPECT_LT(bomb.size(), 1u << 20);
  auto r = Decompress(bomb, "br", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPayloadTooLarge);
}

TEST(DecompressTest, CorruptAndTruncated) {
  const std::string data = Sample(20000);
  std::string gz = Gzip(data);
  EXPECT_EQ(Decompress(gz.substr(0, gz.size() / 2), "gzip", 1 << 20).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Decompress(gz.substr(0, gz.size() - 1), "gzip", 1 << 20).status().code(),
            Code::kInvalidArgument);  // trailer cut
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x55;  // CRC32 mismatch
  auto r = Decompress(bad, "gzip", 1 << 20);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("gzip: invalid data"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(Decompress("not gzip at all", "gzip", 1 << 20).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Decompress("\xff\xff\xff", "deflate", 1 << 20).status().code(), Code::kInvalidArgument);

  std::string zs = Zstd(data);
  EXPECT_EQ(Decompress(zs.substr(0, zs.size() - 3), "zstd", 1 << 20).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Decompress("definitely not zstd", "zstd", 1 << 20).status().code(),
            Code::kInvalidArgument);
  std::string zbad = zs;
  zbad[0] ^= 0x5a;  // magic number
  EXPECT_EQ(Decompress(zbad, "zstd", 1 << 20).status().code(), Code::kInvalidArgument);
}

TEST(DecompressTest, UnknownEncoding) {
  for (const char* enc : {"compress", "gzip, br", "brotli", "gzip;q=1", "zip"}) {
    auto r = Decompress("x", enc, 100);
    ASSERT_FALSE(r.ok()) << enc;
    EXPECT_EQ(r.status().code(), Code::kUnsupportedMediaType) << enc;
  }
}

// A gzip stream of `megabytes` MiB of zeros, built without compressing them all: once the
// 32 KiB window holds only zeros, the sync-flushed blocks for one more MiB of zeros decode
// identically wherever they are placed, so they are produced once and repeated.
std::string GzipZeroBomb(int megabytes) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const std::vector<char> zeros(1 << 20, 0);
  auto run = [&](int flush) {
    std::string out(1 << 20, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    zs.avail_in = flush == Z_FINISH ? 0 : static_cast<uInt>(zeros.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, flush);
    EXPECT_EQ(zs.avail_in, 0u);
    out.resize(out.size() - zs.avail_out);
    return out;
  };
  std::string bomb = run(Z_SYNC_FLUSH);           // header + first MiB
  const std::string one_mib = run(Z_SYNC_FLUSH);  // one more MiB, window already all zeros
  for (int i = 2; i < megabytes; ++i) bomb += one_mib;
  bomb += run(Z_FINISH);  // (its trailer describes 2 MiB; the test never gets that far)
  deflateEnd(&zs);
  return bomb;
}

// Counts what a stream inflates to, up to `limit` bytes, without keeping it.
size_t InflatedSizeAtLeast(const std::string& gz, size_t limit) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::vector<char> buf(1 << 20);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  size_t total = 0;
  while (total < limit) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    total += buf.size() - zs.avail_out;
    if (rc != Z_OK) break;
  }
  inflateEnd(&zs);
  return total;
}

TEST(DecompressTest, GzipBombStoppedAtCap) {
  const std::string bomb = GzipZeroBomb(1024);  // 1 GiB of zeros
  EXPECT_LT(bomb.size(), 2u << 20);
  EXPECT_GE(InflatedSizeAtLeast(bomb, 64 << 20), size_t{64} << 20);  // it really is a bomb
  auto r = Decompress(bomb, "gzip", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(r.status().message(), "decompressed body exceeds 1048576 bytes");
}

TEST(DecompressTest, ZstdBombStoppedAtCap) {
  // 1 GiB of zeros as one streamed frame (about 32 KB compressed).
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  const std::vector<char> zeros(1 << 20, 0);
  std::string bomb;
  std::vector<char> buf(1 << 16);
  for (int i = 0; i < 1024; ++i) {
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    const ZSTD_EndDirective mode = i == 1023 ? ZSTD_e_end : ZSTD_e_continue;
    size_t left;
    do {
      ZSTD_outBuffer out{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(cctx, &out, &in, mode);
      ASSERT_FALSE(ZSTD_isError(left));
      bomb.append(buf.data(), out.pos);
    } while (in.pos < in.size || (mode == ZSTD_e_end && left != 0));
  }
  ZSTD_freeCCtx(cctx);
  EXPECT_LT(bomb.size(), 1u << 20);
  auto r = Decompress(bomb, "zstd", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPayloadTooLarge);
}

TEST(DecompressTest, ZstdHugeWindowRefused) {
  // A frame that declares a 128 MiB window: accepted only when the cap needs such a window.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 27);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  const std::string data = Sample(1000);
  std::string frame(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  // Streaming (size unknown up front) keeps the declared window at 2^27.
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &none, ZSTD_e_end), 0u);
  frame.resize(out.pos);
  ZSTD_freeCCtx(cctx);
  EXPECT_EQ(Decompress(frame, "zstd", 1 << 20).status().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(Ok(Decompress(frame, "zstd", size_t{1} << 27)), data);
}

}  // namespace
}  // namespace sightline::http
