#include "integrations/profile.h"

#include <algorithm>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "common/file.h"

namespace zflow::integrations {
namespace {

namespace fs = std::filesystem;

struct ProfileError {
  std::string message;
};

class ProfileReader {
 public:
  explicit ProfileReader(std::string file) : file_(std::move(file)) {
    base_ = fs::path(file_).parent_path();
  }

  Profile Read(const YAML::Node& root) {
    Profile p;
    p.file = file_;
    if (root.IsNull()) return p;
    Keys(root, {"s3_root", "work_dir", "lambda", "sagemaker", "databricks", "connections",
                "state_machines"},
         "profile");
    if (const YAML::Node m = root["state_machines"]) {
      if (!m.IsMap()) Fail(m, "state_machines: expected name: definition-file pairs");
      for (const auto& kv : m) p.state_machines[Key(kv.first)] = Resolve(Text(kv.second, "state_machines"));
    }
    if (const YAML::Node d = root["databricks"]) {
      Keys(d, {"port", "files"}, "databricks");
      DatabricksOptions o;
      if (const YAML::Node port = d["port"]) {
        try {
          o.port = port.as<int>();
        } catch (const YAML::Exception&) {
          Fail(port, "databricks.port: expected a port number");
        }
        if (o.port < 0 || o.port > 65535) Fail(port, "databricks.port: expected 0 to 65535");
      }
      if (const YAML::Node files = d["files"]) {
        if (!files.IsMap()) Fail(files, "databricks.files: expected path-prefix: local-directory pairs");
        for (const auto& kv : files) {
          o.files[Key(kv.first)] = Resolve(Text(kv.second, "databricks.files"));
        }
      }
      p.databricks = std::move(o);
    }
    if (const YAML::Node c = root["connections"]) {
      if (!c.IsMap()) Fail(c, "connections: expected connection-arn: {headers: {...}} entries");
      for (const auto& kv : c) {
        std::string arn = Key(kv.first);
        Keys(kv.second, {"headers"}, "connections." + arn);
        auto& headers = p.connections[arn];
        if (const YAML::Node h = kv.second["headers"]) {
          if (!h.IsMap()) Fail(h, "headers: expected name: value pairs");
          for (const auto& hv : h) headers[Key(hv.first)] = Text(hv.second, "header");
        }
      }
    }
    if (const YAML::Node s = root["s3_root"]) p.s3_root = Resolve(Text(s, "s3_root"));
    if (const YAML::Node w = root["work_dir"]) p.work_dir = Resolve(Text(w, "work_dir"));
    if (const YAML::Node sm = root["sagemaker"]) {
      Keys(sm, {"images"}, "sagemaker");
      if (const YAML::Node images = sm["images"]) {
        if (!images.IsMap()) Fail(images, "sagemaker.images: expected image: {python: FILE} or {command: [...]}");
        for (const auto& kv : images) {
          std::string image = Key(kv.first);
          std::string what = fmt::format("sagemaker.images.{}", image);
          Keys(kv.second, {"python", "command", "serve_python", "serve_command", "framework"},
               what);
          ImageSpec spec;
          if (kv.second["framework"]) {
            spec.framework = Text(kv.second["framework"], what + ".framework");
            static const char* kFrameworks[] = {"scikit-learn", "xgboost", "pytorch",
                                                "tensorflow"};
            if (std::find(std::begin(kFrameworks), std::end(kFrameworks), spec.framework) ==
                std::end(kFrameworks)) {
              Fail(kv.second["framework"],
                   fmt::format("{}.framework: \"{}\" is not one of scikit-learn, xgboost, "
                               "pytorch, tensorflow",
                               what, spec.framework));
            }
            if (kv.second["python"] || kv.second["command"] || kv.second["serve_python"] ||
                kv.second["serve_command"]) {
              Fail(kv.second, fmt::format("{}: a framework image runs the job's own script; give "
                                          "framework alone",
                                          what));
            }
          }
          if (kv.second["python"]) spec.python_file = Resolve(Text(kv.second["python"], what));
          if (const YAML::Node c = kv.second["command"]) spec.command = Command(c, what);
          if (kv.second["serve_python"]) {
            spec.serve_python = Resolve(Text(kv.second["serve_python"], what));
          }
          if (const YAML::Node c = kv.second["serve_command"]) spec.serve_command = Command(c, what);
          if (!spec.python_file.empty() && !spec.command.empty()) {
            Fail(kv.second, fmt::format("{}: give python: FILE or command: [...], not both", what));
          }
          if (spec.python_file.empty() && spec.command.empty() && spec.serve_python.empty() &&
              spec.serve_command.empty() && spec.framework.empty()) {
            Fail(kv.second, fmt::format("{}: give a training (python/command) or serving "
                                        "(serve_python/serve_command) program, or a framework",
                                        what));
          }
          p.images.emplace(image, std::move(spec));
        }
      }
    }
    if (const YAML::Node l = root["lambda"]) {
      if (!l.IsMap()) Fail(l, "lambda: expected function-name: {python: FILE} or {command: [...]}");
      for (const auto& kv : l) {
        std::string name = Key(kv.first);
        const YAML::Node f = kv.second;
        std::string what = fmt::format("lambda.{}", name);
        Keys(f, {"python", "handler", "command", "timeout_seconds"}, what);
        LambdaFunctionSpec spec;
        if (f["python"]) spec.python_file = Resolve(Text(f["python"], what + ".python"));
        if (f["handler"]) spec.handler = Text(f["handler"], what + ".handler");
        if (const YAML::Node c = f["command"]) spec.command = Command(c, what);
        if (spec.python_file.empty() == spec.command.empty()) {
          Fail(f, fmt::format("{}: give exactly one of python: FILE or command: [...]", what));
        }
        if (const YAML::Node t = f["timeout_seconds"]) {
          int seconds = 0;
          try {
            seconds = t.as<int>();
          } catch (const YAML::Exception&) {
            Fail(t, fmt::format("{}.timeout_seconds: expected a whole number", what));
          }
          if (seconds < 1 || seconds > 900) {
            Fail(t, fmt::format("{}.timeout_seconds: Lambda allows 1 to 900, not {}", what, seconds));
          }
          spec.timeout = std::chrono::seconds(seconds);
        }
        p.lambda.emplace(name, std::move(spec));
      }
    }
    return p;
  }

