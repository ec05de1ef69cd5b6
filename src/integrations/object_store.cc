#include "integrations/object_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

}  // namespace

Status CheckBucket(std::string_view b) {
  bool ok = b.size() >= 3 && b.size() <= 63 &&
            std::all_of(b.begin(), b.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
            }) &&
            b.front() != '.' && b.front() != '-' && b.back() != '.' && b.back() != '-' &&
            b.find("..") == std::string_view::npos;
  if (ok) return Status::Ok();
  return InvalidArgumentError(fmt::format(
      "bucket name \"{}\" is not valid: 3 to 63 lowercase letters, digits, '.' and '-', starting "
      "and ending with a letter or digit",
      b));
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > 1024) {
    return InvalidArgumentError(fmt::format("object key \"{}\" must be 1 to 1024 bytes", key));
  }
  if (key.front() == '/') {
    return InvalidArgumentError(fmt::format("object key \"{}\" must not start with '/'", key));
  }
  if (key.find('\0') != std::string_view::npos || key.find('\\') != std::string_view::npos) {
    return InvalidArgumentError("object keys must not contain NUL or backslash");
  }
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return InvalidArgumentError(fmt::format(
          "object key \"{}\" has a \"{}\" segment; keys cannot leave their bucket", key, segment));
    }
    start = end + 1;
  }
  return Status::Ok();
}

Result<std::string> LocalObjectStore::Get(std::string_view bucket, std::string_view key) {
  ZFLOW_RETURN_IF_ERROR(CheckBucket(bucket));
  ZFLOW_RETURN_IF_ERROR(CheckKey(key));
  fs::path path = fs::path(root_) / bucket / key;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFoundError(fmt::format("NoSuchKey: s3://{}/{} does not exist (looked in {})",
                                     bucket, key, path.string()));
  }
  ZFLOW_ASSIGN_OR_RETURN(FileContents contents, ReadFileCapped(path.string(), std::size_t{1} << 31));
  return std::move(contents.data);
}

Result<std::vector<runtime::ObjectStore::ObjectInfo>> LocalObjectStore::List(
    std::string_view bucket, std::string_view prefix) {
  ZFLOW_RETURN_IF_ERROR(CheckBucket(bucket));
  std::vector<ObjectInfo> out;
  fs::path dir = fs::path(root_) / bucket;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFoundError(fmt::format("NoSuchBucket: s3://{} does not exist (looked in {})",
                                     bucket, dir.string()));
  }
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string key = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || !key.starts_with(prefix) || key.ends_with(".zflow-tmp")) continue;
    ObjectInfo info;
    info.key = key;
    info.size = static_cast<std::int64_t>(it->file_size(ec));
    auto data = ReadFileCapped(it->path().string(), std::size_t{1} << 31);
    if (data.ok()) info.etag = "\"" + Md5Hex(data->data) + "\"";
    auto mtime = fs::last_write_time(it->path(), ec);
    info.last_modified = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                             .count();
    out.push_back(std::move(info));
  }
  if (ec) return UnavailableError(fmt::format("cannot list s3://{}/{}: {}", bucket, prefix, ec.message()));
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalObjectStore::Put(std::string_view bucket, std::string_view key, std::string_view data) {
  ZFLOW_RETURN_IF_ERROR(CheckBucket(bucket));
  ZFLOW_RETURN_IF_ERROR(CheckKey(key));
  if (key.back() == '/') {
    return InvalidArgumentError(fmt::format("object key \"{}\" ends with '/'", key));
  }
  fs::path path = fs::path(root_) / bucket / key;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return UnavailableError(fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  return WriteFileAtomically(path.string(), data);
}

}  // namespace zflow::integrations
