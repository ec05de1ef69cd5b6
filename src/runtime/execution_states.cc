// State semantics: what each state type does with its input, Retry and Catch, Parallel
// branches and Map iterations.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "asl/choice_evaluator.h"
#include "common/ids.h"
#include "runtime/execution.h"
#include "runtime/executor_core.h"
#include "runtime/map_io.h"
#include "runtime/payload_size.h"

namespace zflow::runtime {

namespace {

// AWS: "In Inline mode, the Map state supports up to 40 concurrent iterations."
constexpr std::size_t kInlineMapConcurrency = 40;

// ResultPath: merge `result` into the raw state input.
asl::Outcome<json::value> ApplyResultPath(const CompiledPath& rp,
                                                 const json::value& raw_input,
                                                 json::value result) {
  switch (rp.mode) {
    case CompiledPath::Mode::kDefault: return result;
    case CompiledPath::Mode::kNull: return raw_input;
    case CompiledPath::Mode::kPath: return rp.path->Assign(raw_input, std::move(result));
  }
  return result;
}

// States whose output is their input, unchanged (no path, template or result applies).
bool PassesInputThrough(const CompiledState& s) {
  if (s.input_path.mode != CompiledPath::Mode::kDefault ||
      s.output_path.mode != CompiledPath::Mode::kDefault) {
    return false;
  }
  switch (s.type) {
    case asl::StateType::kChoice:
    case asl::StateType::kWait:
    case asl::StateType::kSucceed: return true;
    case asl::StateType::kPass:
      return !s.parameters && !s.result && s.result_path.mode == CompiledPath::Mode::kDefault;
    default: return false;
  }
}

// Long chains are memory-bound: the next state's data was requested one transition ago; ask
// for the one after it now.
void PrefetchState(const CompiledState& n) {
  const char* line = reinterpret_cast<const char*>(&n);
  for (std::size_t i = 0; i < 512; i += 64) __builtin_prefetch(line + i);
  if (n.parameters) n.parameters->Prefetch();
  if (n.result_path.path) n.result_path.path->Prefetch();
}

void Transition(Frame* f, int next, json::value&& input) {
  const auto& states = f->branch->states;
  const CompiledState& n = states[static_cast<std::size_t>(next)];
  PrefetchState(n);
  if (n.next >= 0) {
    const char* after = reinterpret_cast<const char*>(&states[static_cast<std::size_t>(n.next)]);
    for (std::size_t i = 0; i < 512; i += 64) __builtin_prefetch(after + i);
  }
  f->state = next;
  if (&input != &f->input) Rebind(f->input, std::move(input));
  f->pending = Pending::kEnter;
  f->status = FrameStatus::kRunnable;
}

// Whether a Parallel or Map state reads its branches' / iterations' results: not with
// "ResultPath": null unless a ResultSelector, an Assign or a ResultWriter takes them.
bool KeepsResults(const CompiledState& s) {
  return s.result_path.mode != CompiledPath::Mode::kNull || s.result_selector || s.assign ||
         s.result_writer;
}

}  // namespace

// ---- stepping ----
void Execution::Step(FrameId id) {
  Frame* f = Get(id);
  if (f == nullptr) return;
  // Run the frame until it blocks or ends; bounded so siblings get turns.
  for (int budget = 0; budget < 64 && f->status == FrameStatus::kRunnable && !finished_;
       ++budget) {
    Pending p = f->pending;
    f->pending = Pending::kNone;
    const CompiledState& s = CurrentState(f);
    current_entered_event_ = f->entered_event;
    switch (p) {
      case Pending::kEnter: RunState(f, /*entering=*/true); break;
      case Pending::kRetry: RunState(f, /*entering=*/false); break;
      case Pending::kFinishResult: FinishResult(f, s, std::move(f->pending_value)); break;
      case Pending::kExitWait: ExitState(f, s, std::move(f->pending_value)); break;
      case Pending::kHandleError: HandleError(f, s, std::move(f->pending_error)); break;
      case Pending::kNone:
        return FinishExecution(
            ExecutionStatus::kFailed, {},
            WorkflowError{std::string(asl::errors::kRuntime),
                          fmt::format("internal error: state '{}' left no next step", s.name)});
    }
  }
  if (finished_) return;
  if (f->status == FrameStatus::kRunnable) {
    runnable_.push_back(id);
  } else if (f->status != FrameStatus::kWaiting && f->parent != 0) {
    DropFrame(id);  // a finished or aborted child: its parent has what it needs
  }
}

void Execution::RunState(Frame* f, bool entering) {
  const CompiledState& s = CurrentState(f);
  if (entering) {
    f->retry_count = 0;
    f->retry_attempts.assign(s.retriers.size(), 0);
    f->entered_event = Emit(f, s.entered_event_type, json::object{}, s.name, EnterPayload(f));
    current_entered_event_ = f->entered_event;
    if (finished_) return;
    f->entered_time = history_.timestamp(static_cast<std::size_t>(f->entered_event - 1));
  }
  f->error_from_children = false;
  // Each attempt of a .waitForTaskToken task gets a new token, derived from the execution's
  // seed and the event before it (the same in a replay), unguessable without the seed.
  f->task_token =
      WaitsForToken(s) ? "zflow-" + Derive("token", f->last_event, 64) : std::string();
  if (s.jsonata) return RunJsonataState(f, s);
  const json::value* ctx = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
  // The effective input: the raw input itself unless InputPath selects something else; it is
  // moved, not copied, where the raw input is not needed again.
  json::value selected;
  const json::value* effective = &f->input;
  if (s.input_path.mode != CompiledPath::Mode::kDefault) {
    auto v = ApplyInputPath(*f, s, f->input, ctx);
    if (!v.ok()) return HandleError(f, s, v.error());
    selected = std::move(*v);
    effective = &selected;
  }
  auto take = [&]() -> json::value {
    return effective == &f->input ? std::move(f->input) : std::move(selected);
  };
  switch (s.type) {
    case asl::StateType::kPass: return RunPass(f, s, *effective, take, ctx);
    case asl::StateType::kTask:
    case asl::StateType::kParallel:
    case asl::StateType::kMap: {
      f->effective_is_input = false;
      if (s.parameters) {
        auto p = s.parameters->Evaluate(Eval(*f, *effective, ctx), asl::errors::kRuntime);
        if (!p.ok()) return HandleError(f, s, Named(p.error(), s));
        Rebind(f->effective_input, std::move(*p));
      } else if (effective == &f->input) {
        // The raw input stays unchanged until the state ends: read it in place.
        f->effective_is_input = true;
        f->effective_input = nullptr;
      } else {
        Rebind(f->effective_input, std::move(selected));
      }
      if (s.type == asl::StateType::kTask) return StartTask(f, s);
      if (s.type == asl::StateType::kParallel) return StartParallel(f, s);
      return StartMap(f, s);
    }
    case asl::StateType::kChoice: return RunChoice(f, s, take(), ctx);
    case asl::StateType::kWait: return RunWait(f, s, take(), ctx);
    case asl::StateType::kSucceed: {
      auto out = ApplyOutputPath(*f, s, take(), ctx);
      if (!out.ok()) return HandleError(f, s, out.error());
      return ExitState(f, s, std::move(*out));
    }
    case asl::StateType::kFail: return RunFail(f, s, ctx);
  }
}

asl::Outcome<json::value> Execution::ApplyInputPath(const Frame& f, const CompiledState& s,
                                         const json::value& input, const json::value* ctx) {
  switch (s.input_path.mode) {
    case CompiledPath::Mode::kDefault: return input;
    case CompiledPath::Mode::kNull: return json::value(json::object());
    case CompiledPath::Mode::kPath: {
      auto v = s.input_path.path->Evaluate(Eval(f, input, ctx));
      if (!v.ok()) return Named(v.error(), s);
      return v;
    }
  }
  return input;
}

asl::Outcome<json::value> Execution::ApplyOutputPath(const Frame& f, const CompiledState& s,
                                          json::value output, const json::value* ctx) {
  switch (s.output_path.mode) {
    case CompiledPath::Mode::kDefault: return output;
    case CompiledPath::Mode::kNull: return json::value(json::object());
    case CompiledPath::Mode::kPath: {
      auto v = s.output_path.path->Evaluate(Eval(f, output, ctx));
      if (!v.ok()) return Named(v.error(), s);
      return v;
    }
  }
  return output;
}


// Causes name the state and the event that entered it, as AWS's do.
WorkflowError Execution::Named(WorkflowError e, const CompiledState& s) const {
  e.cause = fmt::format("An error occurred while executing the state '{}' (entered at the event "
                        "id #{}). {}",
                        s.name, current_entered_event_, e.cause);
  return e;
}

// After a Task/Parallel/Map produced `result`: ResultSelector, Assign, ResultPath, OutputPath.
void Execution::FinishResult(Frame* f, const CompiledState& s, json::value result) {
  if (s.jsonata) return FinishJsonata(f, s, std::move(result));
  const json::value* ctx = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
  if (s.result_selector) {
    auto sel = s.result_selector->Evaluate(Eval(*f, result, ctx), asl::errors::kRuntime);
    if (!sel.ok()) return HandleError(f, s, Named(sel.error(), s));
    result = std::move(*sel);
  }
  CompleteState(f, s, std::move(result), ctx);
}

// Shared tail of Pass/Task/Parallel/Map: Assign sees the result as "$" and the variables as
// they were before the state; then ResultPath, OutputPath, exit.
void Execution::CompleteState(Frame* f, const CompiledState& s, json::value&& result,
                   const json::value* ctx) {
  std::optional<json::value> assigned;
  if (s.assign) {
    auto a = s.assign->Evaluate(Eval(*f, result, ctx), asl::errors::kRuntime);
    if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
    assigned = std::move(*a);
  }
  // Without retriers or catchers nothing reads the raw input after this: merge into it, in
  // place, and exit with it.
  bool keep_input = !s.retriers.empty() || !s.catchers.empty();
  if (!keep_input && s.result_path.mode == CompiledPath::Mode::kPath &&
      s.output_path.mode == CompiledPath::Mode::kDefault) {
    if (auto error = s.result_path.path->AssignInPlace(f->input, std::move(result))) {
      return HandleError(f, s, Named(*std::move(error), s));
    }
    if (assigned) AssignVariables(f, std::move(*assigned));
    return ExitState(f, s, std::move(f->input));
  }
  asl::Outcome<json::value> merged =
      s.result_path.mode == CompiledPath::Mode::kPath
          ? s.result_path.path->Assign(keep_input ? f->input : std::move(f->input),
                                       std::move(result))
          : ApplyResultPath(s.result_path, f->input, std::move(result));
  if (!merged.ok()) return HandleError(f, s, Named(merged.error(), s));
  auto out = ApplyOutputPath(*f, s, std::move(*merged), ctx);
  if (!out.ok()) return HandleError(f, s, out.error());
  if (assigned) AssignVariables(f, std::move(*assigned));
  ExitState(f, s, std::move(*out));
}

void Execution::AssignVariables(Frame* f, json::value assigned) {
  // The StateExited event lists what the state assigned, values as JSON text (as AWS does).
  for (const auto& kv : assigned.as_object()) {
    f->assigned_for_event[kv.key()] = ToJsonText(kv.value());
  }
  if (!f->owns_scope) {
    auto own = std::make_shared<Scope>();
    own->parent = std::move(f->scope);
    f->scope = std::move(own);
    f->owns_scope = true;
  }
  for (auto& kv : assigned.as_object()) {
    f->scope->vars.insert_or_assign(std::string(kv.key()), std::move(kv.value()));
  }
}



// The exit payload text: the entered one for a state that passes its input through.
Execution::Payload Execution::ExitText(Frame* f, const CompiledState& s, const json::value& output) {
  Payload entered =
      f->entered_event > 0 ? history_.payload(static_cast<std::size_t>(f->entered_event - 1))
                           : Payload();
  if (!entered || !PassesInputThrough(s)) return ExitPayload(f, output);
  f->exit_payload = entered;
  f->exit_payload_valid = true;
  return f->exit_payload;
}

// `output` may be the frame's own input (a state that merged its result in place).
void Execution::ExitState(Frame* f, const CompiledState& s, json::value&& output) {
  // The history text, when kept, is the payload as AWS measures it: no second walk.
  Payload text = ExitText(f, s, output);
  std::size_t size = text ? text.view().size() : PayloadSize(output);
  if (size > core_.options().max_payload_bytes) {
    f->exit_payload_valid = false;
    return HandleError(f, s, DataLimit(s));  // as for a task result: States.ALL won't catch it
  }
  Emit(f, s.exited_event_type, ExitedDetails(f), s.name, std::move(text));
  if (finished_) return;
  if (s.type == asl::StateType::kSucceed || s.end) {
    Rebind(f->output, std::move(output));
    f->status = FrameStatus::kSucceeded;
    return FrameDone(f);
  }
  Transition(f, s.next, std::move(output));
}

// AWS refuses a Wait longer than 2^31 - 1 seconds (about 68 years) when the state runs.
bool Execution::WaitTooLong(TimePoint until) const {
  return until - DecisionTime() > std::chrono::seconds(std::numeric_limits<std::int32_t>::max());
}

WorkflowError Execution::WaitTooLongError(const CompiledState&) const {
  return WorkflowError{std::string(asl::errors::kRuntime), "Wait state delay is too long."};
}

WorkflowError Execution::DataLimit(const CompiledState& s) const {
  return WorkflowError{std::string(asl::errors::kDataLimitExceeded),
                       fmt::format("The state/task '{}' returned a result with a size exceeding "
                                   "the maximum number of bytes service limit ({} bytes).",
                                   s.name, core_.options().max_payload_bytes)};
}



template <typename Take>
void Execution::RunPass(Frame* f, const CompiledState& s, const json::value& effective, Take&& take,
             const json::value* ctx) {
  // Parameters shape the input of a virtual task whose result is Result, so Result wins.
  json::value result;
  if (s.parameters) {
    auto p = s.parameters->Evaluate(Eval(*f, effective, ctx), asl::errors::kRuntime);
    if (!p.ok()) return HandleError(f, s, Named(p.error(), s));
    Rebind(result, std::move(*p));
  }
  if (s.result) {
    Rebind(result, json::value(*s.result, storage_));
  } else if (!s.parameters) {
    // With the default ResultPath the raw input is not needed again. (Not a conditional
    // expression: `c ? take() : effective` is a const prvalue, which copies the input.)
    if (s.result_path.mode == CompiledPath::Mode::kDefault) {
      Rebind(result, take());
    } else {
      Rebind(result, json::value(effective));
    }
  }
  CompleteState(f, s, std::move(result), ctx);
}

void Execution::RunChoice(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx) {
  asl::EvaluationContext e = Eval(*f, effective, ctx);
  const CompiledChoice* matched = nullptr;
  for (const CompiledChoice& c : s.choices) {
    auto m = asl::EvaluateChoiceRule(*c.rule, e, s.choice_paths ? &*s.choice_paths : nullptr);
    if (!m.ok()) return HandleError(f, s, Named(m.error(), s));
    if (*m) {
      matched = &c;
      break;
    }
  }
  int next = matched != nullptr ? matched->next : s.default_next;
  if (next < 0) {
    return HandleError(f, s,
                       WorkflowError{std::string(asl::errors::kNoChoiceMatched),
                                     fmt::format("No Choice Rule matched and no Default is "
                                                 "defined in the state '{}'.",
                                                 s.name)});
  }
  // The state's Assign, then the matched rule's (the rule wins on a name clash).
  json::object assigned;
  for (const asl::PayloadTemplate* t :
       {s.assign ? &*s.assign : nullptr,
        matched != nullptr && matched->assign ? &*matched->assign : nullptr}) {
    if (t == nullptr) continue;
    auto a = t->Evaluate(e, asl::errors::kRuntime);
    if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
    for (auto& kv : a->as_object()) assigned.insert_or_assign(kv.key(), std::move(kv.value()));
  }
  auto out = ApplyOutputPath(*f, s, std::move(effective), ctx);
  if (!out.ok()) return HandleError(f, s, out.error());
  if (!assigned.empty()) AssignVariables(f, json::value(std::move(assigned)));
  Emit(f, EventType::kChoiceStateExited, ExitedDetails(f), s.name, ExitText(f, s, *out));
  if (finished_) return;
  Transition(f, next, std::move(*out));
}

void Execution::RunWait(Frame* f, const CompiledState& s, json::value effective, const json::value* ctx) {
  TimePoint until = Now();
  asl::EvaluationContext e = Eval(*f, effective, ctx);
  auto at = [](const asl::Instant& t) {
    // TimePoint holds nanoseconds in 64 bits (until 2262); later instants saturate.
    constexpr std::int64_t kMaxSeconds = 9'000'000'000;
    if (t.seconds > kMaxSeconds) return TimePoint(std::chrono::seconds(kMaxSeconds));
    if (t.seconds < -kMaxSeconds) return TimePoint(std::chrono::seconds(-kMaxSeconds));
    return TimePoint(std::chrono::seconds(t.seconds) + std::chrono::nanoseconds(t.nanos));
  };
  const CompiledWait& w = *s.wait;
  if (w.seconds) {
    until = After(static_cast<double>(*w.seconds));
  } else if (w.timestamp) {
    until = at(*w.timestamp);
  } else if (w.seconds_path) {
    auto v = w.seconds_path->Evaluate(e);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    if (!v->is_int64() || v->get_int64() < 0) {
      return HandleError(
          f, s,
          Named(WorkflowError{std::string(asl::errors::kRuntime),
                              fmt::format("The SecondsPath '{}' must select a non-negative "
                                          "integer, not {}",
                                          w.seconds_path->text(), ToJsonText(*v))},
                s));
    }
    until = After(static_cast<double>(v->get_int64()));
  } else if (w.timestamp_path) {
    auto v = w.timestamp_path->Evaluate(e);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    std::optional<asl::Instant> t;
    if (v->is_string()) t = asl::ParseTimestamp(v->get_string());
    if (!t) {
      return HandleError(
          f, s,
          Named(WorkflowError{std::string(asl::errors::kRuntime),
                              fmt::format("The TimestampPath '{}' must select an RFC 3339 "
                                          "timestamp, not {}",
                                          w.timestamp_path->text(), ToJsonText(*v))},
                s));
    }
    until = at(*t);
  }
  // Only delays read when the state runs: a literal Timestamp far ahead waits (and times out).
  if ((w.seconds_path || w.timestamp_path) && WaitTooLong(until)) {
    return HandleError(f, s, WaitTooLongError(s));
  }
  auto out = ApplyOutputPath(*f, s, std::move(effective), ctx);
  if (!out.ok()) return HandleError(f, s, out.error());
  if (s.assign) {
    auto a = s.assign->Evaluate(e, asl::errors::kRuntime);
    if (!a.ok()) return HandleError(f, s, Named(a.error(), s));
    AssignVariables(f, std::move(*a));
  }
  if (until <= Now()) return ExitState(f, s, std::move(*out));
  Rebind(f->pending_value, std::move(*out));
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kWait;
  f->wake_at = until;
  ++f->generation;
  AddTimer(until, TimerKind::kWaitDone, f);
}

void Execution::RunFail(Frame* f, const CompiledState& s, const json::value* ctx) {
  asl::EvaluationContext e = Eval(*f, f->input, ctx);
  auto text = [&](const CompiledText& t) -> asl::Outcome<std::string> {
    if (t.literal) return *t.literal;
    if (!t.path && !t.call) return std::string();
    asl::Outcome<json::value> v = t.path ? t.path->Evaluate(e) : t.call->Evaluate(e);
    if (!v.ok()) return v.error();
    if (!v->is_string()) {
      return WorkflowError{std::string(asl::errors::kRuntime),
                           fmt::format("The ErrorPath/CausePath must select a string, not {}",
                                       ToJsonText(*v))};
    }
    return std::string(v->get_string());
  };
  auto error = text(s.fail->error);
  if (!error.ok()) return FailFrame(f, Named(error.error(), s));
  auto cause = text(s.fail->cause);
  if (!cause.ok()) return FailFrame(f, Named(cause.error(), s));
  FailFrame(f, WorkflowError{std::move(*error), std::move(*cause)});
}

// ---- Parallel / Map ----
void Execution::StartParallel(Frame* f, const CompiledState& s) {
  Emit(f, EventType::kParallelStateStarted, json::object{});
  if (finished_) return;
  auto g = std::make_unique<ChildGroup>();
  g->owner = f->id;
  g->keep_results = KeepsResults(s);
  g->results.assign(s.branches.size(), nullptr);
  g->children.assign(s.branches.size(), 0);
  for (std::size_t i = 0; i < s.branches.size(); ++i) {
    Frame* child = NewFrame(f, s.branches[i].get(), json::value(Effective(*f), storage_));
    child->index = i;
    g->children[i] = child->id;
    runnable_.push_back(child->id);
    ++g->running;
  }
  g->next_to_start = s.branches.size();
  f->children = std::move(g);
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kChildren;
  ++f->generation;
}

void Execution::StartMap(Frame* f, const CompiledState& s) {
  const CompiledMapLimits& limits = *s.map_limits;
  const json::value& effective = Effective(*f);
  asl::EvaluationContext e =
      Eval(*f, effective, s.uses_context ? Context(*f, s, nullptr, 0) : nullptr);
  // The items: read in place where a path names them (each iteration gets its own copy of its
  // item), owned when read from S3 or selected by an indefinite path.
  json::value items_owned;
  const json::value* items_value = &items_owned;
  const CompiledJsonata* ja = s.jsonata ? &*s.jsonata : nullptr;
  const json::value* ja_ctx =
      ja != nullptr && ja->reads_context ? Context(*f, s, nullptr, 0) : nullptr;
  if (ja != nullptr && ja->items) {
    auto v = ja->items->EvaluateArray(JsonataScopeOf(*f, f->input, ja_ctx));
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    items_owned = std::move(*v);
  } else if (s.item_reader) {
    const asl::JsonataScope scope =
        JsonataScopeOf(*f, f->input, ja != nullptr ? Context(*f, s, nullptr, 0) : nullptr);
    auto read = ReadItems(*s.item_reader, e, core_.options().object_store,
                          ja != nullptr ? &scope : nullptr);
    if (!read.ok()) return HandleError(f, s, Named(read.error(), s));
    items_owned = std::move(*read);
  } else if (limits.items_path) {
    const json::value* found =
        limits.items_path->is_reference_path() ? limits.items_path->Find(e) : nullptr;
    if (found != nullptr) {
      items_value = found;
    } else {
      auto v = limits.items_path->Evaluate(e);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      items_owned = std::move(*v);
    }
  } else {
    items_value = &effective;
  }
  if (!items_value->is_array()) {
    return HandleError(
        f, s,
        Named(WorkflowError{std::string(asl::errors::kRuntime),
                            fmt::format("Map state input must be an array, but the items are {}",
                                        ToJsonText(*items_value).substr(0, 200))},
              s));
  }
  auto g = std::make_unique<ChildGroup>();
  g->owner = f->id;
  g->is_map = true;
  std::int64_t max_concurrency = limits.max_concurrency;
  if (limits.max_concurrency_path) {
    auto v = limits.max_concurrency_path->Evaluate(e);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    if (!v->is_int64() || v->get_int64() < 0) {
      return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                   "MaxConcurrencyPath must select a "
                                                   "non-negative integer"},
                                     s));
    }
    max_concurrency = v->get_int64();
  }
  g->max_concurrency = static_cast<std::size_t>(max_concurrency);
  g->tolerated_count = limits.tolerated_failure_count;
  g->tolerated_percentage = limits.tolerated_failure_percentage;
  if (ja != nullptr) {
    asl::JsonataScope scope = JsonataScopeOf(*f, f->input, ja_ctx);
    if (ja->max_concurrency) {
      auto v = ja->max_concurrency->EvaluateInteger(scope, 0);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      g->max_concurrency = static_cast<std::size_t>(*v);
    }
    if (ja->tolerated_failure_count) {
      auto v = ja->tolerated_failure_count->EvaluateInteger(scope, 0);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      g->tolerated_count = *v;
    }
    if (ja->tolerated_failure_percentage) {
      auto v = ja->tolerated_failure_percentage->EvaluateNumber(scope);
      if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
      if (*v < 0 || *v > 100) {
        return HandleError(
            f, s,
            Named(WorkflowError{std::string(asl::errors::kQueryEvaluationError),
                                fmt::format("The JSONata expression for the field "
                                            "'ToleratedFailurePercentage' returned {}, which is "
                                            "not a number from 0 to 100",
                                            *v)},
                  s));
      }
      g->tolerated_percentage = *v;
    }
  }
  if (limits.tolerated_failure_count_path) {
    auto v = limits.tolerated_failure_count_path->Evaluate(e);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    if (!v->is_int64() || v->get_int64() < 0) {
      return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                   "ToleratedFailureCountPath must select a "
                                                   "non-negative integer"},
                                     s));
    }
    g->tolerated_count = v->get_int64();
  }
  if (limits.tolerated_failure_percentage_path) {
    auto v = limits.tolerated_failure_percentage_path->Evaluate(e);
    if (!v.ok()) return HandleError(f, s, Named(v.error(), s));
    if (!v->is_number() || v->to_number<double>() < 0 || v->to_number<double>() > 100) {
      return HandleError(f, s, Named(WorkflowError{std::string(asl::errors::kRuntime),
                                                   "ToleratedFailurePercentagePath must select "
                                                   "a number from 0 to 100"},
                                     s));
    }
    g->tolerated_percentage = v->to_number<double>();
  }
  const json::array& items = items_value->get_array();
  const bool owned = items_value == &items_owned;
  g->results.assign(items.size(), nullptr);
  g->children.assign(items.size(), 0);
  g->keep_results = KeepsResults(s);
  // Each iteration's input: ItemSelector (which sees $$.Map.Item) or the item itself. Items
  // read in place are copied as their iteration starts.
  const bool ja_selector = ja != nullptr && ja->item_selector;
  if (!s.item_selector && !ja_selector && !owned && !s.item_batcher && !s.result_writer) {
    g->source = &items;
  } else {
    g->items.reserve(items.size());
  }
  for (std::size_t i = 0; g->source == nullptr && i < items.size(); ++i) {
    if (ja_selector) {
      // $states.input is the Map's input; $states.context.Map.Item the item.
      auto sel = ja->item_selector->Evaluate(
          JsonataScopeOf(*f, f->input, Context(*f, s, &items[i], i)));
      if (!sel.ok()) return HandleError(f, s, Named(sel.error(), s));
      g->items.push_back(std::move(*sel));
    } else if (s.item_selector) {
      auto sel = s.item_selector->Evaluate(
          Eval(*f, effective, s.uses_context ? Context(*f, s, &items[i], i) : nullptr),
          asl::errors::kRuntime);
      if (!sel.ok()) return HandleError(f, s, Named(sel.error(), s));
      g->items.push_back(std::move(*sel));
    } else if (owned) {
      g->items.push_back(std::move(items_owned.as_array()[i]));
    } else {
      g->items.emplace_back(items[i], storage_);
    }
  }
  // No $$.Map.Item past here.
  if (s.item_selector) e.context = s.uses_context ? Context(*f, s, nullptr, 0) : nullptr;
  if (s.item_batcher) {
    const asl::JsonataScope scope =
        JsonataScopeOf(*f, f->input, ja != nullptr ? Context(*f, s, nullptr, 0) : nullptr);
    auto batches =
        BatchItems(*s.item_batcher, e, std::move(g->items), ja != nullptr ? &scope : nullptr);
    if (!batches.ok()) return HandleError(f, s, Named(batches.error(), s));
    g->items = std::move(*batches);
    g->results.assign(g->items.size(), nullptr);
    g->children.assign(g->items.size(), 0);
  }
  if (s.result_writer) {
    g->inputs = g->items;
    g->failed_flags.assign(g->items.size(), 0);
  }
  Emit(f, EventType::kMapStateStarted,
       json::object{{"length", static_cast<std::int64_t>(items.size())}});
  if (finished_) return;
  f->children = std::move(g);
  f->status = FrameStatus::kWaiting;
  f->wake = Wake::kChildren;
  ++f->generation;
  if (f->children->results.empty()) return CompleteGroup(f);
  StartMoreIterations(f);
}


