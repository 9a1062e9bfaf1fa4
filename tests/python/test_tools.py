"""pinfer.characterize and pinfer.simulate (the `pinfer characterize` / `simulate --json` code)."""

import pytest

import pinfer

from conftest import DIGITS


def test_simulate_paper_profile():
    result = pinfer.simulate("paper:cifar10/resnet18", protocol="server-garbler",
                             rates="0.001,0.002", runs=2, sim_hours=1, seed=3)
    assert result["profile"].startswith("paper:")
    assert result["runs"] == 2 and result["seed"] == 3
    assert result["config"]["protocol"] == "server-garbler"
    assert [r["rate"] for r in result["rates"]] == [0.001, 0.002]
    # Same seed, same answer: the simulation is reproducible.
    again = pinfer.simulate("paper:cifar10/resnet18", protocol="server-garbler",
                            rates="0.001,0.002", runs=2, sim_hours=1, seed=3)
    assert again == result


def test_simulate_errors():
    with pytest.raises(pinfer.Error, match="nowhere"):
        pinfer.simulate("paper:nowhere/nothing")
    with pytest.raises(pinfer.InvalidArgument):
        pinfer.simulate(protocol="server-garbler", runs=0)


def test_characterize_then_simulate(model):
    profile = pinfer.characterize(model, "client-garbler")
    assert profile["name"].startswith("measured:")
    (name, costs), = profile["protocols"].items()
    assert name == "client-garbler"
    assert costs["offline"] and costs["online"]
    assert costs["storage_bytes_per_precompute"]["client"] > 0
    result = pinfer.simulate(profile, protocol="client-garbler", rates="0.01", runs=1,
                             sim_hours=1, client_storage="1GB")
    assert result["profile"] == profile["name"]
    assert [r["rate"] for r in result["rates"]] == [0.01]
