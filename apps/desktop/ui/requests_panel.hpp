// Incoming friend requests and group invites (RequestsModel), one row each with real buttons
// (Accept/Decline for a friend, Join/Decline for an invite) so Tab reaches every one of them.
#pragma once

#include <QWidget>

class QVBoxLayout;
class QLabel;

namespace secchats::desktop {
class Session;
namespace ui {

class RequestsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RequestsPanel(Session* session, QWidget* parent = nullptr);
  int count() const;

 signals:
  void countChanged(int count);

 private:
  void rebuild();

  Session* session_;
  QWidget* rows_ = nullptr;
  QVBoxLayout* rows_layout_ = nullptr;
  QLabel* empty_ = nullptr;
};

}  // namespace ui
}  // namespace secchats::desktop
