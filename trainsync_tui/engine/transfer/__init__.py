"""Transfer: moving one file's bytes between a local path and S3, checked. The front door for
a put, a get or a copy (transfers.py), what a run's transfers share (context.py), the
multipart upload with its journal for resuming (multipart.py, upload_journal.py), part
readers that fail at once when the file shrinks or a cancel comes (part_readers.py),
downloads (downloads.py) by one GET (single_get.py) or in parallel ranges written and hashed
as they land (parallel_get.py), kept for resuming (resumable_get.py), the MD5 check of what
landed (verify.py), and the bandwidth limiter every transfer draws from (bandwidth.py). A
module imports only the engine's top-level modules, actors/, local/, s3/ and this package;
it never sees a plan.
"""
