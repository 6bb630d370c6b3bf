#pragma once
/// \file
/// Real child processes, run from an argv vector (never a shell string), with a working directory,
/// environment overrides, captured stdout/stderr, optional stdin, and a time limit that kills the
/// whole process group.
///
/// ```cpp
/// selfheal::process_options opts;
/// opts.cwd = repo;
/// opts.timeout = std::chrono::seconds{10};
/// opts.env = {{"GIT_AUTHOR_DATE", "2025-01-01T00:00:00Z"}};
/// auto out = selfheal::run_process({"git", "log", "--oneline"}, opts);
/// if (!out) std::cerr << out.error().message();     // errc::timeout, errc::io_error, errc::process_failed
/// else if (out->exit_code != 0) std::cerr << out->err;
/// ```
///
/// Error model:
/// - `errc::io_error`: the program could not be started (not found, not executable, bad cwd) or a
///   pipe failed; the message names the program and the OS reason.
/// - `errc::timeout`: the time limit passed; the process group got SIGKILL. The message names the
///   program and the limit.
/// - `errc::process_failed`: the process was killed by a signal (from `run_process`), or exited
///   non-zero (only from `run_checked`, with the tail of stderr in the message).
/// A normal non-zero exit is *not* an error of `run_process`: the caller reads `exit_code`.
///
/// POSIX only (posix_spawn + poll). No simdjson, no SQLite: this is core.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "selfheal/core/result.hpp"

extern char** environ;  // NOLINT: POSIX global

namespace selfheal {

/// How to run a child process.
struct process_options {
  /// Working directory of the child; empty = the parent's.
  std::filesystem::path cwd;
  /// Environment overrides applied on top of the parent's environment: a value sets the variable,
  /// `std::nullopt` removes it.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  /// When true the child starts from an empty environment plus `env` (no inheritance).
  bool clear_environment = false;
  /// Written to the child's stdin, which is then closed. Without it the child's stdin is /dev/null.
  std::optional<std::string> stdin_data;
  /// Time limit for the whole run; when it passes the process group is killed (SIGKILL).
  std::chrono::milliseconds timeout{std::chrono::seconds{60}};
  /// Bytes kept per stream; more output is read (so the child never blocks) but dropped.
  std::size_t max_output = std::size_t{64} << 20;
};

/// What a finished child process left behind.
struct process_output {
  int exit_code = -1;                    ///< exit status (0..255); -1 when killed by a signal
  int term_signal = 0;                   ///< the signal that killed it, 0 when it exited
  std::string out;                       ///< captured stdout (up to `max_output` bytes)
  std::string err;                       ///< captured stderr (up to `max_output` bytes)
  bool out_truncated = false;            ///< stdout exceeded `max_output`
  bool err_truncated = false;            ///< stderr exceeded `max_output`
  std::chrono::milliseconds elapsed{0};  ///< wall time from spawn to reaping

  [[nodiscard]] bool ok() const noexcept { return term_signal == 0 && exit_code == 0; }
};

namespace detail {

struct fd_guard {
  int fd = -1;
  fd_guard() = default;
  explicit fd_guard(int f) noexcept : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  fd_guard& operator=(fd_guard&& o) noexcept {
    if (this != &o) { reset(); fd = std::exchange(o.fd, -1); }
    return *this;
  }
  ~fd_guard() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct spawn_actions_guard {
  posix_spawn_file_actions_t a{};
  bool live = false;
  ~spawn_actions_guard() { if (live) posix_spawn_file_actions_destroy(&a); }
};
struct spawn_attr_guard {
  posix_spawnattr_t a{};
  bool live = false;
  ~spawn_attr_guard() { if (live) posix_spawnattr_destroy(&a); }
};

inline std::string errno_text(int e) { return std::string(std::strerror(e)); }

inline std::string describe_argv(std::span<const std::string> argv) {
  std::string s;
  for (std::size_t i = 0; i < argv.size() && i < 4; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  if (argv.size() > 4) s += " ...";
  return s;
}

/// The environment block: parent (unless cleared) with overrides applied, as owned strings.
inline std::vector<std::string> build_environment(const process_options& opts) {
  std::vector<std::string> env;
  if (!opts.clear_environment && environ != nullptr)
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& [name, value] : opts.env) {
    const std::string prefix = name + "=";
    std::erase_if(env, [&](const std::string& kv) { return kv.starts_with(prefix); });
    if (value) env.push_back(prefix + *value);
  }
  return env;
}

/// Block SIGPIPE in this thread while writing to the child's stdin, and swallow a pending one.
class sigpipe_block {
 public:
  sigpipe_block() noexcept {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~sigpipe_block() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {}
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_block(const sigpipe_block&) = delete;
  sigpipe_block& operator=(const sigpipe_block&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool was_pending_ = false;
};

inline void append_capped(std::string& dst, bool& truncated, const char* data, std::size_t n,
                          std::size_t cap) {
  const std::size_t room = dst.size() < cap ? cap - dst.size() : 0;
  if (n > room) truncated = true;
  dst.append(data, std::min(n, room));
}

}  // namespace detail

/// Wall time this process has spent waiting on the outside world: child processes (every
/// `run_process`, from spawn to reaping) and deliberate waits (a deploy's settle). `selfheal heal`
/// reads it to tell its own share of a heal from that of builds, tests and deploys. Process-wide,
/// monotonic, in nanoseconds.
inline std::atomic<std::int64_t>& external_wait_ns() noexcept {
  static std::atomic<std::int64_t> total{0};
  return total;
}

/// Adds the wall time of its own lifetime to `external_wait_ns()`.
class external_wait_scope {
 public:
  external_wait_scope() noexcept : started_(std::chrono::steady_clock::now()) {}
  ~external_wait_scope() {
    external_wait_ns().fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started_).count());
  }
  external_wait_scope(const external_wait_scope&) = delete;
  external_wait_scope& operator=(const external_wait_scope&) = delete;

