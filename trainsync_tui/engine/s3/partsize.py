"""The part size of a multipart object: what S3 says, else the sizes its ETag allows.

S3 answers `HEAD ?partNumber=1` with the first part (206, Content-Range, the part count).
Some servers (nanio, some gateways) ignore the query and answer with the whole object; taking
that as the part size gives a wrong multipart ETag and refuses good data on every run. Then
the part sizes that the usual tools pick and that give the ETag's part count are tried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024
# aws-cli and boto3 default to 8 MiB, s5cmd and rclone to 5/16/50/64 MiB, older tools to
# 15 MiB, and big-file uploaders to 100 MiB.
COMMON_PART_SIZES = tuple(n * MiB for n in (5, 8, 15, 16, 50, 64, 100))
_MULTIPART_ETAG = re.compile(r"^[0-9a-fA-F]{32}-(\d+)$")
_OPAQUE_SSE = ("aws:kms", "aws:kms:dsse")


def encrypted(reply: dict[str, Any]) -> bool:
    """Whether S3 says the object is SSE-KMS or SSE-C: then its ETags are not MD5s."""
    return reply.get("ServerSideEncryption") in _OPAQUE_SSE or bool(
        reply.get("SSECustomerAlgorithm")
    )


@dataclass(frozen=True, slots=True)
class PartSizes:
    """Part sizes to check an object's multipart ETag with; `known` when S3 said which."""

    sizes: tuple[int, ...]
    known: bool


def etag_part_count(etag: str) -> int | None:
    """N of a multipart ETag `<md5>-N`; None for any other ETag."""
    match = _MULTIPART_ETAG.match(etag.strip('"'))
    return int(match.group(1)) if match else None


def candidate_part_sizes(size: int, parts: int, hint: int | None = None) -> tuple[int, ...]:
    """Part sizes that cut `size` bytes into exactly `parts` parts, most likely first:
    the hint, size/parts rounded up to a MiB, then the usual tools' sizes."""
    if parts < 1 or size < parts:
        return ()
    even = -(-size // parts)
    tries = [hint or 0, -(-even // MiB) * MiB, *COMMON_PART_SIZES]
    found: list[int] = []
    for part in tries:
        if part > 0 and -(-size // part) == parts and part not in found:
            found.append(part)
    return tuple(found)


def object_part_sizes(client: Any, bucket: str, key: str, size: int, etag: str) -> PartSizes:
    """The part size of this object, asked of S3 once; candidates when the answer is unusable.

    The one place that decides what "the part size of this object" is, for the audit and
    for the download check alike.
    """
    parts = etag_part_count(etag)
    if parts is None:
        return PartSizes((), False)  # not a multipart ETag: no part size checks it
    # No If-Match here: moto compares it with something else than the object's ETag on a
    # part HEAD and answers 412; the callers already pinned the ETag with their own request.
    head = client.head_object(Bucket=bucket, Key=key, PartNumber=1)
    if encrypted(head):
        return PartSizes((), False)  # SSE-KMS/SSE-C: its ETags are no MD5s of any part size
    part = int(head.get("ContentLength", 0))
    status = int(head.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    answered = status == 206 or bool(head.get("ContentRange")) or bool(head.get("PartsCount"))
    consistent = part > 0 and -(-size // part) == parts and (parts == 1 or part < size)
    if answered and consistent:
        return PartSizes((part,), True)
    return PartSizes(candidate_part_sizes(size, parts, part if consistent else None), False)
