// The transfers bar above the composer: one line per upload or download of the Session's
// TransferModel — direction and file name (plain text), phase, a progress bar in percent, and
// Cancel (queued or running) or Retry and Dismiss (stopped). Hidden while there is none.
#pragma once

#include <QWidget>

class QVBoxLayout;

namespace secchats::desktop {
class Session;
namespace ui {

class TransferPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TransferPanel(Session* session, QWidget* parent = nullptr);

 private:
  void rebuild();

  Session* session_;
  QVBoxLayout* rows_ = nullptr;
};

}  // namespace ui
}  // namespace secchats::desktop
