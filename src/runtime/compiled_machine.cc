#include "runtime/compiled_machine.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <fmt/format.h>

#include "asl/evaluation.h"
#include "asl/field_table.h"

namespace zflow::runtime {

bool ErrorMatcher::Matches(const std::string& error) const {
  bool terminal = error == asl::errors::kRuntime || error == asl::errors::kDataLimitExceeded;
  for (const std::string& n : names) {
    if (n == error) return error != asl::errors::kRuntime;
    // States.ALL matches every error except the terminal ones.
    if (n == asl::errors::kAll && !terminal) return true;
    // States.TaskFailed matches any error except States.Timeout (and the terminal ones).
    if (n == asl::errors::kTaskFailed && !terminal && error != asl::errors::kTimeout) return true;
  }
  return false;
}

namespace {

// History event types are a fixed vocabulary; keep them in static storage.
EventType StateEventType(asl::StateType t, bool entered) {
  using E = EventType;
  static constexpr E kEntered[] = {
      E::kPassStateEntered,    E::kTaskStateEntered, E::kChoiceStateEntered,
      E::kWaitStateEntered,    E::kSucceedStateEntered, E::kFailStateEntered,
      E::kParallelStateEntered, E::kMapStateEntered};
  // A Fail state never exits: its slot is never used.
  static constexpr E kExited[] = {
      E::kPassStateExited,    E::kTaskStateExited, E::kChoiceStateExited,
      E::kWaitStateExited,    E::kSucceedStateExited, E::kFailStateEntered,
      E::kParallelStateExited, E::kMapStateExited};
  return (entered ? kEntered : kExited)[static_cast<int>(t)];
}

class Compiler {
 public:
  explicit Compiler(asl::JsonPathCache* paths) : paths_(paths) {}

