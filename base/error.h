// Errors as values. Every fallible call in the runtime core returns Result<T>:
// either the value or an Error carrying the errno (0 when the failure is not a
// syscall's) and a context string that names what was being done, so the CLI
// can print one line such as "mount /proc on /run/x/rootfs/proc: Operation not
// permitted".
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace stack {

struct Error {
  int code = 0;         // errno value, 0 when not from a syscall
  std::string context;  // what was being done, most specific last

  // "context: strerror(code)" or just the context when code == 0.
  std::string message() const {
    if (code == 0) return context;
    return context + ": " + std::strerror(code);
  }
  // Prepend an outer context: "create container x: " + inner.
  Error wrap(const std::string& outer) const { return Error{code, outer + ": " + context}; }
  // wrap(), unless the message already starts with that field's name
  // ("linux.resources.blockIO.weight: ..." inside "linux.resources").
  Error within(const std::string& field) const { return context.rfind(field, 0) == 0 ? *this : wrap(field); }
};

template <class T = void>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(std::string context, int code = 0) {
  return tl::unexpected<Error>(Error{code, std::move(context)});
}

// Captures errno at the call site; call it straight after the failed syscall.
inline tl::unexpected<Error> fail_errno(std::string context) {
  int e = errno;
  return tl::unexpected<Error>(Error{e, std::move(context)});
}

}  // namespace stack

// Propagate an error from an expression returning Result<...>, adding context.
#define STACK_TRY_CTX(expr, ctx)                                          \
  do {                                                                     \
    auto stack_try_r_ = (expr);                                            \
    if (!stack_try_r_) return tl::unexpected(stack_try_r_.error().wrap(ctx)); \
  } while (0)

#define STACK_TRY(expr)                                        \
  do {                                                          \
    auto stack_try_r_ = (expr);                                 \
    if (!stack_try_r_) return tl::unexpected(stack_try_r_.error()); \
  } while (0)
