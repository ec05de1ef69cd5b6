// The web UI's side of zflow serve over HTTP: the embedded pages and their headers, login
// sessions (cookie flags, expiry, origin check), and the reads the UI needs beyond the Step
// Functions API (executions by start time, artifacts, objects, endpoints, step graphs).
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "common/percent_encoding.h"
#include "server/web_ui.h"
#include "zflow/json.h"
#include "zflow/server.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kPass = R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})";

class WebUiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("zflow-web-ui-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void Start(ServerOptions options = {}) {
    options.port = 0;
    options.data_dir = (dir_ / "data").string();
    options.s3_root = (dir_ / "s3").string();
    auto s = Server::Start(options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(10, 0);
    return client;
  }

  httplib::Result Api(std::string_view action, const json::object& in,
                      httplib::Headers headers = {}) const {
    headers.emplace("X-Amz-Target", fmt::format("AWSStepFunctions.{}", action));
    return Client().Post("/", headers, ToJsonText(in), "application/x-amz-json-1.0");
  }

  static json::object Body(const httplib::Result& r) {
    auto parsed = ParseJson(r->body);
    EXPECT_TRUE(parsed.ok() && parsed->value.is_object()) << r->body;
    return parsed.ok() && parsed->value.is_object() ? parsed->value.as_object() : json::object{};
  }

  std::string CreateMachine(std::string_view name) const {
    auto r = Api("CreateStateMachine", {{"name", name},
                                        {"definition", kPass},
                                        {"roleArn", "arn:aws:iam::123456789012:role/r"}});
    EXPECT_EQ(r->status, 200) << r->body;
    return std::string(Body(r).at("stateMachineArn").as_string());
  }

  std::string StartExecution(std::string_view machine, std::string_view name,
                             std::string_view input = "{}") const {
    auto r = Api("StartExecution", {{"stateMachineArn", machine}, {"name", name}, {"input", input}});
    EXPECT_EQ(r->status, 200) << r->body;
    std::string arn(Body(r).at("executionArn").as_string());
    for (int i = 0; i < 1000; ++i) {
      auto d = Api("DescribeExecution", {{"executionArn", arn}});
      if (Body(d).at("status").as_string() != "RUNNING") break;
      std::this_thread::sleep_for(5ms);
    }
    return arn;
  }

  fs::path dir_;
  // Outlives the server, whose threads read it until they stop.
  ManualClock clock_{SystemClock().Now()};
  std::unique_ptr<Server> server_;
};

