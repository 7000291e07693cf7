#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

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

HttpResult HttpClient::request(std::string_view method, std::string_view path,
                               std::string_view body) {
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
      }
      impl_->stream->expires_after(std::chrono::seconds(60));
      http::write(*impl_->stream, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(256 << 20);
      http::read(*impl_->stream, impl_->buffer, parser);
      auto res = parser.release();
      HttpResult out{static_cast<int>(res.result_int()), std::move(res.body()),
                     std::string(res[http::field::content_type])};
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
