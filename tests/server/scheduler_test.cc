// Schedules on a manual clock: fires at the right instant in a time zone across a daylight
// saving change, pausing and resuming, and what happens to fires missed while the server is down.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "asl/timestamp.h"
#include "zflow/json.h"
#include "zflow/server.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TimePoint At(std::string_view rfc3339) {
  auto instant = asl::ParseTimestamp(rfc3339);
  EXPECT_TRUE(instant.has_value()) << rfc3339;
  return TimePoint(std::chrono::seconds(instant->seconds));
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("zflow-scheduler-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    Restart();
    auto r = Sfn("CreateStateMachine",
                 {{"name", "nightly"},
                  {"definition", R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})"},
                  {"roleArn", "arn:aws:iam::123456789012:role/r"}});
    ASSERT_EQ(r.first, 200) << r.second;
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void Restart() {
    server_.reset();
    auto s = Server::Start({.port = 0, .data_dir = (dir_ / "data").string(), .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }

  std::pair<int, std::string> Sfn(std::string_view action, const json::object& in) {
    httplib::Client client("127.0.0.1", server_->port());
    auto res = client.Post("/", {{"X-Amz-Target", fmt::format("AWSStepFunctions.{}", action)}},
                           ToJsonText(in), "application/x-amz-json-1.0");
    return res ? std::pair{res->status, res->body} : std::pair{0, std::string()};
  }

  int PutSchedule(std::string_view method, std::string_view name, std::string_view expression,
                  std::string_view zone, std::string_view state = "ENABLED",
                  std::string_view missed = "SKIP") {
    httplib::Client client("127.0.0.1", server_->port());
    json::object body{
        {"ScheduleExpression", expression},
        {"ScheduleExpressionTimezone", zone},
        {"State", state},
        {"ZflowMissedRuns", missed},
        {"FlexibleTimeWindow", json::object{{"Mode", "OFF"}}},
        {"Target", json::object{{"Arn", "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"},
                                {"RoleArn", "arn:aws:iam::123456789012:role/r"},
                                {"Input", R"({"from":"schedule"})"}}}};
    auto res = method == "POST"
                   ? client.Post(fmt::format("/schedules/{}", name), ToJsonText(body), "application/json")
                   : client.Put(fmt::format("/schedules/{}", name), ToJsonText(body), "application/json");
    return res ? res->status : 0;
  }

  std::vector<std::string> Executions() {
    auto r = Sfn("ListExecutions",
                 {{"stateMachineArn", "arn:aws:states:us-east-1:123456789012:stateMachine:nightly"}});
    std::vector<std::string> names;
    auto parsed = ParseJson(r.second);
    for (const json::value& e : parsed->value.as_object().at("executions").as_array()) {
      names.emplace_back(e.as_object().at("name").as_string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Waits (bounded) until there are `n` executions.
  std::vector<std::string> AwaitExecutions(std::size_t n) {
    std::vector<std::string> names;
    for (int i = 0; i < 500; ++i) {
      names = Executions();
      if (names.size() >= n) break;
      std::this_thread::sleep_for(5ms);
    }
    return names;
  }

  // Long enough for the scheduler (which looks every 20 ms on a manual clock) to have fired.
  void Settle() { std::this_thread::sleep_for(150ms); }

  ManualClock clock_{At("2026-03-07T12:00:30Z")};
  fs::path dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(SchedulerTest, FiresAtLocalTimeAcrossADaylightSavingChange) {
  ASSERT_EQ(PutSchedule("POST", "daily", "cron(0 6 * * ? *)", "America/New_York"), 200);
  EXPECT_EQ(PutSchedule("POST", "daily", "cron(0 6 * * ? *)", "America/New_York"), 409);
  // 2026-03-08: clocks in New York go forward at 02:00; 06:00 EDT is 10:00 UTC.
  clock_.AdvanceTo(At("2026-03-08T09:59:00Z"));
  Settle();
  EXPECT_TRUE(Executions().empty());
  clock_.AdvanceTo(At("2026-03-08T10:00:00Z"));
  EXPECT_EQ(AwaitExecutions(1), std::vector<std::string>{"daily-20260308T100000Z"});
  // The execution got the schedule's input.
  auto d = Sfn("DescribeExecution",
               {{"executionArn",
                 "arn:aws:states:us-east-1:123456789012:execution:nightly:daily-20260308T100000Z"}});
  EXPECT_NE(d.second.find(R"(\"from\":\"schedule\")"), std::string::npos) << d.second;
}

TEST_F(SchedulerTest, PausedSchedulesDoNotFire) {
  ASSERT_EQ(PutSchedule("POST", "daily", "cron(0 12 * * ? *)", "UTC"), 200);
  ASSERT_EQ(PutSchedule("PUT", "daily", "cron(0 12 * * ? *)", "UTC", "DISABLED"), 200);
  clock_.AdvanceTo(At("2026-03-07T12:00:00Z"));
  clock_.AdvanceTo(At("2026-03-08T12:30:00Z"));
  Settle();
  EXPECT_TRUE(Executions().empty());
  ASSERT_EQ(PutSchedule("PUT", "daily", "cron(0 12 * * ? *)", "UTC", "ENABLED"), 200);
  clock_.AdvanceTo(At("2026-03-09T12:00:00Z"));
  auto names = AwaitExecutions(1);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "daily-20260309T120000Z");
}

TEST_F(SchedulerTest, MissedFiresAreSkippedByDefault) {
  ASSERT_EQ(PutSchedule("POST", "hourly", "rate(1 hour)", "UTC"), 200);
  // A rate schedule without a start date fires when it is created.
  EXPECT_EQ(AwaitExecutions(1).size(), 1u);
  server_.reset();
  clock_.Advance(std::chrono::hours(5) + std::chrono::minutes(30));  // 5 fires missed
  Restart();
  Settle();
  EXPECT_EQ(Executions().size(), 1u);
  // The next fire comes on time after the restart.
  clock_.Advance(std::chrono::minutes(30));
  EXPECT_EQ(AwaitExecutions(2).size(), 2u);
}

TEST_F(SchedulerTest, MissedFiresRunOnceWhenTheScheduleSaysSo) {
  ASSERT_EQ(PutSchedule("POST", "catchup", "cron(0 * * * ? *)", "UTC", "ENABLED", "RUN_ONCE"),
            200);
  server_.reset();
  clock_.AdvanceTo(At("2026-03-07T15:10:00Z"));  // 13:00, 14:00, 15:00 missed
  Restart();
  EXPECT_EQ(AwaitExecutions(1), std::vector<std::string>{"catchup-20260307T150000Z"});
  Settle();
  EXPECT_EQ(Executions().size(), 1u);
}

TEST_F(SchedulerTest, RejectsBadSchedules) {
  EXPECT_EQ(PutSchedule("POST", "bad", "cron(0 6 * * * *)", "UTC"), 400);  // both days given
  EXPECT_EQ(PutSchedule("POST", "bad", "cron(0 6 * * ? *)", "Mars/Olympus"), 400);
  EXPECT_EQ(PutSchedule("PUT", "missing", "rate(1 hour)", "UTC"), 404);
  httplib::Client client("127.0.0.1", server_->port());
  auto res = client.Get("/schedules/missing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->get_header_value("x-amzn-ErrorType"), "ResourceNotFoundException");
}

}  // namespace
}  // namespace zflow