 private:
  std::chrono::steady_clock::time_point started_;
};

/// Run `argv[0]` (looked up in PATH when it has no '/') with `argv` as its arguments. Returns the
/// exit status and captured output; see the file comment for the errors.
[[nodiscard]] inline result<process_output> run_process(std::span<const std::string> argv,
                                                        const process_options& opts = {}) {
  using clock = std::chrono::steady_clock;
  if (argv.empty() || argv.front().empty())
    return fail(errc::invalid_request, "run_process: empty argv");
  const external_wait_scope waiting;

  const std::string what = detail::describe_argv(argv);
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    return fail(errc::io_error, what + ": pipe: " + detail::errno_text(errno));
  detail::fd_guard out_r(out_pipe[0]), out_w(out_pipe[1]), err_r(err_pipe[0]), err_w(err_pipe[1]);
  detail::fd_guard in_r, in_w;
  if (opts.stdin_data) {
    if (::pipe2(in_pipe, O_CLOEXEC) != 0)
      return fail(errc::io_error, what + ": pipe: " + detail::errno_text(errno));
    in_r = detail::fd_guard(in_pipe[0]);
    in_w = detail::fd_guard(in_pipe[1]);
  }

  detail::spawn_actions_guard actions;
  if (posix_spawn_file_actions_init(&actions.a) != 0)
    return fail(errc::io_error, what + ": posix_spawn_file_actions_init failed");
  actions.live = true;
  if (opts.stdin_data)
    posix_spawn_file_actions_adddup2(&actions.a, in_r.fd, STDIN_FILENO);
  else
    posix_spawn_file_actions_addopen(&actions.a, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions.a, out_w.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions.a, err_w.fd, STDERR_FILENO);
  std::string cwd_str;
  if (!opts.cwd.empty()) {
    cwd_str = opts.cwd.string();
    std::error_code ec;
    if (!std::filesystem::is_directory(opts.cwd, ec))
      return fail(errc::io_error, what + ": working directory " + cwd_str + " is not a directory");
    if (posix_spawn_file_actions_addchdir_np(&actions.a, cwd_str.c_str()) != 0)
      return fail(errc::io_error, what + ": cannot set working directory " + cwd_str);
  }

  detail::spawn_attr_guard attr;
  if (posix_spawnattr_init(&attr.a) != 0)
    return fail(errc::io_error, what + ": posix_spawnattr_init failed");
  attr.live = true;
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGTERM);
  posix_spawnattr_setsigmask(&attr.a, &no_signals);
  posix_spawnattr_setsigdefault(&attr.a, &default_signals);
  posix_spawnattr_setpgroup(&attr.a, 0);  // its own process group, so a time-out kills all of it
  posix_spawnattr_setflags(&attr.a, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                       POSIX_SPAWN_SETSIGDEF));

