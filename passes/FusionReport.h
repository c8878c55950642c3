//===- FusionReport.h - what fused and what did not, as JSON ----*- C++ -*-===//
//
// The fusion passes record, per pattern, how many chains they fused and every
// near miss with its reason and location. `--llm-fusion-report=FILE.json`
// writes it; C++ users pass their own report to the pipeline and read it.
//
//===----------------------------------------------------------------------===//

#ifndef LLM_FUSION_PASSES_FUSIONREPORT_H
#define LLM_FUSION_PASSES_FUSIONREPORT_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mlir::llm {

class FusionReport {
public:
  struct Miss {
    std::string reason;
    std::string location;
  };
  struct PatternEntry {
    std::string pass;
    int64_t fused = 0;
    std::vector<Miss> missed;
  };

  void addFused(StringRef pass, StringRef pattern, int64_t count);
  void addMiss(StringRef pass, StringRef pattern, StringRef reason,
               Location loc);

  /// Entries keyed by pattern name, in name order.
  std::map<std::string, PatternEntry> entries() const;
  int64_t totalFused() const;
  int64_t totalMissed() const;

  /// The report as JSON text (schema in docs/fusion-passes.md, "The report").
  std::string toJSON() const;
  /// Writes toJSON() to `path`; on failure returns false and sets `error`.
  bool writeFile(StringRef path, std::string &error) const;

private:
  mutable std::mutex mutex;
  std::map<std::string, PatternEntry> byPattern;
};

/// `file:line:col` for a location, or its printed form when it has no file.
std::string formatLocation(Location loc);

} // namespace mlir::llm

#endif // LLM_FUSION_PASSES_FUSIONREPORT_H
