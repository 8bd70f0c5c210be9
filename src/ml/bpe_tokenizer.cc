#include "fedra/ml/bpe_tokenizer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <queue>
#include <unordered_map>

#include "core/file_util.h"

namespace fedra {
namespace {

constexpr size_t kMaxVocab = 1'000'000;
constexpr char kMagic[] = "fedra-bpe 1";
constexpr size_t kMaxWordBytes = 64;

uint64_t Key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

bool Space(unsigned char c) { return std::isspace(c) != 0; }
bool WordByte(unsigned char c) { return c >= 0x80 || std::isalnum(c) != 0; }

// Calls f(word) for each pre-token of `text` (see the header).
template <typename F>
void ForEachWord(std::string_view text, F&& f) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const size_t start = i;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == ' ' && i + 1 < n && !Space(static_cast<unsigned char>(text[i + 1]))) {
      ++i;  // the space belongs to the word after it
    } else if (Space(c)) {
      f(text.substr(i, 1));
      ++i;
      continue;
    }
    const bool word = WordByte(static_cast<unsigned char>(text[i]));
    size_t j = i;
    while (j < n && !Space(static_cast<unsigned char>(text[j])) &&
           WordByte(static_cast<unsigned char>(text[j])) == word)
      ++j;
    // Long runs (URLs, base64, rules of '=') are cut so that encoding stays linear.
    for (size_t p = start; p < j; p += kMaxWordBytes)
      f(text.substr(p, std::min(kMaxWordBytes, j - p)));
    i = j;
  }
}

// Replaces each (a, b) in `syms`, left to right, by `merged`; true if any was.
bool MergePair(std::vector<int32_t>& syms, int32_t a, int32_t b, int32_t merged) {
  size_t w = 0;
  bool any = false;
  for (size_t r = 0; r < syms.size(); ++r) {
    if (r + 1 < syms.size() && syms[r] == a && syms[r + 1] == b) {
      syms[w++] = merged;
      ++r;
      any = true;
    } else {
      syms[w++] = syms[r];
    }
  }
  syms.resize(w);
  return any;
}

}  // namespace

BpeTokenizer::BpeTokenizer(std::vector<std::pair<int32_t, int32_t>> merges)
    : merges_(std::move(merges)) {
  bytes_.resize(kBaseVocab + merges_.size());
  for (int b = 0; b < 256; ++b) bytes_[kFirstByte + b] = std::string(1, static_cast<char>(b));
  rank_.reserve(merges_.size());
  for (size_t i = 0; i < merges_.size(); ++i) {
    const auto [a, b] = merges_[i];
    bytes_[kBaseVocab + i] = bytes_[a] + bytes_[b];
    rank_.emplace_back(Key(a, b), static_cast<int32_t>(i));
  }
  std::sort(rank_.begin(), rank_.end());
}

