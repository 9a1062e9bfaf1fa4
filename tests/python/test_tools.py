"""pinfer.characterize and pinfer.simulate: the library code `pinfer characterize --out` and
`pinfer simulate --json` run, so Python and the command give the same answers."""

import json

import pytest

import pinfer

from conftest import DIGITS, run_pinfer_command


def test_simulate_paper_profile_equals_the_command():
    result = pinfer.simulate("paper:cifar10/resnet18", protocol="server-garbler",
                             rates="0.001,0.002", runs=2, sim_hours=1, seed=3, mode="both")
    assert result["profile"].startswith("paper:")
    assert result["runs"] == 2 and result["seed"] == 3
    assert result["config"]["protocol"] == "server-garbler"
    assert [r["rate"] for r in result["rates"]] == [0.001, 0.002]
    assert [r["mode"] for r in result["results"]] == ["independent", "contended"]
    out = run_pinfer_command("simulate", "--profile", "paper:cifar10/resnet18", "--protocol",
                      "server-garbler", "--rates", "0.001,0.002", "--runs", "2", "--sim-hours",
                      "1", "--seed", "3", "--mode", "both", "--json")
    assert result == json.loads(out)


def test_simulate_settings_as_python_values():
    as_text = pinfer.simulate(protocol="client-garbler", rates="0.001,0.002", runs=1,
                              sim_hours=1, client_storage="1GB")
    as_values = pinfer.simulate(protocol="client-garbler", rates=[0.001, 0.002], runs=1,
                                sim_hours=1, client_storage=1_000_000_000)
    assert as_text == as_values
    assert as_text["config"]["client_storage_bytes"] == 1_000_000_000


def test_simulate_split_search():
    result = pinfer.simulate(protocol="server-garbler", rates=[0.001], runs=1, sim_hours=1,
                             wireless_total_mbps=100, uplink_share=0.5, search_split_at=0.001)
    split = result["split_search"]
    assert split["total_mbps"] == 100 and 0 < split["best_uplink_share"] < 1


def test_simulate_errors():
    with pytest.raises(pinfer.InvalidArgument, match="nowhere"):
        pinfer.simulate("paper:nowhere/nothing")
    with pytest.raises(pinfer.InvalidArgument, match="runs"):
        pinfer.simulate(protocol="server-garbler", runs=0)
    with pytest.raises(pinfer.InvalidArgument, match="warp_speed"):
        pinfer.simulate(warp_speed=9)
    with pytest.raises(pinfer.InvalidArgument, match="wireless"):
        pinfer.simulate(rates=[0.001], runs=1, search_split_at=0.001)
    with pytest.raises(pinfer.InvalidArgument, match="client_storage"):
        pinfer.simulate(client_storage="lots")
    with pytest.raises(pinfer.FormatError):
        pinfer.simulate({"format": "not a profile"})
    with pytest.raises(pinfer.InvalidArgument, match="settings"):
        pinfer.simulate(sim_hours=float("nan"))


def test_characterize_then_simulate(model, tmp_path):
    steps = []
    profile = pinfer.characterize(model, "client-garbler", store_dir=tmp_path / "stores",
                                  progress=lambda step, done, total: steps.append(step))
    assert steps  # the client's progress reached Python
    assert profile["name"].startswith("measured:")
    (name, costs), = profile["protocols"].items()
    assert name == "client-garbler"
    assert costs["offline"] and costs["online"]
    assert costs["storage_bytes_per_precompute"]["client"] > 0
    assert (tmp_path / "stores" / "client-garbler-client").is_dir()
    result = pinfer.simulate(profile, protocol="client-garbler", rates="0.01", runs=1,
                             sim_hours=1, client_storage="1GB")
    assert result["profile"] == profile["name"]
    assert [r["rate"] for r in result["rates"]] == [0.01]
    # The command writes the same schema (measured times differ between runs).
    out = tmp_path / "profile.json"
    run_pinfer_command("characterize", str(DIGITS), "--protocol", "client-garbler", "--out", str(out))
    written = json.loads(out.read_text())
    assert written.keys() == profile.keys()
    assert written["protocols"].keys() == profile["protocols"].keys()
    assert written["protocols"][name].keys() == costs.keys()
    assert written["protocols"][name]["online"][0].keys() == costs["online"][0].keys()
    # Bytes stored per precompute do not depend on timing: equal.
    assert written["protocols"][name]["storage_bytes_per_precompute"] == \
        costs["storage_bytes_per_precompute"]


def test_characterize_errors(model):
    with pytest.raises(pinfer.InvalidArgument, match="no-garbler"):
        pinfer.characterize(model, "no-garbler")
    with pytest.raises(pinfer.InvalidArgument, match="capacity"):
        pinfer.characterize(model, capacity="lots")

    def explode(step, done, total):
        raise RuntimeError("stop measuring")

    with pytest.raises(pinfer.Error, match="stop measuring"):
        pinfer.characterize(model, "server-garbler", progress=explode)
