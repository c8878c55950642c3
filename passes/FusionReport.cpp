//===- FusionReport.cpp - what fused and what did not, as JSON ------------===//

#include "passes/FusionReport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <tuple>

using namespace mlir;
using namespace mlir::llm;

static constexpr int kReportVersion = 1;

void FusionReport::addFused(StringRef pass, StringRef pattern, int64_t count) {
  std::lock_guard<std::mutex> lock(mutex);
  PatternEntry &entry = byPattern[pattern.str()];
  entry.pass = pass.str();
  entry.fused += count;
}

void FusionReport::addMiss(StringRef pass, StringRef pattern, StringRef reason,
                           Location loc) {
  std::lock_guard<std::mutex> lock(mutex);
  PatternEntry &entry = byPattern[pattern.str()];
  entry.pass = pass.str();
  entry.missed.push_back({reason.str(), formatLocation(loc)});
}

std::map<std::string, FusionReport::PatternEntry>
FusionReport::entries() const {
  std::lock_guard<std::mutex> lock(mutex);
  return byPattern;
}

int64_t FusionReport::totalFused() const {
  int64_t n = 0;
  for (const auto &[name, entry] : entries())
    n += entry.fused;
  return n;
}

int64_t FusionReport::totalMissed() const {
  int64_t n = 0;
  for (const auto &[name, entry] : entries())
    n += static_cast<int64_t>(entry.missed.size());
  return n;
}

std::string FusionReport::toJSON() const {
  nlohmann::ordered_json patterns = nlohmann::ordered_json::object();
  int64_t fused = 0, missed = 0;
  for (const auto &[name, entry] : entries()) {
    // Functions fuse in parallel: misses are listed by location, so the
    // report is the same on every run.
    std::vector<Miss> sorted = entry.missed;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Miss &a, const Miss &b) {
      return std::tie(a.location, a.reason) < std::tie(b.location, b.reason);
    });
    nlohmann::ordered_json misses = nlohmann::ordered_json::array();
    for (const Miss &m : sorted)
      misses.push_back({{"reason", m.reason}, {"location", m.location}});
    patterns[name] = {{"pass", entry.pass},
                      {"fused", entry.fused},
                      {"missed", misses}};
    fused += entry.fused;
    missed += static_cast<int64_t>(entry.missed.size());
  }
  nlohmann::ordered_json doc = {
      {"version", kReportVersion},
      {"totals", {{"fused", fused}, {"missed", missed}}},
      {"patterns", patterns}};
  return doc.dump(2) + "\n";
}

bool FusionReport::writeFile(StringRef path, std::string &error) const {
  std::ofstream out(path.str());
  if (!out) {
    error = "cannot open fusion report file '" + path.str() + "' for writing";
    return false;
  }
  out << toJSON();
  out.close(); // a full disk shows only when the buffer is written out
  if (!out) {
    error = "failed to write fusion report file '" + path.str() + "'";
    return false;
  }
  return true;
}

std::string mlir::llm::formatLocation(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return formatLocation(fused.getLocations().front());
  if (auto name = dyn_cast<NameLoc>(loc))
    return formatLocation(name.getChildLoc());
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}
