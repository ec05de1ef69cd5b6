// The local object store: s3://bucket/key is the file <root>/<bucket>/<key>.
#ifndef ZFLOW_INTEGRATIONS_OBJECT_STORE_H_
#define ZFLOW_INTEGRATIONS_OBJECT_STORE_H_

#include <string>

#include "zflow/runtime.h"

namespace zflow::integrations {

// Bucket names follow S3's rules (3-63 characters: lowercase letters, digits, '.', '-'); keys
// are at most 1024 bytes and may not be absolute or contain "." or ".." segments, so nothing is
// read or written outside <root>. Writes are atomic (temporary file + rename).
class LocalObjectStore final : public runtime::ObjectStore {
 public:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {}
  Result<std::string> Get(std::string_view bucket, std::string_view key) override;
  Result<std::vector<ObjectInfo>> List(std::string_view bucket, std::string_view prefix) override;
  Status Put(std::string_view bucket, std::string_view key, std::string_view data) override;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// Checks a bucket name and key; the error says which rule is broken.
Status CheckBucket(std::string_view bucket);
Status CheckKey(std::string_view key);

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_OBJECT_STORE_H_
