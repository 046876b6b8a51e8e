#pragma once
// The real Apache Kafka broker of a test binary (ops/kafka-broker), started
// once on first use and stopped after the last test by broker_environment.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/process.h"
#include "tests/unit/temp_dir.h"

namespace migops::testing_support {

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a program to its end with stdout and stderr in output; its exit code.
inline int run(const std::vector<std::string>& argv, const std::filesystem::path& output) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
        }
        const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, STDIN_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        std::_Exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The broker of this test binary.
class broker {
  public:
    static broker& get() {
        static broker b;
        return b;
    }

    // Starts the broker on the first call; later calls repeat its outcome,
    // so that every test fails when the broker could not start.
    ::testing::AssertionResult started() {
        if (!first_start_) first_start_ = start();
        return *first_start_;
    }
    // Starts the broker (again) on the same port and directory.
    ::testing::AssertionResult start() { return script("start"); }
    bool ever_started() const { return first_start_.has_value(); }
    ::testing::AssertionResult stop() { return script("stop"); }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::uint16_t port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_.path(); }

  private:
    broker() : port_(testing_support::free_port()) {}

    ::testing::AssertionResult script(const std::string& command) {
        const auto output = dir_.path() / ("kafka-broker-" + command + ".out");
        const int code =
            run({MIGOPS_KAFKA_BROKER_SCRIPT, command, "--port", std::to_string(port_), "--dir",
                 (dir_.path() / "broker").string(), "--parent", std::to_string(::getpid())},
                output);
        if (code == 0) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "ops/kafka-broker " << command << " exited " << code << ":\n"
               << read_file(output) << "\nbroker log (tail):\n"
               << tail(read_file(dir_.path() / "broker" / "broker.log"));
    }
    static std::string tail(const std::string& text) {
        constexpr std::size_t keep = 4000;
        return text.size() > keep ? text.substr(text.size() - keep) : text;
    }

    temp_dir dir_;
    std::uint16_t port_;
    std::optional<::testing::AssertionResult> first_start_;
};

// Stops the broker after the last test.
class broker_environment : public ::testing::Environment {
  public:
    void TearDown() override {
        if (broker::get().ever_started()) {
            EXPECT_TRUE(broker::get().stop());
        }
    }
};

}  // namespace migops::testing_support
