"""The good registration, from a module that prints while being imported (amx keeps stdout for its output)."""

from . import good  # noqa: F401 - imported for its registrations

print("registering the project's models")
