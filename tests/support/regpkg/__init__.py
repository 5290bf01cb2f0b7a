"""A project's own model, registered with the Auto classes, and broken variants: one per registration pitfall.

Imported by the tests only through `amx --import regpkg.<module>` (and by the tests themselves, to compare
with what transformers does after the same import); tests/knowledge/test_registered.py runs amx from tests/support/.
"""