void Execution::StartMoreIterations(Frame* f) {
  ChildGroup& g = *f->children;
  const CompiledState& s = CurrentState(f);
  std::size_t limit = g.max_concurrency == 0 ? core_.options().max_parallel_children : g.max_concurrency;
  // An inline Map runs at most 40 iterations at once on AWS, whatever its MaxConcurrency.
  if (!s.distributed) limit = std::min(limit, kInlineMapConcurrency);
  while (g.next_to_start < g.results.size() && g.running < limit && !finished_) {
    std::size_t i = g.next_to_start++;
    Frame* child = NewFrame(f, s.processor.get(),
                            g.source != nullptr ? json::value((*g.source)[i], storage_)
                                                : std::move(g.items[i]));
    child->index = i;
    EmitIteration(child, EventType::kMapIterationStarted, s.name);
    g.children[i] = child->id;
    runnable_.push_back(child->id);
    ++g.running;
  }
}

// A child frame ended (succeeded or failed).
void Execution::FrameDone(Frame* child) {
  if (child->parent == 0) {
    if (child->status == FrameStatus::kSucceeded) {
      FinishExecution(ExecutionStatus::kSucceeded, std::move(child->output), {});
    } else {
      FinishExecution(ExecutionStatus::kFailed, {}, std::move(child->error));
    }
    return;
  }
  Frame* owner = Get(child->parent);
  if (owner == nullptr || !owner->children) return;
  ChildGroup& g = *owner->children;
  --g.running;
  ++g.finished;
  const CompiledState& s = CurrentState(owner);
  if (child->status == FrameStatus::kSucceeded) {
    if (g.keep_results) Rebind(g.results[child->index], std::move(child->output));
    if (g.is_map) {
      EmitIteration(child, EventType::kMapIterationSucceeded, s.name);
    }
  } else {
    ++g.failed;
    if (child->index < g.failed_flags.size()) g.failed_flags[child->index] = 1;
    if (g.is_map) {
      EmitIteration(child, EventType::kMapIterationFailed, s.name);
      g.results[child->index] =
          json::object{{"Error", child->error.error}, {"Cause", child->error.cause}};
    }
    if (!g.first_error) g.first_error = child->error;
    if (!WithinTolerance(g)) {
      WorkflowError err = *g.first_error;
      // A distributed Map reports any failure past its threshold (0 by default) this way.
      if (g.is_map && (g.tolerated_count || g.tolerated_percentage || s.distributed)) {
        err = WorkflowError{std::string(asl::errors::kExceedToleratedFailureThreshold),
                            fmt::format("The specified tolerated failure threshold was "
                                        "exceeded in the Map state '{}'.",
                                        s.name)};
      }
      AbortChildren(g, g.is_map, s.name);
      Emit(owner, g.is_map ? EventType::kMapStateFailed : EventType::kParallelStateFailed,
           json::object{});
      if (finished_) return;
      owner->children.reset();
      ++owner->generation;
      owner->pending_error = std::move(err);
      owner->error_from_children = true;
      return Resume(owner, Pending::kHandleError);
    }
  }
  if (g.finished == g.results.size()) return CompleteGroup(owner);
  if (g.is_map) StartMoreIterations(owner);
}