  Status CompileBranch(const asl::Branch& b, asl::QueryLanguage lang, CompiledBranch& out) {
    boost::unordered_flat_map<std::string_view, int> index;
    index.reserve(b.states.size());
    for (std::size_t i = 0; i < b.states.size(); ++i) {
      index.emplace(b.states[i].name, static_cast<int>(i));
    }
    auto target = [&](const std::string& name) -> Result<int> {
      auto it = index.find(name);
      if (it == index.end()) return InvalidArgumentError(fmt::format("no state named \"{}\"", name));
      return it->second;
    };
    ZFLOW_ASSIGN_OR_RETURN(out.start, target(b.start_at));
    out.states.resize(b.states.size());
    for (std::size_t i = 0; i < b.states.size(); ++i) {
      const asl::State& s = b.states[i];
      CompiledState& c = out.states[i];
      const bool jsonata = s.EffectiveQueryLanguage(lang) == asl::QueryLanguage::kJsonata;
      c.source = &s;
      c.type = s.type;
      c.name = s.name;
      c.entered_event_type = StateEventType(s.type, /*entered=*/true);
      c.exited_event_type = StateEventType(s.type, /*entered=*/false);
      c.end = s.end;
      if (!s.next.empty()) {
        ZFLOW_ASSIGN_OR_RETURN(c.next, target(s.next));
      }
      ZFLOW_RETURN_IF_ERROR(CompilePath(s.input_path, c.input_path));
      ZFLOW_RETURN_IF_ERROR(CompilePath(s.output_path, c.output_path));
      ZFLOW_RETURN_IF_ERROR(CompilePath(s.result_path, c.result_path));
      ZFLOW_RETURN_IF_ERROR(CompileTemplate(s.parameters, c.parameters));
      ZFLOW_RETURN_IF_ERROR(CompileTemplate(s.result_selector, c.result_selector));
      ZFLOW_RETURN_IF_ERROR(CompileTemplate(s.map().item_selector, c.item_selector));
      if (!jsonata) ZFLOW_RETURN_IF_ERROR(CompileTemplate(s.assign, c.assign));
      c.result = s.pass().result.ToOptional();
      c.uses_context = asl::ReadsContext(s);

      if (s.type == asl::StateType::kTask) ZFLOW_RETURN_IF_ERROR(CompileTiming(s.task(), c));
      for (const asl::Retrier& r : s.retry) {
        CompiledRetrier cr;
        cr.errors.names = r.error_equals;
        cr.interval_seconds = r.interval_seconds.value_or(1);
        cr.max_attempts = r.max_attempts.value_or(3);
        cr.backoff_rate = r.backoff_rate.value_or(2.0);
        cr.max_delay_seconds = r.max_delay_seconds;
        cr.full_jitter = r.jitter_strategy == asl::JitterStrategy::kFull;
        c.retriers.push_back(std::move(cr));
      }
      for (const asl::Catcher& k : s.catch_) {
        CompiledCatcher cc;
        cc.errors.names = k.error_equals;
        ZFLOW_ASSIGN_OR_RETURN(cc.next, target(k.next));
        ZFLOW_RETURN_IF_ERROR(CompilePath(k.result_path, cc.result_path));
        if (!jsonata) ZFLOW_RETURN_IF_ERROR(CompileTemplate(k.assign, cc.assign));
        c.catchers.push_back(std::move(cc));
      }

      // Choice
      if (s.type == asl::StateType::kChoice && !jsonata) {
        asl::ChoicePaths& choice_paths = c.choice_paths.emplace();
        for (const asl::ChoiceRule& r : s.choice().choices) choice_paths.Add(r, paths_);
      }
      for (const asl::ChoiceRule& r : s.choice().choices) {
        CompiledChoice cc;
        cc.rule = &r;
        ZFLOW_ASSIGN_OR_RETURN(cc.next, target(r.next));
        if (!jsonata) ZFLOW_RETURN_IF_ERROR(CompileTemplate(r.assign, cc.assign));
        c.choices.push_back(std::move(cc));
      }
      if (!s.choice().default_next.empty()) {
        ZFLOW_ASSIGN_OR_RETURN(c.default_next, target(s.choice().default_next));
      }

      if (s.type == asl::StateType::kWait) ZFLOW_RETURN_IF_ERROR(CompileWait(s.wait(), c));
      if (s.type == asl::StateType::kFail) ZFLOW_RETURN_IF_ERROR(CompileFail(s.fail(), c));

      // Parallel
      for (const asl::Branch& branch : s.parallel().branches) {
        auto cb = std::make_unique<CompiledBranch>();
        ZFLOW_RETURN_IF_ERROR(CompileBranch(branch, lang, *cb));
        c.branches.push_back(std::move(cb));
      }
      // Map
      if (s.map().item_processor) {
        if (s.map().item_processor->mode == asl::ProcessorMode::kDistributed) {
          // A distributed Map runs its iterations like an inline one; it differs in how
          // failures count (see the engine) and in reading and writing objects.
          c.distributed = true;
          ZFLOW_RETURN_IF_ERROR(CompileReaderBatcherWriter(s, c, jsonata));
        }
        c.processor = std::make_unique<CompiledBranch>();
        ZFLOW_RETURN_IF_ERROR(CompileBranch(*s.map().item_processor, lang, *c.processor));
        if (s.parameters && !s.map().item_selector) {
          // A Map's Parameters (the older name of ItemSelector) select each item's input.
          c.item_selector = std::move(c.parameters);
          c.parameters.reset();
        }
      }
      if (s.type == asl::StateType::kMap) ZFLOW_RETURN_IF_ERROR(CompileMapLimits(s.map(), c));
      if (jsonata) {
        ZFLOW_RETURN_IF_ERROR(CompileJsonata(s, c));
        if (c.jsonata->reads_context) c.uses_context = true;  // the execution keeps its input
      }
    }
    return Status::Ok();
  }

