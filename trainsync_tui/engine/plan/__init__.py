"""Plan: what a sync will do, decided from the three listings without touching disk or S3.
Building the plan (build.py) out of steps (steps.py: an upload, a download, a trash, a
record...), the counts of what it predicts (counts.py: `Counts`, written as the seed's keys
by its own `to_json`), narrowing it to a chosen set of paths (select.py), and the
--only/--exclude patterns that match no file at all (unmatched.py: an error in the same
words for the CLI and the API). Each step states its own direction, count key and bytes,
and runs through the executor's `StepRunner` methods, so nothing outside this package asks
a step its type. Pure functions over values: a module imports only the engine's top-level
modules, actors/ and this package.
"""
