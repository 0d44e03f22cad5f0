"""What each S3 error code means to the engine: one set per meaning, asked by predicate."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from trainsync_tui.engine.s3 import error_codes as codes


def answer(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "AnyOperation")


@pytest.mark.parametrize(
    ("predicate", "meaning", "other"),
    [
        (codes.is_missing_object, ["NoSuchKey", "NotFound", "404"], ["NoSuchUpload", "403"]),
        (codes.is_missing_upload, ["NoSuchUpload", "404"], ["NoSuchKey", "NotFound"]),
        (
            codes.is_precondition_failed,
            ["PreconditionFailed", "412", "ConditionalRequestConflict", "409"],
            ["NotImplemented", "404"],
        ),
        (codes.is_not_implemented, ["NotImplemented", "501"], ["InvalidArgument", "405"]),
        (
            codes.is_unsupported_operation,
            ["NotImplemented", "501", "MethodNotAllowed", "405"],
            ["InvalidRequest"],
        ),
        (codes.is_invalid_request, ["InvalidArgument", "InvalidRequest"], ["NotImplemented"]),
        (codes.is_access_denied, ["AccessDenied", "AllAccessDisabled", "403"], ["404"]),
        (codes.is_bad_credentials, ["InvalidAccessKeyId", "ExpiredToken"], ["AccessDenied"]),
        (codes.is_missing_bucket, ["NoSuchBucket"], ["NoSuchKey"]),
        (codes.is_bad_digest, ["BadDigest"], ["InvalidDigest"]),
    ],
)
def test_each_meaning_has_its_codes_and_no_other(predicate, meaning, other) -> None:
    assert [code for code in meaning if not predicate(answer(code))] == []
    assert [code for code in other if predicate(answer(code))] == []


def test_what_is_not_an_s3_answer_means_nothing() -> None:
    for predicate in (codes.is_missing_object, codes.is_precondition_failed):
        assert not predicate(ConnectionResetError())
    assert codes.error_code(ValueError("404")) == ""
    assert codes.error_code(answer("NoSuchKey")) == "NoSuchKey"
