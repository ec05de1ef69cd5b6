// YAML pipeline specs: what they compile to, and every mistake reported with file:line:column.
#include "zflow/spec.h"

#include <gtest/gtest.h>

#include <random>

#include "zflow/runtime.h"

namespace zflow::spec {
namespace {

std::string ErrorOf(std::string_view yaml) {
  auto r = LoadPipelineText(yaml, "p.yaml");
  if (!r.ok()) return r.status().message();
  auto c = r->pipeline().Compile();
  return c.ok() ? "(compiled)" : r->Locate(c.status().message());
}

constexpr std::string_view kSmall = R"(pipeline: small
parameters:
  day: "2026-11-21"
  threshold: 0.5
  dry_run: false
steps:
  - name: prep
    lambda:
      function_name: prep
      payload: {day: "{{ params.day }}", n: 3, uri: "s3://b/{{ params.day }}/x"}
  - name: check
    after: [prep]
    when: steps.prep.Payload.score >= params.threshold and not (params.dry_run == true)
    pass:
      result: {ok: true}
)";

TEST(Spec, LoadsCompilesAndRuns) {
  auto loaded = LoadPipelineText(kSmall, "p.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto m = loaded->pipeline().Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  runtime::IntegrationRegistry tasks;
  tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [](const runtime::TaskRequest& r) {
    json::object payload = r.input.at("Payload").as_object();
    payload["score"] = 0.7;
    return runtime::TaskResult::Success(json::object{{"Payload", payload}});
  }, true);
  runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
  auto r = engine.Run(*m, {.input = json::object{{"day", "2026-11-22"}}, .name = "e"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
  const json::value& prep = r->output.at("steps").at("prep").at("Payload");
  EXPECT_EQ(prep.at("day"), "2026-11-22");
  EXPECT_EQ(prep.at("n"), 3);
  EXPECT_EQ(prep.at("uri"), "s3://b/2026-11-22/x");
  EXPECT_EQ(r->output.at("steps").at("check"), (json::object{{"ok", true}}));
  // Raising the threshold skips "check".
  r = engine.Run(*m, {.input = json::object{{"threshold", 0.9}}, .name = "e2"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->output.at("steps").at("check").is_null());
}

TEST(Spec, MistakesAreLocatedAndSayWhatIsExpected) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"pipeline: x\nsteps: [", "p.yaml:2:"},  // YAML syntax
      {"pipeline: x\nstepz: []\n", "p.yaml:2:1: pipeline file: unknown key \"stepz\" (did you mean \"steps\"?)"},
      {"steps: []\n", "\"pipeline: <name>\" is required"},
      {"pipeline: x\nsteps:\n  - name: a\n    lamda: {function_name: f}\n",
       "p.yaml:4:5: step \"a\": unknown key \"lamda\" (did you mean \"lambda\"?)"},
      {"pipeline: x\nsteps:\n  - name: a\n", "p.yaml:3:5: step \"a\": missing its kind"},
      {"pipeline: x\nsteps:\n  - name: a\n    wait: {seconds: 1}\n    pass: {}\n",
       "p.yaml:5:5: step \"a\": has both wait and pass"},
      {"pipeline: x\nsteps:\n  - name: t\n    training: {image: i, instance_count: two}\n",
       "p.yaml:4:42: step \"t\": training.instance_count: expected a number, got \"two\""},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: \"{{ params.nope }}\"}\n",
       "p.yaml:4:29: {{ params.nope }}: \"nope\" is not a parameter"},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: \"${Role}\"}\n",
       "p.yaml:4:29: ${Role} is not a declared external"},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: f}\n  - name: b\n    after: [aa]\n"
       "    lambda: {function_name: g}\n",
       "p.yaml:6:13: step \"b\": after: \"aa\" is not a step of the pipeline (did you mean \"a\"?)"},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: f}\n  - name: b\n"
       "    lambda: {function_name: g, payload: {x: \"{{ steps.a.Payload }}\"}}\n",
       "p.yaml:5:5: step \"b\" (payload.x) reads the result of \"a\" but does not run after it; "
       "add \"a\" to its after: list"},
      // A condition nested too deep is refused, not a stack overflow.
      {"pipeline: x\nparameters: {p: 1}\nsteps:\n  - name: a\n    when: \"" + std::string(100000, '(') +
           "params.p > 1" + std::string(100000, ')') + "\"\n    wait: {seconds: 1}\n",
       "p.yaml:5:11: when: nested deeper than 100 levels at character 101"},
      {"pipeline: x\nparameters: {p: 1}\nsteps:\n  - name: a\n    when: \"" +
           [] { std::string s; for (int i = 0; i < 50000; ++i) s += "not "; return s; }() +
           "params.p > 1\"\n    wait: {seconds: 1}\n",
       "when: nested deeper than 100 levels"},
      // Duplicate names and cycles are located too.
      {"pipeline: x\nsteps:\n  - name: a\n    wait: {seconds: 1}\n  - name: a\n    wait: {seconds: 2}\n",
       "p.yaml:5:11: step \"a\": two steps are named \"a\" (the other is on line 3)"},
      {"pipeline: x\nsteps:\n  - name: a\n    after: [b]\n    wait: {seconds: 1}\n"
       "  - name: b\n    after: [a]\n    wait: {seconds: 2}\n",
       "p.yaml:3:5: step \"a\": the steps a, b depend on each other in a cycle"},
      // Messages name YAML's keys, not the C++ API's.
      {"pipeline: x\nsteps:\n  - name: a\n    timeout_seconds: 0\n    lambda: {function_name: f}\n",
       "p.yaml:3:5: step \"a\": timeout_seconds must be 1 to 99999999, not 0"},
      {"pipeline: x\nsteps:\n  - name: a\n    when: params.p > 1\n    lambda: {function_name: f}\n"
       "  - name: b\n    after: [a]\n    lambda: {function_name: g, payload: {x: \"{{ steps.a.Payload }}\"}}\n"
       "parameters: {p: 2}\n",
       "give \"b\" the same when: condition"},
      {"pipeline: x\nsteps:\n  - name: a\n    when: steps.a.x >> 3\n    pass: {}\n",
       "p.yaml:4:11: when: expected a value at character"},
      {"pipeline: x\nschedule: cron(0 6 * * *)\nsteps: []\n",
       "p.yaml:2:11: schedule: cron(0 6 * * *) has 5 fields; expected 6"},
      {"pipeline: x\nparameters: {p: [1]}\nsteps: []\n",
       "p.yaml:2:17: parameter \"p\": the default must be a string, a number or a boolean"},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: f, payload: {x: {y: \"{{ params.p }}\"}}}\n",
       "references ({{ }}) are allowed in a field's own value"},
      {"pipeline: x\nsteps:\n  - name: a\n    lambda: {function_name: \"{{ item }}\"}\n",
       "\"item\" exists only inside for_each"},
      {"pipeline: x\nsteps:\n  - name: a\n    wait: {seconds: \"{{ execution.name }}\"}\n",
       "step \"a\": wait.seconds: expected a number, got a string"},
  };
  for (const Case& c : cases) {
    std::string e = ErrorOf(c.yaml);
    EXPECT_NE(e.find(c.want), std::string::npos) << "YAML:\n" << c.yaml << "\ngot: " << e;
  }
}

