// Optional TLS, mutual TLS and bearer tokens, with certificates this test
// makes with openssl: the right credentials get through, the wrong ones get
// UNAUTHENTICATED or no connection, and health stays open for probes.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/lib/heed_client.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"

namespace heed {
namespace {

namespace fs = std::filesystem;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / absl::StrCat("heed_tls_", getpid()));
    fs::create_directories(*dir_);
    const std::string d = dir_->string();
    const std::string script = absl::StrCat(
        "cd ", d, " && exec >openssl.log 2>&1 && ",
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
        "-subj /CN=heed-test-ca && ",
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "
        "/CN=localhost && ",
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext && ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
        "server.pem "
        "-days 1 -extfile san.ext && ",
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "
        "/CN=client && ",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out "
        "client.pem "
        "-days 1 && printf 'secret-one\\nsecret-two\\n' > tokens.txt");
    ASSERT_EQ(std::system(script.c_str()), 0)
        << "openssl failed; see " << d << "/openssl.log";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string File(const char* name) { return (*dir_ / name).string(); }

  std::unique_ptr<client::HeedClient> Client(const testing::ServerProcess& server,
                                             client::ClientOptions options) {
    options.address = absl::StrCat("localhost:", server.grpc_port());
    options.deadline = absl::Seconds(5);
    options.max_attempts = 1;
    auto client = client::HeedClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  static fs::path* dir_;
};

fs::path* SecurityTest::dir_ = nullptr;

TEST_F(SecurityTest, TlsWithBearerTokens) {
  auto server = testing::ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
       "--tls_cert=" + File("server.pem"), "--tls_key=" + File("server.key"),
       "--auth_token_file=" + File("tokens.txt")});
  ASSERT_TRUE(server.ok()) << server.status();

  client::ClientOptions tls;
  tls.tls_ca_file = File("ca.pem");
  auto anonymous = Client(*server, tls);
  EXPECT_EQ(anonymous->ListModels().status().code(), absl::StatusCode::kUnauthenticated);
  auto health = anonymous->CheckHealth();  // probes need no token
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");

  tls.token = "wrong";
  EXPECT_EQ(Client(*server, tls)->ListModels().status().code(),
            absl::StatusCode::kUnauthenticated);
  tls.token = "secret-two";
  auto models = Client(*server, tls)->ListModels();
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_EQ(models->size(), 4u);

  client::ClientOptions plaintext;
  plaintext.token = "secret-one";
  EXPECT_EQ(Client(*server, plaintext)->ListModels().status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificate) {
  auto server = testing::ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
       "--tls_cert=" + File("server.pem"), "--tls_key=" + File("server.key"),
       "--tls_client_ca=" + File("ca.pem")});
  ASSERT_TRUE(server.ok()) << server.status();
  client::ClientOptions options;
  options.tls_ca_file = File("ca.pem");
  EXPECT_FALSE(Client(*server, options)->ListModels().ok());
  options.tls_cert_file = File("client.pem");
  options.tls_key_file = File("client.key");
  auto models = Client(*server, options)->ListModels();
  EXPECT_TRUE(models.ok()) << models.status();
}

// A garbled certificate, or the key and the certificate swapped, is named at
// start-up instead of failing as "cannot listen".
TEST_F(SecurityTest, GarbledOrSwappedPemFilesAreNamed) {
  {
    std::ofstream garbage(File("garbage.pem"));
    garbage << "this is not a certificate\n";
  }
  auto run = [](const std::string& cert, const std::string& key) {
    return testing::RunCommand(absl::StrCat(
        "timeout 60 ", HEED_SERVER_BINARY, " --models_dir=", HEED_GOLDEN_MODELS_DIR,
        " --grpc_address=127.0.0.1:0 --metrics_address=127.0.0.1:0 --tls_cert=", cert,
        " --tls_key=", key));
  };
  testing::CommandResult garbled = run(File("garbage.pem"), File("server.key"));
  EXPECT_EQ(garbled.exit_code, 1) << garbled.output;
  EXPECT_NE(garbled.output.find(absl::StrCat("--tls_cert ", File("garbage.pem"),
                                             " holds no PEM CERTIFICATE")),
            std::string::npos)
      << garbled.output;
  testing::CommandResult swapped = run(File("server.key"), File("server.pem"));
  EXPECT_EQ(swapped.exit_code, 1) << swapped.output;
  EXPECT_NE(swapped.output.find("--tls_cert"), std::string::npos) << swapped.output;
  EXPECT_NE(swapped.output.find("holds no PEM CERTIFICATE"), std::string::npos)
      << swapped.output;
}

TEST(SecurityFlagsTest, InconsistentTlsFlagsAreRejected) {
  auto server = testing::ServerProcess::Start(
      HEED_SERVER_BINARY,
      {std::string("--models_dir=") + HEED_GOLDEN_MODELS_DIR,
       "--tls_cert=/nonexistent.pem"},
      absl::Seconds(10));
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace heed
