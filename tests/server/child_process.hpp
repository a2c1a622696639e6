// Child: the `wirecheck` binary (or a script) as a child process of a test,
// its output in a file, killed when the test ends.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "server_fixture.hpp"

namespace wirecheck::servertest {

// A child process with stderr (and stdout) going to a file; killed if still
// running when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log_file,
        const std::vector<std::string>& env = {}) {
    log_ = log_file;
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_text(log_); }

  // The ports from the server's "serving" log line (bounded wait).
  bool wait_serving(int& port, int& ops_port) {
    static const std::regex kLine(R"("msg":"serving".*"port":(\d+).*"opsPort":(\d+))");
    return eventually([&] {
      std::smatch m;
      const std::string text = log();
      if (!std::regex_search(text, m, kLine)) return false;
      port = std::stoi(m[1]);
      ops_port = std::stoi(m[2]);
      return true;
    }, std::chrono::milliseconds(10000));
  }
  // Exit code, or -1 if it did not exit within `limit`.
  int wait_exit(std::chrono::milliseconds limit) {
    int status = 0;
    const bool done = eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!done) return -1;
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string log_;
};

}  // namespace wirecheck::servertest
