// zflow serve's figures (docs/benchmarks.md):
//   serve_bench transitions            durable state transitions per second (store + executor,
//                                      in process, every commit flushed to disk)
//   serve_bench http ZFLOW [CLIENTS]   StartExecution over HTTP against a `zflow serve` process:
//                                      requests per second and latency percentiles
//   serve_bench recovery ZFLOW         restart after SIGKILL with 10,000 executions running
//   serve_bench startup ZFLOW          time to the first answered request, idle memory
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "store/store.h"
#include "zflow/asl_parser.h"
#include "zflow/executor.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

fs::path TempDir(std::string_view name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("zflow-bench-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string PassChain(int states) {
  std::string out = R"({"StartAt":"S0","States":{)";
  for (int i = 0; i < states; ++i) {
    out += fmt::format(R"("S{}":{{"Type":"Pass",{}}}{})", i,
                       i + 1 < states ? fmt::format(R"("Next":"S{}")", i + 1) : R"("End":true)",
                       i + 1 < states ? "," : "");
  }
  return out + "}}";
}

int Transitions() {
  const int executions = 2000;
  const int states = 100;
  fs::path dir = TempDir("transitions");
  auto store = zflow::store::Store::Open((dir / "zflow.db").string());
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.status().message()), 1;
  const std::string definition = PassChain(states);
  auto prepared = zflow::runtime::Prepare(zflow::asl::ParseStateMachine(definition).value()).value();
  std::vector<zflow::runtime::ExecutionInfo> infos;
  for (int i = 0; i < executions; ++i) {
    zflow::runtime::ExecutionInfo info{.name = fmt::format("e{}", i), .state_machine_name = "chain",
                                       .seed = fmt::format("{}", i)};
    zflow::store::ExecutionRecord record{.arn = info.ExecutionArn(),
                                         .machine_arn = info.StateMachineArn(),
                                         .name = info.name,
                                         .input = "{}",
                                         .info = zflow::ToJsonText(info.ToJson()),
                                         .definition = definition};
    if (auto id = (*store)->CreateExecution(record); !id.ok()) {
      return fmt::print(stderr, "{}\n", id.status().message()), 1;
    }
    infos.push_back(info);
  }
  zflow::runtime::Executor executor({});
  std::atomic<int> done{0};
  const auto t0 = Clock::now();
  for (const auto& info : infos) {
    (void)executor.Start(prepared,
                         {.input = zflow::json::object(),
                          .name = info.name,
                          .state_machine_name = info.state_machine_name,
                          .seed = info.seed,
                          .sink = &(*store)->sink()},
                         [&](zflow::Result<zflow::runtime::ExecutionResult> r) {
                           if (r.ok() && r->status == zflow::runtime::ExecutionStatus::kSucceeded) {
                             ++done;
                           }
                         });
  }
  executor.RunUntilIdle();
  const double s = Seconds(Clock::now() - t0);
  const double transitions = static_cast<double>(executions) * states;
  fmt::print("durable transitions: {} executions x {} Pass states = {:.0f} transitions "
             "({} events) in {:.2f} s: {:.0f} transitions/s, every commit flushed "
             "(synchronous=FULL); {} succeeded\n",
             executions, states, transitions, executions * (2 * states + 2), s, transitions / s,
             done.load());
  auto counts = (*store)->CountExecutionsByStatus();
  fmt::print("store: {} SUCCEEDED, file {:.1f} MB\n", (*counts)["SUCCEEDED"],
             static_cast<double>(fs::file_size(dir / "zflow.db")) / 1e6);
  store->reset();
  fs::remove_all(dir);
  return done.load() == executions ? 0 : 1;
}

// A `zflow serve` child process on a free port.
struct Child {
  pid_t pid = -1;
  int port = 0;
  std::string first_line;
  double seconds_to_listen = 0;

