// Issue 10.7: raw logs of common software (timestamp shapes, year-less times, components as
// handlers), a text banner before NDJSON, UTF-16 with a byte-order mark, and a file with no usable
// event saying why. All logs are generated here in the shapes of those programs.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "selfheal/core/run.hpp"
#include "selfheal/telemetry/sequence.hpp"
#include "selfheal/telemetry/timestamp.hpp"
#include "fixture.hpp"

namespace sh = selfheal;
namespace tel = selfheal::telemetry;
namespace fs = std::filesystem;

namespace {
std::int64_t iso(std::string_view s) { return tel::parse_iso8601(s).value(); }
std::int64_t shape(std::string_view s, std::int64_t ref = iso("2025-06-01T00:00:00Z")) {
  std::size_t used = 0;
  auto t = tel::parse_log_timestamp_prefix(s, ref, used);
  REQUIRE(t);
  return *t;
}
void spit(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
std::map<std::string, const tel::named_metric*> handlers(const tel::parse_summary& s) {
  std::map<std::string, const tel::named_metric*> out;
  for (const auto& h : s.aggregate.handlers) out[h.name] = &h;
  return out;
}
std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }
}  // namespace

TEST_CASE("the timestamp shapes of raw logs", "[telemetry][timestamp][rawlogs]") {
  CHECK(shape("081109 203615 148 INFO x") == iso("2008-11-09T20:36:15Z"));                 // HDFS
  CHECK(shape("[Sun Dec 04 04:47:44 2005] [notice] x") == iso("2005-12-04T04:47:44Z"));    // Apache
  CHECK(shape("2015-10-18 18:01:47,978 INFO [main]") == iso("2015-10-18T18:01:47.978Z"));  // Hadoop
  CHECK(shape("17/06/09 20:10:40 INFO x") == iso("2017-06-09T20:10:40Z"));                  // Spark
  CHECK(shape("2024/01/05 10:00:00 [error] x") == iso("2024-01-05T10:00:00Z"));            // nginx
  CHECK(shape("Mon Jan  6 07:01:02 2025 x") == iso("2025-01-06T07:01:02Z"));                // ctime
  // year-less shapes take the year of the file's time, or the one before when that is in the future
  const auto jan = iso("2025-01-05T12:00:00Z");
  const auto dec = iso("2025-12-20T12:00:00Z");
  CHECK(shape("Dec 10 06:55:46 LabSZ sshd[1]: x", jan) == iso("2024-12-10T06:55:46Z"));     // OpenSSH
  CHECK(shape("Dec 10 06:55:46 LabSZ sshd[1]: x", dec) == iso("2025-12-10T06:55:46Z"));
  CHECK(shape("Jun  4 15:16:01 combo x", dec) == iso("2025-06-04T15:16:01Z"));              // Linux syslog
  CHECK(shape("03-17 16:13:38.811  1702 D x", dec) == iso("2025-03-17T16:13:38.811Z"));     // Android
  CHECK(shape("[10.30 16:49:06] chrome.exe", dec) == iso("2025-10-30T16:49:06Z"));           // Proxifier
  std::size_t used = 0;
  CHECK_FALSE(tel::parse_log_timestamp_prefix("12345 not a time", jan, used));
  CHECK_FALSE(tel::parse_log_timestamp_prefix("Decimal 10 06:55:46", jan, used));
  CHECK_FALSE(tel::parse_log_timestamp_prefix("081109 2036", jan, used));
  CHECK_FALSE(tel::parse_log_timestamp_prefix("13-45 10:00:00 x", jan, used));
}

