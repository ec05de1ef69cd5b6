#include "cli/local_profile.h"

#include <filesystem>

namespace zflow::cli {

Result<integrations::Profile> LoadLocalProfile(const std::string& path) {
  if (!path.empty()) return integrations::LoadProfile(path);
  if (std::filesystem::exists("zflow.profile.yaml")) {
    return integrations::LoadProfile("zflow.profile.yaml");
  }
  return integrations::Profile{};
}

std::string WorkDirOf(const std::string& flag, const integrations::Profile& profile) {
  if (!flag.empty()) return flag;
  return profile.work_dir.empty() ? ".zflow/work" : profile.work_dir;
}

}  // namespace zflow::cli
