//===- Plan.cpp - plan JSON: parse, validate, write ---------------------===//
//
// Validation is total: every field is type-checked before use, so a plan
// that is truncated, mistyped or inconsistent gets an Error naming the
// entry (functions[i].steps[j] and the op's source location), never an
// exception from the JSON library or a crash later in a kernel.
//
//===----------------------------------------------------------------------===//

#include "runtime/Plan.h"

#include "runtime/Error.h"
#include "runtime/OpSchema.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace llmf {

using json = nlohmann::json;
/// Plans are written in a fixed, readable key order.
using ojson = nlohmann::ordered_json;

std::string TensorType::str() const {
  return std::string(dtypeName(dtype)) + " " + shapeToString(shape);
}

std::string_view inputRoleName(InputRole r) {
  switch (r) {
  case InputRole::Activation: return "activation";
  case InputRole::NormWeight: return "norm_weight";
  case InputRole::LinearWeight: return "linear_weight";
  case InputRole::Bias: return "bias";
  case InputRole::Scale: return "scale";
  case InputRole::Indices: return "indices";
  case InputRole::Logits: return "logits";
  }
  return "activation";
}

static std::optional<InputRole> parseInputRole(std::string_view s) {
  for (InputRole r : {InputRole::Activation, InputRole::NormWeight,
                      InputRole::LinearWeight, InputRole::Bias, InputRole::Scale,
                      InputRole::Indices, InputRole::Logits})
    if (inputRoleName(r) == s)
      return r;
  return std::nullopt;
}

const PlanFunction &Plan::function(const std::string &name) const {
  if (name.empty()) {
    if (functions.size() == 1)
      return functions[0];
    std::string names;
    for (const PlanFunction &f : functions)
      names += (names.empty() ? "" : ", ") + f.name;
    fail(source, ": holds ", functions.size(),
         " functions; pick one with --function (", names, ")");
  }
  for (const PlanFunction &f : functions)
    if (f.name == name)
      return f;
  fail(source, ": no function named '", name, "'");
}

//===----------------------------------------------------------------------===//
// Attributes: one table maps JSON names to OpAttrs fields.
//===----------------------------------------------------------------------===//

namespace {

/// Where an error happened, as a path into the document.
struct Where {
  std::string text;
  Where operator/(const std::string &part) const {
    if (text.empty())
      return Where{part};
    return Where{text + (text.back() == ':' ? " " : ".") + part};
  }
  Where operator[](size_t i) const {
    return Where{text + "[" + std::to_string(i) + "]"};
  }
};

const json &member(const json &obj, const char *key, const Where &w) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail(w.text, ": missing '", key, "'");
  return *it;
}

int64_t asInt(const json &v, const Where &w) {
  if (!v.is_number_integer())
    fail(w.text, ": expected an integer, got ", v.type_name());
  return v.get<int64_t>();
}

std::string asString(const json &v, const Where &w) {
  if (!v.is_string())
    fail(w.text, ": expected a string, got ", v.type_name());
  return v.get<std::string>();
}

const json &asArray(const json &v, const Where &w) {
  if (!v.is_array())
    fail(w.text, ": expected an array, got ", v.type_name());
  return v;
}

const json &asObject(const json &v, const Where &w) {
  if (!v.is_object())
    fail(w.text, ": expected an object, got ", v.type_name());
  return v;
}

std::vector<int64_t> asIntArray(const json &v, const Where &w) {
  std::vector<int64_t> out;
  size_t i = 0;
  for (const json &e : asArray(v, w))
    out.push_back(asInt(e, w[i++]));
  return out;
}

OpAttrs parseAttrs(const json &obj, const OpSchema &schema, const Where &w) {
  OpAttrs attrs;
  asObject(obj, w);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string &key = it.key();
    bool known = false;
    for (auto n : schema.requiredAttrs)
      known |= n == key;
    for (auto n : schema.optionalAttrs)
      known |= n == key;
    if (!known)
      fail(w.text, ": op '", schema.name, "' has no attribute '", key, "'");
    const AttrField &f = *findAttrField(key);
    Where aw = w / key;
    const json &v = it.value();
    switch (f.kind) {
    case AttrKind::F32:
      if (!v.is_number())
        fail(aw.text, ": expected a number, got ", v.type_name());
      attrs.*f.f32 = static_cast<float>(v.get<double>());
      break;
    case AttrKind::I64:
      attrs.*f.i64 = asInt(v, aw);
      break;
    case AttrKind::Bool:
      if (!v.is_boolean())
        fail(aw.text, ": expected true or false, got ", v.type_name());
      attrs.*f.boolean = v.get<bool>();
      break;
    case AttrKind::I64Array:
      attrs.*f.array = asIntArray(v, aw);
      break;
    }
  }
  for (auto n : schema.requiredAttrs)
    if (!obj.contains(std::string(n)))
      fail(w.text, ": op '", schema.name, "' needs attribute '", n, "'");
  return attrs;
}