 private:
  // Every JSONata field of `s`; a string that is not "{% %}" stays literal.
  Status CompileJsonata(const asl::State& s, CompiledState& c) {
    CompiledJsonata& out = c.jsonata.emplace();
    auto compile = [&](const json::value* v, std::string field,
                       std::optional<asl::JsonataTemplate>& slot) -> Status {
      if (v == nullptr) return Status::Ok();
      ZFLOW_ASSIGN_OR_RETURN(auto t, asl::JsonataTemplate::Compile(*v, std::move(field)));
      out.reads_context = out.reads_context || t.ReadsContext();
      slot = std::move(t);
      return Status::Ok();
    };
    // Only expressions: a literal number in these fields is compiled with the JSONPath ones.
    auto expression = [&](const Boxed<json::value>& v, std::string field,
                          std::optional<asl::JsonataTemplate>& slot) -> Status {
      if (!v || !v->is_string()) return Status::Ok();
      return compile(&*v, std::move(field), slot);
    };
    auto whole = [&](const Boxed<json::value>& v, std::string field,
                     std::optional<asl::JsonataTemplate>& slot) -> Status {
      return compile(v ? &*v : nullptr, std::move(field), slot);
    };
    ZFLOW_RETURN_IF_ERROR(whole(s.arguments, "Arguments", out.arguments));
    ZFLOW_RETURN_IF_ERROR(whole(s.output, "Output", out.output));
    ZFLOW_RETURN_IF_ERROR(whole(s.assign, "Assign", out.assign));
    ZFLOW_RETURN_IF_ERROR(expression(s.task().timeout_seconds, "TimeoutSeconds", out.timeout_seconds));
    ZFLOW_RETURN_IF_ERROR(
        expression(s.task().heartbeat_seconds, "HeartbeatSeconds", out.heartbeat_seconds));
    ZFLOW_RETURN_IF_ERROR(expression(s.wait().seconds, "Seconds", out.seconds));
    if (s.wait().timestamp && s.wait().timestamp->is_string() &&
        asl::IsJsonataString(s.wait().timestamp->get_string())) {
      ZFLOW_RETURN_IF_ERROR(whole(s.wait().timestamp, "Timestamp", out.timestamp));
    }
    if (s.type == asl::StateType::kFail) {
      ZFLOW_RETURN_IF_ERROR(whole(s.fail().error, "Error", out.error));
      ZFLOW_RETURN_IF_ERROR(whole(s.fail().cause, "Cause", out.cause));
    }
    if (s.type == asl::StateType::kMap) {
      const asl::MapFields& m = s.map();
      ZFLOW_RETURN_IF_ERROR(whole(m.items, "Items", out.items));
      ZFLOW_RETURN_IF_ERROR(whole(m.item_selector, "ItemSelector", out.item_selector));
      ZFLOW_RETURN_IF_ERROR(expression(m.max_concurrency, "MaxConcurrency", out.max_concurrency));
      ZFLOW_RETURN_IF_ERROR(expression(m.tolerated_failure_count, "ToleratedFailureCount",
                                       out.tolerated_failure_count));
      ZFLOW_RETURN_IF_ERROR(expression(m.tolerated_failure_percentage,
                                       "ToleratedFailurePercentage",
                                       out.tolerated_failure_percentage));
    }
    const auto& rules = s.choice().choices;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      std::optional<asl::JsonataTemplate> condition;
      ZFLOW_RETURN_IF_ERROR(
          compile(&rules[i].condition, fmt::format("Choices[{}]/Condition", i), condition));
      CompiledJsonata::Rule rule{std::move(*condition), std::nullopt, std::nullopt};
      if (rules[i].output) {
        ZFLOW_RETURN_IF_ERROR(
            compile(&*rules[i].output, fmt::format("Choices[{}]/Output", i), rule.output));
      }
      if (rules[i].assign) {
        ZFLOW_RETURN_IF_ERROR(
            compile(&*rules[i].assign, fmt::format("Choices[{}]/Assign", i), rule.assign));
      }
      out.rules.push_back(std::move(rule));
    }
    for (std::size_t i = 0; i < s.catch_.size(); ++i) {
      CompiledJsonata::Catch k;
      const asl::Catcher& source = s.catch_[i];
      if (source.output) {
        ZFLOW_RETURN_IF_ERROR(compile(&*source.output, fmt::format("Catch[{}]/Output", i), k.output));
      }
      if (source.assign) {
        ZFLOW_RETURN_IF_ERROR(compile(&*source.assign, fmt::format("Catch[{}]/Assign", i), k.assign));
      }
      out.catchers.push_back(std::move(k));
    }
    return Status::Ok();
  }

