"""Layer 3: repository shapes, read only: PEFT adapters, sentence-transformers module chains, diffusers pipelines."""
