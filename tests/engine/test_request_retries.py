"""RequestGuard retries a request through botocore's standard policy (its own client makes
one attempt): a server error is retried up to ATTEMPTS in all, an answer that is not worth
a retry is not, and botocore's wording of either stays what it was."""

from __future__ import annotations

import dataclasses

import pytest
from botocore.exceptions import ClientError

from tests.conftest import World
from tests.reliability.faultproxy import FaultProxy
from tests.s3server import S3Server
from trainsync_tui.engine.s3.client import make_client
from trainsync_tui.engine.s3.request_guard import ATTEMPTS


def test_a_server_error_is_retried_up_to_the_attempts_then_reported(
    world: World, s3_server: S3Server
) -> None:
    with FaultProxy(s3_server.port, {"error500": 1.0}) as proxy:
        client = make_client(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        with pytest.raises(ClientError) as caught:
            client.head_bucket(Bucket=world.bucket)

    assert proxy.counts["requests"] == ATTEMPTS == 7
    assert f"(reached max retries: {ATTEMPTS - 1})" in str(caught.value)


def test_a_request_that_fails_then_succeeds_counts_its_retry(
    world: World, s3_server: S3Server
) -> None:
    first = [True]

    def once(_: object) -> bool:
        fail, first[0] = first[0], False
        return fail

    with FaultProxy(s3_server.port, {"slowdown": 1.0}, applies=once) as proxy:
        client = make_client(dataclasses.replace(world.settings, endpoint_url=proxy.url))
        reply = client.list_objects_v2(Bucket=world.bucket)

    assert proxy.counts["requests"] == 2
    assert reply["ResponseMetadata"]["RetryAttempts"] == 1
    assert "MaxAttemptsReached" not in reply["ResponseMetadata"]
    # Each attempt tells the server how many it may make.
    sent = [h["amz-sdk-request"] for h in proxy.headers]
    assert sent == [f"attempt=1; max={ATTEMPTS}", f"attempt=2; max={ATTEMPTS}"]


def test_an_answer_not_worth_a_retry_is_reported_at_once_in_botocore_s_words(
    world: World,
) -> None:
    client = make_client(world.settings)
    with pytest.raises(ClientError) as caught:
        client.head_object(Bucket=world.bucket, Key="absent")

    assert str(caught.value) == (
        "An error occurred (404) when calling the HeadObject operation: Not Found"
    )
