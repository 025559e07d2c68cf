#include "netplane/nft.h"

#include <cerrno>

namespace stack::net {

stack::Result<Nft> Nft::open() {
  nft_ctx* c = nft_ctx_new(NFT_CTX_DEFAULT);
  if (c == nullptr) return stack::fail("create nftables context", ENOMEM);
  Nft n(c);
  // Buffer both streams: libnftables otherwise writes to our stdout/stderr.
  if (nft_ctx_buffer_output(c) != 0 || nft_ctx_buffer_error(c) != 0)
    return stack::fail("buffer nftables output", ENOMEM);
  return n;
}

stack::Result<std::string> Nft::exec(const std::string& commands, unsigned flags,
                                  const std::string& what) {
  nft_ctx_output_set_flags(ctx_.get(), flags);
  int rc = nft_run_cmd_from_buffer(ctx_.get(), commands.c_str());
  const char* out = nft_ctx_get_output_buffer(ctx_.get());  // owned by ctx, reset per call
  const char* err = nft_ctx_get_error_buffer(ctx_.get());
  std::string output = out ? out : "";
  if (rc != 0) {
    std::string msg = err ? err : "";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // nft prints "Error: ...\n<command>\n   ^^^"; keep it whole, it names the bad line.
    return stack::fail("nftables " + what + ": " + (msg.empty() ? "failed" : msg), 0);
  }
  return output;
}

stack::Result<void> Nft::run(const std::string& commands, const std::string& what) {
  STACK_TRY(exec(commands, 0, what));
  return {};
}

stack::Result<std::string> Nft::list_json(const std::string& command) {
  return exec(command, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE, command);
}

bool Nft::exists(const std::string& object) {
  return exec("list " + object, 0, "list " + object).has_value();
}

}  // namespace stack::net
