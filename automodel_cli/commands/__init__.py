"""One module per command; each defines a plain function that `cli.py` registers on the app."""
