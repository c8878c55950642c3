//===- GraphGen.cpp - random valid graphs holding every fusable chain -----===//

#include "tools/fusion-fuzz/GraphGen.h"

#include <algorithm>
#include <map>

namespace llmf::fuzz {

std::string_view chainKindName(ChainKind kind) {
  switch (kind) {
  case ChainKind::AddNorm:
    return "add+norm";
  case ChainKind::AllReduceNorm:
    return "all-reduce+norm";
  case ChainKind::GatedQuant:
    return "gated-norm+quant";
  case ChainKind::Router:
    return "router";
  case ChainKind::QKNorm:
    return "qk-norm";
  case ChainKind::Plain:
    return "plain";
  case ChainKind::DecomposedNorm:
    return "decomposed-norm";
  case ChainKind::NormQuant:
    return "norm+quant";
  }
  return "plain";
}

namespace {

const std::vector<std::string> kFloatTypes = {"bf16", "f16", "f32"};

/// Writes one graph: values, their types, and each chain's ops in order.
class Emitter {
public:
  Emitter(const GraphSpec &spec) : spec_(spec), share_{spec.shareSeed} {}

  std::string tokens() const {
    return spec_.tokens ? std::to_string(spec_.tokens) : std::string("?");
  }
  /// Column-major scales' stride: the token count rounded up to 4.
  std::string paddedTokens() const {
    return spec_.tokens ? std::to_string((spec_.tokens + 3) / 4 * 4) : std::string("?");
  }
  /// Rows of a per-head view: tokens * heads.
  std::string rows(int64_t heads) const {
    return spec_.tokens ? std::to_string(spec_.tokens * heads) : std::string("?");
  }
  static std::string tensor(const std::vector<std::string> &dims, const std::string &elt) {
    std::string t = "tensor<";
    for (const std::string &d : dims)
      t += d + "x";
    return t + elt + ">";
  }

  /// A function argument of `type`; sometimes one another chain has.
  std::string arg(const std::string &type) {
    std::vector<std::string> same;
    for (auto &[name, t] : args_)
      if (t == type)
        same.push_back(name);
    if (!same.empty() && share_.chance(20))
      return share_.pick(same);
    std::string name = "%arg" + std::to_string(args_.size());
    args_.push_back({name, type});
    types_[name] = type;
    return name;
  }

  /// Appends `%r... = "llm.name"(operands) {attrs} : (...) -> (...)` to the
  /// current chain and returns the result names.
  std::vector<std::string> op(const std::string &name, const std::vector<std::string> &operands,
                              const std::string &attrs,
                              const std::vector<std::string> &resultTypes) {
    std::vector<std::string> results;
    for (const std::string &t : resultTypes) {
      std::string r = "%v" + std::to_string(counter_++);
      types_[r] = t;
      results.push_back(r);
    }
    std::string line = "  ";
    for (size_t i = 0; i < results.size(); ++i)
      line += results[i] + (i + 1 < results.size() ? ", " : " = ");
    line += "\"llm." + name + "\"(";
    for (size_t i = 0; i < operands.size(); ++i)
      line += operands[i] + (i + 1 < operands.size() ? ", " : "");
    line += ")";
    if (!attrs.empty())
      line += " {" + attrs + "}";
    line += " : (";
    for (size_t i = 0; i < operands.size(); ++i)
      line += types_.at(operands[i]) + (i + 1 < operands.size() ? ", " : "");
    line += ") -> ";
    if (resultTypes.size() == 1)
      line += resultTypes[0];
    else {
      line += "(";
      for (size_t i = 0; i < resultTypes.size(); ++i)
        line += resultTypes[i] + (i + 1 < resultTypes.size() ? ", " : "");
      line += ")";
    }
    chains_.back().push_back(line);
    return results;
  }
  std::string op1(const std::string &name, const std::vector<std::string> &operands,
                  const std::string &attrs, const std::string &resultType) {
    return op(name, operands, attrs, {resultType})[0];
  }
  std::string constant(const std::string &value, const std::string &type) {
    return op1("constant", {}, "value = dense<" + value + "> : " + type, type);
  }
  void result(const std::string &v) { results_.push_back(v); }
  const std::string &typeOf(const std::string &v) const { return types_.at(v); }

