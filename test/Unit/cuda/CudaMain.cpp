//===- CudaMain.cpp - GPU tests: run on a GPU, report skipped without -----===//
//
// Without a usable CUDA device the binary prints why and exits 77, which
// ctest reports as skipped (SKIP_RETURN_CODE), never as passed.
//
//===----------------------------------------------------------------------===//

#define CATCH_CONFIG_RUNNER
#include "runtime/cuda/CudaBackend.h"

#include <catch2/catch.hpp>

#include <iostream>

int main(int argc, char **argv) {
  std::string why;
  if (!llmf::cudaAvailable(&why)) {
    std::cout << "SKIPPED: no usable CUDA device (" << why << ")\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
