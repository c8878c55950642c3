//===- fusion-run.cpp - run, compare and time llm graphs ------------------===//
//
//   fusion-run model.mlir|plan.json [--function F] [--device cpu|cuda]
//              [--world-size N] [--dim N] [--seed S] [--input-dir DIR]
//              [--output-dir DIR] [--max-memory BYTES] [--threads N]
//              [--compare OTHER [--compare-device D]
//                               [--check accuracy|exact|tolerance] [--rtol R --atol A]]
//              [--bench [--repeat N --warmup N]] [--cuda-graph] [--pdl]
//              [--emit-plan FILE] [--no-poison]
//
// Runs one function of a module or plan on deterministic random inputs (or
// .npy files), one thread per tensor-parallel rank, and prints a summary of
// each output. With --compare it runs a second program on the same inputs
// and judges every output (by default against a widened f32 evaluation of
// the first; docs/runtime.md), exiting 1 on a mismatch: how a fusion is shown
// to preserve what the graph computes. `--help` prints the options.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/CpuBackend.h"
#include "runtime/Compare.h"
#include "runtime/Error.h"
#include "runtime/Executor.h"
#include "runtime/Inputs.h"
#include "runtime/Npy.h"
#include "runtime/Plan.h"
#include "runtime/Parallel.h"
#include "runtime/RankRun.h"
#include "translate/PlanFromMlirFile.h"
#ifdef LLMF_WITH_CUDA
#include "runtime/cuda/CudaBackend.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace llmf;

