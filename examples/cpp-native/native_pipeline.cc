// zflow without Python: a pipeline whose Lambda functions are C++ functions of this program.
// Locally, `run` calls them in-process; on AWS the same state machine invokes the real
// functions (deploy them as Lambda functions of the same names).
//
//   list-sensors ── for each sensor: profile-sensor ── rank ── page-oncall (only if a sensor
//                                                              has too many outliers)
//
//   build/examples/native_pipeline run --result-json
//   build/examples/native_pipeline run --input '{"z_limit": 2.5}'
//   build/examples/native_pipeline compile -o out/
#include <zflow/main.h>
#include <zflow/pipeline.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using zflow::json::value;

// Deterministic readings of one sensor: a drifting sine plus noise, with rare spikes.
std::vector<double> Readings(std::int64_t sensor, std::int64_t count) {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(sensor + 1);
  auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / static_cast<double>(1ULL << 53);
  };
  std::vector<double> out(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    double v = 20.0 + 5.0 * std::sin(static_cast<double>(i) / 50.0) + (uniform() - 0.5) * 2.0;
    if (uniform() < 0.002 * static_cast<double>(sensor + 1)) v += 15.0;  // a spike
    out[static_cast<std::size_t>(i)] = v;
  }
  return out;
}

value ListSensors(const value& event) {
  std::int64_t n = event.at("sensors").to_number<std::int64_t>();
  if (n < 1 || n > 1000) throw zflow::FunctionError("InvalidInput", "sensors must be 1 to 1000");
  zflow::json::array ids;
  for (std::int64_t i = 0; i < n; ++i) ids.emplace_back(i);
  return zflow::json::object{{"sensors", std::move(ids)}};
}

// Mean, standard deviation and the readings more than z_limit deviations from a moving mean.
value ProfileSensor(const value& event) {
  std::int64_t sensor = event.at("sensor").to_number<std::int64_t>();
  std::int64_t count = event.at("readings").to_number<std::int64_t>();
  double z_limit = event.at("z_limit").to_number<double>();
  std::vector<double> r = Readings(sensor, count);
  double mean = 0;
  for (double v : r) mean += v;
  mean /= static_cast<double>(r.size());
  double var = 0;
  for (double v : r) var += (v - mean) * (v - mean);
  double sd = std::sqrt(var / static_cast<double>(r.size()));
  // Outliers against a moving window, so the slow sine does not count.
  constexpr std::size_t kWindow = 25;
  std::int64_t outliers = 0;
  for (std::size_t i = kWindow; i < r.size(); ++i) {
    double m = 0;
    for (std::size_t k = i - kWindow; k < i; ++k) m += r[k];
    m /= kWindow;
    if (std::abs(r[i] - m) > z_limit * 1.2) ++outliers;
  }
  return zflow::json::object{{"sensor", sensor}, {"mean", mean}, {"sd", sd},
                             {"outliers", outliers}};
}

value Rank(const value& event) {
  const auto& results = event.at("profiles").as_array();
  const value* worst = nullptr;
  std::int64_t total = 0;
  for (const auto& r : results) {
    const value& p = r.at("profile-sensor").at("Payload");
    total += p.at("outliers").to_number<std::int64_t>();
    if (worst == nullptr || p.at("outliers").to_number<std::int64_t>() >
                                worst->at("outliers").to_number<std::int64_t>()) {
      worst = &p;
    }
  }
  return zflow::json::object{{"worst", worst != nullptr ? *worst : value()},
                             {"total_outliers", total}};
}

value PageOncall(const value& event) {
  return zflow::json::object{{"paged", true}, {"sensor", event.at("sensor")}};
}

}  // namespace

int main(int argc, char** argv) {
  zflow::Pipeline p("sensor-health", {.comment = "Profile every sensor and page on outliers.",
                                      .schedule = "rate(1 hour)"});
  zflow::NumberValue sensors = p.Parameter("sensors", 6);
  zflow::NumberValue readings = p.Parameter("readings", 5000);
  zflow::NumberValue z_limit = p.Parameter("z_limit", 3.0);
  zflow::NumberValue max_outliers = p.Parameter("max_outliers", 10);

  auto list = p.Add(zflow::LambdaFunction{.name = "list-sensors", .function_name = "list-sensors",
                                          .payload = {{"sensors", sensors}}});
  zflow::Pipeline each("profile-one");
  each.Add(zflow::LambdaFunction{.name = "profile-sensor", .function_name = "profile-sensor",
                                 .payload = {{"sensor", each.Item()},
                                             {"readings", readings},
                                             {"z_limit", z_limit}}});
  auto profile = p.Add(zflow::ForEach{.name = "profile-all",
                                      .items = list.Output("Payload.sensors"),
                                      .body = &each,
                                      .max_concurrency = 4})
                     .After(list);
  auto rank = p.Add(zflow::LambdaFunction{.name = "rank", .function_name = "rank",
                                          .payload = {{"profiles", profile.Output("")}}})
                  .After(profile);
  p.Add(zflow::LambdaFunction{.name = "page-oncall", .function_name = "page-oncall",
                              .payload = {{"sensor", rank.Output("Payload.worst.sensor")}}})
      .After(rank)
      .When(rank.Output("Payload.worst.outliers") > max_outliers);

  return zflow::Main(argc, argv, p,
                     {.functions = {{"list-sensors", ListSensors},
                                    {"profile-sensor", ProfileSensor},
                                    {"rank", Rank},
                                    {"page-oncall", PageOncall}}});
}
