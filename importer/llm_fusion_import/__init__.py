"""fusion-import: from a PyTorch model to the llm dialect.

torch.export turns a module into a functional ATen graph with a dynamic token
dim; `aten_to_llm` writes that graph as an `llm` module in the spec's generic
form, with the parameters and the inputs as `.npy` files that `fusion-run
--input-dir` reads, the outputs PyTorch computed on them, and a manifest.
The C++ passes do the rest (raising decomposed norms, fusing). This is the
only Python in the project: it is where PyTorch must be reached.
"""

from .aten_to_llm import ImportError_, UnsupportedOp, to_llm_module
from .export import ImportedPiece, import_module

__all__ = ["ImportError_", "UnsupportedOp", "to_llm_module", "ImportedPiece", "import_module"]