TEST_F(WebUiTest, ServesThePagesWithSecurityHeaders) {
  Start();
  auto root = Client().Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 302);
  EXPECT_EQ(root->get_header_value("Location"), "/ui/");

  // Any page of the app is the app's index; it routes itself.
  auto page = Client().Get("/ui/executions/arn:aws:states:us-east-1:1:execution:m:e");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << "the web UI is not in this build: run make ui";
  EXPECT_NE(page->body.find("<div id=\"app\">"), std::string::npos);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");

  auto script = Client().Get("/ui/assets/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_GT(script->body.size(), 10000u);
  const std::string etag = script->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = Client().Get("/ui/assets/app.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());

  EXPECT_EQ(Client().Get("/ui/assets/nothing.js")->status, 404);
  // Without credentials the UI is open, as the API is.
  auto session = Client().Get("/zflow/session");
  EXPECT_EQ(session->body, R"({"authRequired":false,"authenticated":true})");
  EXPECT_EQ(Client().Post("/zflow/login", "{}", "application/json")->status, 400);
}

TEST_F(WebUiTest, LogsInWithTheServersCredentialsAndKeepsASessionCookie) {
  ManualClock& clock = clock_;
  Start({.access_key_id = "AKIDUI", .secret_access_key = "s3cret", .clock = &clock});
  // No session: the API, the UI's reads and its session check all say so.
  EXPECT_EQ(Api("ListStateMachines", {})->status, 403);
  EXPECT_EQ(Client().Get("/zflow/endpoints")->status, 403);
  EXPECT_EQ(Client().Get("/zflow/session")->body,
            R"({"authRequired":true,"authenticated":false})");
  // The page itself is static and holds no data: it shows the login form.
  EXPECT_EQ(Client().Get("/ui/")->status, 200);

  auto wrong = Client().Post("/zflow/login", R"({"accessKeyId":"AKIDUI","secretAccessKey":"x"})",
                             "application/json");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  EXPECT_EQ(Client().Post("/zflow/login", "not json", "application/json")->status, 401);

  auto login = Client().Post("/zflow/login",
                             R"({"accessKeyId":"AKIDUI","secretAccessKey":"s3cret"})",
                             "application/json");
  ASSERT_EQ(login->status, 200);
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("; SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("; Max-Age=43200"), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "plain HTTP: no Secure flag";
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  ASSERT_TRUE(cookie.starts_with("zflow_session=")) << cookie;
  EXPECT_EQ(cookie.size(), std::string("zflow_session=").size() + 64);

  httplib::Headers with_cookie{{"Cookie", "theme=dark; " + cookie}};
  EXPECT_EQ(Api("ListStateMachines", {}, with_cookie)->status, 200);
  EXPECT_EQ(Client().Get("/zflow/endpoints", with_cookie)->status, 200);
  EXPECT_EQ(Client().Get("/zflow/session", with_cookie)->body,
            R"({"authRequired":true,"authenticated":true})");
  // Reads may come from anywhere the cookie goes; changes only from the UI's own origin.
  httplib::Headers foreign = with_cookie;
  foreign.emplace("Origin", "http://elsewhere.example");
  auto denied = Api("StartExecution", {{"stateMachineArn", "x"}}, foreign);
  EXPECT_EQ(denied->status, 403);
  EXPECT_NE(denied->body.find("AccessDeniedException"), std::string::npos);
  httplib::Headers same_origin = with_cookie;
  same_origin.emplace("Origin", fmt::format("http://127.0.0.1:{}", server_->port()));
  EXPECT_EQ(Api("ListStateMachines", {}, same_origin)->status, 200);
  // A made-up session is no session.
  EXPECT_EQ(Api("ListStateMachines", {},
                {{"Cookie", "zflow_session=" + std::string(64, 'a')}})->status,
            403);

  // Sessions expire after 12 hours.
  clock.AdvanceTo(clock.Now() + 11h);
  EXPECT_EQ(Api("ListStateMachines", {}, with_cookie)->status, 200);
  clock.AdvanceTo(clock.Now() + 2h);
  EXPECT_EQ(Api("ListStateMachines", {}, with_cookie)->status, 403);

  // Logging out ends the session and clears the cookie.
  auto second = Client().Post("/zflow/login",
                              R"({"accessKeyId":"AKIDUI","secretAccessKey":"s3cret"})",
                              "application/json");
  std::string cookie2 = second->get_header_value("Set-Cookie");
  cookie2 = cookie2.substr(0, cookie2.find(';'));
  EXPECT_NE(cookie2, cookie);
  httplib::Headers with_cookie2{{"Cookie", cookie2}};
  EXPECT_EQ(Api("ListStateMachines", {}, with_cookie2)->status, 200);
  auto logout = Client().Post("/zflow/logout", with_cookie2, "{}", "application/json");
  EXPECT_NE(logout->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Api("ListStateMachines", {}, with_cookie2)->status, 403);
}

TEST_F(WebUiTest, ListsExecutionsByStartTime) {
  ManualClock& clock = clock_;
  Start({.clock = &clock});
  const std::string machine = CreateMachine("timed");
  const auto t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock.Now().time_since_epoch()).count();
  StartExecution(machine, "first");
  clock.AdvanceTo(clock.Now() + 1h);
  StartExecution(machine, "second");
  clock.AdvanceTo(clock.Now() + 1h);
  StartExecution(machine, "third");
  auto names = [&](const std::string& query) {
    auto r = Client().Get(fmt::format("/zflow/executions?stateMachineArn={}{}", PercentEncode(machine),
                                      query));
    EXPECT_EQ(r->status, 200) << r->body;
    std::vector<std::string> out;
    const json::object body = Body(r);
    for (const json::value& e : body.at("executions").as_array()) {
      out.emplace_back(e.as_object().at("name").as_string());
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(""), (V{"third", "second", "first"}));
  EXPECT_EQ(names(fmt::format("&startedAfter={}", t0 + 1)), (V{"third", "second"}));
  EXPECT_EQ(names(fmt::format("&startedBefore={}", t0 + 3'600'000)), (V{"first"}));
  EXPECT_EQ(names(fmt::format("&startedAfter={}&startedBefore={}", t0 + 1, t0 + 7'000'000)),
            (V{"second"}));
  EXPECT_EQ(names("&statusFilter=FAILED"), V{});
  // Pages, as ListExecutions pages.
  auto first_page = Client().Get(
      fmt::format("/zflow/executions?stateMachineArn={}&maxResults=2", PercentEncode(machine)));
  json::object page = Body(first_page);
  ASSERT_EQ(page.at("executions").as_array().size(), 2u);
  const std::string token(page.at("nextToken").as_string());
  EXPECT_EQ(names("&maxResults=2&nextToken=" + PercentEncode(token)), V{"first"});

  auto bad = Client().Get(fmt::format("/zflow/executions?stateMachineArn={}&startedAfter=soon",
                                      PercentEncode(machine)));
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("startedAfter must be a non-negative integer"), std::string::npos);
  EXPECT_EQ(Client().Get("/zflow/executions?stateMachineArn=arn:aws:states:us-east-1:"
                         "123456789012:stateMachine:none")->status,
            400);
}

TEST_F(WebUiTest, FindsARunsArtifactsAndServesThemAsData) {
  Start();
  auto put = [&](const std::string& path, std::string_view data) {
    fs::create_directories((dir_ / "s3" / path).parent_path());
    std::ofstream(dir_ / "s3" / path) << data;
  };
  put("bkt/runs/e1/out/part-0.csv", "a,b\n1,2\n");
  put("bkt/runs/e1/report.pdf", "%PDF-1.4 test");
  put("bkt/runs/e1/page.html", "<script>alert(1)</script>");
  put("bkt/shared/other-run.csv", "x\n");
  put("bkt/model.tar.gz", "gz");
  const std::string machine = CreateMachine("artifacts");
  const std::string arn = StartExecution(
      machine, "e1",
      R"({"out":"s3://bkt/runs/e1/out/","report":"s3://bkt/runs/e1/report.pdf",
          "page":"s3://bkt/runs/e1/page.html","shared":"s3://bkt/shared/",
          "model":"s3://bkt/model.tar.gz","missing":"s3://bkt/runs/e1/none.txt"})");
  auto r = Client().Get("/zflow/artifacts?executionArn=" + PercentEncode(arn));
  ASSERT_EQ(r->status, 200) << r->body;
  std::vector<std::string> uris;
  const json::object body = Body(r);
  for (const json::value& a : body.at("artifacts").as_array()) {
    uris.emplace_back(a.as_object().at("uri").as_string());
  }
  // A shared prefix (other runs' objects) is left out; objects named exactly are in.
  EXPECT_EQ(uris, (std::vector<std::string>{"s3://bkt/model.tar.gz", "s3://bkt/runs/e1/out/part-0.csv",
                                            "s3://bkt/runs/e1/page.html",
                                            "s3://bkt/runs/e1/report.pdf"}));
  EXPECT_EQ(Client().Get("/zflow/artifacts?executionArn=nope")->status, 400);

  auto csv = Client().Get("/zflow/objects?uri=" + PercentEncode("s3://bkt/runs/e1/out/part-0.csv"));
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->body, "a,b\n1,2\n");
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv->get_header_value("Content-Disposition"), "inline; filename=\"part-0.csv\"");
  EXPECT_EQ(csv->get_header_value("Content-Security-Policy"), "sandbox; default-src 'none'");
  auto pdf = Client().Get("/zflow/objects?download=1&uri=" +
                          PercentEncode("s3://bkt/runs/e1/report.pdf"));
  EXPECT_EQ(pdf->get_header_value("Content-Type"), "application/pdf");
  EXPECT_EQ(pdf->get_header_value("Content-Disposition"), "attachment; filename=\"report.pdf\"");
  // An HTML object never renders as a page of this origin.
  auto html = Client().Get("/zflow/objects?uri=" + PercentEncode("s3://bkt/runs/e1/page.html"));
  EXPECT_EQ(html->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_TRUE(html->get_header_value("Content-Disposition").starts_with("attachment"));

  auto missing = Client().Get("/zflow/objects?uri=" + PercentEncode("s3://bkt/runs/e1/none.txt"));
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("NoSuchKey"), std::string::npos);
  EXPECT_EQ(Client().Get("/zflow/objects?uri=" + PercentEncode("s3://bkt/../../etc/passwd"))->status,
            400);
  EXPECT_EQ(Client().Get("/zflow/objects?uri=" + PercentEncode("/etc/passwd"))->status, 400);
  EXPECT_EQ(Client().Get("/zflow/objects?uri=" + PercentEncode("s3://bkt/runs/"))->status, 400);
}

