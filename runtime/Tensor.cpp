//===- Tensor.cpp - tensors, layouts and zero-copy views ---------------===//

#include "runtime/Tensor.h"

#include "runtime/Error.h"

#include <atomic>
#include <cstring>
#include <unistd.h>
#include <sstream>

namespace llmf {

std::string_view deviceName(Device d) {
  return d == Device::CPU ? "cpu" : "cuda";
}

std::shared_ptr<Buffer> allocateHostBuffer(size_t bytes) {
  auto buffer = std::make_shared<Buffer>();
  buffer->data = ::operator new(bytes == 0 ? 1 : bytes);
  buffer->bytes = bytes;
  buffer->device = Device::CPU;
  buffer->release = [](Buffer &b) { ::operator delete(b.data); };
  return buffer;
}

std::string shapeToString(const Shape &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  os << "]";
  return os.str();
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      fail("shape ", shapeToString(shape), " has a negative or unbound dim");
    if (__builtin_mul_overflow(n, d, &n))
      fail("shape ", shapeToString(shape),
           " has more elements than fit in 64 bits");
  }
  return n;
}

namespace {
uint64_t physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || pageSize <= 0)
    return uint64_t(1) << 40;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
}
std::atomic<uint64_t> &byteLimit() {
  static std::atomic<uint64_t> limit{physicalMemoryBytes()};
  return limit;
}
} // namespace

uint64_t tensorByteLimit() { return byteLimit().load(); }
void setTensorByteLimit(uint64_t bytes) { byteLimit().store(bytes); }

size_t checkedTensorBytes(int64_t numel, DType dtype, const std::string &what) {
  int64_t bytes = 0;
  if (numel < 0 ||
      __builtin_mul_overflow(numel, static_cast<int64_t>(dtypeSize(dtype)), &bytes))
    fail(what, ": ", numel, " elements of ", dtypeName(dtype),
         " take more bytes than fit in 64 bits");
  if (static_cast<uint64_t>(bytes) > tensorByteLimit())
    fail(what, ": ", numel, " elements of ", dtypeName(dtype), " take ", bytes,
         " bytes, more than the ", tensorByteLimit(),
         "-byte limit of one tensor (the machine's memory, or --max-memory)");
  return static_cast<size_t>(bytes);
}

Tensor::Tensor(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer,
               int64_t offset)
    : dtype_(dtype), shape_(std::move(shape)), buffer_(std::move(buffer)),
      offset_(offset) {
  layoutSizes_ = {numElements(shape_)};
  layoutStrides_ = {1};
}

void Tensor::normalizeLayout() {
  Shape sizes, strides;
  for (size_t i = 0; i < layoutSizes_.size(); ++i) {
    if (layoutSizes_[i] == 1)
      continue;
    if (layoutSizes_[i] == 0) { // An empty tensor: one empty dim says it.
      sizes = {0};
      strides = {1};
      break;
    }
    if (!sizes.empty() && strides.back() == layoutSizes_[i] * layoutStrides_[i]) {
      sizes.back() *= layoutSizes_[i];
      strides.back() = layoutStrides_[i];
      continue;
    }
    sizes.push_back(layoutSizes_[i]);
    strides.push_back(layoutStrides_[i]);
  }
  if (sizes.empty()) {
    sizes = {1};
    strides = {1};
  }
  layoutSizes_ = std::move(sizes);
  layoutStrides_ = std::move(strides);
}

bool Tensor::isContiguous() const {
  return layoutSizes_.size() == 1 && layoutStrides_[0] == 1;
}

int64_t Tensor::elementOffset(int64_t linear) const {
  int64_t off = 0;
  for (size_t i = layoutSizes_.size(); i-- > 0;) {
    off += (linear % layoutSizes_[i]) * layoutStrides_[i];
    linear /= layoutSizes_[i];
  }
  return offset_ + off;
}

void *Tensor::data() const {
  return static_cast<char *>(buffer_->data) + offset_ * dtypeSize(dtype_);
}

void *Tensor::elementPtr(int64_t linear) const {
  return static_cast<char *>(buffer_->data) +
         elementOffset(linear) * dtypeSize(dtype_);
}

bool Tensor::hasContiguousRows() const {
  int64_t d = rowLength();
  if (d <= 1)
    return true;
  return layoutStrides_.back() == 1 &&
         (layoutSizes_.size() == 1 || layoutSizes_.back() % d == 0);
}

std::optional<Tensor::RowLayout> Tensor::rowLayout() const {
  if (!hasContiguousRows())
    return std::nullopt;
  int64_t d = rowLength();
  if (layoutSizes_.size() == 1)
    return RowLayout{1, d};
  if (layoutSizes_.size() != 2 || d == 0)
    return std::nullopt;
  return RowLayout{layoutSizes_[1] / d, layoutStrides_[0]};
}

