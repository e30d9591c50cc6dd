"""The emulator processes keep answering however much they log."""

from __future__ import annotations

import socket
import struct
import time

import boto3
from botocore.config import Config

from devtools.local_runtime.processes import dynalite, moto_server


def test_moto_server_keeps_answering_after_thousands_of_requests() -> None:
    # Given moto server, which logs one line per request to stderr (a pipe nobody read blocked it at ~900)
    with moto_server() as server:
        config = Config(read_timeout=5, connect_timeout=5, retries={"max_attempts": 1})
        sqs = boto3.client(
            "sqs",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )
        # When it serves 2,000 requests
        for _ in range(2000):
            sqs.list_queues()
        # Then it still answers
        assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def _abort_mid_request(port: int) -> None:
    """Send half a request, then reset the connection (as a killed process's socket does)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"partial":')
        time.sleep(0.1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST


def test_dynalite_survives_a_client_killed_mid_request() -> None:
    # Given dynalite, which rethrew the error of an aborted request and exited (architect/dynalite#183)
    with dynalite() as server:
        # When a client goes away in the middle of a request
        _abort_mid_request(server.port)
        time.sleep(0.3)
        # Then the server still answers everyone else
        client = boto3.client(
            "dynamodb",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )
        assert client.list_tables()["TableNames"] == []
