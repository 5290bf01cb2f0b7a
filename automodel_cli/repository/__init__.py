"""Layer 5: what a MODEL reference is (transformers folder, adapter, sentence-transformers, pipeline, GGUF), decided once from its small files. Beside meta/ and source/."""
