"""Where the internals amx reads differ between the transformers (and huggingface_hub) releases it supports.

amx answers for the installed release, so each difference is handled here, one module per topic, by
asking the installed code what it does (its signatures, its attributes), never by comparing version
numbers elsewhere. Everything else in amx calls these functions instead of the moving internals.
"""
