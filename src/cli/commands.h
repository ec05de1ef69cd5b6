// The `zflow` subcommands. Each returns the process exit code.
#ifndef ZFLOW_CLI_COMMANDS_H_
#define ZFLOW_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace zflow::cli {

// Exit codes shared by the subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;  // invalid input (definition, JSON)
inline constexpr int kExitUsage = 2;    // bad flags, unreadable files

struct ValidateOptions {
  std::vector<std::string> files;
  bool json = false;   // print [{"file","path","line","column","code","message"}]
  bool quiet = false;  // print only problems
};
int RunValidate(const ValidateOptions& options);

struct FmtOptions {
  std::vector<std::string> files;
  bool write = false;  // rewrite the files in place
  bool check = false;  // exit 1 when a file is not canonically formatted
};
int RunFmt(const FmtOptions& options);

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_COMMANDS_H_
