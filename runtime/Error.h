//===- Error.h - the runtime's one error type ------------------*- C++ -*-===//
//
// Everything the runtime rejects (a malformed plan, a shape a kernel cannot
// take, an input of the wrong type) throws llmf::Error with a message that
// names where it happened. Tools catch it at the top, print it and exit 1.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_RUNTIME_ERROR_H
#define LLM_FUSION_RUNTIME_ERROR_H

#include <sstream>
#include <stdexcept>
#include <string>

namespace llmf {

/// A user-facing runtime error: the message is printed as is.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

/// Builds a message from streamable parts and throws it as llmf::Error.
template <typename... Parts>
[[noreturn]] void fail(const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

} // namespace llmf

#endif // LLM_FUSION_RUNTIME_ERROR_H
