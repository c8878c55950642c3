//===- Npy.cpp - the .npy format, versions 1 to 3 ------------------------===//

#include "runtime/Npy.h"

#include "runtime/Error.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace llmf {

Tensor readNpy(const std::string &path, DType dtype) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, ": cannot open");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    fail(path, ": not a .npy file");
  uint32_t headerLen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char *>(b), 2))
      fail(path, ": truncated header");
    headerLen = b[0] | (b[1] << 8);
  } else if (magic[6] == 2 || magic[6] == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char *>(b), 4))
      fail(path, ": truncated header");
    headerLen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  } else {
    fail(path, ": unsupported .npy version ", int(magic[6]));
  }
  if (headerLen > (1u << 16))
    fail(path, ": header of ", headerLen, " bytes is too large (at most 65536)");
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen))
    fail(path, ": truncated header");
  // The value after `'key':` (skipping blanks), as plain string scanning:
  // a regex over a hostile header can take time or stack without bound.
  auto valueOf = [&](const char *key) -> std::optional<size_t> {
    size_t at = header.find(key);
    if (at == std::string::npos)
      return std::nullopt;
    at = header.find_first_not_of(" \t", at + std::strlen(key));
    return at == std::string::npos ? std::nullopt : std::optional<size_t>(at);
  };
  std::optional<size_t> at = valueOf("'descr':");
  size_t close = at && header[*at] == '\'' ? header.find('\'', *at + 1) : std::string::npos;
  if (close == std::string::npos)
    fail(path, ": header has no descr");
  std::string descr = header.substr(*at + 1, close - *at - 1);
  at = valueOf("'fortran_order':");
  if (at && header.compare(*at, 4, "True") == 0)
    fail(path, ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
  at = valueOf("'shape':");
  close = at && header[*at] == '(' ? header.find(')', *at) : std::string::npos;
  if (close == std::string::npos)
    fail(path, ": header has no shape");
  Shape shape;
  std::stringstream dims(header.substr(*at + 1, close - *at - 1));
  std::string item;
  while (std::getline(dims, item, ',')) {
    size_t first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first == std::string::npos)
      continue;
    item = item.substr(first, last - first + 1);
    if (item.find_first_not_of("0123456789") != std::string::npos)
      fail(path, ": bad dim '", item, "' in the header's shape (dims are integers >= 0)");
    errno = 0;
    char *end = nullptr;
    unsigned long long d = std::strtoull(item.c_str(), &end, 10);
    if (errno == ERANGE || d > static_cast<unsigned long long>(INT64_MAX))
      fail(path, ": dim ", item, " in the header's shape does not fit 64 bits");
    shape.push_back(static_cast<int64_t>(d));
  }
  int64_t n = 0;
  try {
    n = numElements(shape);
  } catch (const Error &e) {
    fail(path, ": ", e.what());
  }
  size_t srcSize = 0;
  if (descr == "<f4" || descr == "<i4")
    srcSize = 4;
  else if (descr == "<f8" || descr == "<i8")
    srcSize = 8;
  else if (descr == "<f2")
    srcSize = 2;
  else
    fail(path, ": unsupported element type '", descr, "' (use <f2, <f4, <f8, <i4 or <i8)");
  bool srcFloat = descr[1] == 'f';
  if (srcFloat != isFloat(dtype))
    fail(path, ": holds ", descr, " but the argument is ", dtypeName(dtype));
  // The file must hold the data before anything is allocated for it.
  std::streampos dataStart = in.tellg();
  in.seekg(0, std::ios::end);
  std::streamoff available = in.tellg() - dataStart;
  in.seekg(dataStart);
  int64_t needed = 0;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(srcSize), &needed) ||
      needed > available)
    fail(path, ": truncated data (", n, " elements of ", descr, " expected, the file holds ",
         static_cast<int64_t>(available), " bytes of data)");
  size_t bytes = checkedTensorBytes(n, dtype, path);
  std::vector<char> raw(static_cast<size_t>(needed));
  if (!in.read(raw.data(), raw.size()))
    fail(path, ": truncated data (", n, " elements of ", descr, " expected)");
  Tensor t(dtype, shape, allocateHostBuffer(bytes));
  for (int64_t i = 0; i < n; ++i) {
    const char *p = raw.data() + i * srcSize;
    void *dst = t.elementPtr(i);
    if (descr == "<f4") {
      writeFloat(dtype, dst, readFloat(DType::F32, p));
    } else if (descr == "<f2") {
      writeFloat(dtype, dst, readFloat(DType::F16, p));
    } else if (descr == "<f8") {
      double v;
      std::memcpy(&v, p, 8);
      writeFloat(dtype, dst, static_cast<float>(v));
    } else if (descr == "<i4") {
      int32_t v;
      std::memcpy(&v, p, 4);
      writeInt(dtype, dst, v);
    } else {
      int64_t v;
      std::memcpy(&v, p, 8);
      if (dtype == DType::I32 && (v < INT32_MIN || v > INT32_MAX))
        fail(path, ": element ", i, " is ", v, ", which does not fit the argument's i32");
      writeInt(dtype, dst, v);
    }
  }
  return t;
}

void writeNpy(const std::string &path, const Tensor &t) {
  std::string descr = isFloat(t.dtype()) ? "<f4" : t.dtype() == DType::I64 ? "<i8" : "<i4";
  std::string shape = "(";
  for (int64_t d : t.shape())
    shape += std::to_string(d) + ",";
  if (t.rank() > 1)
    shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out)
    fail(path, ": cannot write");
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  char lenBytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(lenBytes, 2);
  out << header;
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (descr == "<f4") {
      float v = loadFloat(t, i);
      out.write(reinterpret_cast<const char *>(&v), 4);
    } else if (descr == "<i8") {
      int64_t v = loadInt(t, i);
      out.write(reinterpret_cast<const char *>(&v), 8);
    } else {
      int32_t v = static_cast<int32_t>(loadInt(t, i));
      out.write(reinterpret_cast<const char *>(&v), 4);
    }
  }
  out.close();
  if (!out)
    fail(path, ": write failed (disk full?)");
}

} // namespace llmf
