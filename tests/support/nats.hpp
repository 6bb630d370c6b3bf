#pragma once
// A real, throwaway NATS server with JetStream for one test: `nats-server -js -sd <dir> -a 127.0.0.1
// -p <free port>` run through selfheal/core/process.hpp (argv, a time limit, its own process group)
// on a background thread. Its pid comes from the server's own pid file (-P), so that `stop()` can
// end it (SIGTERM, then SIGKILL) and `restart()` can start it again on the same store folder and
// port, as an operator restarting the server would.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "selfheal/core/process.hpp"

namespace selfheal::test {

/// A TCP port on 127.0.0.1 that nothing listens on right now.
inline int free_tcp_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
inline bool port_open(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class nats_server {
 public:
  /// Starts a server keeping its JetStream store under `dir` (created).
  explicit nats_server(std::filesystem::path dir) : dir_(std::move(dir)), port_(free_tcp_port()) {
    std::filesystem::create_directories(dir_ / "js");
    start();
  }
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;
  ~nats_server() { stop(); }

  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int port() const noexcept { return port_; }

  void start() {
    if (thread_.joinable()) return;
    std::filesystem::remove(pid_file());
    thread_ = std::thread([this] {
      const std::vector<std::string> argv = {"nats-server", "-js", "-sd", (dir_ / "js").string(), "-a", "127.0.0.1",
                                             "-p", std::to_string(port_), "-P", pid_file().string()};
      process_options o;
      o.timeout = std::chrono::minutes(20);
      o.max_output = 1 << 20;
      output_ = run_process(argv, o);
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      if (read_pid() > 0 && port_open(port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("nats-server did not start on port " + std::to_string(port_));
  }

  /// Ends the server (SIGTERM; SIGKILL after 10 s) and waits for it.
  void stop() {
    if (!thread_.joinable()) return;
    const pid_t pid = read_pid();
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    }
    thread_.join();
  }

  void restart() {
    stop();
    start();
  }

  /// What the last server run printed (after `stop()`).
  [[nodiscard]] std::string log() const { return output_ && *output_ ? output_->value().err : std::string(); }

 private:
  [[nodiscard]] std::filesystem::path pid_file() const { return dir_ / "nats.pid"; }
  [[nodiscard]] pid_t read_pid() const {
    std::ifstream in(pid_file());
    long pid = 0;
    if (!(in >> pid)) return 0;
    return static_cast<pid_t>(pid);
  }

  std::filesystem::path dir_;
  int port_;
  std::thread thread_;
  std::optional<result<process_output>> output_;
};

}  // namespace selfheal::test
