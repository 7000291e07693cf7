#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <stdexcept>

namespace secchats::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  unsigned short port;
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream = std::make_unique<beast::tcp_stream>(ioc);
    stream->expires_after(std::chrono::seconds(10));
    stream->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    buffer.clear();
  }
};

HttpClient::HttpClient(unsigned short port) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::post(std::string_view path, std::string_view body) {
  return request("POST", path, body);
}

HttpResult HttpClient::get(std::string_view path) {
  return request("GET", path, {});
}

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string HttpResult::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResult::has_header(std::string_view name) const {
  return headers.count(lower(name)) > 0;
}

HttpResult HttpClient::request(std::string_view method, std::string_view path,
                               std::string_view body) {
  return request(method, path, body, {});
}

HttpResult HttpClient::request(std::string_view method, std::string_view path,
                               std::string_view body, const HttpHeaders& headers) {
  // One retry on a fresh connection covers a keep-alive connection the server closed.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!impl_->stream) impl_->connect();
      http::request<http::string_body> req{http::string_to_verb(method), path, 11};
      req.set(http::field::host, "127.0.0.1");
      req.keep_alive(true);
      if (!body.empty() || method == "POST") {
        req.set(http::field::content_type, "application/json");
        req.body() = std::string(body);
        req.prepare_payload();
      } else if (method == "PATCH") {
        req.content_length(0);
      }
      for (const auto& [name, value] : headers)
        req.set(name, value);
      impl_->stream->expires_after(std::chrono::seconds(60));
      http::write(*impl_->stream, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(256 << 20);
      if (method == "HEAD") parser.skip(true);
      http::read(*impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      HttpResult out{static_cast<int>(res.result_int()), std::move(res.body()),
                     std::string(res[http::field::content_type])};
      for (const auto& field : res)
        out.headers[lower(field.name_string())] = std::string(field.value());
      if (!res.keep_alive()) impl_->stream.reset();
      return out;
    } catch (const std::exception&) {
      impl_->stream.reset();
      if (attempt == 1) throw;
    }
  }
  throw std::runtime_error("unreachable");
}

std::string HttpClient::raw_exchange(unsigned short port, std::string_view bytes) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(stream, asio::buffer(bytes.data(), bytes.size()));
  std::string out;
  char buf[4096];
  boost::system::error_code ec;
  for (;;) {
    std::size_t n = stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

}  // namespace secchats::testing
