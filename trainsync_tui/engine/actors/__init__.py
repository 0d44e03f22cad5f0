"""Actors: who an actor is and where its things live. An actor's NFC name and the local
folder spellings of it (names.py), its layout of folders, manifest, temp files and trash,
locally and in S3 (layout.py), the words for something local in the way of a download
(obstacles.py), and "did you mean" for a name that matches none (suggest.py). Pure rules and
paths, no S3 request: a module here imports only the engine's top-level modules (errors,
config, paths, ...) and this package.
"""
