"""Layer 6: `amx inspect` as data: the report types and the inspection of each repository shape."""
