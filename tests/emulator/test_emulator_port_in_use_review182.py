"""`start_emulator(port=N)` on a port in use raises the library's own error, not a bare OSError (review182 F9)."""

from __future__ import annotations

import socket

import pytest

from register_batch.emulator import PortInUse, start_emulator
from register_batch.errors import ConfigError


def test_a_port_in_use_is_a_config_error_naming_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as refused:
            start_emulator(port=port, tokens=("t",))
    assert isinstance(refused.value, PortInUse) and refused.value.exit_code == 2
    assert (refused.value.host, refused.value.port) == ("127.0.0.1", port)
    assert str(refused.value) == (
        f"cannot listen on 127.0.0.1:{port}: the port is in use (by another emulator or program): give another port, "
        "or port=0 for a free one"
    )
