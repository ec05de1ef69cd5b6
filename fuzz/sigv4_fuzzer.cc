// SigV4 verification of what a client sends: the Authorization header, X-Amz-Date, the query
// string and the path, from the input (lines: path, query, authorization, date, body).
#include <cstdint>
#include <string>
#include <vector>

#include "cloud/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (parts.size() < 4) {
    std::size_t nl = input.find('\n', start);
    if (nl == std::string_view::npos) break;
    parts.emplace_back(input.substr(start, nl - start));
    start = nl + 1;
  }
  parts.resize(4);
  std::string body(input.substr(std::min(start, input.size())));
  zflow::cloud::SigV4Request request{
      .method = "POST",
      .path = parts[0].empty() ? "/" : parts[0],
      .query = parts[1],
      .headers = {{"Host", "127.0.0.1:8083"},
                  {"Authorization", parts[2]},
                  {"X-Amz-Date", parts[3]},
                  {"X-Amz-Target", "AWSStepFunctions.ListStateMachines"}},
      .body = body};
  auto verdict = zflow::cloud::VerifyRequest(
      request,
      [](std::string_view id) -> std::optional<std::string> {
        if (id == "AKIDEXAMPLE") return std::string("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        return std::nullopt;
      },
      zflow::TimePoint(std::chrono::seconds(1440938160)));
  (void)verdict;
  return 0;
}
