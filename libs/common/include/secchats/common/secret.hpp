// Key material lives in SecretBytes: it is wiped when destroyed and never printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace secchats {

// Overwrites memory in a way the optimiser may not remove.
void secure_wipe(void* data, std::size_t size);
// The same for a whole string or byte buffer that held a secret (an empty one's data() may
// be null, so it is skipped). The size stays; callers that reuse the buffer clear it.
inline void secure_wipe(std::string& s) {
  if (!s.empty()) secure_wipe(s.data(), s.size());
}
inline void secure_wipe(std::vector<std::uint8_t>& v) {
  if (!v.empty()) secure_wipe(v.data(), v.size());
}

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  SecretBytes(const std::uint8_t* data, std::size_t size) : bytes_(data, data + size) {}
  explicit SecretBytes(std::span<const std::uint8_t> data) : bytes_(data.begin(), data.end()) {}
  static SecretBytes from_string(std::string_view s) {
    return SecretBytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes& operator=(const SecretBytes& other) {
    if (this != &other) {
      wipe();
      bytes_ = other.bytes_;
    }
    return *this;
  }
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  ~SecretBytes() { wipe(); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::span<const std::uint8_t> span() const { return bytes_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  void resize(std::size_t n) { bytes_.resize(n); }
  bool operator==(const SecretBytes& other) const;

 private:
  void wipe() {
    if (!bytes_.empty()) secure_wipe(bytes_.data(), bytes_.size());
  }
  std::vector<std::uint8_t> bytes_;
};

// A secret that is text (a base64 key string, a token, a password).
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string s) : s_(std::move(s)) {}
  SecretString(const SecretString& o) : s_(o.s_) {}
  SecretString& operator=(const SecretString& o) {
    if (this != &o) {
      wipe();
      s_ = o.s_;
    }
    return *this;
  }
  SecretString(SecretString&& o) noexcept : s_(std::move(o.s_)) { o.s_.clear(); }
  SecretString& operator=(SecretString&& o) noexcept {
    if (this != &o) {
      wipe();
      s_ = std::move(o.s_);
      o.s_.clear();
    }
    return *this;
  }
  ~SecretString() { wipe(); }

  const std::string& str() const { return s_; }
  std::string_view view() const { return s_; }
  bool empty() const { return s_.empty(); }
  std::size_t size() const { return s_.size(); }
  bool operator==(const SecretString& o) const { return s_ == o.s_; }

 private:
  void wipe() {
    if (!s_.empty()) secure_wipe(s_.data(), s_.size());
  }
  std::string s_;
};

}  // namespace secchats