// The Map fails as soon as either threshold is exceeded.
bool Execution::WithinTolerance(const ChildGroup& g) const {
  if (g.failed == 0) return true;
  if (!g.is_map || (!g.tolerated_count && !g.tolerated_percentage)) return false;
  if (g.tolerated_count && static_cast<std::int64_t>(g.failed) > *g.tolerated_count) {
    return false;
  }
  if (g.tolerated_percentage &&
      100.0 * static_cast<double>(g.failed) / static_cast<double>(g.results.size()) >
          *g.tolerated_percentage) {
    return false;
  }
  return true;
}

void Execution::AbortChildren(ChildGroup& g, bool emit_iterations,
                              const std::string& state_name) {
  for (FrameId id : g.children) {
    Frame* c = id == 0 ? nullptr : Get(id);
    if (c == nullptr || c->status == FrameStatus::kSucceeded ||
        c->status == FrameStatus::kFailed || c->status == FrameStatus::kAborted) {
      continue;
    }
    AbortFrame(c);
    if (emit_iterations) EmitIteration(c, EventType::kMapIterationAborted, state_name);
  }
}

void Execution::AbortFrame(Frame* f) {
  AbandonTask(f);
  ++f->generation;
  f->status = FrameStatus::kAborted;
  if (f->children) {
    const CompiledState& s = CurrentState(f);
    AbortChildren(*f->children, f->children->is_map, s.name);
    Emit(f, f->children->is_map ? EventType::kMapStateAborted : EventType::kParallelStateAborted,
         json::object{});
    f->children.reset();
  }
  // Aborted frames waiting on a timer or a task are dropped now; queued ones when popped.
  if (!runnable_.contains(f->id)) DropFrame(f->id);
}