  Status CompileTiming(const asl::TaskFields& t, CompiledState& c) {
    CompiledTaskTiming& out = c.timing.emplace();
    if (t.timeout_seconds && t.timeout_seconds->is_int64()) {
      out.timeout_seconds = t.timeout_seconds->get_int64();
    }
    if (t.heartbeat_seconds && t.heartbeat_seconds->is_int64()) {
      out.heartbeat_seconds = t.heartbeat_seconds->get_int64();
    }
    ZFLOW_RETURN_IF_ERROR(CompileOptionalPath(t.timeout_seconds_path, out.timeout_seconds_path));
    return CompileOptionalPath(t.heartbeat_seconds_path, out.heartbeat_seconds_path);
  }

  Status CompileWait(const asl::WaitFields& w, CompiledState& c) {
    CompiledWait& out = c.wait.emplace();
    if (w.seconds && w.seconds->is_int64()) out.seconds = w.seconds->get_int64();
    if (w.timestamp && w.timestamp->is_string()) {
      out.timestamp = asl::ParseTimestamp(w.timestamp->get_string());
    }
    ZFLOW_RETURN_IF_ERROR(CompileOptionalPath(w.seconds_path, out.seconds_path));
    return CompileOptionalPath(w.timestamp_path, out.timestamp_path);
  }

  Status CompileFail(const asl::FailFields& f, CompiledState& c) {
    CompiledFail& out = c.fail.emplace();
    if (f.error && f.error->is_string()) out.error.literal = std::string(f.error->get_string());
    if (f.cause && f.cause->is_string()) out.cause.literal = std::string(f.cause->get_string());
    ZFLOW_RETURN_IF_ERROR(CompileText(f.error_path, out.error));
    return CompileText(f.cause_path, out.cause);
  }

  Status CompileMapLimits(const asl::MapFields& m, CompiledState& c) {
    CompiledMapLimits& out = c.map_limits.emplace();
    ZFLOW_RETURN_IF_ERROR(CompileOptionalPath(m.items_path, out.items_path));
    if (m.max_concurrency && m.max_concurrency->is_int64()) {
      out.max_concurrency = m.max_concurrency->get_int64();
    }
    ZFLOW_RETURN_IF_ERROR(CompileOptionalPath(m.max_concurrency_path, out.max_concurrency_path));
    if (m.tolerated_failure_count && m.tolerated_failure_count->is_int64()) {
      out.tolerated_failure_count = m.tolerated_failure_count->get_int64();
    }
    if (m.tolerated_failure_percentage && m.tolerated_failure_percentage->is_number()) {
      out.tolerated_failure_percentage = m.tolerated_failure_percentage->to_number<double>();
    }
    ZFLOW_RETURN_IF_ERROR(
        CompileOptionalPath(m.tolerated_failure_count_path, out.tolerated_failure_count_path));
    return CompileOptionalPath(m.tolerated_failure_percentage_path,
                               out.tolerated_failure_percentage_path);
  }

