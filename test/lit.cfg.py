# -*- Python -*-
# lit configuration of the llm-fusion FileCheck suite.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "llm-fusion"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Unit", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.llm_fusion_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%examples", os.path.join(config.llm_fusion_src_root, "examples")))
llvm_config.use_default_substitutions()

tool_dirs = [config.llm_fusion_tools_dir, config.llvm_tools_dir]
llvm_config.with_environment("PATH", config.llm_fusion_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["fusion-opt", "fusion-translate", "fusion-run"], tool_dirs)
