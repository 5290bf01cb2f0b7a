"""The key/value cache transformers holds while generating, per attention kind, from the config alone.

`cache_layout` reads the config as the installed transformers builds it and splits the decoder's layers
into groups that cache alike: full attention (every token), sliding-window or chunked attention (the
last `window - 1` tokens), state-space and linear-attention layers (a fixed-size state per sequence),
multi-head latent attention (the compressed latent and rope key, in the full or sliding groups), and
the cross-attention of an encoder-decoder (every encoder token, `cross`). Each kind of decoder layer is
a module of this package with the same two names: `LAYER_TYPES` (the transformers layer types it
caches) and `group`; a new kind is a new module listed in `layout.KINDS`.
`kv_cache` turns a layout into bytes for a dtype, a number of tokens and a batch size.
"""

from __future__ import annotations

from .layout import UNREADABLE_CONFIG, CacheGroup, CacheLayout, cache_layout
from .sizes import KvCache, kv_cache

__all__ = ["UNREADABLE_CONFIG", "CacheGroup", "CacheLayout", "KvCache", "cache_layout", "kv_cache"]