namespace {

struct Options {
  std::string input, compare, function = "", device = "cpu", compareDevice;
  std::string inputDir, outputDir, emitPlan;
  std::optional<int64_t> worldSize;
  int64_t dim = 4;
  uint64_t seed = 0;
  bool bench = false, poison = true, cudaGraph = false, pdl = false;
  int repeat = 10, warmup = 2, threads = 0;
  std::optional<double> rtol, atol;
  std::optional<CheckMode> check;
  std::optional<uint64_t> maxMemory;
};

const char *kUsage =
    "usage: fusion-run INPUT(.mlir|.json) [options]\n"
    "  --function NAME     function to run (default: the only one)\n"
    "  --device cpu|cuda   backend to run on\n"
    "  --compare-device D  backend that runs OTHER (default: --device), e.g. a\n"
    "                      GPU run checked against the CPU reference\n"
    "  --world-size N      tensor-parallel ranks, one thread each (default: the plan's)\n"
    "  --dim N             binds every dynamic dim of the arguments to N (default 4)\n"
    "  --seed S            random inputs' seed; each rank draws its own stream\n"
    "  --input-dir DIR     read argI.npy or rankR_argI.npy instead of random inputs\n"
    "  --output-dir DIR    write outI.npy (rankR_outI.npy when ranks > 1)\n"
    "  --compare OTHER     run OTHER on the same inputs, check every output\n"
    "  --check MODE        how --compare judges float outputs: accuracy (default:\n"
    "                      both programs against a widened f32 evaluation of INPUT;\n"
    "                      OTHER's error may be 2x INPUT's plus a tenth of a rounding),\n"
    "                      exact (bit for bit), or tolerance (per element)\n"
    "  --rtol R --atol A   per-element tolerance (implies --check tolerance)\n"
    "  --max-memory BYTES  largest tensor allowed (default: the machine's memory)\n"
    "  --bench             time runs: --repeat N (10), --warmup N (2)\n"
    "  --threads N         host threads per kernel (default: all cores)\n"
    "  --emit-plan FILE    write the plan of INPUT as JSON\n"
    "  --no-poison         skip filling fresh results with NaN before kernels\n"
    "  --cuda-graph        (cuda) capture the whole function in one CUDA graph after a\n"
    "                      warm-up run, then replay it (small token counts)\n"
    "  --pdl               (cuda) programmatic dependent launch: each kernel may be\n"
    "                      scheduled while its predecessor's last wave runs\n";

Options parseOptions(int argc, char **argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool hasValue = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      hasValue = true;
    }
    auto next = [&]() -> std::string {
      if (hasValue)
        return value;
      if (i + 1 >= args.size())
        fail("option ", a, " needs a value\n", kUsage);
      return args[++i];
    };
    // Integers in [lo, hi]: a value out of range is an error, never wrapped.
    auto number = [&](const std::string &s, int64_t lo, int64_t hi) -> int64_t {
      int64_t v = 0;
      try {
        size_t used = 0;
        v = std::stoll(s, &used);
        if (used != s.size())
          throw std::invalid_argument(s);
      } catch (const std::exception &) {
        fail("option ", a, " expects an integer, got '", s, "'");
      }
      if (v < lo || v > hi)
        fail("option ", a, " must be in [", lo, ", ", hi, "], got ", v);
      return v;
    };
    auto real = [&](const std::string &s) -> double {
      double v = 0.0;
      try {
        size_t used = 0;
        v = std::stod(s, &used);
        if (used != s.size())
          throw std::invalid_argument(s);
      } catch (const std::exception &) {
        fail("option ", a, " expects a number, got '", s, "'");
      }
      if (!std::isfinite(v) || v < 0.0)
        fail("option ", a, " must be finite and >= 0, got ", s);
      return v;
    };
    constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--function") o.function = next();
    else if (a == "--device") o.device = next();
    else if (a == "--compare-device") o.compareDevice = next();
    else if (a == "--world-size") o.worldSize = number(next(), 1, 64);
    else if (a == "--dim") o.dim = number(next(), 0, kI64Max);
    else if (a == "--seed") o.seed = static_cast<uint64_t>(number(next(), 0, kI64Max));
    else if (a == "--input-dir") o.inputDir = next();
    else if (a == "--output-dir") o.outputDir = next();
    else if (a == "--compare") o.compare = next();
    else if (a == "--rtol") o.rtol = real(next());
    else if (a == "--atol") o.atol = real(next());
    else if (a == "--check") {
      std::string m = next();
      o.check = parseCheckMode(m);
      if (!o.check)
        fail("option --check expects accuracy, exact or tolerance, got '", m, "'");
    } else if (a == "--max-memory")
      o.maxMemory = static_cast<uint64_t>(number(next(), 1, kI64Max));
    else if (a == "--bench") o.bench = true;
    else if (a == "--repeat") o.repeat = static_cast<int>(number(next(), 1, 1000000));
    else if (a == "--warmup") o.warmup = static_cast<int>(number(next(), 0, 1000000));
    else if (a == "--threads") o.threads = static_cast<int>(number(next(), 0, 4096));
    else if (a == "--emit-plan") o.emitPlan = next();
    else if (a == "--no-poison") o.poison = false;
    else if (a == "--cuda-graph") o.cudaGraph = true;
    else if (a == "--pdl") o.pdl = true;
    else if (a.rfind("-", 0) == 0 && a.size() > 1) fail("unknown option '", a, "'\n", kUsage);
    else if (o.input.empty()) o.input = a;
    else fail("more than one input file ('", o.input, "' and '", a, "')");
  }
  if (o.input.empty())
    fail("no input file\n", kUsage);
  if ((o.rtol || o.atol) && o.check && *o.check != CheckMode::Tolerance)
    fail("--rtol and --atol belong to --check tolerance, not --check ",
         checkModeName(*o.check));
  if (o.rtol || o.atol)
    o.check = CheckMode::Tolerance;
  if ((o.check || o.rtol || o.atol) && o.compare.empty())
    fail("--check, --rtol and --atol need --compare");
  if (o.compareDevice.empty())
    o.compareDevice = o.device;
  if (o.cudaGraph && o.device != "cuda")
    fail("--cuda-graph needs --device cuda");
  if (o.pdl && o.device != "cuda" && o.compareDevice != "cuda")
    fail("--pdl needs --device cuda or --compare-device cuda");
  return o;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Plan loadProgram(const std::string &path) {
  if (!endsWith(path, ".mlir"))
    return loadPlanFile(path);
  Plan plan;
  std::string error;
  if (!planFromMlirFile(path, plan, error))
    throw Error(error.empty() ? path + ": cannot translate" : error);
  return plan;
}

const Backend &backendFor(const std::string &device, bool pdl) {
  if (device == "cpu")
    return cpuBackend();
#ifdef LLMF_WITH_CUDA
  if (device == "cuda") {
    setCudaProgrammaticLaunch(pdl);
    return cudaBackend();
  }
#endif
  if (device == "cuda")
    fail("--device cuda: this fusion-run was built without CUDA");
  fail("unknown device '", device, "' (cpu or cuda)");
}

using RunResult = RankRunResult;

RunResult runRanks(const Plan &plan, const PlanFunction &fn,
                   const std::vector<std::vector<Tensor>> &inputs,
                   const Options &o, int warmup, int repeat,
                   const Backend &backend) {
  RankRunOptions ro;
  ro.poison = o.poison;
  ro.graph = o.cudaGraph;
  ro.warmup = warmup;
  ro.repeat = repeat;
  return runOnRanks(plan, fn, inputs, backend, ro);
}

