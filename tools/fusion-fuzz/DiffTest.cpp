//===- DiffTest.cpp - fused against unfused on random valid graphs --------===//

#include "tools/fusion-fuzz/DiffTest.h"

#include "tools/fusion-fuzz/GraphGen.h"
#include "tools/fusion-fuzz/Harness.h"

#include "ir/LLMOps.h"
#include "runtime/Compare.h"
#include "runtime/Error.h"
#include "runtime/Inputs.h"
#include "runtime/cpu/CpuBackend.h"
#include "translate/LLMToPlan.h"

#include "mlir/IR/Diagnostics.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace llmf::fuzz {
namespace {

using mlir::llm::LLMFusionPipelineOptions;

/// One pass of the pipeline, and the fused ops its family makes.
struct PassInfo {
  const char *name;
  std::function<void(LLMFusionPipelineOptions &, bool)> enable;
  std::function<bool(mlir::Operation *)> isFused;
};

const std::vector<PassInfo> &passes() {
  using namespace mlir::llm;
  static const std::vector<PassInfo> list = {
      {"raise-norms", [](LLMFusionPipelineOptions &o, bool on) { o.raiseNorms = on; },
       [](mlir::Operation *op) { return mlir::isa<RMSNormOp, RMSNormGatedOp>(op); }},
      {"cleanup", [](LLMFusionPipelineOptions &o, bool on) { o.cleanup = on; },
       [](mlir::Operation *op) { return mlir::isa<FusedAddRMSNormOp>(op); }},
      {"moe-router", [](LLMFusionPipelineOptions &o, bool on) { o.moeRouter = on; },
       [](mlir::Operation *op) { return mlir::isa<FusedMoERouterOp>(op); }},
      {"gated-norm-quant", [](LLMFusionPipelineOptions &o, bool on) { o.gatedNormQuant = on; },
       [](mlir::Operation *op) { return mlir::isa<FusedRMSNormGatedQuantFP8Op>(op); }},
      {"allreduce-norm", [](LLMFusionPipelineOptions &o, bool on) { o.allReduceNorm = on; },
       [](mlir::Operation *op) {
         return mlir::isa<FusedAllReduceRMSNormOp, FusedAllReduceAddRMSNormOp>(op);
       }},
      {"qk-norm", [](LLMFusionPipelineOptions &o, bool on) { o.qkNorm = on; },
       [](mlir::Operation *op) { return mlir::isa<FusedQKRMSNormOp>(op); }},
      {"norm-quant", [](LLMFusionPipelineOptions &o, bool on) { o.normQuant = on; },
       [](mlir::Operation *op) {
         return mlir::isa<FusedRMSNormQuantFP8Op, FusedRMSNormQuantFP8StaticOp,
                          FusedAddRMSNormQuantFP8Op, FusedAddRMSNormQuantFP8StaticOp,
                          FusedAllReduceRMSNormQuantFP8Op, FusedAllReduceRMSNormQuantFP8StaticOp,
                          FusedAllReduceAddRMSNormQuantFP8Op,
                          FusedAllReduceAddRMSNormQuantFP8StaticOp, FusedSiluMulQuantFP8Op,
                          FusedSiluMulQuantFP8StaticOp>(op);
       }},
  };
  return list;
}

int64_t countOps(mlir::ModuleOp module, const std::function<bool(mlir::Operation *)> &pred) {
  int64_t n = 0;
  module.walk([&](mlir::Operation *op) { n += pred(op); });
  return n;
}

/// Which passes run, as a pipeline option string (for the reproducer).
std::string describe(const std::vector<bool> &enabled) {
  std::string s;
  for (size_t i = 0; i < enabled.size(); ++i)
    s += std::string(i ? " " : "") + passes()[i].name + "=" + (enabled[i] ? "true" : "false");
  return s;
}

/// The pipeline options of `enabled`, or of pass `only` alone.
void setOptions(LLMFusionPipelineOptions &o, const std::vector<bool> &enabled, int only = -1) {
  for (size_t i = 0; i < passes().size(); ++i)
    passes()[i].enable(o, only < 0 ? enabled[i] : static_cast<int>(i) == only);
}

/// Every check of DiffTest.h on one graph.
Finding checkGraph(const GeneratedGraph &graph, const std::vector<bool> &enabled, int64_t dim,
                   uint64_t inputSeed) {
  auto context = makeContext();
  std::string diagnostics;
  auto original = parseModule(*context, graph.text, diagnostics);
  if (!original)
    return "the generator wrote a graph that does not verify: " + diagnostics;
  mlir::OwningOpRef<mlir::ModuleOp> fused = original->clone();

  // Pass by pass: verified, and counted as its report says.
  for (size_t i = 0; i < passes().size(); ++i) {
    if (!enabled[i])
      continue;
    const PassInfo &p = passes()[i];
    int64_t before = countOps(*fused, p.isFused);
    auto report = std::make_shared<mlir::llm::FusionReport>();
    LLMFusionPipelineOptions one;
    setOptions(one, enabled, static_cast<int>(i));
    if (Finding f = runPipeline(*fused, one, report))
      return std::string(p.name) + ": " + *f;
    int64_t after = countOps(*fused, p.isFused);
    if (report->totalFused() != after - before)
      return std::string(p.name) + ": the report counts " + std::to_string(report->totalFused()) +
             " fusions but the pass made " + std::to_string(after - before) + " fused ops";
  }
  // The whole subset again: nothing left to do.
  std::string once = printModule(*fused);
  auto again = std::make_shared<mlir::llm::FusionReport>();
  LLMFusionPipelineOptions all;
  setOptions(all, enabled);
  if (Finding f = runPipeline(*fused, all, again))
    return "second run: " + *f;
  if (printModule(*fused) != once)
    return "the pipeline is not idempotent: a second run changed\n" + once + "\ninto\n" +
           printModule(*fused);
  if (again->totalFused() != 0)
    return "a second run reports " + std::to_string(again->totalFused()) + " fusions";

  // Numerics on the CPU: the fused module computes what the original does.
  mlir::ScopedDiagnosticHandler quiet(context.get(), [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  mlir::FailureOr<Plan> ref = mlir::llm::translateModuleToPlan(*original, "original");
  mlir::FailureOr<Plan> cand = mlir::llm::translateModuleToPlan(*fused, "fused");
  if (mlir::failed(ref) || mlir::failed(cand))
    return "a verified module did not lower to a plan: " + diagnostics;
  try {
    const PlanFunction &rf = ref->functions[0], &cf = cand->functions[0];
    std::vector<std::vector<Tensor>> inputs;
    for (int r = 0; r < ref->worldSize; ++r)
      inputs.push_back(randomInputs(rf, dim, inputSeed, r));
    CheckMode mode = graph.needsAccuracy ? CheckMode::Accuracy : CheckMode::Exact;
    ProgramComparison cmp = comparePrograms(*ref, rf, *cand, cf, inputs, mode, std::nullopt,
                                            cpuBackend(), cpuBackend());
    if (!cmp.outputCountMismatch.empty())
      return cmp.outputCountMismatch;
    for (size_t r = 0; r < cmp.diffs.size(); ++r)
      for (size_t i = 0; i < cmp.diffs[r].size(); ++i) {
        const OutputDiff &d = cmp.diffs[r][i];
        if (d.ok())
          continue;
        return "rank " + std::to_string(r) + " output " + std::to_string(i) + " (" +
               std::string(dtypeName(d.dtype)) + " " + shapeToString(d.shape) +
               ") differs under --check " + std::string(checkModeName(mode)) + ": " +
               (!d.what.empty() ? d.what
                : d.mismatches > 0
                    ? std::to_string(d.mismatches) + " elements, first at " +
                          std::to_string(d.firstMismatch) + " (" + std::to_string(d.firstA) +
                          " vs " + std::to_string(d.firstB) + ")"
                    : "error " + std::to_string(d.errCand) + " against the reference's " +
                          std::to_string(d.errRef));
      }
  } catch (const Error &e) {
    return std::string("running the graphs failed: ") + e.what();
  }
  return std::nullopt;
}

/// Drops chains, then world size and token dims, while the graph still fails.
GraphSpec shrink(GraphSpec spec, const std::vector<bool> &enabled, int64_t dim, uint64_t seed) {
  auto fails = [&](const GraphSpec &s) {
    return !s.chains.empty() && checkGraph(emitGraph(s), enabled, dim, seed).has_value();
  };
  for (size_t i = spec.chains.size(); i-- > 0;) {
    GraphSpec smaller = spec;
    smaller.chains.erase(smaller.chains.begin() + static_cast<std::ptrdiff_t>(i));
    if (fails(smaller))
      spec = smaller;
  }
  for (int64_t ws : {int64_t(1), int64_t(2)})
    if (ws < spec.worldSize) {
      GraphSpec smaller = spec;
      smaller.worldSize = ws;
      if (fails(smaller)) {
        spec = smaller;
        break;
      }
    }
  if (spec.tokens != 1) {
    GraphSpec smaller = spec;
    smaller.tokens = 1;
    if (fails(smaller))
      spec = smaller;
  }
  return spec;
}

} // namespace

int runDiffTest(const DiffTestOptions &options) {
  namespace fs = std::filesystem;
  fs::create_directories(options.work);
  Rng rng{options.seed};
  auto start = std::chrono::steady_clock::now();
  int64_t failures = 0, accuracyGraphs = 0, chains = 0;
  std::map<std::string, int64_t> kinds;
  for (int64_t g = 0; g < options.graphs; ++g) {
    GraphSpec spec = randomGraph(rng);
    std::vector<bool> enabled;
    for (size_t i = 0; i < passes().size(); ++i)
      enabled.push_back(rng.chance(80));
    int64_t dim = rng.chance(50) ? 4 : 8; // a multiple of every head count
    uint64_t inputSeed = rng.next();
    GeneratedGraph graph = emitGraph(spec);
    accuracyGraphs += graph.needsAccuracy;
    chains += static_cast<int64_t>(spec.chains.size());
    for (const ChainSpec &c : spec.chains)
      ++kinds[std::string(chainKindName(c.kind))];
    if (options.emitGraphs)
      std::ofstream(fs::path(options.work) / ("graph-" + std::to_string(g) + ".mlir"))
          << "// passes: " << describe(enabled) << "; --dim " << dim << "\n"
          << graph.text;
    Finding f = checkGraph(graph, enabled, dim, inputSeed);
    if (!f)
      continue;
    GraphSpec small = shrink(spec, enabled, dim, inputSeed);
    GeneratedGraph minimal = emitGraph(small);
    Finding why = checkGraph(minimal, enabled, dim, inputSeed);
    fs::path out = fs::path(options.work) / ("diff-finding-" + std::to_string(failures) + ".mlir");
    std::ofstream file(out);
    file << "// fusion-fuzz diff: graph " << g << " of seed " << options.seed << ", shrunk from "
         << spec.chains.size() << " to " << small.chains.size() << " chains\n"
         << "// passes: " << describe(enabled) << "; --dim " << dim << "; input seed " << inputSeed
         << "\n// finding: " << (why ? *why : *f) << "\n"
         << minimal.text;
    std::cerr << "fusion-fuzz diff: graph " << g << " fails (" << out.string()
              << "): " << (why ? *why : *f) << "\n";
    if (++failures >= 5)
      break;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fusion-fuzz diff: " << options.graphs << " graphs (" << chains << " chains:";
  for (const auto &[kind, n] : kinds)
    std::cout << " " << kind << " " << n;
  std::cout << "; " << accuracyGraphs << " checked by accuracy, the rest bit for bit), seed "
            << options.seed << ", " << failures << " failing, " << static_cast<int64_t>(seconds)
            << " s\n";
  return failures ? 1 : 0;
}

} // namespace llmf::fuzz
