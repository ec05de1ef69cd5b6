// The HTTP backend of the `zflow` command: the zflow-http.so module, loaded on first use (see
// common/http.h). It is looked for at $ZFLOW_HTTP_MODULE, beside the executable (the build
// tree), and where `make install` puts it.
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/http.h"

#ifndef ZFLOW_HTTP_MODULE_DIR
#define ZFLOW_HTTP_MODULE_DIR ""
#endif
#ifndef ZFLOW_HTTP_MODULE_RELATIVE_DIR
#define ZFLOW_HTTP_MODULE_RELATIVE_DIR ""
#endif

namespace zflow::http {
namespace {

constexpr const char* kModuleName = "zflow-http.so";

std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("ZFLOW_HTTP_MODULE"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
    return out;
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / kModuleName).string());
    if (*ZFLOW_HTTP_MODULE_RELATIVE_DIR != '\0') {
      out.push_back(
          (exe.parent_path() / ZFLOW_HTTP_MODULE_RELATIVE_DIR / kModuleName).lexically_normal());
    }
  }
  if (*ZFLOW_HTTP_MODULE_DIR != '\0') {
    out.push_back((std::filesystem::path(ZFLOW_HTTP_MODULE_DIR) / kModuleName).string());
  }
  return out;
}

Result<const Backend*> Load() {
  std::vector<std::string> tried;
  for (const std::string& path : Candidates()) {
    if (!std::filesystem::exists(path)) {
      tried.push_back(path + " (missing)");
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      tried.push_back(fmt::format("{} ({})", path, why != nullptr ? why : "cannot load"));
      continue;
    }
    using Entry = const Backend* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "zflow_http_backend"));
    const Backend* backend = entry != nullptr ? entry() : nullptr;
    if (backend == nullptr || backend->version != kBackendVersion) {
      tried.push_back(path + " (not this zflow's HTTP module)");
      dlclose(handle);
      continue;
    }
    return backend;  // kept loaded for the life of the process
  }
  return Status(StatusCode::kUnavailable, fmt::format(
      "zflow cannot load its HTTP module {}, which serving and HTTP calls need; tried: {}. "
      "Reinstall zflow, or set ZFLOW_HTTP_MODULE to the module's path",
      kModuleName, fmt::join(tried, "; ")));
}

}  // namespace

Result<const Backend*> LoadBackend() {
  static const Result<const Backend*> backend = Load();
  return backend;
}

}  // namespace zflow::http
