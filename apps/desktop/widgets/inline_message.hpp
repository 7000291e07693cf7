// An inline message shown next to where the user acted: errors in the palette's error colour,
// notes in the normal text colour. Plain text only (messages may quote peer-controlled strings).
// Exposed to assistive technology with the Alert role; showing an error raises an Alert event so
// screen readers announce it without a modal dialog.
#pragma once

#include <QLabel>

namespace secchats::desktop {

class InlineMessage : public QLabel {
  Q_OBJECT
 public:
  enum class Kind { kError, kInfo };
  explicit InlineMessage(QWidget* parent = nullptr);

  Kind kind() const { return kind_; }

 public slots:
  void showError(const QString& text);
  void showInfo(const QString& text);
  void clearMessage();  // hides the label and empties it

 private:
  void show_message(const QString& text, Kind kind);
  void grow_dialog_to_fit();
  Kind kind_ = Kind::kError;
};

}  // namespace secchats::desktop
