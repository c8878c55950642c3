//===- TensorTest.cpp - layouts and zero-copy views ----------------------===//

#include "runtime/Tensor.h"

#include "OpTestSupport.h"

#include <catch2/catch.hpp>

using namespace llmf;

TEST_CASE("split and reshape of qkv are views: q heads keep the qkv row stride",
          "[runtime][tensor]") {
  // qkv [T=3, 4 q heads + 2 k heads + 2 v heads of D=2] = [3, 16].
  Tensor qkv = test::tensor(DType::F32, {3, 16}, std::vector<float>(48, 1.0f));
  for (int64_t i = 0; i < 48; ++i)
    writeFloat(DType::F32, qkv.elementPtr(i), static_cast<float>(i));
  auto k = qkv.sliceView(1, 8, 4);
  REQUIRE(k);
  CHECK(k->shape() == Shape{3, 4});
  CHECK_FALSE(k->isContiguous());
  auto kHeads = k->reshapeView({6, 2});
  REQUIRE(kHeads);
  REQUIRE(kHeads->hasContiguousRows());
  auto layout = kHeads->rowLayout();
  REQUIRE(layout);
  CHECK(layout->rowsPerGroup == 2);
  CHECK(layout->groupStride == 16);
  // Row 3 is token 1, head 1: elements 16 + 8 + 2 = 26 and 27.
  CHECK(loadFloat(*kHeads, 6) == 26.0f);
  CHECK(loadFloat(*kHeads, 7) == 27.0f);
  CHECK(kHeads->buffer() == qkv.buffer());
}

TEST_CASE("a 2-D column slice has a uniform row stride", "[runtime][tensor]") {
  Tensor x = test::tensor(DType::BF16, {4, 10}, {0.0f});
  auto v = x.sliceView(1, 6, 4);
  REQUIRE(v);
  auto layout = v->rowLayout();
  REQUIRE(layout);
  CHECK(layout->rowsPerGroup == 1);
  CHECK(layout->groupStride == 10);
  CHECK(v->offset() == 6);
}

TEST_CASE("a slice a layout cannot express is refused (the executor copies)",
          "[runtime][tensor]") {
  Tensor x = test::tensor(DType::F32, {4, 6}, {0.0f});
  auto cols = x.sliceView(1, 0, 4);   // [4, 4] with row stride 6
  REQUIRE(cols);
  auto flat = cols->reshapeView({16}); // rows are not evenly spaced in 1-D
  REQUIRE(flat);
  // One logical dim over two strided runs cannot be sliced in place.
  CHECK_FALSE(flat->sliceView(0, 2, 4));
  CHECK_FALSE(flat->sliceView(0, 4, 4));
  auto rows = cols->sliceView(0, 1, 2); // rows 1 and 2 of the 2-D view
  REQUIRE(rows);
  CHECK(rows->offset() == 6);
  CHECK_FALSE(x.reshapeView({5, 5}));    // element count differs
}