TEST_F(WebUiTest, KeepsPipelineStepGraphsOfDeployedMachines) {
  Start();
  auto put = [&](std::string_view name, std::string_view body) {
    return Client().Put(fmt::format("/zflow/pipelines/{}", name), std::string(body),
                        "application/json");
  };
  constexpr std::string_view kGraph =
      R"({"pipeline":"p","steps":[{"name":"a","kind":"lambda","after":[]}]})";
  auto no_machine = put("p", kGraph);
  EXPECT_EQ(no_machine->status, 400);
  EXPECT_NE(no_machine->body.find("StateMachineDoesNotExist"), std::string::npos);
  CreateMachine("p");
  EXPECT_EQ(put("p", "[1,2]")->status, 400);
  EXPECT_EQ(put("p", "{\"steps\": {}}")->status, 400);
  EXPECT_NE(put("p", "{bad")->body.find("not JSON"), std::string::npos);
  EXPECT_EQ(put("p", kGraph)->status, 200);
  auto got = Client().Get("/zflow/pipelines/p");
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(got->body, kGraph);
  EXPECT_EQ(Client().Get("/zflow/pipelines/other")->status, 404);
}

TEST_F(WebUiTest, ListsEndpointsAndSaysWhichOnesItCannotInvoke) {
  Start();
  auto list = Client().Get("/zflow/endpoints");
  ASSERT_EQ(list->status, 200);
  EXPECT_EQ(list->body, R"({"endpoints":[]})");
  auto invoke = Client().Post("/zflow/endpoints/none/invocations", "1,2,3", "text/csv");
  EXPECT_EQ(invoke->status, 404) << invoke->body;
}

}  // namespace
}  // namespace zflow