StatusOr<BpeTokenizer> BpeTokenizer::Train(std::span<const std::string> texts, size_t vocab_size) {
  if (vocab_size < kBaseVocab || vocab_size > kMaxVocab)
    return InvalidArgumentError("BPE vocabulary size " + std::to_string(vocab_size) +
                                " must be in [" + std::to_string(kBaseVocab) + ", " +
                                std::to_string(kMaxVocab) + "]");
  std::unordered_map<std::string_view, int64_t> counts;
  for (const std::string& t : texts) ForEachWord(t, [&](std::string_view w) { ++counts[w]; });
  // Unique words in a fixed order, so training is deterministic.
  std::vector<std::pair<std::string_view, int64_t>> unique(counts.begin(), counts.end());
  std::sort(unique.begin(), unique.end());
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> freq;
  for (const auto& [w, f] : unique) {
    if (w.size() < 2) continue;  // nothing to merge
    std::vector<int32_t> syms;
    for (char c : w) syms.push_back(kFirstByte + static_cast<unsigned char>(c));
    words.push_back(std::move(syms));
    freq.push_back(f);
  }
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where;  // may hold stale or repeated words
  auto add_pairs = [&](uint32_t w, int64_t sign) {
    const auto& s = words[w];
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t k = Key(s[i], s[i + 1]);
      pair_count[k] += sign * freq[w];
      if (sign > 0) where[k].push_back(w);
    }
  };
  for (uint32_t w = 0; w < words.size(); ++w) add_pairs(w, +1);
  // Highest count first, then the smallest pair: deterministic ties. Entries go stale as
  // counts change; a popped entry is used only if it still holds the pair's count.
  using Entry = std::pair<int64_t, uint64_t>;
  auto worse = [](const Entry& x, const Entry& y) {
    return x.first != y.first ? x.first < y.first : x.second > y.second;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(worse)> heap(worse);
  for (const auto& [k, c] : pair_count) heap.emplace(c, k);
  std::vector<std::pair<int32_t, int32_t>> merges;
  std::vector<uint32_t> seen(words.size(), UINT32_MAX);
  while (kBaseVocab + merges.size() < vocab_size && !heap.empty()) {
    const auto [count, key] = heap.top();
    heap.pop();
    auto it = pair_count.find(key);
    if (it == pair_count.end() || it->second != count) continue;  // stale
    if (count < 2) break;
    const auto a = static_cast<int32_t>(key >> 32), b = static_cast<int32_t>(key & 0xffffffffu);
    const auto merged = static_cast<int32_t>(kBaseVocab + merges.size());
    const auto stamp = static_cast<uint32_t>(merges.size());
    merges.emplace_back(a, b);
    std::vector<uint32_t> holders = std::move(where[key]);
    where.erase(key);
    std::vector<uint64_t> touched;
    for (uint32_t w : holders) {
      if (seen[w] == stamp) continue;
      seen[w] = stamp;
      const auto& s = words[w];
      bool has = false;
      for (size_t i = 0; i + 1 < s.size() && !has; ++i) has = s[i] == a && s[i + 1] == b;
      if (!has) continue;  // a stale entry of `where`
      std::vector<int32_t> before = words[w];
      add_pairs(w, -1);
      MergePair(words[w], a, b, merged);
      add_pairs(w, +1);
      for (size_t i = 0; i + 1 < words[w].size(); ++i)
        touched.push_back(Key(words[w][i], words[w][i + 1]));
      for (size_t i = 0; i + 1 < before.size(); ++i)
        touched.push_back(Key(before[i], before[i + 1]));
    }
    pair_count.erase(key);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t k : touched) {
      auto c = pair_count.find(k);
      if (c == pair_count.end()) continue;
      if (c->second <= 0) {
        pair_count.erase(c);
      } else {
        heap.emplace(c->second, k);
      }
    }
  }
  return BpeTokenizer(std::move(merges));
}

void BpeTokenizer::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<int32_t> syms;
  syms.reserve(word.size());
  for (char c : word) syms.push_back(kFirstByte + static_cast<unsigned char>(c));
  while (syms.size() > 1) {
    int32_t best = INT32_MAX;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const uint64_t k = Key(syms[i], syms[i + 1]);
      auto it = std::lower_bound(rank_.begin(), rank_.end(), std::make_pair(k, INT32_MIN));
      if (it != rank_.end() && it->first == k) best = std::min(best, it->second);
    }
    if (best == INT32_MAX) break;
    MergePair(syms, merges_[best].first, merges_[best].second,
              static_cast<int32_t>(kBaseVocab) + best);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

std::vector<int32_t> BpeTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  ForEachWord(text, [&](std::string_view w) { EncodeWord(w, out); });
  return out;
}

StatusOr<std::string> BpeTokenizer::Decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= vocab_size())
      return InvalidArgumentError("token id " + std::to_string(id) +
                                  " is outside the vocabulary of " + std::to_string(vocab_size()));
    if (id >= kFirstByte) out += bytes_[id];
  }
  return out;
}

Status BpeTokenizer::Save(const std::string& path) const {
  std::string text = std::string(kMagic) + " " + std::to_string(merges_.size()) + "\n";
  for (const auto& [a, b] : merges_) text += std::to_string(a) + " " + std::to_string(b) + "\n";
  return internal::WriteFileAtomically(path, text);
}

