"""Run: one audit, sync, clean-up or restore of an actor, start to end. Holding the actor
(sync_guard.py: this root's flock, then the S3 lease), the audit that gathers the three
listings (audit.py), executing a plan's steps (execute.py), the report of a run
(report.py) and the history of runs (history.py), bringing trash back (restore.py), and
aborting multipart uploads left behind (stale_uploads.py), and a fleet of actors: one
listing for all, and what tells a sync it has nothing to write (fleet.py). A module may import every
package of the engine except the facade (facade.py), which calls into this one.
"""
