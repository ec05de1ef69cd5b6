// zflow serve: the local Step Functions server in the foreground, until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "zflow/server.h"

namespace zflow::cli {

int RunServe(const ServeOptions& options) {
  ServerOptions server_options{.host = options.host,
                               .port = options.port,
                               .data_dir = options.data_dir,
                               .profile = options.profile,
                               .s3_root = options.s3_root,
                               .region = options.region,
                               .account = options.account,
                               .access_key_id = options.access_key_id,
                               .secret_access_key = options.secret_access_key,
                               .tls_certificate = options.tls_certificate,
                               .tls_private_key = options.tls_private_key,
                               .log_requests = options.log_requests};
  if (server_options.access_key_id.empty() && server_options.secret_access_key.empty()) {
    if (const char* id = std::getenv("AWS_ACCESS_KEY_ID")) server_options.access_key_id = id;
    if (const char* key = std::getenv("AWS_SECRET_ACCESS_KEY")) {
      server_options.secret_access_key = key;
    }
    if (options.no_auth) {
      server_options.access_key_id.clear();
      server_options.secret_access_key.clear();
    }
  }
  // The signals are taken by sigwait below, on this thread; every thread the server starts
  // inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = Server::Start(server_options);
  if (!server.ok()) {
    fmt::print(stderr, "zflow serve: {}\n", server.status().message());
    return server.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitInvalid;
  }
  Server& s = **server;
  fmt::print("zflow serve: listening on {} (data in {}; resumed {} running execution{})\n",
             s.url(), options.data_dir, s.recovered(), s.recovered() == 1 ? "" : "s");
  if (s.authenticated()) {
    fmt::print("Requests must be signed (AWS Signature Version 4) with access key id {}. Point "
               "the AWS CLI at it:\n  AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY=<your secret> "
               "aws stepfunctions --endpoint-url {} --region {} list-state-machines\n",
               server_options.access_key_id, server_options.access_key_id, s.url(),
               options.region);
  } else {
    fmt::print("No credentials given: listening on loopback only and accepting any client, as "
               "Step Functions Local does. Point the AWS CLI at it:\n  aws stepfunctions "
               "--endpoint-url {} --region {} list-state-machines\n",
               s.url(), options.region);
  }
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  fmt::print(stderr, "zflow serve: {} received, shutting down (running executions resume on the "
                     "next start)\n",
             signal == SIGTERM ? "SIGTERM" : "SIGINT");
  s.Shutdown();
  server->reset();
  return kExitOk;
}

}  // namespace zflow::cli
