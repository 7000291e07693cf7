// The daemon's framing (jsonrpc.hpp) and how a method's params become the CLI's argv
// (dispatcher.hpp, method_argv), checked against the real CLI definitions (cli_app.hpp).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cli_app.hpp"
#include "daemon/dispatcher.hpp"
#include "daemon/jsonrpc.hpp"

namespace secchats::cli::daemon {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

int error_code_of(const std::string& answer) {
  return static_cast<int>(obj(answer).at("error").at("code").as_int64());
}

TEST(DaemonFraming, ParsesARequestByName) {
  ParsedLine p = parse_line(
      R"({"jsonrpc":"2.0","id":7,"method":"send","params":{"friend":"Bob","text":"hi"}})");
  ASSERT_EQ(p.items.size(), 1u);
  ASSERT_TRUE(p.items[0].call);
  EXPECT_FALSE(p.batch);
  EXPECT_EQ(p.items[0].call->method, "send");
  EXPECT_EQ(p.items[0].call->params.at("text").as_string(), "hi");
  EXPECT_EQ(*p.items[0].call->id, json::value(7));
}

TEST(DaemonFraming, NotJsonIsParseError) {
  ParsedLine p = parse_line("{\"jsonrpc\":");
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_FALSE(p.items[0].call);
  EXPECT_EQ(error_code_of(p.items[0].answer), kParseError);
  EXPECT_TRUE(obj(p.items[0].answer).at("id").is_null());
}

TEST(DaemonFraming, InvalidRequestsAreRefused) {
  for (const char* line : {R"([])", R"(5)", R"({"method":"id","id":1})",
                           R"({"jsonrpc":"2.0","id":1})", R"({"jsonrpc":"2.0","method":3,"id":1})",
                           R"({"jsonrpc":"2.0","method":"id","id":1,"extra":true})",
                           R"({"jsonrpc":"2.0","method":"id","id":[1]})"}) {
    ParsedLine p = parse_line(line);
    ASSERT_EQ(p.items.size(), 1u) << line;
    EXPECT_EQ(error_code_of(p.items[0].answer), kInvalidRequest) << line;
  }
}

TEST(DaemonFraming, ParamsByPositionAreBadParams) {
  ParsedLine p = parse_line(R"({"jsonrpc":"2.0","id":"a","method":"send","params":["Bob","hi"]})");
  ASSERT_EQ(p.items.size(), 1u);
  EXPECT_EQ(error_code_of(p.items[0].answer), kInvalidParams);
  EXPECT_EQ(obj(p.items[0].answer).at("id"), json::value("a"));
}

TEST(DaemonFraming, BatchKeepsOrderAndNotifications) {
  ParsedLine p =
      parse_line(R"([{"jsonrpc":"2.0","id":1,"method":"id"},{"jsonrpc":"2.0","method":"sync"},7])");
  EXPECT_TRUE(p.batch);
  ASSERT_EQ(p.items.size(), 3u);
  EXPECT_TRUE(p.items[0].call && p.items[0].call->id);
  EXPECT_TRUE(p.items[1].call && !p.items[1].call->id);  // a notification
  EXPECT_EQ(error_code_of(p.items[2].answer), kInvalidRequest);
}

TEST(DaemonFraming, ResponsesAndNotificationsAreOneLine) {
  const std::string r = result_response(json::value(3), json::array{"a"});
  EXPECT_EQ(r, R"({"jsonrpc":"2.0","id":3,"result":["a"]})");
  EXPECT_EQ(error_response(nullptr, 4, "relay unreachable"),
            R"({"jsonrpc":"2.0","id":null,"error":{"code":4,"message":"relay unreachable"}})");
  json::object params;
  params["text"] = "line\nbreak";
  const std::string n = notification("event", params);
  EXPECT_EQ(n.find('\n'), std::string::npos);
}

class ParamMapping : public ::testing::Test {
 protected:
  Result<std::vector<std::string>> argv(std::string_view method, std::string_view params) {
    return method_argv(*cli_, method, obj(params), &text_);
  }
  std::unique_ptr<CliApp> cli_ = make_cli_app("/nonexistent");
  bool text_ = false;
};

TEST_F(ParamMapping, PositionalsFollowDeclarationOrderAfterDoubleDash) {
  auto a = argv("send", R"({"text":"-x hi","friend":"Bob"})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"send", "--", "Bob", "-x hi"}));
  EXPECT_FALSE(text_);
}

TEST_F(ParamMapping, GroupMethodsOptionsAndFlags) {
  auto a = argv("group.sendFile",
                R"({"group":"G","path":"/tmp/a","asFile":true,"name":"n.txt","format":"text"})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"group", "send-file", "--as-file", "--name=n.txt", "--",
                                          "G", "/tmp/a"}));
  EXPECT_TRUE(text_);
  auto b = argv("history", R"({"chat":"Bob","limit":5,"saveImages":"/tmp/i"})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(
      *b, (std::vector<std::string>{"history", "--limit=5", "--save-images=/tmp/i", "--", "Bob"}));
  auto c = argv("sendFile", R"({"friend":"B","path":"p","asFile":false})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (std::vector<std::string>{"send-file", "--", "B", "p"}));
}

TEST_F(ParamMapping, UnknownAndUnservedMethods) {
  for (const char* m : {"init", "passwd", "listen", "daemon", "group", "send-image", "nope",
                        "group.", ".send", "group.nope"}) {
    auto a = argv(m, "{}");
    ASSERT_FALSE(a.ok()) << m;
    EXPECT_EQ(a.error().code(), ErrorCode::kNotFound) << m;
  }
}

TEST_F(ParamMapping, BadParams) {
  for (const char* p :
       {R"({"friend":"B","text":"t","home":"/x"})", R"({"friend":1.5,"text":"t"})",
        R"({"friend":"B","text":["t"]})", R"({"friend":"B","text":"t","help":true})",
        R"({"friend":"B","text":"t","format":"xml"})"}) {
    auto a = argv("send", p);
    ASSERT_FALSE(a.ok()) << p;
    EXPECT_EQ(a.error().code(), ErrorCode::kInvalidArgument) << p;
  }
  auto flag = argv("id", R"({"qr":"yes"})");
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().code(), ErrorCode::kInvalidArgument);
}

TEST(CamelCase, NamesAsTheContractSpellsThem) {
  EXPECT_EQ(camel_case("MESSAGE_ID"), "messageId");
  EXPECT_EQ(camel_case("--save-images"), "saveImages");
  EXPECT_EQ(camel_case("qr-create"), "qrCreate");
  EXPECT_EQ(camel_case("FRIEND"), "friend");
}

}  // namespace
}  // namespace secchats::cli::daemon