  void beginChain() { chains_.emplace_back(); }

  /// The function, ops interleaved: a random merge of the chains keeps each
  /// chain's order, and chains only share arguments.
  std::string finish() {
    Rng order{spec_.orderSeed};
    std::vector<size_t> next(chains_.size(), 0);
    std::vector<std::string> body;
    while (true) {
      std::vector<size_t> open;
      for (size_t c = 0; c < chains_.size(); ++c)
        if (next[c] < chains_[c].size())
          open.push_back(c);
      if (open.empty())
        break;
      size_t c = order.pick(open);
      body.push_back(chains_[c][next[c]++]);
    }
    std::string text;
    if (spec_.worldSize != 1)
      text +=
          "module attributes {llm.world_size = " + std::to_string(spec_.worldSize) + " : i64} {\n";
    text += "func.func @graph(";
    for (size_t i = 0; i < args_.size(); ++i)
      text += args_[i].first + ": " + args_[i].second + (i + 1 < args_.size() ? ", " : "");
    text += ") -> (";
    for (size_t i = 0; i < results_.size(); ++i)
      text += typeOf(results_[i]) + (i + 1 < results_.size() ? ", " : "");
    text += ") {\n";
    for (const std::string &line : body)
      text += line + "\n";
    text += "  return";
    for (size_t i = 0; i < results_.size(); ++i)
      text += (i ? ", " : " ") + results_[i];
    if (!results_.empty())
      text += " :";
    for (size_t i = 0; i < results_.size(); ++i)
      text += (i ? ", " : " ") + typeOf(results_[i]);
    text += "\n}\n";
    if (spec_.worldSize != 1)
      text += "}\n";
    return text;
  }

