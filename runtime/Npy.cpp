//===- Npy.cpp - the .npy format, versions 1 to 3 ------------------------===//

#include "runtime/Npy.h"

#include "runtime/Error.h"

#include <cstring>
#include <fstream>
#include <regex>
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
  if (headerLen > (1u << 20))
    fail(path, ": header too large");
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen))
    fail(path, ": truncated header");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    fail(path, ": header has no descr");
  std::string descr = m[1];
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    fail(path, ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    fail(path, ": header has no shape");
  Shape shape;
  std::stringstream dims(m[1].str());
  std::string item;
  while (std::getline(dims, item, ','))
    if (item.find_first_not_of(" ") != std::string::npos)
      shape.push_back(std::stoll(item));
  int64_t n = numElements(shape);
  size_t srcSize = 0;
  if (descr == "<f4" || descr == "<i4")
    srcSize = 4;
  else if (descr == "<f8" || descr == "<i8")
    srcSize = 8;
  else if (descr == "<f2")
    srcSize = 2;
  else
    fail(path, ": unsupported element type '", descr, "' (use <f2, <f4, <f8, <i4 or <i8)");
  std::vector<char> raw(static_cast<size_t>(n) * srcSize);
  if (!in.read(raw.data(), raw.size()))
    fail(path, ": truncated data (", n, " elements of ", descr, " expected)");
  Tensor t(dtype, shape, allocateHostBuffer(n * dtypeSize(dtype)));
  bool srcFloat = descr[1] == 'f';
  if (srcFloat != isFloat(dtype))
    fail(path, ": holds ", descr, " but the argument is ", dtypeName(dtype));
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
  if (!out)
    fail(path, ": write failed");
}

} // namespace llmf