std::optional<Tensor> Tensor::reshapeView(const Shape &newShape) const {
  if (numElements(newShape) != numel())
    return std::nullopt;
  // The layout maps row-major linear indices to memory, and a reshape keeps
  // the linear order: only the logical shape changes.
  Tensor view = *this;
  view.shape_ = newShape;
  return view;
}

std::optional<Tensor> Tensor::sliceView(int64_t dim, int64_t start,
                                        int64_t size) const {
  if (dim < 0 || dim >= rank() || start < 0 || size < 0 ||
      start + size > shape_[dim])
    return std::nullopt;
  if (numel() == 0 || size == 0) {
    Tensor view = *this;
    view.shape_[dim] = size;
    view.layoutSizes_ = {0};
    view.layoutStrides_ = {1};
    return view;
  }
  // Refine the layout so that each logical dim is a run of layout dims,
  // walking both from the outermost dim; fails when neither size divides
  // the other.
  struct Refined {
    int64_t size, stride, logical;
  };
  std::vector<Refined> refined;
  size_t li = 0;
  int64_t lRemaining = layoutSizes_[0];
  for (int64_t j = 0; j < rank(); ++j) {
    int64_t sRemaining = shape_[j];
    if (sRemaining == 1) {
      refined.push_back({1, 0, j});
      continue;
    }
    while (sRemaining > 1) {
      while (lRemaining == 1) {
        ++li;
        lRemaining = layoutSizes_[li];
      }
      int64_t stride = layoutStrides_[li];
      if (lRemaining % sRemaining == 0) {
        int64_t inner = lRemaining / sRemaining;
        refined.push_back({sRemaining, stride * inner, j});
        lRemaining = inner;
        sRemaining = 1;
      } else if (sRemaining % lRemaining == 0) {
        refined.push_back({lRemaining, stride, j});
        sRemaining /= lRemaining;
        lRemaining = 1;
      } else {
        return std::nullopt;
      }
    }
  }
  // The sliced logical dim must be one strided run.
  std::vector<Refined> group;
  for (const Refined &r : refined)
    if (r.logical == dim && r.size != 1)
      group.push_back(r);
  for (size_t i = 1; i < group.size(); ++i)
    if (group[i - 1].stride != group[i].size * group[i].stride)
      return std::nullopt;
  int64_t dimStride = group.empty() ? 0 : group.back().stride;

  Tensor view = *this;
  view.shape_[dim] = size;
  view.offset_ = offset_ + start * dimStride;
  view.layoutSizes_.clear();
  view.layoutStrides_.clear();
  bool emitted = false;
  for (const Refined &r : refined) {
    if (r.logical == dim) {
      if (!emitted) {
        view.layoutSizes_.push_back(size);
        view.layoutStrides_.push_back(dimStride);
        emitted = true;
      }
      continue;
    }
    view.layoutSizes_.push_back(r.size);
    view.layoutStrides_.push_back(r.stride);
  }
  view.normalizeLayout();
  return view;
}

std::string Tensor::describe() const {
  std::ostringstream os;
  os << "tensor<" << shapeToString(shape_) << " x " << dtypeName(dtype_) << ">";
  return os.str();
}

float readFloat(DType t, const void *p) {
  switch (t) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F16: {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return f16BitsToFloat(b);
  }
  case DType::BF16: {
    uint16_t b;
    std::memcpy(&b, p, 2);
    return bf16BitsToFloat(b);
  }
  case DType::F8E4M3FN:
    return f8E4M3FNBitsToFloat(*static_cast<const uint8_t *>(p));
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return static_cast<float>(v);
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  }
  return 0.0f;
}

void writeFloat(DType t, void *p, float v) {
  switch (t) {
  case DType::F32:
    std::memcpy(p, &v, 4);
    return;
  case DType::F16: {
    uint16_t b = floatToF16Bits(v);
    std::memcpy(p, &b, 2);
    return;
  }
  case DType::BF16: {
    uint16_t b = floatToBF16Bits(v);
    std::memcpy(p, &b, 2);
    return;
  }
  case DType::F8E4M3FN:
    *static_cast<uint8_t *>(p) = floatToF8E4M3FNBits(v);
    return;
  case DType::I32:
  case DType::I64:
    writeInt(t, p, static_cast<int64_t>(v));
    return;
  }
}

void writeInt(DType t, void *p, int64_t v) {
  if (t == DType::I32) {
    int32_t w = static_cast<int32_t>(v);
    std::memcpy(p, &w, 4);
  } else if (t == DType::I64) {
    std::memcpy(p, &v, 8);
  } else {
    writeFloat(t, p, static_cast<float>(v));
  }
}

float loadFloat(const Tensor &t, int64_t linear) {
  return readFloat(t.dtype(), t.elementPtr(linear));
}

int64_t loadInt(const Tensor &t, int64_t linear) {
  const void *p = t.elementPtr(linear);
  if (t.dtype() == DType::I32) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (t.dtype() == DType::I64) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  return static_cast<int64_t>(readFloat(t.dtype(), p));
}

} // namespace llmf
