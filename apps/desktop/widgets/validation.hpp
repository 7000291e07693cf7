// Input checks shared by the account screens. Each returns "" when the input is fine, else a
// translated sentence to show inline. They mirror what libsecchats refuses, so the user hears
// about a mistake before any network or Argon2id work starts.
#pragma once

#include <QString>

namespace secchats::desktop {

inline constexpr int kMinPasswordLength = 8;  // characters (code points)
inline constexpr int kMaxNicknameBytes = 64;  // UTF-8 bytes

QString validateServerUrl(const QString& url);
// `pin`: SHA-256 of the relay's certificate, 64 hex digits (colons and spaces allowed) or
// base64 of the 32 bytes. Only meaningful for https:// URLs.
QString validatePin(const QString& pin, const QString& url);
QString validateCaFile(const QString& path, const QString& url);
QString validateNickname(const QString& nickname);
QString validateNewPassword(const QString& password, const QString& confirm);

}  // namespace secchats::desktop
