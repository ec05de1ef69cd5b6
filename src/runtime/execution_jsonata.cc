// JSONata states: the same engine steps as JSONPath states, with AWS's JSONata data flow.
// A state sees $states.input (its raw input) and $states.context; Task, Parallel and Map
// evaluate Arguments into their effective input and, once they have a result,
// $states.result; Output and Assign are evaluated together, both with the variables as they
// were when the state was entered; a failing expression is States.QueryEvaluationError.
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "runtime/execution.h"

namespace zflow::runtime {

namespace {
constexpr int kExitNormally = -2;  // ExitJsonata: leave through Next/End, not a given index
}  // namespace

asl::JsonataScope Execution::JsonataScopeOf(const Frame& f, const json::value& input,
                                            const json::value* ctx) const {
  asl::JsonataScope scope;
  scope.input = &input;
  scope.context = ctx;
  // The same lookup the JSONPath states use (see Eval).
  scope.variables = Eval(f, input, ctx).variables;
  // The decision's time, recorded in the history: a resumed execution sees the same $now().
  scope.now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(DecisionTime());
  return scope;
}

void Execution::RunJsonataState(Frame* f, const CompiledState& s) {
  const CompiledJsonata& j = *s.jsonata;
  const json::value* ctx = j.reads_context ? Context(*f, s, nullptr, 0) : nullptr;
  asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ctx);
  switch (s.type) {
    case asl::StateType::kPass:
    case asl::StateType::kSucceed:
      return ExitJsonata(f, s, j.output, j.assign, json::value(f->input, storage_), nullptr,
                         nullptr, kExitNormally);
    case asl::StateType::kTask:
    case asl::StateType::kParallel:
    case asl::StateType::kMap: {
      f->effective_is_input = false;
      if (j.arguments) {
        auto args = j.arguments->Evaluate(scope);
        if (!args.ok()) return HandleError(f, s, Named(args.error(), s));
        Rebind(f->effective_input, std::move(*args));
      } else {
        // The raw input stays unchanged until the state ends: read it in place.
        f->effective_is_input = true;
        f->effective_input = nullptr;
      }
      if (s.type == asl::StateType::kTask) return StartTask(f, s);
      if (s.type == asl::StateType::kParallel) return StartParallel(f, s);
      return StartMap(f, s);
    }
    case asl::StateType::kChoice:
      return RunJsonataChoice(f, s, ctx);
    case asl::StateType::kWait:
      return RunJsonataWait(f, s, ctx);
    case asl::StateType::kFail:
      return RunJsonataFail(f, s, ctx);
  }
}

void Execution::ExitJsonata(Frame* f, const CompiledState& s,
                            const std::optional<asl::JsonataTemplate>& output,
                            const std::optional<asl::JsonataTemplate>& assign,
                            json::value&& fallback, const json::value* result,
                            const json::value* error_output, int next) {
  const CompiledJsonata& j = *s.jsonata;
  const json::value* ctx = j.reads_context ? Context(*f, s, nullptr, 0) : nullptr;
  asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ctx);
  scope.result = result;
  scope.error_output = error_output;
  json::value out;
  if (output) {
    auto v = output->Evaluate(scope);
    if (!v.ok()) {
      WorkflowError e = Named(v.error(), s);
      if (next != kExitNormally) EmitEvaluationFailed(f, s, e);
      return next == kExitNormally ? HandleError(f, s, std::move(e)) : FailFrame(f, std::move(e));
    }
    out = std::move(*v);
  } else {
    out = std::move(fallback);
  }
  if (assign) {
    auto a = assign->Evaluate(scope);
    if (!a.ok()) {
      WorkflowError e = Named(a.error(), s);
      if (next != kExitNormally) EmitEvaluationFailed(f, s, e);
      return next == kExitNormally ? HandleError(f, s, std::move(e)) : FailFrame(f, std::move(e));
    }
    if (!a->is_object()) {
      WorkflowError e = Named(WorkflowError{std::string(asl::errors::kQueryEvaluationError),
                                            fmt::format("The field 'Assign' must be an object, "
                                                        "not {}",
                                                        ToJsonText(*a))},
                              s);
      return next == kExitNormally ? HandleError(f, s, std::move(e)) : FailFrame(f, std::move(e));
    }
    AssignVariables(f, std::move(*a));
  }
  if (next == kExitNormally) return ExitState(f, s, std::move(out));
  Emit(f, s.exited_event_type, ExitedDetails(f), s.name, PayloadOf(out));
  if (finished_) return;
  Transition(f, next, std::move(out));
}

// After a Task/Parallel/Map produced `result`: Output (default: the result) and Assign.
void Execution::FinishJsonata(Frame* f, const CompiledState& s, json::value result) {
  const CompiledJsonata& j = *s.jsonata;
  if (!j.output && !j.assign) return ExitState(f, s, std::move(result));
  json::value fallback = j.output ? json::value() : json::value(result, storage_);
  ExitJsonata(f, s, j.output, j.assign, std::move(fallback), &result, nullptr, kExitNormally);
}

