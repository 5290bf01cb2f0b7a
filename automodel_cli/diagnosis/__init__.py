"""Layer 7: will it load: `amx doctor`, transformers' loading errors explained, `amx check` and its manifests."""