TEST(Spec, ForEachBodiesSeeTheItemAndOuterResults) {
  auto loaded = LoadPipelineText(R"(pipeline: fan
steps:
  - name: list
    lambda: {function_name: list}
  - name: each
    after: [list]
    for_each:
      items: "{{ steps.list.Payload.items }}"
      max_concurrency: 2
      steps:
        - name: work
          lambda: {function_name: work, payload: {item: "{{ item }}", total: "{{ steps.list.Payload.n }}"}}
)",
                                 "f.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto m = loaded->pipeline().Compile();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  runtime::IntegrationRegistry tasks;
  tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [](const runtime::TaskRequest& r) {
    if (r.input.at("FunctionName") == "list") {
      return runtime::TaskResult::Success(json::object{
          {"Payload", json::object{{"items", json::array{1, 2}}, {"n", 2}}}});
    }
    return runtime::TaskResult::Success(json::object{{"Payload", r.input.at("Payload")}});
  }, true);
  runtime::Engine engine({.integrations = &tasks, .virtual_time = true});
  auto r = engine.Run(*m, {.name = "e"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
  EXPECT_EQ(r->output.at("steps").at("each").at(1).at("work").at("Payload"),
            (json::object{{"item", 2}, {"total", 2}}));
}

TEST(Spec, GarbageNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "abc:- \n{}[]\"'#&*!|>%@`{{}}$.,0123456789";
  for (int i = 0; i < 2000; ++i) {
    std::string text = "pipeline: x\nsteps:\n  - name: a\n    ";
    int len = static_cast<int>(rng() % 60);
    for (int k = 0; k < len; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    auto r = LoadPipelineText(text, "g.yaml");
    if (r.ok()) (void)r->pipeline().CompileJson();
  }
}

// Random DAG pipelines: compiled, run on the engine with a Lambda stand-in that records when
// each step starts and ends; every dependency is respected and every reference resolves.
TEST(Spec, RandomDagPipelinesRespectEveryDependency) {
  std::mt19937 rng(2026);
  for (int round = 0; round < 40; ++round) {
    int n = 2 + static_cast<int>(rng() % 14);
    Pipeline p("random");
    std::vector<StepRef> refs;
    std::vector<std::vector<int>> deps(n);
    for (int i = 0; i < n; ++i) {
      std::map<std::string, Value> payload = {{"id", i}};
      for (int j = 0; j < i; ++j) {
        if (rng() % 3 == 0) deps[i].push_back(j);
      }
      for (int d : deps[i]) payload["from_" + std::to_string(d)] = refs[d].Output("Payload.id");
      refs.push_back(p.Add(LambdaFunction{.name = "s" + std::to_string(i), .function_name = "f",
                                          .payload = payload}));
      for (int d : deps[i]) refs.back().After(refs[d]);
    }
    auto m = p.Compile();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    std::mutex mu;
    int clock = 0;
    std::vector<int> started(n, -1), finished(n, -1);
    runtime::IntegrationRegistry tasks;
    tasks.RegisterFunction("arn:aws:states:::lambda:invoke", [&](const runtime::TaskRequest& r) {
      const json::value& payload = r.input.at("Payload");
      int id = static_cast<int>(payload.at("id").as_int64());
      {
        std::lock_guard<std::mutex> lock(mu);
        started[id] = clock++;
      }
      for (const auto& [k, v] : payload.as_object()) {
        if (k.starts_with("from_")) {
          EXPECT_EQ(std::to_string(v.as_int64()), std::string(k.substr(5)));
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      finished[id] = clock++;
      return runtime::TaskResult::Success(json::object{{"Payload", payload}});
    });
    runtime::Engine engine({.integrations = &tasks});
    auto r = engine.Run(*m, {.name = "e"});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, runtime::ExecutionStatus::kSucceeded) << r->error << ": " << r->cause;
    for (int i = 0; i < n; ++i) {
      ASSERT_GE(started[i], 0) << "step " << i << " did not run";
      for (int d : deps[i]) EXPECT_LT(finished[d], started[i]) << d << " -> " << i;
      EXPECT_TRUE(r->output.at("steps").as_object().contains("s" + std::to_string(i)));
    }
  }
}

}  // namespace
}  // namespace zflow::spec
