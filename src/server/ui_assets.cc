// The web UI's files, embedded by the build (src/CMakeLists.txt writes ui_assets.S, whose
// .incbin directives pull in ui/dist, and ui_assets.inc, the table below).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "server/web_ui.h"

#define ZFLOW_UI_ASSET(path, symbol) extern "C" const char symbol[], symbol##_end[];
#include "ui_assets.inc"  // NOLINT(bugprone-suspicious-include)
#undef ZFLOW_UI_ASSET

namespace zflow::server {
namespace {

struct EmbeddedFile {
  std::string_view path;
  std::string_view body;
};

#define ZFLOW_UI_ASSET(path, symbol) \
  EmbeddedFile{path, std::string_view(symbol, static_cast<std::size_t>(symbol##_end - symbol))},
const EmbeddedFile kFiles[] = {  // NOLINT(cert-err58-cpp): plain data, no order issue
#include "ui_assets.inc"  // NOLINT(bugprone-suspicious-include)
    EmbeddedFile{"", ""},  // keeps the array non-empty in a build without the front end
};
#undef ZFLOW_UI_ASSET

const EmbeddedFile* Find(std::string_view path) {
  for (const EmbeddedFile& f : kFiles) {
    if (!f.path.empty() && f.path == path) return &f;
  }
  return nullptr;
}

std::string_view ContentType(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".png")) return "image/png";
  if (path.ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

std::string ETag(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}\"", h);
}

}  // namespace

std::optional<UiAsset> FindUiAsset(std::string_view path) {
  // Hashed once: the files change only with the binary.
  static const std::array<std::string, std::size(kFiles)> etags = [] {
    std::array<std::string, std::size(kFiles)> out;
    for (std::size_t i = 0; i < std::size(kFiles); ++i) out[i] = ETag(kFiles[i].body);
    return out;
  }();
  while (path.starts_with('/')) path.remove_prefix(1);
  const EmbeddedFile* file = path.empty() ? nullptr : Find(path);
  if (file == nullptr) {
    if (path.starts_with("assets/")) return std::nullopt;
    // A page of the app (/ui/executions/...): the app routes it.
    file = Find("index.html");
    if (file == nullptr) return std::nullopt;
  }
  return UiAsset{ContentType(file->path), file->body,
                 etags[static_cast<std::size_t>(file - kFiles)]};
}

}  // namespace zflow::server