std::vector<std::vector<Tensor>> makeInputs(const PlanFunction &fn, const Options &o,
                                            int ranks) {
  std::vector<std::vector<Tensor>> all;
  for (int r = 0; r < ranks; ++r) {
    if (o.inputDir.empty()) {
      all.push_back(randomInputs(fn, o.dim, o.seed, r));
      continue;
    }
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < fn.inputs.size(); ++i) {
      std::string perRank = o.inputDir + "/rank" + std::to_string(r) + "_arg" +
                            std::to_string(i) + ".npy";
      std::string shared = o.inputDir + "/arg" + std::to_string(i) + ".npy";
      struct stat st;
      std::string path = stat(perRank.c_str(), &st) == 0 ? perRank : shared;
      inputs.push_back(readNpy(path, fn.buffers[fn.inputs[i].buffer].type.dtype));
    }
    all.push_back(std::move(inputs));
  }
  return all;
}

std::string formatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void printSummary(const Tensor &t, size_t index) {
  int64_t n = t.numel(), nans = 0, infs = 0;
  double sum = 0, sumSq = 0, lo = INFINITY, hi = -INFINITY;
  bool isF = isFloat(t.dtype());
  for (int64_t i = 0; i < n; ++i) {
    double v = isF ? loadFloat(t, i) : static_cast<double>(loadInt(t, i));
    if (std::isnan(v)) { ++nans; continue; }
    if (std::isinf(v)) { ++infs; continue; }
    sum += v;
    sumSq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  int64_t finite = std::max<int64_t>(1, n - nans - infs);
  std::cout << "  out " << index << "  " << dtypeName(t.dtype()) << " "
            << shapeToString(t.shape()) << "  mean=" << formatNumber(sum / finite)
            << " rms=" << formatNumber(std::sqrt(sumSq / finite))
            << " min=" << formatNumber(n ? lo : 0) << " max=" << formatNumber(n ? hi : 0)
            << " nan=" << nans << " inf=" << infs << "\n";
}

std::string mib(size_t bytes) { return formatNumber(bytes / 1048576.0) + " MiB"; }

void printStats(const RunStats &s) {
  std::cout << "rank 0: " << s.launches << " kernels, " << s.views << " views, "
            << s.copies << " copies; memory peak " << mib(s.memory.peakLiveBytes)
            << " live, " << mib(s.memory.reservedBytes) << " reserved, "
            << s.memory.reuses << " of " << s.memory.allocations
            << " allocations reused\n";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void checkSameSignature(const PlanFunction &a, const PlanFunction &b,
                        const std::string &an, const std::string &bn) {
  if (a.inputs.size() != b.inputs.size())
    fail("cannot compare: '", an, "' takes ", a.inputs.size(), " inputs, '", bn,
         "' takes ", b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const TensorType &ta = a.buffers[a.inputs[i].buffer].type;
    const TensorType &tb = b.buffers[b.inputs[i].buffer].type;
    if (!(ta == tb))
      fail("cannot compare: input ", i, " is ", ta.str(), " in '", an, "' but ",
           tb.str(), " in '", bn, "'");
  }
}

int compareRuns(const Options &o, const Plan &refPlan, const PlanFunction &refFn,
                int ranks, const std::vector<std::vector<Tensor>> &inputs) {
  Plan other = loadProgram(o.compare);
  const PlanFunction &candFn = other.function(refFn.name);
  if (other.worldSize != refPlan.worldSize)
    fail("cannot compare: '", o.input, "' is for world size ", refPlan.worldSize,
         ", '", o.compare, "' for ", other.worldSize);
  checkSameSignature(refFn, candFn, o.input, o.compare);
  CheckMode mode = o.check.value_or(CheckMode::Accuracy);
  std::optional<Tolerance> tol;
  if (o.rtol || o.atol)
    tol = Tolerance{o.rtol.value_or(0.0), o.atol.value_or(0.0)};
  ProgramComparison cmp =
      comparePrograms(refPlan, refFn, other, candFn, inputs, mode, tol,
                      backendFor(o.device, o.pdl), backendFor(o.compareDevice, o.pdl), o.poison);
  if (!cmp.outputCountMismatch.empty()) {
    std::cout << "FAIL: '" << o.compare << "' returns " << candFn.outputs.size()
              << " outputs, '" << o.input << "' returns " << refFn.outputs.size() << "\n";
    return 1;
  }

  std::cout << "compare '" << o.compare << "' (" << o.compareDevice << ") against '"
            << o.input << "' (" << o.device << "): function '"
            << refFn.name << "', world size " << ranks << ", dim " << o.dim
            << ", seed " << o.seed << ", check " << checkModeName(mode) << "\n";
  std::printf("%-5s %-4s %-9s %-16s %-11s %-11s %-11s %-15s %-6s %s\n", "rank", "out",
              "dtype", "shape", "max_abs", "err_ref", "err_cand", "mismatches", "ties",
              "result");
  int bad = 0, total = 0;
  for (int r = 0; r < ranks; ++r)
    for (size_t i = 0; i < refFn.outputs.size(); ++i) {
      const OutputDiff &d = cmp.diffs[r][i];
      ++total;
      std::string result = d.ok() ? "ok" : "MISMATCH";
      if (!d.what.empty())
        result += " (" + d.what + ": " + d.candidateType + ")";
      else if (d.mismatches > 0)
        result += " (first at element " + std::to_string(d.firstMismatch) + ": " +
                  formatNumber(d.firstA) + " vs " + formatNumber(d.firstB) + ")";
      else if (!d.accuracyOk)
        result += " (error " + formatNumber(d.errCand) + " against " +
                  formatNumber(d.errRef) + " of the reference)";
      bad += !d.ok();
      std::string mism = std::to_string(d.mismatches) + "/" + std::to_string(d.elements);
      auto err = [](double e) { return e < 0 ? std::string("-") : formatNumber(e); };
      std::printf("%-5d %-4zu %-9s %-16s %-11s %-11s %-11s %-15s %-6lld %s\n", r, i,
                  std::string(dtypeName(d.dtype)).c_str(),
                  shapeToString(d.shape).c_str(), formatNumber(d.maxAbs).c_str(),
                  err(d.errRef).c_str(), err(d.errCand).c_str(), mism.c_str(),
                  static_cast<long long>(d.ties), result.c_str());
    }
  if (bad) {
    std::cout << "FAIL: " << bad << " of " << total << " outputs differ\n";
    return 1;
  }
  std::cout << "PASS: all " << total << " outputs match (" << checkModeName(mode) << ")\n";
  return 0;
}

/// Writes `text` to `path`, failing on any error, a full disk included.
void writeTextFile(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    fail(path, ": cannot open for writing");
  out << text;
  out.close();
  if (!out)
    fail(path, ": write failed (disk full?)");
}

int run(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  setMaxThreads(o.threads);
  if (o.maxMemory)
    setTensorByteLimit(*o.maxMemory);
  Plan plan = loadProgram(o.input);
  if (!o.emitPlan.empty())
    writeTextFile(o.emitPlan, writePlanJson(plan));
  const PlanFunction &fn = plan.function(o.function);
  int ranks = static_cast<int>(o.worldSize.value_or(plan.worldSize));
  if (ranks != plan.worldSize)
    fail("'", o.input, "' is a program for world size ", plan.worldSize,
         " (llm.world_size), not ", ranks);
  std::vector<std::vector<Tensor>> inputs = makeInputs(fn, o, ranks);
  if (!o.compare.empty())
    return compareRuns(o, plan, fn, ranks, inputs);

  RunResult result = runRanks(plan, fn, inputs, o, o.bench ? o.warmup : 0,
                              o.bench ? o.repeat : 1, backendFor(o.device, o.pdl));
  std::cout << "function '" << fn.name << "': world size " << ranks << ", dim "
            << o.dim << ", seed " << o.seed << ", device " << o.device << "\n";
  for (int r = 0; r < ranks; ++r) {
    std::cout << "rank " << r << ":\n";
    for (size_t i = 0; i < result.outputs[r].size(); ++i)
      printSummary(result.outputs[r][i], i);
  }
  printStats(result.stats);
  if (o.bench)
    std::cout << "bench: median " << formatNumber(median(result.millis)) << " ms, min "
              << formatNumber(*std::min_element(result.millis.begin(), result.millis.end()))
              << " ms over " << o.repeat << " runs (" << o.warmup << " warm-up)\n";
  if (!o.outputDir.empty())
    for (int r = 0; r < ranks; ++r)
      for (size_t i = 0; i < result.outputs[r].size(); ++i)
        writeNpy(o.outputDir + "/" + (ranks > 1 ? "rank" + std::to_string(r) + "_" : "") +
                     "out" + std::to_string(i) + ".npy",
                 result.outputs[r][i]);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const Error &e) {
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n')
      msg.pop_back();
    std::cerr << "fusion-run: error: " << msg << "\n";
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "fusion-run: error: " << e.what() << "\n";
    return 1;
  }
}