void Execution::CompleteGroup(Frame* f) {
  ChildGroup& g = *f->children;
  const CompiledState& s = CurrentState(f);
  json::value output;
  if (g.is_map && s.result_writer) {
    asl::Outcome<json::value> written = json::value();
    json::value params = json::object();
    if (s.result_writer->arguments) {
      auto p = s.result_writer->arguments->Evaluate(
          JsonataScopeOf(*f, f->input, Context(*f, s, nullptr, 0)));
      if (p.ok()) {
        params = std::move(*p);
      } else {
        written = p.error();
      }
    } else if (s.result_writer->parameters) {
      auto p = s.result_writer->parameters->Evaluate(
          Eval(*f, Effective(*f), Context(*f, s, nullptr, 0)), asl::errors::kRuntime);
      if (p.ok()) {
        params = std::move(*p);
      } else {
        written = p.error();
      }
    }
    if (written.ok()) {
      // The Map run's id, derived as a task token is (the same in a replay).
      std::string id = Derive("maprun", f->last_event, 32);
      auto half = [&](std::size_t at) { return std::stoull(id.substr(at, 16), nullptr, 16); };
      written = WriteResults(MapRunOutput{.params = std::move(params),
                                          .execution_arn = result_.execution_arn,
                                          .state_name = s.name,
                                          .run_id = FormatUuid(half(0), half(16)),
                                          .stamp = FormatTimestamp(DecisionTime()),
                                          .results = g.results,
                                          .inputs = g.inputs,
                                          .failed_flags = g.failed_flags},
                             core_.options().object_store);
    }
    if (!written.ok()) {
      Emit(f, EventType::kMapStateFailed, json::object{});
      if (finished_) return;
      f->children.reset();
      ++f->generation;
      f->pending_error = Named(written.error(), s);
      if (f->status == FrameStatus::kWaiting) return Resume(f, Pending::kHandleError);
      return HandleError(f, s, std::move(f->pending_error));
    }
    Rebind(output, std::move(*written));
  } else {
    json::array results(storage_);
    results.reserve(g.results.size());
    for (auto& r : g.results) results.push_back(std::move(r));
    Rebind(output, json::value(std::move(results)));
  }
  Emit(f, g.is_map ? EventType::kMapStateSucceeded : EventType::kParallelStateSucceeded,
       json::object{});
  if (finished_) return;
  f->children.reset();
  ++f->generation;
  Rebind(f->pending_value, std::move(output));
  if (f->status == FrameStatus::kWaiting) {
    Resume(f, Pending::kFinishResult);
  } else {
    f->pending = Pending::kFinishResult;  // an empty Map, still in its own step
  }
}

