// The local profile as the subcommands find it, and the work directory it implies.
#ifndef ZFLOW_CLI_LOCAL_PROFILE_H_
#define ZFLOW_CLI_LOCAL_PROFILE_H_

#include <string>

#include "integrations/profile.h"
#include "zflow/status.h"

namespace zflow::cli {

// The profile at `path`; without one, ./zflow.profile.yaml when it exists, else an empty
// profile. Errors are the profile's (file:line:column).
Result<integrations::Profile> LoadLocalProfile(const std::string& path);

// --work-dir when given, else the profile's work_dir, else .zflow/work.
std::string WorkDirOf(const std::string& flag, const integrations::Profile& profile);

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_LOCAL_PROFILE_H_