ojson writeAttrs(const OpAttrs &attrs, const OpSchema &schema) {
  ojson obj = ojson::object();
  auto put = [&](std::string_view name) {
    const AttrField &f = *findAttrField(name);
    std::string key(name);
    switch (f.kind) {
    case AttrKind::F32: obj[key] = static_cast<double>(attrs.*f.f32); break;
    case AttrKind::I64: obj[key] = attrs.*f.i64; break;
    case AttrKind::Bool: obj[key] = attrs.*f.boolean; break;
    case AttrKind::I64Array: obj[key] = attrs.*f.array; break;
    }
  };
  for (auto n : schema.requiredAttrs)
    put(n);
  for (auto n : schema.optionalAttrs)
    put(n);
  return obj;
}

/// The static part of a type must fit 64 bits in elements and in bytes, so
/// that no later product overflows; dynamic dims are checked when bound.
void checkTypeSize(const TensorType &t, const Where &w) {
  int64_t n = 1, bytes = 0;
  for (int64_t d : t.shape)
    if (d > 0 && __builtin_mul_overflow(n, d, &n))
      fail(w.text, ": shape ", shapeToString(t.shape),
           " has more elements than fit in 64 bits");
  if (__builtin_mul_overflow(n, static_cast<int64_t>(dtypeSize(t.dtype)), &bytes))
    fail(w.text, ": a ", t.str(), " tensor takes more bytes than fit in 64 bits");
}

/// The value count of a constant: 1 (a splat) or its element count.
void checkConstantCount(const PlanBuffer &b, const Where &w) {
  for (int64_t d : b.type.shape)
    if (d < 0)
      fail(w.text, ": a constant must have a static shape, got ",
           shapeToString(b.type.shape));
  int64_t n = numElements(b.type.shape);
  size_t count = b.constantCount();
  if (count != 1 && static_cast<uint64_t>(count) != static_cast<uint64_t>(n))
    fail(w.text, ": a constant of shape ", shapeToString(b.type.shape),
         " needs 1 (splat) or ", n, " values, got ", count);
}

