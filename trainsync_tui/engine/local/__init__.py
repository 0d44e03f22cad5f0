"""Local: everything this machine holds for an actor. The scan of training_data/ (scan.py),
the manifest file (manifest.py), the stat checks a transfer makes on a local file
(stamps.py), putting a downloaded file in place (landing.py), the journal of our temp files
(tempfiles.py), and the per-actor flock that keeps one sync per actor on this root
(flock.py). No S3 request is made here: a module imports only the engine's top-level
modules, actors/ and this package.
"""
