// The direct response head must be byte for byte what Beast's serializer writes for the same
// answer (http_server.cpp's former and fallback path): every status the relay answers, with
// and without a Content-Type and a body, HTTP/1.0 and 1.1, keep-alive or not.
#include "net/response_head.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>

#include <sstream>

namespace secchats::server {
namespace {
namespace http = boost::beast::http;

// What http_server.cpp's Beast path writes for `reply`.
std::string beast_bytes(const HttpReply& reply, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "secchats");
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = reply.body;
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

TEST(ResponseHead, MatchesBeastsSerializerForEveryOrdinaryAnswer) {
  const int statuses[] = {200, 400, 401, 403, 404, 405, 409, 413, 416, 429, 431, 500, 503, 507};
  const std::string types[] = {"application/json", "text/plain; charset=utf-8", ""};
  const std::string bodies[] = {"", "ok\n", R"({"object":"Status","status":"ok"})",
                                std::string(70000, 'x')};
  int checked = 0;
  for (int status : statuses) {
    for (const auto& type : types) {
      for (const auto& body : bodies) {
        for (unsigned version : {10u, 11u}) {
          for (bool keep_alive : {true, false}) {
            HttpReply reply(status, type, body);
            ASSERT_TRUE(has_plain_head(reply));
            std::string direct;
            append_response_head(direct, reply, version, keep_alive);
            direct += reply.body;
            ASSERT_EQ(direct, beast_bytes(reply, version, keep_alive))
                << status << " '" << type << "' " << body.size() << " bytes, HTTP " << version
                << (keep_alive ? " keep-alive" : " close");
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 14 * 3 * 4 * 2 * 2);
}

TEST(ResponseHead, FilesHeadRequestsExtraHeadersAndBodilessStatusesKeepBeastsPath) {
  HttpReply plain(200, "application/json", "{}");
  EXPECT_TRUE(has_plain_head(plain));
  HttpReply head = plain;
  head.omit_body = true;
  EXPECT_FALSE(has_plain_head(head));
  HttpReply extra = plain;
  extra.headers.emplace_back("Content-Range", "bytes 0-1/2");
  EXPECT_FALSE(has_plain_head(extra));
  HttpReply file = plain;
  file.file = std::make_shared<FileBody>(-1, 0, 0);
  EXPECT_FALSE(has_plain_head(file));
  for (int status : {100, 204, 304}) {
    EXPECT_FALSE(has_plain_head(HttpReply(status, "", ""))) << status;
  }
}

}  // namespace
}  // namespace secchats::server
