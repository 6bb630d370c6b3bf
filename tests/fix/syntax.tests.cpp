// The syntax check: C and C++ by the compiler (compile_commands.json's flags when there is one),
// every Python file of a patch by one interpreter.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "selfheal/fix/syntax.hpp"
#include "temp_dir.hpp"

namespace fx = selfheal::fix;

TEST_CASE("C++ syntax is checked by the compiler with compile_commands.json's flags", "[fix][validateSyntax]") {
  selfheal::test::temp_dir dir;
  const auto root = dir.path();
  std::filesystem::create_directories(root / "include");
  std::filesystem::create_directories(root / "src");
  std::ofstream(root / "include" / "rate.hpp") << "#pragma once\ninline int rate() { return RATE; }\n";
  fx::repo_view v;
  v.files = {{"include/rate.hpp", false}};
  v.root = root;
  const std::string good = "#include \"rate.hpp\"\nint f() { return rate(); }\n";
  // Without compile_commands.json the RATE definition is missing: an error.
  auto plain = fx::check_syntax({{"src/a.cpp", good, good}}, v);
  REQUIRE(plain.size() == 1);
  CHECK_FALSE(plain[0].ok);
  CHECK(plain[0].tool == "c++ -fsyntax-only (no compile_commands.json)");
  CHECK(plain[0].message.find("src/a.cpp") != std::string::npos);  // the repository path, not the scratch copy
  CHECK(plain[0].message.find("RATE") != std::string::npos);
  std::filesystem::create_directories(root / "build");
  std::ofstream(root / "build" / "compile_commands.json")
      << "[{\"directory\": \"" << (root / "build").string() << "\", \"file\": \"../src/a.cpp\", "
      << "\"command\": \"/usr/bin/c++ -DRATE=3 -I../include -Werror -o x.o -c ../src/a.cpp\"}]";
  auto flags = fx::flags_for(fx::detail::load_compile_commands(root).first, root / "build" / "compile_commands.json", v, "src/a.cpp");
  CHECK(flags.from_database);
  CHECK(flags.compiler == "/usr/bin/c++");
  CHECK(flags.args == std::vector<std::string>{"-DRATE=3", "-I" + (root / "include").string()});
  auto with_db = fx::check_syntax({{"src/a.cpp", good, good}}, v);
  REQUIRE(with_db.size() == 1);
  INFO(with_db[0].message);
  CHECK(with_db[0].ok);
  CHECK(with_db[0].tool.find("compile_commands.json") != std::string::npos);
  // A patched header shadows the repository's copy; a broken one fails, a good one passes.
  auto bad_header = fx::check_syntax({{"include/rate.hpp", std::nullopt, "#pragma once\ninline int rate() { return RATE }\n"}}, v);
  REQUIRE(bad_header.size() == 1);
  CHECK_FALSE(bad_header[0].ok);
  auto both = fx::check_syntax({{"include/rate.hpp", std::nullopt, "#pragma once\ninline int rate2() { return RATE; }\n"},
                                {"src/a.cpp", good, "#include \"rate.hpp\"\nint f() { return rate2(); }\n"}},
                               v);
  REQUIRE(both.size() == 2);
  INFO(both[0].message << " / " << both[1].message);
  CHECK(both[0].ok);
  CHECK(both[1].ok);
  auto broken = fx::check_syntax({{"src/a.cpp", good, "int f( { return 1; }\n"}}, v);
  CHECK_FALSE(broken.at(0).ok);
}

TEST_CASE("every Python file of a patch is compiled by one interpreter, each with its own verdict", "[fix][validateSyntax]") {
  const fx::repo_view v;
  auto out = fx::check_syntax({{"a.py", std::nullopt, "def f():\n    return 1\n"},
                               {"pkg/b.py", std::nullopt, "def g(:\n    pass\n"},
                               {"c.py", std::nullopt, "x = 1\n"}},
                              v);
  REQUIRE(out.size() == 3);
  CHECK(out[0].ok);
  CHECK_FALSE(out[1].ok);
  CHECK(out[1].message.find("pkg/b.py") != std::string::npos);
  CHECK(out[1].message.find("SyntaxError") != std::string::npos);
  CHECK(out[2].ok);
  CHECK(out[0].tool == "python3 compile()");
}