  std::vector<std::string> env = detail::build_environment(opts);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args(argv.begin(), argv.end());
  std::vector<char*> argp;
  argp.reserve(args.size() + 1);
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  // PATH lookup uses the child's PATH when overridden.
  std::string program = args.front();
  if (program.find('/') == std::string::npos) {
    std::string path_value;
    for (const auto& e : env)
      if (e.starts_with("PATH=")) path_value = e.substr(5);
    if (path_value.empty()) path_value = "/usr/local/bin:/usr/bin:/bin";
    std::string found;
    std::size_t start = 0;
    while (start <= path_value.size()) {
      std::size_t end = path_value.find(':', start);
      if (end == std::string::npos) end = path_value.size();
      std::string dir = path_value.substr(start, end - start);
      if (dir.empty()) dir = ".";
      std::string candidate = dir + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) {
        std::error_code ec;
        if (!std::filesystem::is_directory(candidate, ec)) { found = candidate; break; }
      }
      start = end + 1;
    }
    if (found.empty()) return fail(errc::io_error, what + ": program '" + program + "' not found in PATH");
    program = found;
  }

  const auto started = clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions.a, &attr.a, argp.data(), envp.data());
  if (rc != 0) return fail(errc::io_error, what + ": cannot start: " + detail::errno_text(rc));
  out_w.reset();
  err_w.reset();
  in_r.reset();

  process_output res;
  const auto deadline = started + opts.timeout;
  bool timed_out = false;
  std::size_t in_off = 0;
  if (in_w.fd >= 0) {
    ::fcntl(in_w.fd, F_SETFL, ::fcntl(in_w.fd, F_GETFL) | O_NONBLOCK);
    if (opts.stdin_data->empty()) in_w.reset();
  }
  char buf[65536];
  int status = 0;
  bool reaped = false;
  auto drain_until = deadline;  // after the child exits, a grandchild may still hold the pipes
  {
    detail::sigpipe_block block;
    while (out_r.fd >= 0 || err_r.fd >= 0 || in_w.fd >= 0) {
      if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
        drain_until = std::min(deadline, clock::now() + std::chrono::milliseconds{250});
      }
      pollfd fds[3];
      nfds_t n = 0;
      int idx_out = -1, idx_err = -1, idx_in = -1;
      if (out_r.fd >= 0) { idx_out = static_cast<int>(n); fds[n++] = pollfd{out_r.fd, POLLIN, 0}; }
      if (err_r.fd >= 0) { idx_err = static_cast<int>(n); fds[n++] = pollfd{err_r.fd, POLLIN, 0}; }
      if (in_w.fd >= 0) { idx_in = static_cast<int>(n); fds[n++] = pollfd{in_w.fd, POLLOUT, 0}; }
      const auto now = clock::now();
      if (reaped && now >= drain_until) break;  // it exited; what a background grandchild writes is not ours
      if (now >= deadline) { timed_out = true; break; }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      const int wait_ms = static_cast<int>(std::min<long long>(left + 1, 50));
      const int pr = ::poll(fds, n, wait_ms);
      if (pr < 0) {
        if (errno == EINTR) continue;
        ::kill(-pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
        return fail(errc::io_error, what + ": poll: " + detail::errno_text(errno));
      }
      auto drain = [&](int idx, detail::fd_guard& fd, std::string& dst, bool& trunc) {
        if (idx < 0 || (fds[idx].revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
        const ssize_t got = ::read(fd.fd, buf, sizeof buf);
        if (got > 0)
          detail::append_capped(dst, trunc, buf, static_cast<std::size_t>(got), opts.max_output);
        else if (got == 0 || (errno != EINTR && errno != EAGAIN))
          fd.reset();
      };
      drain(idx_out, out_r, res.out, res.out_truncated);
      drain(idx_err, err_r, res.err, res.err_truncated);
      if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
        const std::string& data = *opts.stdin_data;
        const ssize_t put = ::write(in_w.fd, data.data() + in_off, data.size() - in_off);
        if (put > 0) {
          in_off += static_cast<std::size_t>(put);
          if (in_off >= data.size()) in_w.reset();
        } else if (put < 0 && errno != EINTR && errno != EAGAIN) {
          in_w.reset();  // EPIPE: the child stopped reading; not our error
        }
      }
    }
  }
  in_w.reset();

  if (!timed_out && !reaped) {
    // Pipes are closed; the child may still be running (it closed its stdout): wait until the deadline.
    for (;;) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) return fail(errc::io_error, what + ": waitpid: " + detail::errno_text(errno));
      if (clock::now() >= deadline) { timed_out = true; break; }
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
  }
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return fail(errc::timeout, what + ": killed after the time limit of " +
                                   std::to_string(opts.timeout.count()) + " ms");
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started);
  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.term_signal = WTERMSIG(status);
    return fail(errc::process_failed,
                what + ": killed by signal " + std::to_string(res.term_signal) + " (" +
                    std::string(strsignal(res.term_signal)) + ")");
  }
  return res;
}

[[nodiscard]] inline result<process_output> run_process(std::initializer_list<std::string> argv,
                                                        const process_options& opts = {}) {
  std::vector<std::string> v(argv);
  return run_process(std::span<const std::string>(v), opts);
}

/// Like `run_process`, but a non-zero exit is `errc::process_failed` with the last 2000 bytes of
/// stderr (or stdout when stderr is empty) in the message.
[[nodiscard]] inline result<process_output> run_checked(std::span<const std::string> argv,
                                                        const process_options& opts = {}) {
  auto r = run_process(argv, opts);
  if (!r) return r;
  if (r->exit_code != 0) {
    const std::string& text = r->err.empty() ? r->out : r->err;
    const std::size_t keep = std::min<std::size_t>(text.size(), 2000);
    return fail(errc::process_failed, detail::describe_argv(argv) + ": exit status " +
                                          std::to_string(r->exit_code) + ": " +
                                          text.substr(text.size() - keep));
  }
  return r;
}

[[nodiscard]] inline result<process_output> run_checked(std::initializer_list<std::string> argv,
                                                        const process_options& opts = {}) {
  std::vector<std::string> v(argv);
  return run_checked(std::span<const std::string>(v), opts);
}

}  // namespace selfheal