  // ItemReader, ItemBatcher and ResultWriter; the validator has checked their shapes.
  // In a JSONata state, Arguments, BatchInput and the limits are JSONata (a literal stays one).
  Status CompileReaderBatcherWriter(const asl::State& s, CompiledState& c, bool jsonata) {
    auto jsonata_of = [&](const json::value* v, std::string field,
                          std::optional<asl::JsonataTemplate>& out) -> Status {
      if (!jsonata || v == nullptr) return Status::Ok();
      ZFLOW_ASSIGN_OR_RETURN(auto t, asl::JsonataTemplate::Compile(*v, std::move(field)));
      out = std::move(t);
      return Status::Ok();
    };
    // A limit written as an expression (a number is read into the spec already).
    auto limit_of = [&](const Boxed<json::value>& raw, std::string_view object,
                        std::string_view key, std::string field,
                        std::optional<asl::JsonataTemplate>& out) -> Status {
      const json::object* o = raw ? raw->if_object() : nullptr;
      if (o != nullptr && !object.empty()) {
        const json::value* inner = o->if_contains(object);
        o = inner != nullptr ? inner->if_object() : nullptr;
      }
      const json::value* v = o != nullptr ? o->if_contains(key) : nullptr;
      return jsonata_of(v != nullptr && v->is_string() ? v : nullptr, std::move(field), out);
    };
    auto path = [this](const Boxed<std::string>& text, std::optional<asl::JsonPath>& out) -> Status {
      if (!text) return Status::Ok();
      ZFLOW_ASSIGN_OR_RETURN(auto p, Path(*text));
      out = std::move(p);
      return Status::Ok();
    };
    auto template_of = [this](const Boxed<json::value>& v,
                          std::optional<asl::PayloadTemplate>& out) -> Status {
      if (!v) return Status::Ok();
      ZFLOW_ASSIGN_OR_RETURN(auto t, asl::PayloadTemplate::Compile(*v, paths_));
      out = std::move(t);
      return Status::Ok();
    };
    if (s.map().reader) {
      const asl::ItemReaderSpec& r = *s.map().reader;
      CompiledReader reader;
      reader.resource = r.resource;
      if (reader.resource != "arn:aws:states:::s3:getObject" &&
          reader.resource != "arn:aws:states:::s3:listObjectsV2") {
        return UnimplementedError(fmt::format(
            "Map state \"{}\": ItemReader Resource \"{}\" is not run locally (s3:getObject and "
            "s3:listObjectsV2 are)",
            s.name, reader.resource));
      }
      if (jsonata) {
        ZFLOW_RETURN_IF_ERROR(jsonata_of(r.parameters ? &*r.parameters : nullptr,
                                         "ItemReader/Arguments", reader.arguments));
        ZFLOW_RETURN_IF_ERROR(limit_of(s.map().item_reader, "ReaderConfig", "MaxItems",
                                       "ItemReader/ReaderConfig/MaxItems", reader.max_items_expr));
      } else {
        ZFLOW_RETURN_IF_ERROR(template_of(r.parameters, reader.parameters));
      }
      reader.input_type = r.input_type;
      reader.csv_header_first_row = r.csv_header_location != "GIVEN";
      reader.csv_headers = r.csv_headers;
      reader.csv_delimiter = r.csv_delimiter == "PIPE"        ? '|'
                             : r.csv_delimiter == "SEMICOLON" ? ';'
                             : r.csv_delimiter == "SPACE"     ? ' '
                             : r.csv_delimiter == "TAB"       ? '\t'
                                                              : ',';
      reader.max_items = r.max_items;
      ZFLOW_RETURN_IF_ERROR(path(r.max_items_path, reader.max_items_path));
      if (reader.resource == "arn:aws:states:::s3:getObject" && reader.input_type.empty()) {
        reader.input_type = "JSON";
      }
      if (reader.input_type == "MANIFEST" || reader.input_type == "PARQUET") {
        return UnimplementedError(fmt::format(
            "Map state \"{}\": ItemReader InputType {} is not run locally (JSON, JSONL and CSV "
            "are)",
            s.name, reader.input_type));
      }
      c.item_reader = std::move(reader);
    }
    if (s.map().batcher) {
      const asl::ItemBatcherSpec& b = *s.map().batcher;
      CompiledBatcher batcher;
      batcher.max_items = b.max_items_per_batch;
      batcher.max_bytes = b.max_input_bytes_per_batch;
      ZFLOW_RETURN_IF_ERROR(path(b.max_items_per_batch_path, batcher.max_items_path));
      ZFLOW_RETURN_IF_ERROR(path(b.max_input_bytes_per_batch_path, batcher.max_bytes_path));
      if (jsonata) {
        ZFLOW_RETURN_IF_ERROR(jsonata_of(b.batch_input ? &*b.batch_input : nullptr,
                                         "ItemBatcher/BatchInput", batcher.batch_input_expr));
        ZFLOW_RETURN_IF_ERROR(limit_of(s.map().item_batcher, "", "MaxItemsPerBatch",
                                       "ItemBatcher/MaxItemsPerBatch", batcher.max_items_expr));
        ZFLOW_RETURN_IF_ERROR(limit_of(s.map().item_batcher, "", "MaxInputBytesPerBatch",
                                       "ItemBatcher/MaxInputBytesPerBatch",
                                       batcher.max_bytes_expr));
      } else {
        ZFLOW_RETURN_IF_ERROR(template_of(b.batch_input, batcher.batch_input));
      }
      c.item_batcher = std::move(batcher);
    }
    if (s.map().writer) {
      const asl::ResultWriterSpec& w = *s.map().writer;
      if (w.resource != "arn:aws:states:::s3:putObject") {
        return UnimplementedError(fmt::format(
            "Map state \"{}\": ResultWriter needs Resource arn:aws:states:::s3:putObject", s.name));
      }
      CompiledWriter writer;
      if (jsonata) {
        ZFLOW_RETURN_IF_ERROR(jsonata_of(w.parameters ? &*w.parameters : nullptr,
                                         "ResultWriter/Arguments", writer.arguments));
      } else {
        ZFLOW_RETURN_IF_ERROR(template_of(w.parameters, writer.parameters));
      }
      c.result_writer = std::move(writer);
    }
    return Status::Ok();
  }

