// MailText: the readable text of a raw RFC 822 / MIME message (see fedra/ml/mail_corpus.h).
// Lenient by design: mail in the wild breaks every rule, so nothing here fails; what cannot
// be read is dropped.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <string_view>

#include "fedra/ml/mail_corpus.h"

namespace fedra {
namespace {

constexpr int kMaxDepth = 8;  // multipart nesting followed

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Header fields (names lower-cased, folded lines joined) and the body after the first empty
// line. A message without an empty line is all headers.
struct Entity {
  std::map<std::string, std::string> headers;
  std::string_view body;
};

Entity Parse(std::string_view text) {
  Entity e;
  std::string last;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = std::min(end + 1, text.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      e.body = text.substr(pos);
      return e;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !last.empty()) {
      e.headers[last] += " ";
      e.headers[last] += Trim(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a header ("From " mbox line, junk)
    last = Lower(Trim(line.substr(0, colon)));
    auto [it, fresh] = e.headers.try_emplace(last, std::string(Trim(line.substr(colon + 1))));
    if (!fresh) last.clear();  // keep the first of repeated fields; ignore its folds
  }
  return e;
}

std::string Header(const Entity& e, const std::string& name) {
  auto it = e.headers.find(name);
  return it == e.headers.end() ? "" : it->second;
}

// A parameter of a structured header (boundary="...", charset=...), case-insensitive name.
std::string Param(const std::string& value, std::string_view name) {
  const std::string lower = Lower(value);
  size_t at = 0;
  while ((at = lower.find(name, at)) != std::string::npos) {
    const size_t eq = at + name.size();
    const bool starts =
        at == 0 || lower[at - 1] == ';' || std::isspace(static_cast<unsigned char>(lower[at - 1]));
    if (!starts || eq >= lower.size() || lower[eq] != '=') {
      at = eq;
      continue;
    }
    std::string_view v = std::string_view(value).substr(eq + 1);
    v = Trim(v);
    if (!v.empty() && v.front() == '"') {
      v.remove_prefix(1);
      return std::string(v.substr(0, v.find('"')));
    }
    size_t stop = 0;
    while (stop < v.size() && v[stop] != ';' && !std::isspace(static_cast<unsigned char>(v[stop])))
      ++stop;
    return std::string(v.substr(0, stop));
  }
  return "";
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string DecodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = Base64Value(c);
    if (v < 0) continue;  // line breaks and junk
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\n') {  // soft line break
      ++i;
    } else if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < in.size() && HexDigit(in[i + 1]) >= 0 && HexDigit(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(in[i + 1]) * 16 + HexDigit(in[i + 2])));
      i += 2;
    } else {
      out.push_back('=');
    }
  }
  return out;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// &name; or &#N; / &#xH; at in[i] (in[i] == '&'): appends the character and returns the
// length consumed, or 0 if it is not an entity we decode.
size_t DecodeEntity(std::string_view in, size_t i, std::string& out) {
  static const std::map<std::string, uint32_t, std::less<>> kNamed = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '}};
  const size_t semi = in.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) return 0;
  std::string_view name = in.substr(i + 1, semi - i - 1);
  if (name.size() >= 2 && name[0] == '#') {
    uint32_t cp = 0;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    for (char c : name.substr(hex ? 2 : 1)) {
      const int d = hex ? HexDigit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
      if (d < 0 || cp > 0x10ffff) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
    AppendUtf8(cp, out);
    return semi - i + 1;
  }
  auto it = kNamed.find(Lower(name));
  if (it == kNamed.end()) return 0;
  out.push_back(static_cast<char>(it->second));
  return semi - i + 1;
}

std::string HtmlToText(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 2);
  const std::string lower = Lower(in);
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '<') {
      for (std::string_view skip : {"script", "style"}) {  // their content is not text
        if (lower.compare(i + 1, skip.size(), skip) == 0) {
          const size_t close = lower.find("</" + std::string(skip), i);
          i = close == std::string::npos ? in.size() : close;
          break;
        }
      }
      const size_t end = in.find('>', i);
      i = end == std::string_view::npos ? in.size() : end + 1;
      out.push_back(' ');
    } else if (in[i] == '&') {
      const size_t used = DecodeEntity(in, i, out);
      if (used == 0) out.push_back('&');
      i += std::max<size_t>(used, 1);
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}

