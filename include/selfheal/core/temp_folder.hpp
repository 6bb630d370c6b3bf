#pragma once
/// \file
/// A private temporary folder (`mkdtemp`: a fresh name, mode 0700) removed with everything in it
/// when the object goes. Two processes — two tests, two selfheal stores on one machine — never
/// share one, whatever their record ids.

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <stdlib.h>

namespace selfheal {

class temp_folder {
 public:
  /// Creates `<temp>/<prefix>-XXXXXX`; `path()` is empty when that failed.
  explicit temp_folder(std::string_view prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
  ~temp_folder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace selfheal
