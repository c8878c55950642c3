//===- fusion-fuzz.cpp - fuzzers and the differential tester --------------===//
//
//   fusion-fuzz mlir|plan|npy [--corpus PATH]... [--runs N] [--seed S]
//               [--timeout SECONDS] [--work DIR] [--max-memory BYTES]
//   fusion-fuzz diff [--graphs N] [--seed S] [--work DIR] [--emit-graphs]
//   fusion-fuzz replay mlir|plan|npy FILE...
//
// The mutation fuzzers feed the parser, verifier, pipeline, translator and
// CPU runtime (mlir), the plan loader and runtime (plan) and the .npy reader
// (npy) with mutated seeds, in process. Each input is written to
// DIR/current.EXT before it runs, so a crash or a hang (a watchdog alarm)
// leaves its reproducer behind; a finding (invalid IR after the pipeline, a
// pipeline that is not idempotent, an exception that is not a clean error)
// is saved as DIR/finding-N.EXT. `diff` runs the differential tester
// (DiffTest.h). Exit status: 0 when nothing was found, 1 on a finding, 70
// on a crash, 71 on a hang. docs/fuzzing.md has the long-running modes.
//
//===----------------------------------------------------------------------===//

#include "tools/fusion-fuzz/DiffTest.h"
#include "tools/fusion-fuzz/Harness.h"
#include "tools/fusion-fuzz/Mutator.h"

#include "runtime/Error.h"
#include "runtime/Npy.h"
#include "runtime/Plan.h"
#include "translate/LLMToPlan.h"

#include "mlir/IR/Diagnostics.h"

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

using namespace llmf;
using namespace llmf::fuzz;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string target;
  std::vector<std::string> corpus, replay;
  int64_t runs = 1000, graphs = 200;
  uint64_t seed = 1;
  unsigned timeout = 20;
  std::string work = "fuzz-work";
  uint64_t maxMemory = 1u << 20;
  bool emitGraphs = false;
};

const char *kUsage =
    "usage: fusion-fuzz mlir|plan|npy [--corpus PATH]... [--runs N] [--seed S]\n"
    "                   [--timeout SECONDS] [--work DIR] [--max-memory BYTES]\n"
    "       fusion-fuzz diff [--graphs N] [--seed S] [--work DIR] [--emit-graphs]\n"
    "       fusion-fuzz replay mlir|plan|npy FILE...\n";

[[noreturn]] void usage(const std::string &why) {
  std::cerr << "fusion-fuzz: error: " << why << "\n" << kUsage;
  std::exit(2);
}

Options parseOptions(int argc, char **argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    usage("no target");
  size_t i = 0;
  if (args[0] == "replay") {
    if (args.size() < 3)
      usage("replay needs a target and files");
    o.target = args[1];
    o.replay.assign(args.begin() + 2, args.end());
    return o;
  }
  o.target = args[i++];
  auto value = [&](const std::string &flag) -> std::string {
    if (i >= args.size())
      usage(flag + " needs a value");
    return args[i++];
  };
  auto integer = [&](const std::string &flag, int64_t lo) -> int64_t {
    std::string v = value(flag);
    try {
      size_t used = 0;
      int64_t n = std::stoll(v, &used);
      if (used == v.size() && n >= lo)
        return n;
    } catch (const std::exception &) {
    }
    usage(flag + " expects an integer >= " + std::to_string(lo) + ", got '" + v + "'");
  };
  while (i < args.size()) {
    std::string a = args[i++];
    if (a == "--corpus")
      o.corpus.push_back(value(a));
    else if (a == "--runs")
      o.runs = integer(a, 0);
    else if (a == "--graphs")
      o.graphs = integer(a, 0);
    else if (a == "--seed")
      o.seed = static_cast<uint64_t>(integer(a, 0));
    else if (a == "--timeout")
      o.timeout = static_cast<unsigned>(integer(a, 1));
    else if (a == "--work")
      o.work = value(a);
    else if (a == "--max-memory")
      o.maxMemory = static_cast<uint64_t>(integer(a, 1));
    else if (a == "--emit-graphs")
      o.emitGraphs = true;
    else
      usage("unknown option '" + a + "'");
  }
  return o;
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const fs::path &p, const std::string &bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Files under `roots` whose names end in `ext`, sorted (a stable corpus).
std::vector<fs::path> filesUnder(const std::vector<std::string> &roots, const std::string &ext) {
  std::vector<fs::path> out;
  for (const std::string &root : roots) {
    if (fs::is_regular_file(root)) {
      out.push_back(root);
      continue;
    }
    if (!fs::is_directory(root))
      usage("no such corpus '" + root + "'");
    for (const auto &e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && e.path().string().size() >= ext.size() &&
          e.path().string().compare(e.path().string().size() - ext.size(), ext.size(), ext) == 0)
        out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// `.mlir` seeds, split at lit's `// -----` markers.
std::vector<std::string> mlirSeeds(const std::vector<std::string> &roots) {
  std::vector<std::string> seeds;
  for (const fs::path &p : filesUnder(roots, ".mlir")) {
    std::string text = readFile(p);
    size_t start = 0;
    while (true) {
      size_t cut = text.find("// -----", start);
      seeds.push_back(
          text.substr(start, cut == std::string::npos ? std::string::npos : cut - start));
      if (cut == std::string::npos)
        break;
      start = cut + 8;
    }
  }
  return seeds;
}

/// Plans: the `.json` files given, and each `.mlir` seed lowered to a plan.
std::vector<std::string> planSeeds(const std::vector<std::string> &roots) {
  std::vector<std::string> seeds;
  for (const fs::path &p : filesUnder(roots, ".json"))
    seeds.push_back(readFile(p));
  auto context = makeContext();
  mlir::ScopedDiagnosticHandler quiet(context.get(),
                                      [](mlir::Diagnostic &) { return mlir::success(); });
  for (const std::string &text : mlirSeeds(roots)) {
    std::string diagnostics;
    auto module = parseModule(*context, text, diagnostics);
    if (!module)
      continue;
    mlir::FailureOr<Plan> plan = mlir::llm::translateModuleToPlan(*module, "seed");
    if (mlir::succeeded(plan))
      seeds.push_back(writePlanJson(*plan));
  }
  return seeds;
}

/// Valid `.npy` files of every element type the reader takes, and any given.
std::vector<std::string> npySeeds(const std::vector<std::string> &roots) {
  std::vector<std::string> seeds;
  for (const fs::path &p : filesUnder(roots, ".npy"))
    seeds.push_back(readFile(p));
  auto make = [](const std::string &descr, const std::string &shape, size_t bytes) {
    std::string header =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    for (size_t i = 0; i < bytes; ++i)
      out += static_cast<char>((i * 37) & 0x3f);
    return out;
  };
  seeds.push_back(make("<f4", "(2, 3)", 24));
  seeds.push_back(make("<f2", "(4,)", 8));
  seeds.push_back(make("<f8", "(1, 2, 2)", 32));
  seeds.push_back(make("<i4", "(3, 2)", 24));
  seeds.push_back(make("<i8", "(2,)", 16));
  seeds.push_back(make("<f4", "()", 4));
  return seeds;
}

// The input being run, for the crash and hang handlers.
std::string gCurrentPath;

extern "C" void onFatalSignal(int sig) {
  const char *what = sig == SIGALRM ? "hang (watchdog)" : "crash";
  std::string msg = std::string("fusion-fuzz: ") + what + " on signal " + std::to_string(sig) +
                    "; the input is " + gCurrentPath + "\n";
  ssize_t ignored = write(2, msg.data(), msg.size());
  (void)ignored;
  _exit(sig == SIGALRM ? 71 : 70);
}

void installHandlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM})
    std::signal(sig, onFatalSignal);
}

