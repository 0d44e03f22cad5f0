"""The sync engine: audit (scan) → plan → execute → report, behind one facade (facade.py)
that the CLI, the app and the HTTP API call. Its top-level modules are what every layer
shares (errors, events, cancel, config, bwlimit, hashing, paths, scanned) and import only
each other; the packages by job sit above them (actors, then local and s3, then plan and
transfer, then run), each importing only downward or within itself (docs/ARCHITECTURE.md,
checked by tests/test_layers.py). No terminal or Textual code here.
"""
