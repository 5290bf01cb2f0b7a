"""Layer 0: what every layer uses: the exception hierarchy and exit codes, strict JSON and TOML reading, the cache folder, units."""
