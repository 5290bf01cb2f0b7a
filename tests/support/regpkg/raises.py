"""A module that fails while being imported, for a reason of its own."""

raise RuntimeError("the project's settings file is missing")
