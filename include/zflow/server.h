// zflow/server.h: `zflow serve` as a library: the AWS Step Functions API on HTTP, durable
// executions in a SQLite store under a data directory, schedules and metrics.
//
//   auto server = zflow::Server::Start({.port = 0, .data_dir = "/tmp/zflow-data"});
//   if (!server.ok()) { ... }                  // says what is wrong: port in use, data dir, ...
//   std::cout << (*server)->url() << "\n";    // http://127.0.0.1:<port>
//   (*server)->Wait();                        // until Shutdown() (from another thread / signal)
//
// On start the server resumes every execution its store says is running (a server killed in
// the middle of them loses none: see docs/serve.md). Without credentials it listens on
// loopback only and accepts any client, as Step Functions Local does; with credentials every
// request must carry a valid AWS Signature Version 4.
#ifndef ZFLOW_SERVER_H_
#define ZFLOW_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "zflow/clock.h"
#include "zflow/status.h"

namespace zflow {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8083;  // 0: a free port (see Server::port)
  std::string data_dir = ".zflow/server";  // the store (zflow.db) and the local services' files
  std::string profile;                      // the local services' profile (zflow.profile.yaml)
  std::string s3_root;                      // where s3:// objects live (default: the profile's)
  std::string region = "us-east-1";
  std::string account = "123456789012";
  // With both set, requests must be signed with them (SigV4); without, loopback only.
  std::string access_key_id;
  std::string secret_access_key;
  // With both set, the server speaks HTTPS.
  std::string tls_certificate;
  std::string tls_private_key;
  int http_threads = 32;
  int worker_threads = 8;  // task handlers
  // For tests: the executions' and the scheduler's clock (null: the system clock).
  Clock* clock = nullptr;
  bool log_requests = false;  // one line per request on stderr (never secrets or tokens)
};

class Server {
 public:
  // Opens the store, resumes what was running, binds and starts serving. Errors:
  // kInvalidArgument (listening beyond loopback without credentials, half a TLS pair),
  // kPermissionDenied / kResourceExhausted / kDataLoss (the data directory), kUnavailable
  // (the port is in use).
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();  // Shutdown() and wait
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  std::string url() const;            // http(s)://host:port
  std::size_t recovered() const;      // executions resumed on start
  bool authenticated() const;         // requests must be signed

  // Blocks until Shutdown.
  void Wait();
  // Stops accepting requests, lets the ones in flight finish and stops the executions' loop
  // (running executions stay in the store and resume on the next start). Thread-safe;
  // async-signal-unsafe (call it from a thread that waits for the signal).
  void Shutdown();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zflow

#endif  // ZFLOW_SERVER_H_
