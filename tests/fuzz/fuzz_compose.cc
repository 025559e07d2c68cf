// The Compose loader on one in-memory file: YAML, interpolation, schema,
// extends/include, merge, profiles, normalize and checks. A project that
// loads must survive what stackd does with it: to_json() is sent to the
// daemon, which reads it back with project_from_json() (an exact inverse,
// per loader.h), and `stack config` prints to_yaml().
//
// The working directory holds two fixture files so that `extends: {file:}`,
// `include:` and `env_file:` reach their code with real content.
#include <cstdio>
#include <fstream>

#include "orchestrator/compose/loader.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace stack;

struct Fixture {
  fuzz::TempDir dir{"stack-fuzz-compose"};
  compose::LoadOptions options;
  Fixture() {
    std::ofstream(dir.path() + "/common.yaml") << "services:\n  base:\n    image: busybox\n"
                                                  "    environment: [A=1]\n    ports: ['80']\n";
    std::ofstream(dir.path() + "/app.env") << "# fixture\nKEY=value\nexport OTHER=\"two words\"\n";
    options.working_dir = dir.path();
    options.environment = {{"TAG", "1.2"}, {"PORT", "8080"}, {"EMPTY", ""}, {"COMPOSE_PROFILES", "debug"}};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;  // static: built once; libFuzzer runs every input in this process
  auto loaded = compose::load_project_from_string(fuzz::as_string(data, size), "compose.yaml", fx.options);
  if (!loaded) return 0;
  std::string json = compose::to_json(loaded->project);
  auto back = compose::project_from_json(json);
  if (!back) {
    std::fprintf(stderr, "project_from_json rejected to_json output: %s\n%s\n", back.error().message().c_str(),
                 json.c_str());
    std::abort();
  }
  if (compose::to_json(*back) != json) {
    std::fprintf(stderr, "to_json/project_from_json round trip changed the project:\n%s\n", json.c_str());
    std::abort();
  }
  (void)compose::to_yaml(loaded->project);
  for (auto& w : loaded->warnings) (void)w.to_string();
  return 0;
}
