// A unique temporary directory for a test, removed when the object dies.
#ifndef SIGHTLINE_TESTING_TEMP_DIR_H_
#define SIGHTLINE_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace sightline::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sightline-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sightline::testing

#endif  // SIGHTLINE_TESTING_TEMP_DIR_H_
