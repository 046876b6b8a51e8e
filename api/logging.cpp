#include "api/logging.h"

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>

#include <rocksdb/env.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace migops::api {

namespace {

// %j: the message, escaped for a JSON string.
class json_message_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        static constexpr char hex[] = "0123456789abcdef";
        for (const char ch : std::string_view(msg.payload.data(), msg.payload.size())) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') {
                dest.push_back('\\');
                dest.push_back(ch);
            } else if (c < 0x20) {
                const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
                dest.append(esc, esc + sizeof esc);
            } else {
                dest.push_back(ch);
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }
};

// RocksDB writes multi-line reports (options, compaction statistics); each
// line of a message becomes one log line, cut at a fixed length.
constexpr std::size_t rocksdb_message_limit = 1024;

class rocksdb_to_spdlog final : public rocksdb::Logger {
  public:
    explicit rocksdb_to_spdlog(rocksdb::InfoLogLevel level) : rocksdb::Logger(level) {}

    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list ap) override {
        Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
    }
    void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
        if (level < GetInfoLogLevel()) return;
        std::array<char, rocksdb_message_limit> text{};
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): RocksDB hands printf arguments
        const int n = std::vsnprintf(text.data(), text.size(), format, ap);
        if (n < 0) return;
        std::string_view message(text.data(), std::min<std::size_t>(n, text.size() - 1));
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.remove_suffix(1);
        spdlog::log(to_spdlog(level), "rocksdb: {}", message);
    }

  private:
    static spdlog::level::level_enum to_spdlog(rocksdb::InfoLogLevel level) {
        switch (level) {
            case rocksdb::InfoLogLevel::DEBUG_LEVEL:
            case rocksdb::InfoLogLevel::HEADER_LEVEL:
                return spdlog::level::debug;
            case rocksdb::InfoLogLevel::INFO_LEVEL:
                return spdlog::level::info;
            case rocksdb::InfoLogLevel::WARN_LEVEL:
                return spdlog::level::warn;
            case rocksdb::InfoLogLevel::ERROR_LEVEL:
                return spdlog::level::err;
            default:
                return spdlog::level::critical;
        }
    }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> rocksdb_logger() {
    const auto level = spdlog::get_level() <= spdlog::level::debug
                           ? rocksdb::InfoLogLevel::INFO_LEVEL
                           : rocksdb::InfoLogLevel::WARN_LEVEL;
    return std::make_shared<rocksdb_to_spdlog>(level);
}

result<void> configure_logging(const std::string& format, const std::string& level) {
    auto logger = spdlog::get("migops");
    if (!logger) logger = spdlog::stderr_logger_mt("migops");
    if (format == "json") {
        auto formatter =
            std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<json_message_flag>('j').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%j"})");
        logger->set_formatter(std::move(formatter));
    } else if (format == "text") {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %-5l %v", spdlog::pattern_time_type::utc);
    } else {
        return failure(errc::invalid_argument, "log format must be text or json");
    }
    const auto lvl = spdlog::level::from_str(level);
    if (spdlog::level::to_string_view(lvl) != level &&
        !(level == "warn" && lvl == spdlog::level::warn))
        return failure(errc::invalid_argument, "unknown log level " + level);
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return success();
}

}  // namespace migops::api
