#include "fedra/ml/mail_corpus.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/file_util.h"

namespace fedra {
namespace {

namespace fs = std::filesystem;

// "NNNNN.<32 hex>.txt" -> the 16 bytes of the hex part.
bool NamedMd5(const std::string& name, std::array<uint8_t, 16>& md5) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos || name.size() != dot + 1 + 32 + 4 ||
      name.compare(name.size() - 4, 4, ".txt") != 0)
    return false;
  for (size_t i = 0; i < 16; ++i) {
    unsigned v = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = name[dot + 1 + 2 * i + k];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<unsigned>(d);
    }
    md5[i] = static_cast<uint8_t>(v);
  }
  return true;
}

StatusOr<std::array<uint8_t, 16>> Md5(std::string_view bytes) {
  std::array<uint8_t, 16> out{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_md5(), nullptr) != 1 ||
      len != out.size())
    return InternalError("MD5 is not available from OpenSSL");
  return out;
}

StatusOr<int> LabelOf(const std::string& group, const std::string& path) {
  if (group.rfind("spam", 0) == 0) return 1;
  if (group.find("ham") != std::string::npos) return 0;
  return InvalidArgumentError(path +
                              ": cannot tell ham from spam by this directory's name (expected "
                              "spam-N, easy-ham-N or hard-ham-N)");
}

}  // namespace

StatusOr<MailCorpus> LoadSpamAssassin(const std::string& dir, const MailCorpusOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return NotFoundError(dir + ": no such directory (run scripts/fetch_spam_assassin.sh)");
  MailCorpus corpus;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory()) corpus.groups.push_back(entry.path().filename().string());
  if (ec) return InternalError(dir + ": " + ec.message());
  std::sort(corpus.groups.begin(), corpus.groups.end());
  for (const std::string& group : corpus.groups) {
    const std::string group_dir = (fs::path(dir) / group).string();
    FEDRA_ASSIGN_OR_RETURN(const int label, LabelOf(group, group_dir));
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(group_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.size() > 4 && name.ends_with(".txt"))
        names.push_back(name);
    }
    if (ec) return InternalError(group_dir + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = group_dir + "/" + name;
      MailMessage m{group, name.substr(0, name.size() - 4), label, {}, {}};
      if (!NamedMd5(name, m.md5))
        return InvalidArgumentError(path + ": not named NNNNN.<32 hex digits of its MD5>.txt");
      auto raw = internal::ReadFile(path, [&](const struct stat& st) {
        return static_cast<uint64_t>(st.st_size) > options.max_file_bytes
                   ? OutOfRangeError("larger than max_file_bytes")
                   : OkStatus();
      });
      if (!raw.ok() && raw.status().code() == StatusCode::kOutOfRange) {
        ++corpus.skipped_oversized;
        continue;
      }
      if (!raw.ok()) return raw.status();
      FEDRA_ASSIGN_OR_RETURN(const auto md5, Md5(*raw));
      if (md5 != m.md5) {
        ++corpus.skipped_checksum;
        continue;
      }
      m.text = MailText(*raw, options.max_text_bytes);
      corpus.messages.push_back(std::move(m));
    }
  }
  if (corpus.messages.empty())
    return InvalidArgumentError(dir +
                                ": no message found (expected group directories such as "
                                "spam-1/ holding NNNNN.<md5>.txt files)");
  return corpus;
}

bool IsTestMessage(const MailMessage& message) { return message.md5[0] < 52; }

MailSplit SplitByHash(const MailCorpus& corpus) {
  MailSplit split;
  for (size_t i = 0; i < corpus.messages.size(); ++i)
    (IsTestMessage(corpus.messages[i]) ? split.test : split.train).push_back(i);
  return split;
}

StatusOr<std::vector<std::vector<size_t>>> PartitionByGroup(const MailCorpus& corpus,
                                                            std::span<const size_t> indices,
                                                            size_t mailboxes_per_group) {
  if (mailboxes_per_group == 0)
    return InvalidArgumentError("mailboxes per group must be at least 1");
  std::vector<std::vector<size_t>> clients(corpus.groups.size() * mailboxes_per_group);
  for (size_t i : indices) {
    if (i >= corpus.messages.size())
      return InvalidArgumentError("message index " + std::to_string(i) + " is not in the corpus");
    const MailMessage& m = corpus.messages[i];
    const size_t g =
        static_cast<size_t>(std::lower_bound(corpus.groups.begin(), corpus.groups.end(), m.group) -
                            corpus.groups.begin());
    // The second hash byte deals the mailboxes, independent of the test split (first byte).
    clients[g * mailboxes_per_group + m.md5[1] % mailboxes_per_group].push_back(i);
  }
  return clients;
}

}  // namespace fedra
