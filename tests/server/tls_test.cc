// zflow serve over HTTPS: a certificate and key make it speak TLS; half a pair, or a key that
// does not match, is refused at start.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "common/subprocess.h"
#include "zflow/server.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("zflow-tls-test-{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (std::string_view name : {"a", "b"}) {
      auto made = RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                              (dir_ / fmt::format("{}.key", name)).string(), "-out",
                              (dir_ / fmt::format("{}.crt", name)).string(), "-days", "1", "-subj",
                              "/CN=127.0.0.1"},
                             "", {});
      ASSERT_TRUE(made.ok() && made->exit_code == 0) << "openssl could not make a certificate";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string File(std::string_view name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(TlsTest, ServesTheApiOverHttps) {
  auto server = Server::Start({.port = 0,
                               .data_dir = File("data"),
                               .tls_certificate = File("a.crt"),
                               .tls_private_key = File("a.key")});
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_EQ((*server)->url(), fmt::format("https://127.0.0.1:{}", (*server)->port()));
  httplib::SSLClient client("127.0.0.1", (*server)->port());
  client.enable_server_certificate_verification(false);
  auto res = client.Post("/", {{"X-Amz-Target", "AWSStepFunctions.ListStateMachines"}}, "{}",
                         "application/x-amz-json-1.0");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"stateMachines":[]})");
  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", (*server)->port());
  plain.set_read_timeout(2, 0);
  auto refused = plain.Post("/", {{"X-Amz-Target", "AWSStepFunctions.ListStateMachines"}}, "{}",
                            "application/x-amz-json-1.0");
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST_F(TlsTest, RefusesHalfAPairOrAKeyThatDoesNotMatch) {
  auto half = Server::Start({.port = 0, .data_dir = File("data"), .tls_certificate = File("a.crt")});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), StatusCode::kInvalidArgument);
  auto mismatched = Server::Start({.port = 0,
                                   .data_dir = File("data"),
                                   .tls_certificate = File("a.crt"),
                                   .tls_private_key = File("b.key")});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("a.crt"), std::string::npos);
}

}  // namespace
}  // namespace zflow
