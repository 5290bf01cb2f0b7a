"""Quantized checkpoints: what `quantization_config` says (config.py), which methods the installed
transformers supports (supported.py), each method's tensor layout (methods/) and what loading does on
a machine (loading.py, which runs the installed release's own quantizer checks)."""
