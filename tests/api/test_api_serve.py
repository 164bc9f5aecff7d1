"""serve-api's worker socket: TCP_NODELAY set, so responses are not held for a delayed ACK."""

from __future__ import annotations

import socket

import uvicorn

from pa_core.api.serve import nodelay


def test_the_shared_worker_socket_gets_tcp_nodelay():
    config = uvicorn.Config("pa_core.api.serve:worker_app", factory=True, host="127.0.0.1", port=0)
    with config.bind_socket() as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # uvicorn's own
        assert nodelay(sock) is sock
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        sock.listen()
        with socket.create_connection(sock.getsockname()) as client:
            accepted, _addr = sock.accept()
            with accepted:  # what the workers serve: the option is inherited
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert client