 private:
  // A command: a list of words or one string split on spaces; a program given as a relative
  // path is relative to the profile.
  std::vector<std::string> Command(const YAML::Node& c, const std::string& what) {
    std::vector<std::string> out;
    if (c.IsScalar()) {
      std::string line = c.Scalar();
      std::size_t start = 0;
      while (start < line.size()) {
        std::size_t end = line.find(' ', start);
        if (end == std::string::npos) end = line.size();
        if (end > start) out.push_back(line.substr(start, end - start));
        start = end + 1;
      }
    } else if (c.IsSequence()) {
      for (const auto& a : c) out.push_back(Text(a, what + ".command"));
    } else {
      Fail(c, fmt::format("{}.command: expected a list of words", what));
    }
    if (!out.empty() && out[0].find('/') != std::string::npos) out[0] = Resolve(out[0]);
    return out;
  }

  [[noreturn]] void Fail(const YAML::Node& at, std::string_view message) {
    YAML::Mark m = at.Mark();
    throw ProfileError{m.is_null() ? fmt::format("{}: {}", file_, message)
                                   : fmt::format("{}:{}:{}: {}", file_, m.line + 1, m.column + 1,
                                                 message)};
  }
  std::string Key(const YAML::Node& k) {
    if (!k.IsScalar()) Fail(k, "a key must be a plain name");
    return k.Scalar();
  }
  std::string Text(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) Fail(n, fmt::format("{}: expected a single value", what));
    return n.Scalar();
  }
  void Keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
            std::string_view what) {
    if (!map.IsMap()) Fail(map, fmt::format("{}: expected a mapping", what));
    for (const auto& kv : map) {
      std::string key = Key(kv.first);
      bool ok = false;
      for (auto a : allowed) ok = ok || key == a;
      if (!ok) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Fail(kv.first, fmt::format("{}: unknown key \"{}\"; expected {}", what, key, list));
      }
    }
  }
  // Absolute, so that jobs running in their own directories find the files.
  std::string Resolve(const std::string& path) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    std::error_code ec;
    fs::path p = fs::absolute(base_ / path, ec);
    return (ec ? base_ / path : p).lexically_normal().string();
  }

  std::string file_;
  fs::path base_;
};

}  // namespace

Result<Profile> ParseProfile(std::string_view text, const std::string& file) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return ProfileReader(file).Read(root);
  } catch (const ProfileError& e) {
    return InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(
        fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

Result<Profile> LoadProfile(const std::string& path) {
  ZFLOW_ASSIGN_OR_RETURN(FileContents contents, ReadFileCapped(path, 1 << 20));
  if (contents.truncated) return InvalidArgumentError(fmt::format("{}: larger than 1 MiB", path));
  return ParseProfile(contents.data, path);
}

Result<Profile> FindProfile(const std::string& path) {
  if (!path.empty()) return LoadProfile(path);
  if (std::filesystem::exists("zflow.profile.yaml")) return LoadProfile("zflow.profile.yaml");
  return Profile{};
}

std::string WorkDirOf(const std::string& flag, const Profile& profile) {
  // Absolute: jobs run in directories of their own and get paths into this one (SM_MODEL_DIR,
  // SM_CHANNEL_*), which must not depend on their working directory.
  const std::string dir =
      !flag.empty() ? flag : profile.work_dir.empty() ? ".zflow/work" : profile.work_dir;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(dir, ec);
  return ec ? dir : absolute.lexically_normal().string();
}

}  // namespace zflow::integrations