// The text of one entity's body, following multipart nesting.
void Extract(const Entity& e, int depth, std::string& out, size_t budget) {
  if (out.size() >= budget) return;
  std::string type = Lower(Trim(Header(e, "content-type")));
  type = std::string(Trim(type.substr(0, type.find(';'))));
  if (type.empty()) type = "text/plain";
  if (type.rfind("multipart/", 0) == 0) {
    const std::string boundary = Param(Header(e, "content-type"), "boundary");
    if (boundary.empty() || depth >= kMaxDepth) return;
    const std::string delimiter = "--" + boundary;
    size_t at = e.body.rfind(delimiter, 0) == 0 ? 0 : e.body.find("\n" + delimiter);
    while (at != std::string_view::npos) {
      const size_t line_end = e.body.find('\n', at + 1);
      if (line_end == std::string_view::npos) return;
      const size_t next = e.body.find("\n" + delimiter, line_end);
      std::string_view part = e.body.substr(
          line_end + 1, (next == std::string_view::npos ? e.body.size() : next) - line_end - 1);
      Extract(Parse(part), depth + 1, out, budget);
      if (next == std::string_view::npos) return;
      // "--boundary--" closes the multipart.
      if (e.body.compare(next + 1 + delimiter.size(), 2, "--") == 0) return;
      at = next;
    }
    return;
  }
  if (type != "text/plain" && type != "text/html") return;  // attachments, images, ...
  const std::string encoding = Lower(Trim(Header(e, "content-transfer-encoding")));
  std::string body = encoding == "base64"             ? DecodeBase64(e.body)
                     : encoding == "quoted-printable" ? DecodeQuotedPrintable(e.body)
                                                      : std::string(e.body);
  if (type == "text/html") body = HtmlToText(body);
  out += ' ';
  out += body;
}

// RFC 2047 encoded words (=?charset?Q?...?= or =?charset?B?...?=) in a header, decoded to
// their bytes; whitespace between two encoded words goes, as the RFC says.
std::string DecodeWords(std::string_view in) {
  std::string out;
  size_t i = 0;
  bool after_word = false;
  while (i < in.size()) {
    const size_t start = in.find("=?", i);
    size_t q1 = start == std::string_view::npos ? start : in.find('?', start + 2);
    size_t q2 = q1 == std::string_view::npos ? q1 : in.find('?', q1 + 1);
    size_t end = q2 == std::string_view::npos ? q2 : in.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += in.substr(i);
      break;
    }
    std::string_view gap = in.substr(i, start - i);
    if (!(after_word && Trim(gap).empty())) out += gap;
    std::string_view word = in.substr(q2 + 1, end - q2 - 1);
    const char kind = static_cast<char>(std::toupper(static_cast<unsigned char>(in[q1 + 1])));
    if (kind == 'B') {
      out += DecodeBase64(word);
    } else if (kind == 'Q') {
      std::string w(word);
      std::replace(w.begin(), w.end(), '_', ' ');
      out += DecodeQuotedPrintable(w);
    } else {
      out += in.substr(start, end + 2 - start);
    }
    after_word = true;
    i = end + 2;
  }
  return out;
}

// Runs of ASCII whitespace become one space; leading and trailing ones go.
std::string Squeeze(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool space = false;
  for (char c : in) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string MailText(std::string_view raw, size_t max_text_bytes) {
  const Entity message = Parse(raw);
  std::string body;
  Extract(message, 0, body, 4 * max_text_bytes + 4096);
  std::string text = Squeeze(DecodeWords(Header(message, "subject"))) + "\n" + Squeeze(body);
  if (text.size() > max_text_bytes) text.resize(max_text_bytes);
  return text;
}

}  // namespace fedra
