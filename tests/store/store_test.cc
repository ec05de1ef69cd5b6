#include "store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "store/sqlite.h"
#include "zflow/asl_parser.h"
#include "zflow/executor.h"

namespace zflow::store {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("zflow-store-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Db() const { return (dir_ / "zflow.db").string(); }

  static StateMachineRecord Machine(std::string name) {
    return StateMachineRecord{.arn = "arn:aws:states:us-east-1:123456789012:stateMachine:" + name,
                              .name = name,
                              .definition = R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})",
                              .role_arn = "arn:aws:iam::123456789012:role/r",
                              .revision_id = "rev-1",
                              .creation_ms = 1000,
                              .update_ms = 1000};
  }

  static ExecutionRecord Execution(const StateMachineRecord& m, std::string name) {
    runtime::ExecutionInfo info{.name = name, .state_machine_name = m.name, .seed = "s"};
    return ExecutionRecord{.arn = info.ExecutionArn(),
                           .machine_arn = m.arn,
                           .name = name,
                           .input = R"({"x":1})",
                           .info = ToJsonText(info.ToJson()),
                           .definition = m.definition,
                           .role_arn = m.role_arn,
                           .revision_id = m.revision_id,
                           .start_ms = 2000};
  }

  fs::path dir_;
};

TEST_F(StoreTest, KeepsStateMachinesVersionsAndAliasesAcrossReopen) {
  {
    auto store = Store::Open(Db());
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_TRUE((*store)->CreateStateMachine(Machine("a")).ok());
    auto v1 = (*store)->PublishVersion(Machine("a").arn, "first", 5000);
    ASSERT_TRUE(v1.ok());
    EXPECT_EQ(v1->arn, Machine("a").arn + ":1");
    // The same revision again: the same version.
    auto again = (*store)->PublishVersion(Machine("a").arn, "other", 6000);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->version, 1);
    ASSERT_TRUE((*store)->CreateAlias({.arn = Machine("a").arn + ":prod",
                                       .machine_arn = Machine("a").arn,
                                       .name = "prod",
                                       .routing = "[]"})
                    .ok());
  }
  auto store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  auto m = (*store)->GetStateMachine(Machine("a").arn);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->definition, Machine("a").definition);
  auto versions = (*store)->ListVersions(Machine("a").arn);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].description, "first");
  EXPECT_TRUE((*store)->GetAlias(Machine("a").arn + ":prod").ok());
  EXPECT_EQ((*store)->CreateStateMachine(Machine("a")).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*store)->GetStateMachine("arn:nope").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, RefusesADatabaseFromANewerZflow) {
  {
    auto db = Database::Open(Db());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = Store::Open(Db());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(StoreTest, UpgradesADatabaseOfTheFirstSchemaAndKeepsStepGraphs) {
  {
    auto store = Store::Open(Db());
    ASSERT_TRUE(store.ok());
  }
  {
    // What a zflow of schema 1 left: no pipelines table.
    auto db = Database::Open(Db());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE pipelines; PRAGMA user_version = 1").ok());
  }
  {
    auto store = Store::Open(Db());
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->GetPipelineGraph("arn:m").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE((*store)->PutPipelineGraph("arn:m", R"({"steps":[]})", 1).ok());
    ASSERT_TRUE((*store)->PutPipelineGraph("arn:m", R"({"steps":[1]})", 2).ok());
  }
  auto store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  auto graph = (*store)->GetPipelineGraph("arn:m");
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(*graph, R"({"steps":[1]})");
}

TEST_F(StoreTest, RefusesAFileThatIsNotADatabase) {
  {
    std::FILE* f = std::fopen(Db().c_str(), "w");
    std::fputs("this is not a database, it is a text file that is long enough to be read", f);
    std::fclose(f);
  }
  auto store = Store::Open(Db());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find(Db()), std::string::npos);
}

TEST_F(StoreTest, ADataDirectoryThatIsNotThereSaysSo) {
  auto store = Store::Open((dir_ / "missing" / "zflow.db").string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(store.status().message().find("missing"), std::string::npos);
}

TEST_F(StoreTest, AReadOnlyDataDirectoryIsRefusedWithoutDamage) {
  {
    auto store = Store::Open(Db());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateStateMachine(Machine("a")).ok());
  }
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(Db(), fs::perms::owner_read);
  auto store = Store::Open(Db());
  fs::permissions(dir_, fs::perms::owner_all);
  fs::permissions(Db(), fs::perms::owner_read | fs::perms::owner_write);
  if (::geteuid() != 0) {
    // (root writes through permissions; the outcome below holds either way)
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kPermissionDenied);
  }
  store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->CheckIntegrity().ok());
  EXPECT_TRUE((*store)->GetStateMachine(Machine("a").arn).ok());
}

TEST_F(StoreTest, ExecutionNamesAreUniquePerMachine) {
  auto store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  auto m = Machine("a");
  ASSERT_TRUE((*store)->CreateStateMachine(m).ok());
  auto id = (*store)->CreateExecution(Execution(m, "e1"));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*store)->CreateExecution(Execution(m, "e1")).status().code(),
            StatusCode::kAlreadyExists);
  auto e = (*store)->GetExecution(Execution(m, "e1").arn);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, "RUNNING");
  EXPECT_EQ(e->definition, m.definition);
  auto running = (*store)->RunningExecutions();
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->size(), 1u);
}

