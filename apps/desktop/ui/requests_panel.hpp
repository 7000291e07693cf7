// Incoming friend requests and group invites (RequestsModel), one row each with real buttons
// (Accept/Decline for a friend, Join/Decline for an invite) so Tab reaches every one of them.
#pragma once

#include <QWidget>

class QVBoxLayout;
class QLabel;
class QScrollArea;

namespace secchats::desktop {
class Session;
namespace ui {

class RequestsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RequestsPanel(Session* session, QWidget* parent = nullptr);
  int count() const;

  // As tall as its rows at the current width, at most about 18 lines (then it scrolls), so the
  // chat list under it keeps the rest of the column instead of an empty gap.
  QSize sizeHint() const override;

 signals:
  void countChanged(int count);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void rebuild();

  Session* session_;
  QScrollArea* scroll_ = nullptr;
  QWidget* rows_ = nullptr;
  QVBoxLayout* rows_layout_ = nullptr;
  QLabel* empty_ = nullptr;
};

}  // namespace ui
}  // namespace secchats::desktop