StatusOr<BpeTokenizer> BpeTokenizer::Load(const std::string& path) {
  FEDRA_ASSIGN_OR_RETURN(std::string text, internal::ReadFile(path, [](const struct stat& st) {
                           return st.st_size > (int64_t{64} << 20)
                                      ? InvalidArgumentError("larger than 64 MiB")
                                      : OkStatus();
                         }));
  std::string_view rest = text;
  size_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (rest.empty()) return false;
    const size_t nl = rest.find('\n');
    line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    return true;
  };
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError(path + ":" + std::to_string(line_no) + ": " + why);
  };
  auto number = [](std::string_view s, uint64_t& v) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
  };
  std::string_view line;
  uint64_t count = 0;
  if (!next_line(line) || line.rfind(std::string(kMagic) + " ", 0) != 0 ||
      !number(line.substr(sizeof(kMagic)), count))
    return bad("not a fedra BPE file (expected \"" + std::string(kMagic) + " <merges>\")");
  if (count > kMaxVocab - kBaseVocab) return bad("too many merges");
  std::vector<std::pair<int32_t, int32_t>> merges;
  merges.reserve(count);
  // Bytes per token: a merge can never make one longer than a word (kMaxWordBytes), and a
  // file that chains merges into longer tokens (doubling each time) must not exhaust memory.
  std::vector<size_t> width(kBaseVocab, 1);
  while (next_line(line)) {
    const size_t sp = line.find(' ');
    uint64_t a = 0, b = 0;
    if (sp == std::string_view::npos || !number(line.substr(0, sp), a) ||
        !number(line.substr(sp + 1), b))
      return bad("expected \"<left id> <right id>\"");
    const uint64_t id = kBaseVocab + merges.size();
    if (a < kFirstByte || b < kFirstByte || a >= id || b >= id)
      return bad("merge of ids " + std::to_string(a) + " and " + std::to_string(b) +
                 ": each must be a byte or an earlier merge (below " + std::to_string(id) + ")");
    if (merges.size() == count)
      return bad("more merges than the header's " + std::to_string(count));
    if (width[a] + width[b] > kMaxWordBytes)
      return bad("merge of ids " + std::to_string(a) + " and " + std::to_string(b) + " makes a " +
                 std::to_string(width[a] + width[b]) + "-byte token, longer than a word (" +
                 std::to_string(kMaxWordBytes) + " bytes)");
    width.push_back(width[a] + width[b]);
    merges.emplace_back(static_cast<int32_t>(a), static_cast<int32_t>(b));
  }
  if (merges.size() != count)
    return bad("the header says " + std::to_string(count) + " merges, the file has " +
               std::to_string(merges.size()));
  return BpeTokenizer(std::move(merges));
}

StatusOr<Dataset> TokenizedDataset(const BpeTokenizer& tokenizer,
                                   std::span<const std::string> texts, std::span<const int> labels,
                                   int64_t length, int num_classes) {
  if (texts.size() != labels.size())
    return InvalidArgumentError("tokenized dataset: " + std::to_string(texts.size()) +
                                " texts but " + std::to_string(labels.size()) + " labels");
  if (length < 1 || num_classes < 1)
    return InvalidArgumentError("tokenized dataset: need length >= 1 and num_classes >= 1");
  Dataset d;
  d.example_shape = {length};
  d.num_classes = num_classes;
  d.features = Matrix::Zero(length, static_cast<Eigen::Index>(texts.size()));
  d.targets.resize(1, static_cast<Eigen::Index>(texts.size()));
  for (size_t i = 0; i < texts.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes)
      return InvalidArgumentError("tokenized dataset: label " + std::to_string(labels[i]) +
                                  " of text " + std::to_string(i) + " is not in [0, " +
                                  std::to_string(num_classes) + ")");
    const std::vector<int32_t> ids = tokenizer.Encode(texts[i]);
    const size_t n = std::min(ids.size(), static_cast<size_t>(length));
    for (size_t t = 0; t < n; ++t)
      d.features(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(i)) =
          static_cast<float>(ids[t]);
    d.targets(0, static_cast<Eigen::Index>(i)) = static_cast<float>(labels[i]);
  }
  return d;
}

}  // namespace fedra
