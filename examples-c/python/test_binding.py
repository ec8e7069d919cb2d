"""Tests the ctypes binding example against the fake LiteCore library of the C tests.

usage: test_binding.py LIBLITECORE_WS.so LIBFAKE_LITECORE.so
The fake exports LiteCore's symbol names with LiteCore's ABI and checks the socket contract.
"""
import ctypes as C
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcws_binding import LcwsError, LiteCoreWS  # noqa: E402


class FakeSocketState(C.Structure):
    _fields_ = [
        ("http_response_calls", C.c_int), ("http_status", C.c_int),
        ("opened_calls", C.c_int), ("closed_calls", C.c_int), ("close_requested_calls", C.c_int),
        ("disposed", C.c_int), ("refcount", C.c_int),
        ("closed_error", LcwsError),
        ("closed_message", C.c_char * 512),
        ("bytes_written_acked", C.c_size_t), ("bytes_received", C.c_size_t), ("messages_received", C.c_size_t),
        ("violations", C.c_int),
        ("first_violation", C.c_char * 256),
        ("peer_cert_calls", C.c_int), ("peer_cert_size", C.c_size_t),
        ("peer_cert_host", C.c_char * 128),
    ]


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    lcws_path, fake_path = sys.argv[1], sys.argv[2]
    # RTLD_GLOBAL is not needed: litecore-ws gets every LiteCore function through the table.
    litecore = C.CDLL(fake_path)
    lines = []
    ws = LiteCoreWS(lcws_path, litecore, log=lambda level, line: lines.append((level, line)))
    ws.lib.lcws_set_log_level(2)  # info, so the connect attempt is logged
    assert ws.version.count(".") == 2, ws.version
    ws.register_globally()  # the fake enforces LiteCore's registration asserts

    fake = litecore
    fake.fake_socket_new.restype = C.c_void_p
    fake.fake_socket_open.argtypes = [C.c_void_p, C.c_char_p, C.c_char_p, C.c_uint16, C.c_char_p, C.c_void_p, C.c_size_t]
    fake.fake_wait_closed.argtypes = [C.c_void_p, C.c_int]
    fake.fake_wait_refcount.argtypes = [C.c_void_p, C.c_int, C.c_int]
    fake.fake_wait_disposed.argtypes = [C.c_void_p, C.c_int]
    fake.fake_socket_state.argtypes = [C.c_void_p]
    fake.fake_socket_state.restype = FakeSocketState
    fake.fake_socket_drop.argtypes = [C.c_void_p]
    fake.fake_socket_free.argtypes = [C.c_void_p]

    # {"auth": {"type": "Basic", "username": "user", "password": "12345"}} from the real encoder.
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "tests", "data", "fleece", "encode", "opts_basic_auth.fleece"), "rb") as f:
        options = f.read()
    buf = C.create_string_buffer(options, len(options))

    sock = fake.fake_socket_new()
    fake.fake_socket_open(sock, b"ws", b"127.0.0.1", closed_port(), b"/db/_blipsync", C.cast(buf, C.c_void_p), len(options))
    assert fake.fake_wait_closed(sock, 10000), "no closed within 10 s"
    assert fake.fake_wait_refcount(sock, 1, 2000), "litecore-ws did not release its reference"
    fake.fake_socket_drop(sock)
    assert fake.fake_wait_disposed(sock, 2000), "not disposed"
    st = fake.fake_socket_state(sock)
    fake.fake_socket_free(sock)
    err = st.closed_error
    print(f"closed once: {st.closed_calls}, error {{{err.domain}, {err.code}}} {st.closed_message.decode()!r}")
    assert st.closed_calls == 1
    assert (err.domain, err.code) == (5, 19), (err.domain, err.code)
    assert st.violations == 0, st.first_violation
    assert any("#" in line and "connecting to ws://127.0.0.1" in line for _, line in lines), lines
    assert not any("12345" in line for _, line in lines), "password leaked into the log"
    print(f"log lines received through the Python sink: {len(lines)}")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
