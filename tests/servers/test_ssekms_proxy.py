"""The SSE-KMS proxy behaves as AWS does for such objects, so the matrix tests trainsync, not it."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.servers.targets import Target

MiB = 1024 * 1024


@pytest.fixture
def kms(sse_kms_target: Target) -> tuple[object, str]:
    client = sse_kms_target.client()
    bucket = f"kms-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


def test_etags_are_not_md5s_but_stay_stable_and_conditions_apply(kms: tuple) -> None:
    client, bucket = kms
    body = b"some bytes"

    put = client.put_object(Bucket=bucket, Key="a.txt", Body=body)
    head = client.head_object(Bucket=bucket, Key="a.txt")
    listed = client.list_objects_v2(Bucket=bucket, Prefix="a.txt")["Contents"][0]

    etag = put["ETag"]
    assert etag.strip('"') != hashlib.md5(body).hexdigest()
    assert head["ETag"] == etag == listed["ETag"]
    assert head["ServerSideEncryption"] == "aws:kms" == put["ServerSideEncryption"]
    client.put_object(Bucket=bucket, Key="a.txt", Body=b"v2", IfMatch=etag)  # S3's own ETag
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.put_object(Bucket=bucket, Key="a.txt", Body=b"v3", IfMatch=etag)  # now stale
    with pytest.raises(ClientError, match="PreconditionFailed"):
        client.put_object(Bucket=bucket, Key="a.txt", Body=b"v3", IfNoneMatch="*")


def test_multipart_part_and_object_etags_are_not_md5s(kms: tuple) -> None:
    client, bucket = kms
    parts = [b"p" * (5 * MiB), b"q" * 100]
    upload = client.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    sent = []
    for n, data in enumerate(parts, 1):
        etag = client.upload_part(
            Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=n, Body=data
        )["ETag"]
        assert etag.strip('"') != hashlib.md5(data).hexdigest()
        sent.append({"ETag": etag, "PartNumber": n})

    done = client.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": sent}
    )

    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    real = f"{hashlib.md5(md5s).hexdigest()}-2"
    assert done["ETag"].strip('"').endswith("-2") and done["ETag"].strip('"') != real
    assert client.head_object(Bucket=bucket, Key="big.bin")["ETag"] == done["ETag"]
    part = client.head_object(Bucket=bucket, Key="big.bin", PartNumber=1)
    assert part["ContentLength"] == 5 * MiB and part["ETag"] == done["ETag"]
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 0-{5 * MiB - 1}/{5 * MiB + 100}"
