"""`make demo` takes its ports from the environment and says clearly when one is taken."""

from __future__ import annotations

import socket

import pytest

from hiveo.demo.__main__ import demo_ports


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_ports_come_from_the_environment():
    portal, simulator = free_port(), free_port()
    assert demo_ports({"HIVEO_PORT": str(portal), "HIVEO_SIMULATOR_PORT": str(simulator)}) == (
        portal, simulator)


def test_a_taken_port_names_the_variable_to_change():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit_:
            demo_ports({"HIVEO_PORT": str(free_port()), "HIVEO_SIMULATOR_PORT": str(port)})
    assert f"Le port {port} est déjà utilisé" in str(exit_.value)
    assert "HIVEO_SIMULATOR_PORT=<port> make demo" in str(exit_.value)


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_port_that_is_not_one_is_refused(value):
    with pytest.raises(SystemExit, match="un numéro de port entre 1 et 65535"):
        demo_ports({"HIVEO_PORT": value})


def test_the_two_ports_must_differ():
    port = free_port()
    with pytest.raises(SystemExit, match="deux ports différents"):
        demo_ports({"HIVEO_PORT": str(port), "HIVEO_SIMULATOR_PORT": str(port)})
