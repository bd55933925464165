"""codesign: quantization-aware models to verified hardware and energy."""

import warnings

# brevitas warns at import about an optional CUDA kernel package we never use.
warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found")

__version__ = "0.1.0"