  bool needsAccuracy = false;

private:
  const GraphSpec &spec_;
  Rng share_;
  std::vector<std::pair<std::string, std::string>> args_;
  std::map<std::string, std::string> types_;
  std::vector<std::vector<std::string>> chains_;
  std::vector<std::string> results_;
  int counter_ = 0;
};

/// The scale layout of a dynamic quantization: the contract's row-major or
/// DeepGEMM's column-major (scale_col_major).
std::string colMajorAttr(bool colMajor) { return colMajor ? ", scale_col_major = true" : ""; }
std::string scaleType(const Emitter &e, bool colMajor, const std::string &groups) {
  return colMajor ? Emitter::tensor({groups, e.paddedTokens()}, "f32")
                  : Emitter::tensor({e.tokens(), groups}, "f32");
}

std::string epsilonAttr(Rng &rng) {
  return std::string("epsilon = ") +
         rng.pick(std::vector<std::string>{"1.0e-06", "1.0e-05", "0.0"}) + " : f32";
}

/// A norm weight [D] for input type `dt`: plain (sometimes f32), Gemma's
/// `cast(w) to f32 + 1`, or `w + 1` in w's own type.
std::string normWeight(Emitter &e, Rng &rng, const std::string &d, const std::string &dt,
                       bool allowOtherDType) {
  switch (rng.below(4)) {
  case 0: { // Gemma, cast form
    std::string src = rng.pick(kFloatTypes);
    std::string w = e.arg(Emitter::tensor({d}, src));
    std::string wf = e.op1("cast", {w}, "", Emitter::tensor({d}, "f32"));
    std::string one = e.constant("1.0", "tensor<f32>");
    return e.op1("add", {wf, one}, "", Emitter::tensor({d}, "f32"));
  }
  case 1: { // Gemma, `w + 1` in w's type
    std::string wt = allowOtherDType && rng.chance(30) ? rng.pick(kFloatTypes) : dt;
    if (wt != "f32")
      e.needsAccuracy = true;
    std::string w = e.arg(Emitter::tensor({d}, wt));
    std::string one = e.constant("1.0", "tensor<" + wt + ">");
    return e.op1("add", {w, one}, "", Emitter::tensor({d}, wt));
  }
  default: {
    std::string wt = allowOtherDType && rng.chance(20) ? "f32" : dt;
    return e.arg(Emitter::tensor({d}, wt));
  }
  }
}

void addNorm(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  std::string d = std::to_string(rng.pick(std::vector<int>{16, 32, 64}));
  std::string x = Emitter::tensor({e.tokens(), d}, dt);
  std::string a = e.arg(x), b = rng.chance(15) ? a : e.arg(x);
  std::string w = normWeight(e, rng, d, dt, true);
  std::string s = rng.chance(50) ? e.op1("add", {a, b}, "", x) : e.op1("add", {b, a}, "", x);
  std::string y = e.op1("rms_norm", {s, w}, epsilonAttr(rng), x);
  e.result(y);
  if (rng.chance(50))
    e.result(s); // the next residual
  if (rng.chance(15))
    e.result(e.op1("mul", {s, s}, "", x)); // another user of the sum
  if (rng.chance(10))
    e.result(e.op1("rms_norm", {s, w}, epsilonAttr(rng), x)); // a second norm of it
}

void allReduceNorm(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  std::string d = std::to_string(rng.pick(std::vector<int>{16, 32, 64}));
  std::string x = Emitter::tensor({e.tokens(), d}, dt);
  std::string in = e.arg(x);
  std::string ar = e.op1("all_reduce", {in}, "", x);
  std::string w = normWeight(e, rng, d, dt, true);
  std::string normed = ar;
  if (rng.chance(60)) {
    std::string r = e.arg(x);
    normed = rng.chance(50) ? e.op1("add", {ar, r}, "", x) : e.op1("add", {r, ar}, "", x);
    if (rng.chance(40))
      e.result(normed);
  }
  e.result(e.op1("rms_norm", {normed, w}, epsilonAttr(rng), x));
  if (rng.chance(20))
    e.result(ar); // the all-reduce result used outside the chain
}

void gatedQuant(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  int64_t d = rng.pick(std::vector<int64_t>{32, 64, 128});
  int64_t heads = rng.pick(std::vector<int64_t>{1, 2, 4});
  std::string ds = std::to_string(d), hd = std::to_string(heads * d);
  std::string rowsType = Emitter::tensor({e.rows(heads), ds}, dt);
  std::string x = e.arg(rowsType), z = rng.chance(10) ? x : e.arg(rowsType);
  std::string w = e.arg(Emitter::tensor({ds}, rng.chance(25) ? "f32" : dt));
  std::string attrs = epsilonAttr(rng);
  if (rng.chance(50))
    attrs += ", norm_before_gate = false";
  if (rng.chance(25))
    attrs += ", weight_bias = 1.0 : f32";
  std::string y = e.op1("rms_norm_gated", {x, z, w}, attrs, rowsType);
  std::string tokensType = Emitter::tensor({e.tokens(), hd}, dt);
  std::string r = heads == 1 && rng.chance(50) ? y : e.op1("reshape", {y}, "", tokensType);
  // A group size that divides the head dim, or only the token row.
  std::vector<int64_t> groups{d, d / 2, 16};
  if (heads > 1)
    groups.push_back(heads * d);
  int64_t g = rng.pick(groups);
  std::string gs = std::to_string(g), scales = std::to_string(heads * d / g);
  bool colMajor = rng.chance(30);
  auto qs = e.op("quant_fp8", {r}, "group_size = " + gs + " : i64" + colMajorAttr(colMajor),
                 {Emitter::tensor({e.tokens(), hd}, "f8E4M3FN"),
                  scaleType(e, colMajor, scales)});
  e.result(qs[0]);
  e.result(qs[1]);
  if (rng.chance(15))
    e.result(y); // the norm output used outside the chain
}

void router(Emitter &e, Rng &rng) {
  int64_t experts = rng.pick(std::vector<int64_t>{16, 32, 64});
  std::vector<int64_t> groupCounts;
  for (int64_t g : {1, 2, 4, 8})
    if (experts / g >= 2)
      groupCounts.push_back(g);
  int64_t nGroup = rng.pick(groupCounts);
  int64_t topkGroup = 1 + static_cast<int64_t>(rng.below(nGroup));
  int64_t kept = topkGroup * (experts / nGroup);
  int64_t topk = 1 + static_cast<int64_t>(rng.below(std::min<int64_t>(8, kept)));
  std::string es = std::to_string(experts), ks = std::to_string(topk);
  std::string lt = rng.pick(kFloatTypes);
  std::string f32Scores = Emitter::tensor({e.tokens(), es}, "f32");
  std::string logits = e.arg(Emitter::tensor({e.tokens(), es}, lt));
  if (lt != "f32" || rng.chance(30))
    logits = e.op1("cast", {logits}, "", f32Scores);
  std::string s = e.op1("sigmoid", {logits}, "", f32Scores);
  std::string bias = e.arg(Emitter::tensor({es}, "f32"));
  std::string b = rng.chance(50) ? e.op1("add", {s, bias}, "", f32Scores)
                                 : e.op1("add", {bias, s}, "", f32Scores);
  std::string attrs = "n_group = " + std::to_string(nGroup) +
                      " : i64, topk_group = " + std::to_string(topkGroup) + " : i64, topk = " + ks +
                      " : i64";
  if (rng.chance(50))
    attrs += ", renormalize = true";
  if (rng.chance(50))
    attrs += ", routed_scaling_factor = 2.5 : f32";
  auto out =
      e.op("grouped_topk", {s, b}, attrs,
           {Emitter::tensor({e.tokens(), ks}, "f32"), Emitter::tensor({e.tokens(), ks}, "i32")});
  e.result(out[0]);
  e.result(out[1]);
  if (rng.chance(15))
    e.result(s); // the scores used outside the chain
}

void qkNorm(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  int64_t d = rng.pick(std::vector<int64_t>{16, 32, 64});
  int64_t hq = rng.pick(std::vector<int64_t>{1, 2, 4}), hk = rng.pick(std::vector<int64_t>{1, 2});
  std::string ds = std::to_string(d);
  std::string qkv = e.arg(Emitter::tensor({e.tokens(), std::to_string((hq + 2 * hk) * d)}, dt));
  auto parts = e.op("split", {qkv},
                    "dim = 1 : i64, sizes = array<i64: " + std::to_string(hq * d) + ", " +
                        std::to_string(hk * d) + ", " + std::to_string(hk * d) + ">",
                    {Emitter::tensor({e.tokens(), std::to_string(hq * d)}, dt),
                     Emitter::tensor({e.tokens(), std::to_string(hk * d)}, dt),
                     Emitter::tensor({e.tokens(), std::to_string(hk * d)}, dt)});
  auto heads = [&](const std::string &part, int64_t h) {
    if (h == 1 && rng.chance(50))
      return part; // one head: cleanup removes the identity reshape
    return e.op1("reshape", {part}, "", Emitter::tensor({e.rows(h), ds}, dt));
  };
  std::string q = heads(parts[0], hq), k = heads(parts[1], hk);
  std::string eps = epsilonAttr(rng);
  std::string bias = rng.chance(30) ? ", weight_bias = 1.0 : f32" : "";
  std::string wt = rng.chance(20) ? "f32" : dt;
  std::string wq = e.arg(Emitter::tensor({ds}, wt)), wk = e.arg(Emitter::tensor({ds}, wt));
  std::string nq = e.op1("rms_norm", {q, wq}, eps + bias, e.typeOf(q));
  std::string nk =
      e.op1("rms_norm", {k, wk}, (rng.chance(15) ? epsilonAttr(rng) : eps) + bias, e.typeOf(k));
  e.result(nq);
  e.result(nk);
  e.result(parts[2]);
}

/// An RMSNorm as torch.export writes it: casts around f32 arithmetic for a
/// 16-bit input, operands in either order, sometimes a near form the raise
/// must leave alone (pow 3, a mean over another dim, the normalized value
/// used again).
void decomposedNorm(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  std::string d = std::to_string(rng.pick(std::vector<int>{16, 32, 64}));
  std::string xt = Emitter::tensor({e.tokens(), d}, dt),
              ft = Emitter::tensor({e.tokens(), d}, "f32");
  std::string x = e.arg(xt), w = e.arg(Emitter::tensor({d}, dt));
  std::string xf = dt == "f32" ? x : e.op1("cast", {x}, "", ft);
  // The raised rms_norm rounds once where the chain rounds at every step
  // (the mean, + eps, rsqrt, the products): within a rounding, not bit for bit.
  e.needsAccuracy = true;
  std::string exponent = rng.chance(10) ? "3.0" : "2.0";
  std::string sq = e.op1("pow", {xf}, "exponent = " + exponent + " : f32", ft);
  bool lastDim = !rng.chance(10);
  std::string mt =
      lastDim ? Emitter::tensor({e.tokens(), "1"}, "f32") : Emitter::tensor({"1", d}, "f32");
  std::string ms = e.op1(
      "mean", {sq}, std::string("dim = ") + (lastDim ? "-1" : "0") + " : i64, keepdim = true", mt);
  std::string eps = e.constant(rng.chance(50) ? "1.0e-06" : "1.0e-05", "tensor<f32>");
  std::string ve =
      rng.chance(50) ? e.op1("add", {ms, eps}, "", mt) : e.op1("add", {eps, ms}, "", mt);
  std::string r = e.op1("rsqrt", {ve}, "", mt);
  std::string n = rng.chance(50) ? e.op1("mul", {xf, r}, "", ft) : e.op1("mul", {r, xf}, "", ft);
  if (dt != "f32" && rng.chance(30)) {
    // Gemma: n * (1 + w.float()) in f32, then the cast back ends the chain.
    std::string wf = e.op1("cast", {w}, "", Emitter::tensor({d}, "f32"));
    std::string one = e.constant("1.0", "tensor<f32>");
    std::string w1 = e.op1("add", {wf, one}, "", Emitter::tensor({d}, "f32"));
    std::string yf = rng.chance(50) ? e.op1("mul", {n, w1}, "", ft) : e.op1("mul", {w1, n}, "", ft);
    e.result(e.op1("cast", {yf}, "", xt));
  } else {
    std::string nb = dt == "f32" ? n : e.op1("cast", {n}, "", xt);
    e.result(rng.chance(50) ? e.op1("mul", {w, nb}, "", xt) : e.op1("mul", {nb, w}, "", xt));
  }
  if (rng.chance(10))
    e.result(n); // the normalized value used again: no raise
}

/// The FP8 serving chains: a norm (plain, after a residual add, after an
/// all-reduce, both) or SiLU-and-mul, then dynamic group (or per-token) or
/// static FP8 quantization; sometimes the quantized value has another user
/// (no fusion).
void normQuant(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  int64_t d = rng.pick(std::vector<int64_t>{32, 64, 128});
  std::string ds = std::to_string(d);
  std::string xt = Emitter::tensor({e.tokens(), ds}, dt);
  std::string y;
  if (rng.chance(25)) {
    std::string g = e.arg(xt), u = rng.chance(10) ? g : e.arg(xt);
    std::string a = e.op1("silu", {g}, "", xt);
    y = rng.chance(50) ? e.op1("mul", {a, u}, "", xt) : e.op1("mul", {u, a}, "", xt);
  } else {
    std::string x = e.arg(xt);
    if (rng.chance(40))
      x = e.op1("all_reduce", {x}, "", xt);
    if (rng.chance(60)) {
      std::string r = e.arg(xt);
      x = rng.chance(50) ? e.op1("add", {x, r}, "", xt) : e.op1("add", {r, x}, "", xt);
      if (rng.chance(50))
        e.result(x); // the next residual
    }
    // Weights whose cleanup folds are exact (plain, or Gemma's cast(w) + 1
    // in f32): a fold that drops a rounding would move fp8 codes by a step,
    // which the bit-for-bit check of this chain does not allow for.
    std::string w;
    if (rng.chance(30)) {
      std::string wf = e.op1("cast", {e.arg(Emitter::tensor({ds}, rng.pick(kFloatTypes)))}, "",
                             Emitter::tensor({ds}, "f32"));
      w = e.op1("add", {wf, e.constant("1.0", "tensor<f32>")}, "", Emitter::tensor({ds}, "f32"));
    } else {
      w = e.arg(Emitter::tensor({ds}, rng.chance(20) ? "f32" : dt));
    }
    y = e.op1("rms_norm", {x, w}, epsilonAttr(rng), xt);
  }
  std::string qt = Emitter::tensor({e.tokens(), ds}, "f8E4M3FN");
  if (rng.chance(30)) {
    std::string scale = e.constant(rng.chance(50) ? "0.02" : "0.5", "tensor<f32>");
    e.result(e.op1("quant_fp8_static", {y, scale}, "", qt));
  } else {
    int64_t g = rng.pick(std::vector<int64_t>{16, 32, d});
    bool colMajor = rng.chance(30);
    auto qs = e.op("quant_fp8", {y},
                   "group_size = " + std::to_string(g) + " : i64" + colMajorAttr(colMajor),
                   {qt, scaleType(e, colMajor, std::to_string(d / g))});
    e.result(qs[0]);
    e.result(qs[1]);
  }
  if (rng.chance(15))
    e.result(y); // the quantized value used outside the chain
}

void plain(Emitter &e, Rng &rng) {
  std::string dt = rng.pick(kFloatTypes);
  std::string x = Emitter::tensor({e.tokens(), "32"}, dt);
  std::string a = e.arg(x);
  std::string y = e.op1(rng.chance(50) ? "silu" : "sigmoid", {a}, "", x);
  e.result(e.op1("mul", {y, a}, "", x));
}

} // namespace

GraphSpec randomGraph(Rng &rng) {
  GraphSpec spec;
  spec.worldSize = rng.pick(std::vector<int64_t>{1, 2, 4});
  spec.tokens = rng.chance(50) ? 0 : rng.pick(std::vector<int64_t>{1, 3, 4});
  spec.orderSeed = rng.next();
  spec.shareSeed = rng.next();
  int64_t n = 1 + static_cast<int64_t>(rng.below(6));
  for (int64_t i = 0; i < n; ++i)
    spec.chains.push_back({static_cast<ChainKind>(rng.below(8)), rng.next()});
  return spec;
}

GeneratedGraph emitGraph(const GraphSpec &spec) {
  Emitter e(spec);
  for (const ChainSpec &c : spec.chains) {
    Rng rng{c.seed};
    e.beginChain();
    switch (c.kind) {
    case ChainKind::AddNorm:
      addNorm(e, rng);
      break;
    case ChainKind::AllReduceNorm:
      allReduceNorm(e, rng);
      break;
    case ChainKind::GatedQuant:
      gatedQuant(e, rng);
      break;
    case ChainKind::Router:
      router(e, rng);
      break;
    case ChainKind::QKNorm:
      qkNorm(e, rng);
      break;
    case ChainKind::Plain:
      plain(e, rng);
      break;
    case ChainKind::DecomposedNorm:
      decomposedNorm(e, rng);
      break;
    case ChainKind::NormQuant:
      normQuant(e, rng);
      break;
    }
  }
  GeneratedGraph g;
  g.text = e.finish();
  g.needsAccuracy = e.needsAccuracy;
  return g;
}

} // namespace llmf::fuzz
