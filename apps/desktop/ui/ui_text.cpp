#include "ui_text.hpp"

#include <QCoreApplication>
#include <QLocale>

#include "secchats/client.hpp"

namespace secchats::desktop::ui {

namespace {
QString tr(const char* text) {
  return QCoreApplication::translate("UiText", text);
}
}  // namespace

QString protocolBadge(const QString& protocol) {
  return protocol == QLatin1String("v2") ? QStringLiteral("v2") : QStringLiteral("v1");
}

QString protocolExplanation(const QString& protocol) {
  if (protocol == QLatin1String("v2")) {
    return tr("End-to-end encrypted with forward secrecy (protocol v2)");
  }
  return tr(
      "Compatible mode (protocol v1): no forward secrecy; compare safety numbers after the "
      "upgrade");
}

QString deliveryText(const QString& delivery) {
  if (delivery == QLatin1String("sent")) return tr("Sent");
  if (delivery == QLatin1String("pending")) return tr("Sending…");
  if (delivery == QLatin1String("failed")) return tr("Failed");
  return {};
}

QString formatChatTime(const QDateTime& when, const QDateTime& now) {
  if (!when.isValid()) return {};
  const QDateTime local = when.toLocalTime();
  if (local.date() == now.toLocalTime().date()) {
    return local.time().toString(QStringLiteral("hh:mm"));
  }
  return QLocale().toString(local.date(), QLocale::ShortFormat);
}

QString normalizeUserId(const QString& typed) {
  QString id;
  id.reserve(typed.size());
  for (QChar c : typed) {
    if (c.isSpace()) continue;
    const QChar lower = c.toLower();
    const bool hex = (lower >= QLatin1Char('0') && lower <= QLatin1Char('9')) ||
                     (lower >= QLatin1Char('a') && lower <= QLatin1Char('f'));
    if (!hex) return {};
    id.append(lower);
  }
  if (id.size() < 32 || id.size() > 128) return {};
  return id;
}

QString displaySafe(const QString& peer_text, bool keep_newlines) {
  QString out;
  out.reserve(peer_text.size() + 2);
  bool has_bidi = false;
  for (QChar c : peer_text) {
    const char16_t u = c.unicode();
    if (u == u'\n' && keep_newlines) {
      out.append(c);
    } else if (u < 0x20) {
      out.append(QChar(char16_t(0x2400 + u)));  // ␀..␟
    } else if (u == 0x7f) {
      out.append(QChar(char16_t(0x2421)));  // ␡
    } else if (u >= 0x80 && u < 0xa0) {
      out.append(QChar(char16_t(0xfffd)));
    } else {
      has_bidi |= (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069) || u == 0x200e ||
                  u == 0x200f || u == 0x061c;
      out.append(c);
    }
  }
  if (has_bidi) {
    // First-strong isolate ... pop directional isolate: the PDI also closes every embedding
    // or override opened inside (Unicode bidi algorithm, X6a).
    out.prepend(QChar(char16_t(0x2068)));
    out.append(QChar(char16_t(0x2069)));
  }
  return out;
}

QStringList reactionNames() {
  QStringList names;
  for (const auto& n : secchats::reaction_names())
    names << QString::fromStdString(n);
  return names;
}

QString reactionSymbol(const QString& name) {
  return QString::fromStdString(secchats::reaction_symbol(name.toStdString()));
}

}  // namespace secchats::desktop::ui