Finding runTarget(const std::string &target, const std::string &input) {
  if (target == "mlir")
    return fuzzMlir(input);
  if (target == "plan")
    return fuzzPlan(input);
  return fuzzNpy(input);
}

std::string extensionOf(const std::string &target) {
  return target == "mlir" ? ".mlir" : target == "plan" ? ".json" : ".npy";
}

int runFuzzer(const Options &o) {
  std::vector<std::string> seeds = o.target == "mlir"   ? mlirSeeds(o.corpus)
                                   : o.target == "plan" ? planSeeds(o.corpus)
                                                        : npySeeds(o.corpus);
  if (seeds.empty())
    usage("no seeds for '" + o.target + "' under the corpus paths");
  fs::create_directories(o.work);
  std::string ext = extensionOf(o.target);
  gCurrentPath = (fs::path(o.work) / ("current" + ext)).string();
  Rng rng{o.seed};
  auto start = std::chrono::steady_clock::now();
  int findings = 0;
  // The seeds themselves first, then mutants.
  for (int64_t i = 0; i < static_cast<int64_t>(seeds.size()) + o.runs; ++i) {
    std::string input =
        i < static_cast<int64_t>(seeds.size()) ? seeds[i] : mutate(rng.pick(seeds), seeds, rng, 2);
    writeFile(gCurrentPath, input);
    alarm(o.timeout);
    Finding f = runTarget(o.target, input);
    alarm(0);
    if (!f)
      continue;
    fs::path saved = fs::path(o.work) / ("finding-" + std::to_string(findings) + ext);
    writeFile(saved, input);
    std::cerr << "fusion-fuzz: finding " << findings << " (" << saved.string() << "): " << *f
              << "\n";
    if (++findings >= 10)
      break;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fusion-fuzz " << o.target << ": " << seeds.size() << " seeds + " << o.runs
            << " mutants, seed " << o.seed << ": " << depthStats().accepted << " accepted, "
            << depthStats().lowered << " lowered, " << depthStats().ran << " functions ran; "
            << findings << " findings, " << static_cast<int64_t>(seconds) << " s\n";
  return findings ? 1 : 0;
}

int replay(const Options &o) {
  int findings = 0;
  for (const std::string &path : o.replay) {
    gCurrentPath = path;
    Finding f = runTarget(o.target, readFile(path));
    std::cout << path << ": " << (f ? "FINDING: " + *f : std::string("ok")) << "\n";
    findings += f.has_value();
  }
  return findings ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  if (o.target != "mlir" && o.target != "plan" && o.target != "npy" && o.target != "diff")
    usage("unknown target '" + o.target + "' (mlir, plan, npy, diff or replay)");
  installHandlers();
  // Inputs may ask for huge tensors: they must fail cleanly, and fast.
  setTensorByteLimit(o.maxMemory);
  if (!o.replay.empty())
    return replay(o);
  if (o.target == "diff") {
    DiffTestOptions d;
    d.graphs = o.graphs;
    d.seed = o.seed;
    d.work = o.work;
    d.emitGraphs = o.emitGraphs;
    return runDiffTest(d);
  }
  return runFuzzer(o);
}
