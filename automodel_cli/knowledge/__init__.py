"""Layer 4: what transformers knows: the Auto-mapping index, heads for a config, tasks, processors, registered classes, loading findings, config summaries, GGUF configs."""