TEST_CASE("raw logs of common software give events with their component as handler", "[telemetry][rawlogs]") {
  sh::test::telemetry_fixture f;
  std::string hdfs, hadoop, ssh, apache, spark, logcat, windows;
  for (int i = 0; i < 200; ++i) {
    const int s = i % 60, m = i / 60;
    const bool err = i % 10 == 0;
    hdfs += "081109 20" + two(m) + two(s) + " " + std::to_string(100 + i) + (err ? " WARN" : " INFO") +
            " dfs.DataNode$PacketResponder: PacketResponder " + std::to_string(i % 3) + " for block blk_" +
            std::to_string(7000 + i) + " terminating\n";
    hadoop += "2015-10-18 18:" + two(m) + ":" + two(s) + "," + std::to_string(100 + i) + (err ? " ERROR" : " INFO") +
              " [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application " +
              std::to_string(i) + "\n";
    ssh += "Dec 10 06:" + two(m) + ":" + two(s) + " LabSZ sshd[" + std::to_string(24200 + i) + "]: " +
           (err ? "error: Received disconnect from 1.2.3.4" : "Invalid user webmaster from 173.234.31.186") + "\n";
    apache += "[Sun Dec 04 04:" + two(m) + ":" + two(s) + " 2005] " + (err ? "[error] mod_jk child workerEnv in error state 6" :
              "[notice] jk2_init() Found child 6725 in scoreboard slot 10") + "\n";
    spark += "17/06/09 20:" + two(m) + ":" + two(s) + " INFO storage.BlockManager: Found block rdd_" + std::to_string(i) + " locally\n";
    logcat += "03-17 16:" + two(m) + ":" + two(s) + ".811  1702  2395 " + (err ? "E" : "D") +
              " WindowManager: printFreezingDisplayLogsopening app wtoken\n";
    // a thread named with '@' is not a component; the logger after it is
    hadoop += "2015-10-18 19:" + two(m) + ":" + two(s) + ",5 WARN [LeaseRenewer:msrabi@msra-sa-41:9000] "
              "org.apache.hadoop.hdfs.LeaseRenewer: Failed to renew lease for [DFSClient_NONMAPREDUCE_1537864556_1] for " +
              std::to_string(i) + " seconds\n";
    windows += "2016-09-28 04:" + two(m) + ":" + two(s) + ", " + (err ? "Error" : "Info ") +
               "                  CBS    Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\Windows\\cbscore.dll\n";
  }
  fs::create_directories(f.dir / "logs");
  for (const auto& [name, text] : std::map<std::string, std::string>{
           {"hdfs.log", hdfs}, {"hadoop.log", hadoop}, {"ssh.log", ssh}, {"apache.log", apache}, {"spark.log", spark},
           {"logcat.log", logcat}, {"windows.log", windows}})
    spit(f.dir / "logs" / name, text);
  // year-less logs take their year from the file's time
  const auto mtime = std::chrono::file_clock::now() - std::chrono::hours(24 * 30);
  fs::last_write_time(f.dir / "logs" / "ssh.log", mtime);
  auto s = f.parse({(f.dir / "logs").string()});
  REQUIRE(s);
  const auto& a = s->aggregate;
  INFO(::Catch::Detail::stringify(a.bad_line_samples.size()) << " bad; first: "
       << (a.bad_line_samples.empty() ? std::string() : a.bad_line_samples[0].reason));
  CHECK(a.bad_lines == 0);
  CHECK(a.events == 1600);
  const auto h = handlers(*s);
  for (const char* name : {"dfs.DataNode$PacketResponder", "org.apache.hadoop.mapreduce.v2.app.MRAppMaster", "sshd",
                           "storage.BlockManager", "WindowManager", "org.apache.hadoop.hdfs.LeaseRenewer", "CBS"}) {
    INFO(name);
    REQUIRE(h.count(name) == 1);
    CHECK(h.at(name)->stats.count == 200);
  }
  CHECK(h.at("org.apache.hadoop.mapreduce.v2.app.MRAppMaster")->stats.errors == 20);
  CHECK(h.at("WindowManager")->stats.errors == 20);
  CHECK(h.at("CBS")->stats.errors == 20);
  CHECK(h.count("msrabi") == 0);
  CHECK(h.at("dfs.DataNode$PacketResponder")->stats.errors == 0);  // WARN is not an error
  CHECK(h.count("mod_jk") == 1);
  CHECK(h.count("jk2_init") == 1);
  CHECK(h.at("mod_jk")->stats.errors == 20);
  // the first and last event times: HDFS 2008 … Hadoop 2015 … the ssh log's year is the file's
  CHECK(a.first_event_ns == iso("2005-12-04T04:00:00Z"));
}

