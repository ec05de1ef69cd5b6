// The zflow command-line tool.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{"zflow: validate, format and run AWS Step Functions state machines locally"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "zflow 0.1.0");

  zflow::cli::ValidateOptions validate;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Check state machine definitions the way AWS does when they are created");
  validate_cmd->add_option("files", validate.files, "ASL JSON files ('-' reads stdin)")
      ->required();
  validate_cmd->add_flag("--json", validate.json,
                         "Print diagnostics as a JSON array of "
                         "{file,path,line,column,code,severity,message}");
  validate_cmd->add_flag("-q,--quiet", validate.quiet, "Print only problems");

  zflow::cli::FmtOptions fmt;
  CLI::App* fmt_cmd =
      app.add_subcommand("fmt", "Print definitions in canonical ASL formatting");
  fmt_cmd->add_option("files", fmt.files, "ASL JSON files")->required();
  fmt_cmd->add_flag("-w,--write", fmt.write, "Rewrite the files in place");
  fmt_cmd->add_flag("--check", fmt.check, "Exit 1 when a file is not canonically formatted");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return zflow::cli::kExitUsage;
  }
  if (app.got_subcommand(validate_cmd)) return zflow::cli::RunValidate(validate);
  if (app.got_subcommand(fmt_cmd)) return zflow::cli::RunFmt(fmt);
  return zflow::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // zflow code reports errors as Status; this catches only what a library underneath may throw
  // (std::bad_alloc, say) so the user sees a message instead of an abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "zflow: internal error: " << e.what() << "\n";
    return 4;
  }
}