void Execution::RunJsonataChoice(Frame* f, const CompiledState& s, const json::value* ctx) {
  const CompiledJsonata& j = *s.jsonata;
  asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ctx);
  for (std::size_t i = 0; i < j.rules.size(); ++i) {
    auto matched = j.rules[i].condition.EvaluateBoolean(scope);
    if (!matched.ok()) return HandleError(f, s, Named(matched.error(), s));
    if (!*matched) continue;
    // The matched rule's Output and Assign replace the state's.
    return ExitJsonata(f, s, j.rules[i].output, j.rules[i].assign,
                       json::value(f->input, storage_), nullptr, nullptr, s.choices[i].next);
  }
  if (s.default_next < 0) {
    return HandleError(f, s,
                       WorkflowError{std::string(asl::errors::kNoChoiceMatched),
                                     fmt::format("No Choice Rule matched and no Default is "
                                                 "defined in the state '{}'.",
                                                 s.name)});
  }
  ExitJsonata(f, s, j.output, j.assign, json::value(f->input, storage_), nullptr, nullptr,
              s.default_next);
}

void Execution::RunJsonataWait(Frame* f, const CompiledState& s, const json::value* ctx) {
  const CompiledJsonata& j = *s.jsonata;
  asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ctx);
  TimePoint until = Now();
  const CompiledWait& w = *s.wait;
  if (j.seconds) {
    auto seconds = j.seconds->EvaluateInteger(scope, 0, 99'999'999);
    if (!seconds.ok()) return HandleError(f, s, Named(seconds.error(), s));
    until = After(static_cast<double>(*seconds));
  } else if (j.timestamp) {
    auto text = j.timestamp->EvaluateString(scope);
    if (!text.ok()) return HandleError(f, s, Named(text.error(), s));
    std::optional<asl::Instant> t = asl::ParseTimestamp(*text);
    if (!t) {
      return HandleError(
          f, s,
          Named(WorkflowError{std::string(asl::errors::kQueryEvaluationError),
                              fmt::format("The JSONata expression for the field 'Timestamp' "
                                          "returned \"{}\", which is not an RFC 3339 timestamp",
                                          *text)},
                s));
    }
    until = TimePoint(std::chrono::seconds(std::clamp<std::int64_t>(
                          t->seconds, -9'000'000'000, 9'000'000'000)) +
                      std::chrono::nanoseconds(t->nanos));
  } else if (w.seconds) {
    until = After(static_cast<double>(*w.seconds));
  } else if (w.timestamp) {
    until = TimePoint(std::chrono::seconds(std::clamp<std::int64_t>(
                          w.timestamp->seconds, -9'000'000'000, 9'000'000'000)) +
                      std::chrono::nanoseconds(w.timestamp->nanos));
  }
  if ((j.seconds || j.timestamp) && WaitTooLong(until)) {
    return HandleError(f, s, WaitTooLongError(s));
  }
  // Output and Assign now (they see the input and the variables as entered); the exit waits.
  json::value out;
  if (j.output) {
    auto v = j.output->Evaluate(scope);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    out = std::move(*v);
  } else {
    out = json::value(f->input, storage_);
  }
  if (j.assign) {
    auto a = j.assign->Evaluate(scope);
    if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
    if (a->is_object()) AssignVariables(f, std::move(*a));
  }
  if (until <= Now()) return ExitState(f, s, std::move(out));
  Rebind(f->pending_value, std::move(out));
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kWait;
  f->wake_at = until;
  ++f->generation;
  AddTimer(until, TimerKind::kWaitDone, f);
}

void Execution::RunJsonataFail(Frame* f, const CompiledState& s, const json::value* ctx) {
  const CompiledJsonata& j = *s.jsonata;
  asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ctx);
  auto text = [&](const std::optional<asl::JsonataTemplate>& t) -> asl::Outcome<std::string> {
    if (!t) return std::string();
    return t->EvaluateString(scope);
  };
  auto error = text(j.error);
  if (!error.ok()) {
    WorkflowError e = Named(error.error(), s);
    EmitEvaluationFailed(f, s, e);
    return FailFrame(f, std::move(e));
  }
  auto cause = text(j.cause);
  if (!cause.ok()) {
    WorkflowError e = Named(cause.error(), s);
    EmitEvaluationFailed(f, s, e);
    return FailFrame(f, std::move(e));
  }
  FailFrame(f, WorkflowError{std::move(*error), std::move(*cause)});
}

// A catcher of a JSONata state: its Output (default: the Error Output) becomes the input of
// its Next; its Assign (not the state's) sets variables.
void Execution::CatchJsonata(Frame* f, const CompiledState& s, std::size_t catcher,
                             const WorkflowError& error) {
  const CompiledJsonata::Catch& k = s.jsonata->catchers[catcher];
  json::value error_output = json::object{{"Error", error.error}, {"Cause", error.cause}};
  json::value fallback = k.output ? json::value() : error_output;
  ExitJsonata(f, s, k.output, k.assign, std::move(fallback), nullptr, &error_output,
              s.catchers[catcher].next);
}

void Execution::EmitEvaluationFailed(Frame* f, const CompiledState& s,
                                     const WorkflowError& error) {
  if (error.error != asl::errors::kQueryEvaluationError) return;
  // The field, as the cause names it: "... specified for the field 'Output/a' ...".
  std::string location;
  constexpr std::string_view kField = "specified for the field '";
  if (std::size_t at = error.cause.find(kField); at != std::string::npos) {
    std::size_t start = at + kField.size();
    std::size_t end = error.cause.find('\'', start);
    if (end != std::string::npos) location = error.cause.substr(start, end - start);
  }
  json::object details{{"error", error.error}, {"cause", error.cause}, {"state", s.name}};
  if (!location.empty()) details["location"] = location;
  // zflow's addition to AWS's fields: where in the expression it failed.
  if (error.position > 0) details["position"] = error.position;
  Emit(f, EventType::kEvaluationFailed, std::move(details));
}

}  // namespace zflow::runtime
