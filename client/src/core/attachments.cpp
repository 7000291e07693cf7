// Attachments: send_file / send_group_file / download (docs/protocol-v2.md §15).
// Placeholder while the blob transfer lands; every call says so instead of pretending.
#include "client_impl.hpp"

namespace secchats {

Result<MessageInfo> Client::send_file(std::string_view, const std::filesystem::path&,
                                      const SendFileOptions&, const ProgressCallback&) {
  return Error(ErrorCode::kUnavailable, "attachments are not implemented yet");
}

Result<MessageInfo> Client::send_group_file(std::string_view, const std::filesystem::path&,
                                            const SendFileOptions&, const ProgressCallback&) {
  return Error(ErrorCode::kUnavailable, "attachments are not implemented yet");
}

Result<std::filesystem::path> Client::download(std::string_view, std::int64_t,
                                               const std::filesystem::path&,
                                               const ProgressCallback&) {
  return Error(ErrorCode::kUnavailable, "attachments are not implemented yet");
}

}  // namespace secchats
