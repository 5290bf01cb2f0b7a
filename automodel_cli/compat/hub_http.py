"""The HTTP library huggingface_hub sends its requests with: httpx2 from huggingface_hub 2, httpx before.

amx sets timeouts and recognises transport errors in that library's own types, so it must be the one
huggingface_hub imported, not merely one that happens to be installed.
"""

from __future__ import annotations

from types import ModuleType


def http_library() -> ModuleType:
    from huggingface_hub.utils import _http

    library = getattr(_http, "httpx2", None) or getattr(_http, "httpx", None)
    if library is None:
        raise ImportError("huggingface_hub uses neither httpx2 nor httpx")
    return library
