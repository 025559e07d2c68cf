// stack-bench-unpack: the unpack half of `stack pull` + container start, for
// bench/image_bench.sh. `stack pull` only stores blobs; a container's first
// start calls ImageService::ensure_unpacked to turn the layers into overlay
// lower dirs. The CLI has no verb for that step alone, so this helper opens
// the store and calls it, so the bench can time pull and unpack separately.
//
//   stack-bench-unpack --image-root DIR REF
//
// Prints "unpacked N layers in S s" (wall time of ensure_unpacked alone) and
// the snapshot dirs top-first; exits 1 with "stack-bench-unpack: ..." on error.
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

#include "runtime/image/image_service.h"

int main(int argc, char** argv) {
  std::string root = stack::img::kDefaultImageRoot, ref;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--image-root") == 0 && i + 1 < argc) {
      root = argv[++i];
    } else if (argv[i][0] != '-' && ref.empty()) {
      ref = argv[i];
    } else {
      std::cerr << "usage: stack-bench-unpack [--image-root DIR] REF\n";
      return 2;
    }
  }
  if (ref.empty()) {
    std::cerr << "usage: stack-bench-unpack [--image-root DIR] REF\n";
    return 2;
  }
  auto svc = stack::img::ImageService::open(root);
  if (!svc) {
    std::cerr << "stack-bench-unpack: open image store " << root << ": " << svc.error().message() << "\n";
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto dirs = svc->ensure_unpacked(ref);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  if (!dirs) {
    std::cerr << "stack-bench-unpack: " << dirs.error().message() << "\n";
    return 1;
  }
  std::cout << "unpacked " << dirs->size() << " layers in " << took.count() << " s\n";
  for (auto& d : *dirs) std::cout << d << "\n";
  return 0;
}
