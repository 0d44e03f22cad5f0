"""What an S3 error means: the one place its codes are spelt out.

botocore puts the code of S3's XML error body in `response["Error"]["Code"]`; an answer
without a body (every HEAD, some proxies) carries only its HTTP status there, as a string
("404"). So each meaning below lists the named code and the bare status that can stand for
it. Callers ask a predicate, never a code: two modules cannot then disagree about what
"not found" is.
"""

from __future__ import annotations

# The object (key) is not there. NotFound is what some servers name a 404 HEAD.
_MISSING_OBJECT = frozenset({"NoSuchKey", "NotFound", "404"})
# The multipart upload is not there (finished or aborted meanwhile).
_MISSING_UPLOAD = frozenset({"NoSuchUpload", "404"})
# A conditional request lost to another writer: 412, or AWS's 409 for two conditional
# writes to one key at once (a retry of ours whose first reply was lost answers the same).
_PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
# The server does not implement what was asked (S3 answers 501 to a condition it lacks).
_NOT_IMPLEMENTED = frozenset({"NotImplemented", "501"})
# The server does not offer the operation at all.
_METHOD_NOT_ALLOWED = frozenset({"MethodNotAllowed", "405"})
# The request was malformed in the server's eyes: some servers answer a condition header
# they do not know this way instead of 501.
_INVALID_REQUEST = frozenset({"InvalidArgument", "InvalidRequest"})
_ACCESS_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "403"})
_BAD_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AuthorizationHeaderMalformed",
    }
)


def error_code(exc: BaseException) -> str:
    """The S3 error code of `exc` ("" for anything that is not an S3 answer)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_missing_object(exc: BaseException) -> bool:
    """No object at the key (GET, HEAD, or a write conditional on one being there)."""
    return error_code(exc) in _MISSING_OBJECT


def is_missing_upload(exc: BaseException) -> bool:
    """The multipart upload asked about is gone (completed or aborted meanwhile)."""
    return error_code(exc) in _MISSING_UPLOAD


def is_missing_bucket(exc: BaseException) -> bool:
    return error_code(exc) == "NoSuchBucket"


def is_precondition_failed(exc: BaseException) -> bool:
    """An If-Match / If-None-Match did not hold: someone else's object is there (or our own
    write's, when its first reply was lost)."""
    return error_code(exc) in _PRECONDITION_FAILED


def is_not_implemented(exc: BaseException) -> bool:
    """The server does not implement what the request asked, e.g. a conditional write."""
    return error_code(exc) in _NOT_IMPLEMENTED


def is_unsupported_operation(exc: BaseException) -> bool:
    """The server lacks the operation itself (not implemented, or not allowed there)."""
    code = error_code(exc)
    return code in _NOT_IMPLEMENTED or code in _METHOD_NOT_ALLOWED


def is_invalid_request(exc: BaseException) -> bool:
    """The server calls the request malformed. Only a request whose every other argument is
    known good may read this as "refuses the condition" (the lease's own small PUT)."""
    return error_code(exc) in _INVALID_REQUEST


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in _ACCESS_DENIED


def is_bad_credentials(exc: BaseException) -> bool:
    """The keys themselves were refused (unknown, expired, or signing wrong)."""
    return error_code(exc) in _BAD_CREDENTIALS


def is_bad_digest(exc: BaseException) -> bool:
    """The bytes sent do not match the Content-MD5 they were sent with."""
    return error_code(exc) == "BadDigest"
