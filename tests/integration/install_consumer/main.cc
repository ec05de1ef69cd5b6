// A C++ pipeline built against the installed zflow.
#include <zflow/main.h>
#include <zflow/pipeline.h>

int main(int argc, char** argv) {
  zflow::Pipeline p("installed");
  zflow::NumberValue n = p.Parameter("n", 2);
  p.Add(zflow::LambdaFunction{.name = "twice", .function_name = "twice", .payload = {{"n", n}}});
  return zflow::Main(argc, argv, p, {.functions = {{"twice", [](const zflow::json::value& e) {
    return zflow::json::value{{"n", e.at("n").to_number<double>() * 2}};
  }}}});
}