TEST_CASE("a text banner before NDJSON and UTF-16 files are read", "[telemetry][rawlogs][regions]") {
  sh::test::telemetry_fixture f;
  std::string banner;
  for (int i = 0; i < 25; ++i) banner += "=== service v1.2 starting: module " + std::to_string(i) + " loaded ===\n";
  std::string json;
  for (int i = 0; i < 100; ++i)
    json += R"({"ts":"2025-06-01T10:00:)" + two(i % 60) + R"(Z","handler":"checkout","durationMs":)" + std::to_string(i % 9 + 1) + "}\n";
  spit(f.dir / "banner.log", banner + json);

  // UTF-16 LE with a byte-order mark, as Windows tools write it, with a non-ASCII handler name
  const std::u16string text = u"2025-06-01T10:00:00Z INFO handler=Zahlung\u00fcbersicht duration=5ms\r\n"
                              u"2025-06-01T10:00:01Z ERROR handler=Zahlung\u00fcbersicht duration=7ms \U0001F600\r\n";
  std::string utf16 = "\xFF\xFE";
  for (const char16_t c : text) {
    utf16 += static_cast<char>(c & 0xFF);
    utf16 += static_cast<char>(c >> 8);
  }
  spit(f.dir / "windows.log", utf16);

  auto s = f.parse({(f.dir / "banner.log").string(), (f.dir / "windows.log").string()});
  REQUIRE(s);
  const auto h = handlers(*s);
  REQUIRE(h.count("checkout") == 1);
  CHECK(h.at("checkout")->stats.count == 100);
  REQUIRE(h.count("Zahlung\xC3\xBC" "bersicht") == 1);
  CHECK(h.at("Zahlung\xC3\xBC" "bersicht")->stats.count == 2);
  CHECK(h.at("Zahlung\xC3\xBC" "bersicht")->stats.errors == 1);
  CHECK(s->aggregate.sources[0].events == 100);
  CHECK(s->aggregate.sources[0].bad_lines == 25);  // the banner lines, named
  CHECK(s->aggregate.sources[1].format != tel::log_format::binary);

  SECTION("a UTF-16 file is resumed where it stopped") {
    std::string more;
    for (const char16_t c : std::u16string(u"2025-06-01T10:00:02Z INFO handler=Zahlung\u00fcbersicht duration=9ms\r\n")) {
      more += static_cast<char>(c & 0xFF);
      more += static_cast<char>(c >> 8);
    }
    std::ofstream(f.dir / "windows.log", std::ios::binary | std::ios::app) << more;
    auto again = f.parse({(f.dir / "windows.log").string()});
    REQUIRE(again);
    CHECK(again->aggregate.events == 1);
  }
}

TEST_CASE("a file with no usable event says why", "[telemetry][rawlogs][why]") {
  sh::test::telemetry_fixture f;
  std::string lines;
  for (int i = 0; i < 2000; ++i) lines += "- node-" + std::to_string(i) + " RAS KERNEL INFO cache parity error corrected\n";
  spit(f.dir / "nothing.log", lines);
  auto s = f.parse({(f.dir / "nothing.log").string()});
  REQUIRE(s);
  CHECK(s->aggregate.events == 0);
  const auto& hint = s->aggregate.sources[0].hint;
  INFO(hint);
  CHECK(hint.find("2000 lines, none usable") == 0);
  CHECK(hint.find("timestamp") != std::string::npos);
  CHECK(hint.find("first line: - node-0 RAS KERNEL") != std::string::npos);
}
