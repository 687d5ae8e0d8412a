// Span parts: immutable files of spans sorted by (trace_id, start), in blocks, with a
// summary column set for searches, a payload column with full spans, a trace-id bloom filter
// and the rollup cells (RED and edges) of the spans that went into the part. Byte layout:
// docs/formats/span_part.md.
//
// Thread-safety: SpanPartWriter is single-threaded; SpanPartReader is immutable after Open and
// safe to share between threads.
#ifndef SIGHTLINE_STORAGE_EMBEDDED_SPAN_PART_H_
#define SIGHTLINE_STORAGE_EMBEDDED_SPAN_PART_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"
#include "base/status.h"
#include "model/span.h"
#include "storage/embedded/span_codec.h"
#include "storage/span_rollup.h"

namespace sightline::storage {

inline constexpr uint32_t kSpanPartFormatVersion = 1;

struct SpanBlockMeta {
  model::TraceId first_trace, last_trace;
  int64_t min_start = 0, max_start = 0;
  uint32_t rows = 0;
  uint64_t service_mask = 0;  // bit i: part service i present (bit 63: any service >= 63)
  struct Blob {
    uint64_t offset = 0;
    uint32_t stored_len = 0, raw_len = 0, crc = 0;
    uint8_t codec = 0;
  } summary, payload;
};

// A chunk of the search index: entries of one service, newest first.
struct SpanIndexChunkMeta {
  uint32_t service = 0;
  int64_t max_start = 0, min_start = 0;
  uint32_t entries = 0;
  SpanBlockMeta::Blob blob;
};

// One search-index entry: a span's summary fields and where its full row is.
struct SpanIndexEntry {
  model::TraceId trace_id;
  int64_t start_ns;
  int64_t duration_ns;
  uint32_t name;
  uint32_t block;
  uint16_t row;
  model::SpanKind kind;
  model::StatusCode status;
};

struct SpanPartMeta {
  uint64_t spans = 0;
  int64_t min_start = 0, max_start = 0;
  std::vector<std::string> services;  // dictionary, sorted
  std::vector<std::string> names;     // dictionary, sorted
  std::vector<uint64_t> replaces;     // ids of the parts this (merged) part replaces
  uint64_t wal_seq = 0;               // spans of WAL segments below this are in parts
  std::vector<SpanBlockMeta> blocks;
  SpanBlockMeta::Blob rollups, bloom;
  // The search index: every span, sorted by (service, start descending), in chunks; the
  // chunks of one service are consecutive.
  std::vector<SpanIndexChunkMeta> index;
};

// The summary columns of one block, decoded.
struct SpanSummaryRow {
  model::TraceId trace_id;
  model::SpanId span_id;
  model::SpanId parent_span_id;
  int64_t start_ns;
  int64_t duration_ns;
  uint32_t service;  // index into SpanPartMeta::services
  uint32_t name;     // index into SpanPartMeta::names
  model::SpanKind kind;
  model::StatusCode status;
};

class SpanPartWriter {
 public:
  // Creates `path`.tmp; Finish renames it to `path`. Spans must be added in (trace_id,
  // start_ns) order; services and names must be known up front (the dictionaries).
  // `zstd_level` trades CPU for size: flushes use a fast level, merges a stronger one.
  static StatusOr<std::unique_ptr<SpanPartWriter>> Create(const std::string& path,
                                                          std::vector<std::string> services,
                                                          std::vector<std::string> names,
                                                          int zstd_level = 3);
  ~SpanPartWriter();
  Status Add(const model::Span& s);
  // Writes the rollups, bloom, meta and footer, fsyncs, renames into place.
  // `wal_seq`: every span of WAL segments numbered below it is in this or an earlier part.
  StatusOr<SpanPartMeta> Finish(const RollupMap& rollups, const std::vector<uint64_t>& replaces,
                                uint64_t wal_seq);
  // Removes the temporary file (on errors).
  void Abandon();

  static constexpr uint32_t kBlockRows = 4096;
  static constexpr size_t kBlockPayloadBytes = 2 << 20;

 private:
  SpanPartWriter() = default;
  Status FlushBlock();
  uint32_t ServiceIndex(const std::string& s) const;
  uint32_t NameIndex(const std::string& s) const;

  std::string path_;
  int zstd_level_ = 3;
  std::unique_ptr<WritableFile> file_;
  SpanPartMeta meta_;
  std::vector<SpanSummaryRow> rows_;
  std::string payload_;
  std::vector<uint32_t> offsets_;
  ResourceTableBuilder resources_;
  std::vector<uint64_t> trace_hashes_;
  struct PendingEntry {
    uint32_t service;
    SpanIndexEntry e;
  };
  std::vector<PendingEntry> index_;  // written sorted by Finish
};

class SpanPartReader {
 public:
  // Opens and validates the footer, meta and bloom. Errors: IOError, Corruption (names path).
  static StatusOr<std::shared_ptr<SpanPartReader>> Open(const std::string& path);

  const SpanPartMeta& meta() const { return meta_; }
  const std::string& path() const { return file_->path(); }
  uint64_t file_size() const { return file_->size(); }
  // False if the part certainly holds no span of `trace_id`.
  bool MayContainTrace(const model::TraceId& trace_id) const;
  // Decodes the summary rows of block `b` into *rows (replacing its contents).
  Status ReadSummary(uint32_t b, std::vector<SpanSummaryRow>* rows) const;
  // Decodes the payload of block `b`; then Span(i) decodes row i.
  class Payload {
   public:
    Status Span(uint32_t row, model::Span* out) const;
    uint32_t rows() const { return static_cast<uint32_t>(offsets_.size()); }
    // The trace id of `row` without decoding the span (rows start with it). False if the
    // row is too short (corrupt).
    bool TraceIdAt(uint32_t row, model::TraceId* id) const;

   private:
    friend class SpanPartReader;
    std::string raw_;
    size_t rows_base_ = 0;  // where the span rows start in raw_
    std::vector<uint32_t> offsets_;
    std::vector<model::SharedAttributes> resources_;
    std::string path_;
  };
  Status ReadPayload(uint32_t b, Payload* out) const;
  Status ReadRollups(RollupMap* out) const;
  // Decodes search-index chunk `c` into *entries (replacing its contents).
  Status ReadIndexChunk(uint32_t c, std::vector<SpanIndexEntry>* entries) const;

 private:
  SpanPartReader() = default;
  Status ReadBlob(const SpanBlockMeta::Blob& blob, std::string* raw) const;

  std::unique_ptr<RandomAccessFile> file_;
  SpanPartMeta meta_;
  std::string bloom_;
};

// Hash of a trace id as stored in span-part blooms.
uint64_t TraceIdHash(const model::TraceId& id);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_SPAN_PART_H_
