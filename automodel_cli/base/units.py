"""Numbers as people read them: counts (405.85B) and sizes (1.8 GiB), for every layer that words a message."""

from __future__ import annotations


def human_count(value: int | None) -> str:
    """405853388800 -> '405.85B'."""
    if value is None:
        return "-"
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if value >= size:
            return f"{value / size:.2f}{suffix}"
    return str(value)


def human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"
