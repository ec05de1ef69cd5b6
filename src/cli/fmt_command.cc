#include <iostream>

#include "cli/commands.h"
#include "cli/definition_file.h"
#include "common/file.h"
#include "zflow/asl_serializer.h"

namespace zflow::cli {

int RunFmt(const FmtOptions& options) {
  if (options.write) {
    for (const std::string& file : options.files) {
      if (file == "-") {
        std::cerr << "zflow fmt: -w cannot rewrite standard input; drop -w to print the result\n";
        return kExitUsage;
      }
    }
  }
  int exit_code = kExitOk;
  for (const std::string& file : options.files) {
    if (IsPipelineSpec(file)) {
      std::cerr << "zflow fmt: " << file
                << " is a pipeline spec: fmt formats ASL state machines (.json). To see the state "
                   "machine it compiles to: zflow compile "
                << file << " -o DIR\n";
      exit_code = kExitUsage;
      continue;
    }
    DefinitionCheck check = CheckDefinitionFile(file);
    if (!check.read_error.empty()) {
      std::cerr << "zflow fmt: " << check.read_error << "\n";
      exit_code = kExitUsage;
      continue;
    }
    if (!check.report.ok()) {
      for (const Diagnostic& d : check.report.diagnostics) {
        std::cerr << FormatDiagnostic(file, d) << "\n";
      }
      if (exit_code == kExitOk) exit_code = kExitInvalid;
      continue;
    }
    std::string canonical = asl::SerializeStateMachine(*check.report.machine);
    if (options.check) {
      if (canonical != check.text) {
        std::cout << file << ": not canonically formatted (run zflow fmt -w " << file << ")\n";
        if (exit_code == kExitOk) exit_code = kExitInvalid;
      }
    } else if (options.write) {
      if (canonical != check.text) {
        Status s = WriteFileAtomically(file, canonical);
        if (!s.ok()) {
          std::cerr << "zflow fmt: " << s.message() << "\n";
          exit_code = kExitUsage;
        }
      }
    } else {
      std::cout << canonical;
    }
  }
  return exit_code;
}

}  // namespace zflow::cli