/// Shape-and-type checks of one function, shared by parsed and built plans.
void validateFunction(PlanFunction &fn, const Where &w) {
  std::vector<bool> defined(fn.buffers.size(), false);
  std::vector<int64_t> producerStep(fn.buffers.size(), -1);
  std::vector<int64_t> producerResult(fn.buffers.size(), -1);
  auto checkId = [&](int64_t id, const Where &where) {
    if (id < 0 || id >= static_cast<int64_t>(fn.buffers.size()))
      fail(where.text, ": buffer id ", id, " does not exist (the function has ",
           fn.buffers.size(), " buffers)");
  };
  for (size_t i = 0; i < fn.buffers.size(); ++i) {
    PlanBuffer &b = fn.buffers[i];
    if (b.id != static_cast<int64_t>(i))
      fail((w / "buffers")[i].text, ": has id ", b.id,
           "; buffer ids must be 0, 1, 2, ... in order");
    for (int64_t d : b.type.shape)
      if (d < -1)
        fail((w / "buffers")[i].text, ": bad dim ", d, " (dims are >= 0, or -1 for dynamic)");
    checkTypeSize(b.type, (w / "buffers")[i]);
    if (b.isConstant) {
      checkConstantCount(b, (w / "buffers")[i]);
      defined[i] = true;
    }
  }
  for (size_t i = 0; i < fn.inputs.size(); ++i) {
    Where iw = (w / "inputs")[i];
    int64_t id = fn.inputs[i].buffer;
    checkId(id, iw);
    if (defined[id])
      fail(iw.text, ": buffer ", id, " is defined twice");
    defined[id] = true;
  }
  for (size_t s = 0; s < fn.steps.size(); ++s) {
    PlanStep &step = fn.steps[s];
    Where sw = (w / "steps")[s];
    if (!step.loc.empty())
      sw.text += " (" + step.loc + ")";
    const OpSchema *schema = findOpSchema(step.op);
    if (!schema)
      fail(sw.text, ": unknown kernel '", step.op, "'");
    sw.text += " '" + step.op + "'";
    if (schema->numInputs < 0 ? step.inputs.empty()
                              : static_cast<int>(step.inputs.size()) != schema->numInputs)
      fail(sw.text, ": takes ", schema->numInputs < 0 ? std::string("one or more")
                                                      : std::to_string(schema->numInputs),
           " inputs, got ",
           step.inputs.size());
    size_t wantOutputs = schema->numOutputs >= 0
                             ? static_cast<size_t>(schema->numOutputs)
                             : step.attrs.sizes.size();
    if (step.outputs.size() != wantOutputs)
      fail(sw.text, ": produces ", wantOutputs, " outputs, got ",
           step.outputs.size());
    std::vector<TensorType> in, declared;
    for (int64_t id : step.inputs) {
      checkId(id, sw);
      if (!defined[id])
        fail(sw.text, ": reads buffer ", id, " before anything defines it");
      in.push_back(fn.buffers[id].type);
    }
    for (size_t r = 0; r < step.outputs.size(); ++r) {
      int64_t id = step.outputs[r];
      checkId(id, sw);
      if (defined[id])
        fail(sw.text, ": buffer ", id, " is defined twice");
      defined[id] = true;
      producerStep[id] = static_cast<int64_t>(s);
      producerResult[id] = static_cast<int64_t>(r);
      declared.push_back(fn.buffers[id].type);
    }
    std::vector<TensorType> inferred;
    try {
      inferred = schema->infer(in, step.attrs, declared);
    } catch (const Error &e) {
      fail(sw.text, ": ", e.what());
    }
    for (size_t r = 0; r < declared.size(); ++r)
      if (!typeMatches(declared[r], inferred[r]))
        fail(sw.text, ": result ", r, " is declared ", declared[r].str(),
             " but the op gives ", inferred[r].str());
  }
  if (fn.outputs.empty())
    fail(w.text, ": a function must return at least one buffer");
  for (size_t i = 0; i < fn.outputs.size(); ++i) {
    checkId(fn.outputs[i], (w / "outputs")[i]);
    if (!defined[fn.outputs[i]])
      fail((w / "outputs")[i].text, ": buffer ", fn.outputs[i], " is never defined");
  }
  // Index outputs of topk and routing are ranked by values a comparison
  // needs to tell ties from errors: the ranked input, not the result.
  fn.rankKeys.assign(fn.outputs.size(), RankKey{});
  for (size_t i = 0; i < fn.outputs.size(); ++i) {
    int64_t id = fn.outputs[i];
    if (isFloat(fn.buffers[id].type.dtype) || producerStep[id] < 0)
      continue;
    const PlanStep &step = fn.steps[producerStep[id]];
    const RankRule &rule = findOpSchema(step.op)->ranking;
    if (producerResult[id] != 1 || rule.kind == RankKey::Kind::None)
      continue;
    fn.rankKeys[i] = {rule.kind, step.inputs[rule.a], rule.b >= 0 ? step.inputs[rule.b] : -1};
  }
}

} // namespace

std::vector<uint8_t> encodeConstant(const PlanBuffer &b, const std::string &where) {
  checkConstantCount(b, Where{where});
  int64_t n = numElements(b.type.shape);
  size_t bytes = checkedTensorBytes(n, b.type.dtype, where);
  size_t es = dtypeSize(b.type.dtype);
  std::vector<uint8_t> raw(bytes);
  bool splat = b.constantCount() == 1;
  for (int64_t i = 0; i < n; ++i) {
    size_t at = splat ? 0 : static_cast<size_t>(i);
    if (isFloat(b.type.dtype)) {
      writeFloat(b.type.dtype, raw.data() + i * es, static_cast<float>(b.constantData[at]));
      continue;
    }
    int64_t v = b.constantInts[at];
    if (b.type.dtype == DType::I32 && (v < INT32_MIN || v > INT32_MAX))
      fail(where, ": value ", v, " does not fit i32");
    writeInt(b.type.dtype, raw.data() + i * es, v);
  }
  return raw;
}

