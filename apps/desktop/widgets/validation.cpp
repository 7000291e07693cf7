#include "widgets/validation.hpp"

#include <QCoreApplication>
#include <QFileInfo>
#include <QUrl>

namespace secchats::desktop {
namespace {

QString tr_v(const char* text) {
  return QCoreApplication::translate("secchats::desktop::Validation", text);
}

bool is_https(const QString& url) {
  return QUrl(url.trimmed()).scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
}

}  // namespace

QString validateServerUrl(const QString& url) {
  const QUrl parsed(url.trimmed(), QUrl::StrictMode);
  const QString scheme = parsed.scheme().toLower();
  if (url.trimmed().isEmpty() || !parsed.isValid() ||
      (scheme != QLatin1String("http") && scheme != QLatin1String("https")) ||
      parsed.host().isEmpty()) {
    return tr_v(
        "Enter the relay's address, like http://127.0.0.1:8080 or https://chat.example.org.");
  }
  return {};
}

QString validatePin(const QString& pin, const QString& url) {
  QString compact = pin.trimmed();
  if (compact.isEmpty()) return {};
  if (!is_https(url)) return tr_v("A certificate pin only applies to an https:// address.");
  QString hex = compact;
  hex.remove(QLatin1Char(':')).remove(QLatin1Char(' '));
  if (hex.size() == 64) {
    bool all_hex = true;
    for (QChar c : hex)
      all_hex = all_hex && QStringLiteral("0123456789abcdefABCDEF").contains(c);
    if (all_hex) return {};
  }
  const auto decoded =
      QByteArray::fromBase64Encoding(compact.toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
  if (decoded && decoded.decoded.size() == 32 && compact.size() >= 43) return {};
  return tr_v("The pin must be the certificate's SHA-256: 64 hex digits or 44 base64 characters.");
}

QString validateCaFile(const QString& path, const QString& url) {
  if (path.trimmed().isEmpty()) return {};
  if (!is_https(url)) return tr_v("A CA file only applies to an https:// address.");
  const QFileInfo info(path.trimmed());
  if (!info.isFile() || !info.isReadable()) return tr_v("The CA file cannot be read.");
  return {};
}

QString validateNickname(const QString& nickname) {
  if (nickname.isEmpty()) return tr_v("Enter a nickname.");
  if (nickname.toUtf8().size() > kMaxNicknameBytes) {
    return tr_v("The nickname is too long (at most 64 bytes; letters outside ASCII take 2–4).");
  }
  bool visible = false;
  for (char32_t c : nickname.toUcs4()) {
    const auto category = QChar::category(c);
    if (category == QChar::Other_Control)
      return tr_v("The nickname cannot hold control characters.");
    if (!QChar::isSpace(c) && category != QChar::Other_Format) visible = true;
  }
  if (!visible) return tr_v("The nickname needs at least one visible character.");
  return {};
}

QString validateNewPassword(const QString& password, const QString& confirm) {
  if (password.toUcs4().size() < kMinPasswordLength) {
    return tr_v("The password must have at least 8 characters.");
  }
  if (password != confirm) return tr_v("The passwords do not match.");
  return {};
}

}  // namespace secchats::desktop
