// Reading whole files with a size cap, so a huge input is refused instead of loaded.
#ifndef ZFLOW_COMMON_FILE_H_
#define ZFLOW_COMMON_FILE_H_

#include <cstddef>
#include <string>

#include "zflow/status.h"

namespace zflow {

struct FileContents {
  std::string data;       // at most max_bytes + 1 bytes
  std::size_t size = 0;   // the file's real size
  bool truncated = false; // size > max_bytes: data holds only the first max_bytes + 1 bytes
};

// Reads `path` ("-" reads standard input). Errors: kNotFound, kPermissionDenied,
// kInvalidArgument (a directory), kUnavailable (other I/O errors).
Result<FileContents> ReadFileCapped(const std::string& path, std::size_t max_bytes);

// Writes `data` to `path` atomically (temporary file + rename), keeping an existing file's mode.
Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace zflow

#endif  // ZFLOW_COMMON_FILE_H_