void validatePlan(Plan &plan) {
  if (plan.version != kPlanVersion)
    fail(plan.source, ": unsupported plan version ", plan.version,
         " (this runtime reads version ", kPlanVersion, ")");
  if (plan.worldSize < 1 || plan.worldSize > kMaxWorldSize)
    fail(plan.source, ": world_size must be in [1, ", kMaxWorldSize, "], got ",
         plan.worldSize);
  if (plan.functions.empty())
    fail(plan.source, ": the plan has no functions");
  std::set<std::string> names;
  for (size_t i = 0; i < plan.functions.size(); ++i) {
    PlanFunction &fn = plan.functions[i];
    Where w{plan.source + ": functions[" + std::to_string(i) + "] '" + fn.name + "'"};
    if (!names.insert(fn.name).second)
      fail(w.text, ": a second function with this name");
    validateFunction(fn, w);
  }
}

Plan parsePlan(const std::string &text, const std::string &source) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again for the library's message (where it stopped and why).
    try {
      json again = json::parse(text);
    } catch (const json::parse_error &e) {
      fail(source, ": not a valid JSON plan: ", e.what());
    }
    fail(source, ": not a valid JSON plan");
  }
  Where root{source + ":"};
  asObject(doc, root);
  Plan plan;
  plan.source = source;
  auto fmt = doc.find("format");
  if (fmt == doc.end() || !fmt->is_string() || fmt->get<std::string>() != kPlanFormat)
    fail(source, ": not an llm-fusion plan (\"format\" must be \"", kPlanFormat, "\")");
  plan.version = static_cast<int>(asInt(member(doc, "version", root), root / "version"));
  if (plan.version != kPlanVersion)
    fail(source, ": unsupported plan version ", plan.version,
         " (this runtime reads version ", kPlanVersion, ")");
  if (doc.contains("world_size"))
    plan.worldSize = asInt(doc["world_size"], root / "world_size");
  const json &fns = asArray(member(doc, "functions", root), root / "functions");
  for (size_t i = 0; i < fns.size(); ++i) {
    Where fw = (root / "functions")[i];
    const json &f = asObject(fns[i], fw);
    PlanFunction fn;
    fn.name = asString(member(f, "name", fw), fw / "name");
    const json &buffers = asArray(member(f, "buffers", fw), fw / "buffers");
    for (size_t b = 0; b < buffers.size(); ++b) {
      Where bw = (fw / "buffers")[b];
      const json &jb = asObject(buffers[b], bw);
      PlanBuffer buf;
      buf.id = asInt(member(jb, "id", bw), bw / "id");
      std::string dt = asString(member(jb, "dtype", bw), bw / "dtype");
      auto dtype = parseDType(dt);
      if (!dtype)
        fail((bw / "dtype").text, ": unknown element type '", dt, "'");
      buf.type.dtype = *dtype;
      buf.type.shape = asIntArray(member(jb, "shape", bw), bw / "shape");
      if (jb.contains("name"))
        buf.name = asString(jb["name"], bw / "name");
      if (jb.contains("constant")) {
        buf.isConstant = true;
        const json &data = asArray(jb["constant"], bw / "constant");
        bool floats = isFloat(buf.type.dtype);
        for (size_t k = 0; k < data.size(); ++k) {
          Where kw = (bw / "constant")[k];
          if (!floats) {
            if (!data[k].is_number_integer())
              fail(kw.text, ": expected an integer for a ", dt,
                   " constant, got ", data[k].type_name());
            if (data[k].is_number_unsigned() &&
                data[k].get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
              fail(kw.text, ": ", data[k].get<uint64_t>(), " does not fit i64");
            buf.constantInts.push_back(data[k].get<int64_t>());
          } else if (data[k].is_number()) {
            buf.constantData.push_back(data[k].get<double>());
          } else if (data[k].is_string() && data[k] == "inf") {
            buf.constantData.push_back(HUGE_VAL);
          } else if (data[k].is_string() && data[k] == "-inf") {
            buf.constantData.push_back(-HUGE_VAL);
          } else if (data[k].is_string() && data[k] == "nan") {
            buf.constantData.push_back(NAN);
          } else {
            fail(kw.text, ": expected a number, \"inf\", \"-inf\" or \"nan\", got ",
                 data[k].dump());
          }
        }
      }
      fn.buffers.push_back(std::move(buf));
    }
    const json &inputs = asArray(member(f, "inputs", fw), fw / "inputs");
    for (size_t k = 0; k < inputs.size(); ++k) {
      Where iw = (fw / "inputs")[k];
      const json &ji = asObject(inputs[k], iw);
      PlanInput in;
      in.buffer = asInt(member(ji, "buffer", iw), iw / "buffer");
      if (ji.contains("role")) {
        std::string r = asString(ji["role"], iw / "role");
        auto role = parseInputRole(r);
        if (!role)
          fail((iw / "role").text, ": unknown input role '", r, "'");
        in.role = *role;
      }
      if (ji.contains("bound")) {
        in.indexBound = asInt(ji["bound"], iw / "bound");
        if (in.indexBound < kDynamicIndexBound)
          fail((iw / "bound").text, ": expected a bound >= 0, or -1 for the dynamic dim, got ",
               in.indexBound);
      }
      fn.inputs.push_back(in);
    }
    const json &steps = asArray(member(f, "steps", fw), fw / "steps");
    for (size_t s = 0; s < steps.size(); ++s) {
      Where sw = (fw / "steps")[s];
      const json &js = asObject(steps[s], sw);
      PlanStep step;
      step.op = asString(member(js, "op", sw), sw / "op");
      if (js.contains("loc"))
        step.loc = asString(js["loc"], sw / "loc");
      const OpSchema *schema = findOpSchema(step.op);
      if (!schema)
        fail(sw.text, (step.loc.empty() ? "" : " (" + step.loc + ")"),
             ": unknown kernel '", step.op, "'");
      step.inputs = asIntArray(member(js, "inputs", sw), sw / "inputs");
      step.outputs = asIntArray(member(js, "outputs", sw), sw / "outputs");
      step.attrs = parseAttrs(js.contains("attrs") ? js["attrs"] : json::object(),
                              *schema, sw / "attrs");
      fn.steps.push_back(std::move(step));
    }
    fn.outputs = asIntArray(member(f, "outputs", fw), fw / "outputs");
    plan.functions.push_back(std::move(fn));
  }
  validatePlan(plan);
  return plan;
}

