"""trainsync: keep training data in line across local files, the manifest and S3."""

__version__ = "0.1.0"
