// Row encoding of one LogRecord, used inside WAL records (docs/formats/wal.md).
#ifndef SIGHTLINE_STORAGE_EMBEDDED_RECORD_CODEC_H_
#define SIGHTLINE_STORAGE_EMBEDDED_RECORD_CODEC_H_

#include <string>

#include "base/coding.h"
#include "model/log_record.h"

namespace sightline::storage {

// Appends the row encoding of `r` to *dst.
void EncodeLogRecord(const model::LogRecord& r, std::string* dst);
// Decodes one record; false on truncated or malformed input (reader left failed).
bool DecodeLogRecord(Reader* in, model::LogRecord* r);
// Appends one attribute value: type byte then payload (shared with the part format).
void EncodeAttrValue(const model::AttrValue& v, std::string* dst);
bool DecodeAttrValue(Reader* in, model::AttrValue* v);

}  // namespace sightline::storage

#endif  // SIGHTLINE_STORAGE_EMBEDDED_RECORD_CODEC_H_
