//===- Mutator.cpp - structure-aware mutations of tool inputs ------------===//

#include "tools/fusion-fuzz/Mutator.h"

#include <cctype>

namespace llmf::fuzz {
namespace {

/// Values at the edges of every size, count and float check.
const std::vector<std::string> kBoundaryNumbers = {"0",
                                                   "1",
                                                   "-1",
                                                   "2",
                                                   "3",
                                                   "7",
                                                   "8",
                                                   "-8",
                                                   "64",
                                                   "127",
                                                   "128",
                                                   "255",
                                                   "256",
                                                   "4096",
                                                   "65535",
                                                   "65536",
                                                   "2147483647",
                                                   "2147483648",
                                                   "-2147483649",
                                                   "4294967296",
                                                   "4294967297",
                                                   "9007199254740993",
                                                   "1152921504606846977",
                                                   "4611686018427387904",
                                                   "9223372036854775807",
                                                   "-9223372036854775808",
                                                   "18446744073709551624",
                                                   "1.0e+38",
                                                   "3.4e+39",
                                                   "-0.0",
                                                   "0.5",
                                                   "1.0e-45",
                                                   "1.0e-06",
                                                   "nan",
                                                   "inf",
                                                   "-inf",
                                                   "0x7F800000",
                                                   "0x7FC00000",
                                                   "448",
                                                   "449"};

const std::vector<std::string> kElementTypes = {"bf16", "f16", "f32", "f8E4M3FN",
                                                "i32",  "i64", "i1",  "f64"};

const std::vector<std::string> kOpNames = {"constant",
                                           "cast",
                                           "add",
                                           "sub",
                                           "mul",
                                           "div",
                                           "sigmoid",
                                           "silu",
                                           "relu",
                                           "reshape",
                                           "split",
                                           "matmul",
                                           "all_reduce",
                                           "rms_norm",
                                           "fused_add_rms_norm",
                                           "rms_norm_gated",
                                           "quant_fp8",
                                           "quant_fp8_static",
                                           "topk",
                                           "gather",
                                           "grouped_topk",
                                           "fused_all_reduce_rms_norm",
                                           "fused_all_reduce_add_rms_norm",
                                           "fused_rms_norm_gated_quant_fp8",
                                           "fused_moe_router",
                                           "fused_qk_rms_norm"};

struct Span {
  size_t begin, end;
};

/// Spans of `s` where `is` holds for a run of characters that `starts`.
template <typename Starts, typename Is>
std::vector<Span> tokens(const std::string &s, Starts starts, Is is) {
  std::vector<Span> out;
  for (size_t i = 0; i < s.size();) {
    if (!starts(s, i)) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < s.size() && is(s[j]))
      ++j;
    out.push_back({i, j});
    i = j;
  }
  return out;
}

std::vector<Span> numbers(const std::string &s) {
  return tokens(
      s,
      [](const std::string &t, size_t i) {
        return std::isdigit(static_cast<unsigned char>(t[i])) &&
               (i == 0 || !std::isalnum(static_cast<unsigned char>(t[i - 1])));
      },
      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+'; });
}

std::vector<Span> ssaNames(const std::string &s) {
  return tokens(
      s, [](const std::string &t, size_t i) { return t[i] == '%'; },
      [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '#'; });
}

std::vector<Span> words(const std::string &s, const std::vector<std::string> &vocabulary) {
  std::vector<Span> out;
  for (const std::string &w : vocabulary)
    for (size_t at = s.find(w); at != std::string::npos; at = s.find(w, at + 1))
      out.push_back({at, at + w.size()});
  return out;
}

std::vector<std::string> lines(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string> &ls) {
  std::string out;
  for (size_t i = 0; i < ls.size(); ++i)
    out += ls[i] + (i + 1 < ls.size() ? "\n" : "");
  return out;
}

std::string replaceSpan(const std::string &s, Span sp, const std::string &with) {
  return s.substr(0, sp.begin) + with + s.substr(sp.end);
}

std::string mutateOnce(const std::string &s, const std::vector<std::string> &corpus, Rng &rng) {
  switch (rng.below(11)) {
  case 0:
  case 1:
  case 2: { // a number at an edge
    auto spans = numbers(s);
    if (spans.empty())
      break;
    return replaceSpan(s, rng.pick(spans), rng.pick(kBoundaryNumbers));
  }
  case 3: { // an element type swapped
    auto spans = words(s, kElementTypes);
    if (spans.empty())
      break;
    return replaceSpan(s, rng.pick(spans), rng.pick(kElementTypes));
  }
  case 4: { // an op swapped for another
    auto spans = words(s, {"llm."});
    if (spans.empty())
      break;
    Span at = rng.pick(spans);
    size_t end = at.end;
    while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_'))
      ++end;
    return replaceSpan(s, {at.end, end}, rng.pick(kOpNames));
  }
  case 5: { // one use redirected to another value: shared operands
    auto spans = ssaNames(s);
    if (spans.size() < 2)
      break;
    Span from = rng.pick(spans), to = rng.pick(spans);
    return replaceSpan(s, from, s.substr(to.begin, to.end - to.begin));
  }
  case 6: { // a line dropped, duplicated or swapped
    auto ls = lines(s);
    if (ls.size() < 2)
      break;
    size_t i = rng.below(ls.size()), j = rng.below(ls.size());
    switch (rng.below(3)) {
    case 0:
      ls.erase(ls.begin() + i);
      break;
    case 1:
      ls.insert(ls.begin() + i, ls[j]);
      break;
    default:
      std::swap(ls[i], ls[j]);
      break;
    }
    return join(ls);
  }
  case 7: { // a line spliced in from another seed
    if (corpus.empty())
      break;
    auto donor = lines(rng.pick(corpus));
    auto ls = lines(s);
    ls.insert(ls.begin() + rng.below(ls.size() + 1), rng.pick(donor));
    return join(ls);
  }
  case 8: { // a `?` for a static dim and back
    auto spans = words(s, {"?x", "x?"});
    if (!spans.empty() && rng.chance(50))
      return replaceSpan(s, rng.pick(spans), rng.chance(50) ? "1x" : "x0");
    auto dims = words(s, {"x"});
    if (dims.empty())
      break;
    Span at = rng.pick(dims);
    return replaceSpan(s, at, "x?");
  }
  case 9: { // bytes flipped, inserted or cut
    if (s.empty())
      return std::string(1, static_cast<char>(rng.below(256)));
    size_t at = rng.below(s.size());
    std::string out = s;
    switch (rng.below(3)) {
    case 0:
      out[at] = static_cast<char>(out[at] ^ (1u << rng.below(8)));
      break;
    case 1:
      out.insert(at, 1, static_cast<char>(rng.below(256)));
      break;
    default:
      out.erase(at, 1 + rng.below(std::min<size_t>(16, s.size() - at)));
      break;
    }
    return out;
  }
  default: { // the end cut off: a truncated file
    if (s.empty())
      break;
    return s.substr(0, rng.below(s.size()));
  }
  }
  return s;
}

} // namespace

std::string mutate(const std::string &input, const std::vector<std::string> &corpus, Rng &rng,
                   unsigned maxMutations) {
  std::string out = input;
  unsigned n = 1 + static_cast<unsigned>(rng.below(maxMutations));
  for (unsigned i = 0; i < n; ++i)
    out = mutateOnce(out, corpus, rng);
  return out;
}

} // namespace llmf::fuzz