Plan loadPlanFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, ": cannot open the plan");
  std::stringstream ss;
  ss << in.rdbuf();
  return parsePlan(ss.str(), path);
}

std::string writePlanJson(const Plan &plan) {
  ojson doc;
  doc["format"] = kPlanFormat;
  doc["version"] = plan.version;
  doc["world_size"] = plan.worldSize;
  ojson fns = ojson::array();
  for (const PlanFunction &fn : plan.functions) {
    ojson f;
    f["name"] = fn.name;
    ojson buffers = ojson::array();
    for (const PlanBuffer &b : fn.buffers) {
      ojson jb;
      jb["id"] = b.id;
      jb["dtype"] = std::string(dtypeName(b.type.dtype));
      jb["shape"] = b.type.shape;
      if (!b.name.empty())
        jb["name"] = b.name;
      if (b.isConstant && !isFloat(b.type.dtype)) {
        jb["constant"] = b.constantInts;
      } else if (b.isConstant) {
        // JSON has no infinities or NaN: they are written as strings.
        ojson values = ojson::array();
        for (double v : b.constantData)
          if (std::isnan(v))
            values.push_back("nan");
          else if (std::isinf(v))
            values.push_back(v > 0 ? "inf" : "-inf");
          else
            values.push_back(v);
        jb["constant"] = std::move(values);
      }
      buffers.push_back(std::move(jb));
    }
    f["buffers"] = std::move(buffers);
    ojson inputs = ojson::array();
    for (const PlanInput &in : fn.inputs) {
      ojson ji{{"buffer", in.buffer}, {"role", std::string(inputRoleName(in.role))}};
      if (in.role == InputRole::Indices)
        ji["bound"] = in.indexBound;
      inputs.push_back(std::move(ji));
    }
    f["inputs"] = std::move(inputs);
    ojson steps = ojson::array();
    for (const PlanStep &s : fn.steps) {
      ojson js{{"op", s.op}, {"inputs", s.inputs}, {"outputs", s.outputs}};
      if (const OpSchema *schema = findOpSchema(s.op)) {
        ojson attrs = writeAttrs(s.attrs, *schema);
        if (!attrs.empty())
          js["attrs"] = std::move(attrs);
      }
      if (!s.loc.empty())
        js["loc"] = s.loc;
      steps.push_back(std::move(js));
    }
    f["steps"] = std::move(steps);
    f["outputs"] = fn.outputs;
    fns.push_back(std::move(f));
  }
  doc["functions"] = std::move(fns);
  return doc.dump(1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

} // namespace llmf