// ---- errors: Retry, Catch, or fail the frame ----
void Execution::HandleError(Frame* f, const CompiledState& s, WorkflowError error) {
  if (finished_) return;
  if (s.jsonata && !f->error_from_children) {
    EmitEvaluationFailed(f, s, error);
    if (finished_) return;
  }
  bool handles_errors = s.type == asl::StateType::kTask ||
                        s.type == asl::StateType::kParallel || s.type == asl::StateType::kMap;
  if (handles_errors) {
    for (std::size_t i = 0; i < s.retriers.size(); ++i) {
      const CompiledRetrier& r = s.retriers[i];
      if (!r.errors.Matches(error.error)) continue;
      std::int64_t& attempts = f->retry_attempts[i];
      if (attempts >= r.max_attempts) break;  // this retrier is spent: on to Catch
      double delay = static_cast<double>(r.interval_seconds) *
                     std::pow(r.backoff_rate, static_cast<double>(attempts));
      if (r.max_delay_seconds) {
        delay = std::min(delay, static_cast<double>(*r.max_delay_seconds));
      }
      if (r.full_jitter) delay *= rng_.Next();
      ++attempts;
      ++f->retry_count;
      f->status = FrameStatus::kWaiting;
      f->wake = Wake::kRetry;
      f->wake_at = After(delay);
      f->error_from_children = false;
      ++f->generation;
      AddTimer(f->wake_at, TimerKind::kRetry, f);
      return;
    }
    for (const CompiledCatcher& c : s.catchers) {
      if (!c.errors.Matches(error.error)) continue;
      if (s.jsonata) {
        return CatchJsonata(f, s, static_cast<std::size_t>(&c - s.catchers.data()), error);
      }
      json::value error_output = json::object{{"Error", error.error}, {"Cause", error.cause}};
      std::optional<json::value> assigned;
      if (c.assign) {
        auto a = c.assign->Evaluate(Eval(*f, error_output, Context(*f, s, nullptr, 0)),
                                    asl::errors::kRuntime);
        if (!a.ok()) return FailFrame(f, Named(a.error(), s));
        assigned = std::move(*a);
      }
      auto merged = ApplyResultPath(c.result_path, f->input, std::move(error_output));
      if (!merged.ok()) return FailFrame(f, Named(merged.error(), s));
      if (assigned) AssignVariables(f, std::move(*assigned));
      Emit(f, s.exited_event_type, ExitedDetails(f), s.name, PayloadOf(*merged));
      if (finished_) return;
      Transition(f, c.next, std::move(*merged));
      return;
    }
  }
  FailFrame(f, std::move(error));
}

void Execution::FailFrame(Frame* f, WorkflowError error) {
  if (finished_) return;
  if (!f->error_from_children) {
    // A leaf failure: this state failed and nothing caught it. A redrive re-runs the last one.
    last_leaf_failure_ = ++leaf_failures_;
    if (CutHere(f)) return;
  }
  f->error_from_children = false;
  f->error = std::move(error);
  f->status = FrameStatus::kFailed;
  FrameDone(f);
}

}  // namespace zflow::runtime