// Runs `definition` on an executor whose events go to the store's sink.
Result<runtime::ExecutionResult> RunWithStore(Store& store, const ExecutionRecord& record) {
  auto model = asl::ParseStateMachine(record.definition);
  if (!model.ok()) return model.status();
  auto prepared = runtime::Prepare(std::move(*model));
  if (!prepared.ok()) return prepared.status();
  runtime::Executor executor({.virtual_time = true});
  auto info = runtime::ExecutionInfo::FromJson(ParseJson(record.info).value().value).value();
  std::optional<Result<runtime::ExecutionResult>> out;
  auto started = executor.Start(*prepared,
                                {.input = ParseJson(record.input).value().value,
                                 .name = info.name,
                                 .state_machine_name = info.state_machine_name,
                                 .seed = info.seed,
                                 .sink = &store.sink()},
                                [&](Result<runtime::ExecutionResult> r) { out = std::move(r); });
  if (!started.ok()) return started.status();
  executor.RunUntilIdle();
  return std::move(*out);
}

TEST_F(StoreTest, TheSinkRecordsEventsAndTheEndOfAnExecution) {
  auto store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  auto m = Machine("a");
  m.definition = R"({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"Next":"P"},
      "P":{"Type":"Pass","Result":{"done":true},"End":true}}})";
  ASSERT_TRUE((*store)->CreateStateMachine(m).ok());
  auto record = Execution(m, "e1");
  auto id = (*store)->CreateExecution(record);
  ASSERT_TRUE(id.ok());
  auto result = RunWithStore(**store, record);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_TRUE(result->sink_status.ok());
  auto e = (*store)->GetExecution(record.arn);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, "SUCCEEDED");
  EXPECT_EQ(e->output, R"({"done":true})");
  EXPECT_EQ(e->event_count, static_cast<std::int64_t>(result->history.size()));
  EXPECT_GT(e->stop_ms, 0);
  // Pages forward and backward.
  auto first = (*store)->Events(*id, 1, 2, false);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->events.size(), 2u);
  EXPECT_NE(first->events[0].find("ExecutionStarted"), std::string::npos);
  EXPECT_EQ(first->next_id, 3);
  auto last = (*store)->Events(*id, 0, 1, true);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->events.size(), 1u);
  EXPECT_NE(last->events[0].find("ExecutionSucceeded"), std::string::npos);
  auto history = (*store)->LoadHistory(*id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), result->history.size());
  for (std::size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].ToJson(), result->history[i].ToJson()) << "event " << i + 1;
  }
}

TEST_F(StoreTest, AFullDiskEndsTheExecutionAndLeavesTheStoreIntact) {
  auto store = Store::Open(Db(), {.max_bytes = 160 * 1024});
  ASSERT_TRUE(store.ok());
  auto m = Machine("big");
  // The input is 30 KB and every state passes it on: a few states fill what is left of 160 KiB.
  m.definition = R"json({"StartAt":"A","States":{
      "A":{"Type":"Wait","Seconds":1,"Next":"B"},
      "B":{"Type":"Wait","Seconds":1,"Next":"C"},"C":{"Type":"Wait","Seconds":1,"Next":"D"},
      "D":{"Type":"Wait","Seconds":1,"Next":"E"},"E":{"Type":"Pass","End":true}}})json";
  ASSERT_TRUE((*store)->CreateStateMachine(m).ok());
  auto record = Execution(m, "e1");
  record.input = fmt::format(R"({{"blob":"{}"}})", std::string(30000, 'x'));
  auto id = (*store)->CreateExecution(record);
  ASSERT_TRUE(id.ok()) << id.status().message();
  auto result = RunWithStore(**store, record);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->sink_status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(result->sink_status.message().find("disk is full"), std::string::npos);
  // Nothing half-written: the record still says RUNNING with whole batches of events (or none),
  // and the file is sound; it resumes once there is room.
  EXPECT_TRUE((*store)->CheckIntegrity().ok());
  auto e = (*store)->GetExecution(record.arn);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->status, "RUNNING");
  auto history = (*store)->LoadHistory(*id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(static_cast<std::int64_t>(history->size()), e->event_count);
}

TEST_F(StoreTest, TagsAndSchedules) {
  auto store = Store::Open(Db());
  ASSERT_TRUE(store.ok());
  const std::string arn = Machine("a").arn;
  ASSERT_TRUE((*store)->TagResource(arn, {{"team", "ml"}, {"env", "dev"}}).ok());
  ASSERT_TRUE((*store)->UntagResource(arn, {"env"}).ok());
  auto tags = (*store)->Tags(arn);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"team", "ml"}}));
  ASSERT_TRUE((*store)->PutSchedule({.name = "nightly", .machine_arn = arn,
                                     .expression = "cron(0 2 * * ? *)"})
                  .ok());
  ASSERT_TRUE((*store)->SetScheduleFired("nightly", 1234).ok());
  auto s = (*store)->GetSchedule("nightly");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->last_fire_ms, 1234);
  EXPECT_EQ((*store)->DeleteSchedule("nope").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace zflow::store
