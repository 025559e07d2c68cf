// fuzz_api_request exercises the request parser and the stack routes against
// an engine stub. The image routes work on a real image store and registries
// (runtime/image), which a fuzzer must not write to and which would pull the
// whole image library into the instrumented build: here they answer 404,
// and their own tests are tests/integration/image_daemon_test.cc.
#include "orchestrator/daemon/server/image_routes.h"

namespace stack::orch {

void handle_image_request(const ServerInfo&, const ApiRequest&, ApiResponder& out) {
  out.reply(404, R"({"error":"image routes are not part of the fuzz target"})");
}

}  // namespace stack::orch