  static Child Start(const std::string& zflow, const fs::path& data, int port = 0) {
    Child c;
    int out[2];
    if (::pipe(out) != 0) std::abort();
    const auto t0 = Clock::now();
    c.pid = ::fork();
    if (c.pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::string p = std::to_string(port);
      std::string d = data.string();
      ::execl(zflow.c_str(), zflow.c_str(), "serve", "--no-auth", "--port", p.c_str(),
              "--data-dir", d.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    char ch;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') c.first_line += ch;
    c.seconds_to_listen = Seconds(Clock::now() - t0);
    ::close(out[0]);  // later output goes nowhere (SIGPIPE-safe: the server only prints at start)
    auto colon = c.first_line.find("127.0.0.1:");
    if (colon != std::string::npos) c.port = std::atoi(c.first_line.c_str() + colon + 10);
    return c;
  }
  void Kill(int signal = SIGKILL) {
    ::kill(pid, signal);
    ::waitpid(pid, nullptr, 0);
  }
};

std::string Call(httplib::Client& client, std::string_view action, const std::string& body) {
  auto res = client.Post("/", {{"X-Amz-Target", fmt::format("AWSStepFunctions.{}", action)}}, body,
                         "application/x-amz-json-1.0");
  return res ? res->body : std::string();
}

std::string CreateMachine(int port, std::string_view name, std::string_view definition) {
  httplib::Client client("127.0.0.1", port);
  return Call(client, "CreateStateMachine",
              fmt::format(R"({{"name":"{}","definition":{},"roleArn":"arn:aws:iam::1:role/r"}})",
                          name, zflow::ToJsonText(zflow::json::value(definition))));
}

int Http(const std::string& zflow, int clients) {
  fs::path dir = TempDir("http");
  Child server = Child::Start(zflow, dir / "data");
  CreateMachine(server.port, "fast", R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})");
  const auto duration = 5s;
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", server.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (int i = 0; Clock::now() - t0 < duration; ++i) {
        const auto start = Clock::now();
        std::string body = Call(client, "StartExecution",
                                fmt::format(R"({{"stateMachineArn":"arn:aws:states:us-east-1:)"
                                            R"(123456789012:stateMachine:fast","name":"c{}-{}"}})",
                                            c, i));
        latencies[c].push_back(Seconds(Clock::now() - start) * 1000);
        if (body.find("executionArn") == std::string::npos && errors++ < 3) {
          fmt::print(stderr, "error: {}\n", body.empty() ? "(no answer)" : body);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = Seconds(Clock::now() - t0);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[static_cast<std::size_t>(p * (all.size() - 1))]; };
  fmt::print("StartExecution over HTTP: {} clients (keep-alive), {} requests in {:.1f} s: {:.0f} "
             "requests/s; latency p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms; {} errors\n",
             clients, all.size(), s, all.size() / s, pct(0.5), pct(0.99), all.back(),
             errors.load());
  server.Kill(SIGTERM);
  fs::remove_all(dir);
  return errors.load() == 0 ? 0 : 1;
}

int Recovery(const std::string& zflow) {
  const int executions = 10000;
  fs::path dir = TempDir("recovery");
  Child server = Child::Start(zflow, dir / "data");
  CreateMachine(server.port, "waiting",
                R"({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}})");
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < 8; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client client("127.0.0.1", server.port);
        for (int i = c; i < executions; i += 8) {
          Call(client, "StartExecution",
               fmt::format(R"({{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:)"
                           R"(stateMachine:waiting","name":"w{}"}})",
                           i));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  std::this_thread::sleep_for(500ms);  // the last events committed
  server.Kill(SIGKILL);
  Child again = Child::Start(zflow, dir / "data");
  fmt::print("recovery: restart after SIGKILL with {} executions waiting: listening again after "
             "{:.0f} ms ({})\n",
             executions, again.seconds_to_listen * 1000, again.first_line);
  again.Kill(SIGTERM);
  fs::remove_all(dir);
  return 0;
}

int Startup(const std::string& zflow) {
  std::vector<double> first;
  std::vector<long> rss;
  for (int trial = 0; trial < 7; ++trial) {
    fs::path dir = TempDir(fmt::format("startup{}", trial));
    const auto t0 = Clock::now();
    Child server = Child::Start(zflow, dir / "data");
    httplib::Client client("127.0.0.1", server.port);
    std::string body = Call(client, "ListStateMachines", "{}");
    first.push_back(Seconds(Clock::now() - t0) * 1000);
    std::this_thread::sleep_for(300ms);
    std::ifstream status(fmt::format("/proc/{}/status", server.pid));
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("VmRSS:")) rss.push_back(std::atol(line.c_str() + 6));
    }
    server.Kill(SIGTERM);
    fs::remove_all(dir);
  }
  std::sort(first.begin(), first.end());
  std::sort(rss.begin(), rss.end());
  fmt::print("startup: first answered request {:.1f} ms (median of {}; min {:.1f}); idle RSS "
             "{:.1f} MiB\n",
             first[first.size() / 2], first.size(), first.front(),
             static_cast<double>(rss[rss.size() / 2]) / 1024);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  std::string zflow = argc > 2 ? argv[2] : "build/zflow";
  ::signal(SIGPIPE, SIG_IGN);
  if (mode == "transitions") return Transitions();
  if (mode == "http") return Http(zflow, argc > 3 ? std::atoi(argv[3]) : 32);
  if (mode == "recovery") return Recovery(zflow);
  if (mode == "startup") return Startup(zflow);
  fmt::print(stderr, "usage: serve_bench transitions | http ZFLOW | recovery ZFLOW | startup ZFLOW\n");
  return 2;
}