  Status CompilePath(const asl::PathField& f, CompiledPath& out) {
    switch (f.kind) {
      case asl::PathField::Kind::kAbsent:
        out.mode = CompiledPath::Mode::kDefault;
        return Status::Ok();
      case asl::PathField::Kind::kNull:
        out.mode = CompiledPath::Mode::kNull;
        return Status::Ok();
      case asl::PathField::Kind::kPath: {
        ZFLOW_ASSIGN_OR_RETURN(auto p, Path(f.path()));
        if (p.root() == asl::JsonPath::Root::kInput && p.is_root_only()) {
          out.mode = CompiledPath::Mode::kDefault;  // "$" is the identity
        } else {
          out.mode = CompiledPath::Mode::kPath;
          out.path = std::move(p);
        }
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Status CompileOptionalPath(const Boxed<std::string>& text,
                                    std::optional<asl::JsonPath>& out) {
    if (!text) return Status::Ok();
    ZFLOW_ASSIGN_OR_RETURN(auto p, Path(*text));
    out = std::move(p);
    return Status::Ok();
  }

  template <typename Optional>  // std::optional or Boxed
  Status CompileTemplate(const Optional& v,
                                std::optional<asl::PayloadTemplate>& out) {
    if (!v) return Status::Ok();
    ZFLOW_ASSIGN_OR_RETURN(auto t, asl::PayloadTemplate::Compile(*v, paths_));
    out = std::move(t);
    return Status::Ok();
  }

  Status CompileText(const Boxed<std::string>& text, CompiledText& out) {
    if (!text) return Status::Ok();
    if (asl::LooksLikeIntrinsic(*text)) {
      ZFLOW_ASSIGN_OR_RETURN(auto call, asl::IntrinsicCall::Parse(*text));
      out.call = std::move(call);
    } else {
      ZFLOW_ASSIGN_OR_RETURN(auto p, Path(*text));
      out.path = std::move(p);
    }
    return Status::Ok();
  }
 private:
  Result<asl::JsonPath> Path(std::string_view text) { return asl::CompilePath(text, paths_); }

  asl::JsonPathCache* paths_;  // may be null
};

}  // namespace

namespace {

bool AnyUsesContext(const CompiledBranch& b) {
  for (const CompiledState& s : b.states) {
    if (s.uses_context) return true;
    for (const auto& branch : s.branches) {
      if (AnyUsesContext(*branch)) return true;
    }
    if (s.processor && AnyUsesContext(*s.processor)) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<CompiledMachine>> CompileMachine(const asl::StateMachine& machine,
                                                       asl::JsonPathCache* paths) {
  auto out = std::make_unique<CompiledMachine>();
  out->timeout_seconds = machine.timeout_seconds;
  Compiler compiler(paths);
  ZFLOW_RETURN_IF_ERROR(
      compiler.CompileBranch(machine.top(), machine.DefaultQueryLanguage(), out->top));
  out->uses_context = AnyUsesContext(out->top);
  return out;
}

}  // namespace zflow::runtime
