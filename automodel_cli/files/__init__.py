"""Layer 1: where a model's files are: model references, the Hub (the only network code), config.json, checkpoint files read locally or by HTTP range, a repository's small files."""
