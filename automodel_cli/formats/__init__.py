"""Layer 2: file formats: safetensors headers, GGUF headers and checkpoints, the tensor type and dtype sizes, tensor grouping."""
