"""The API as issue-level scripts spell it: every call with its documented keyword names, so a
rename breaks here (docs/PYTHON.md, "The API")."""

import numpy as np

import pinfer

from conftest import DIGITS


def test_documented_names_and_keywords(images, tmp_path):
    model = pinfer.Model(str(DIGITS), calibration=None)
    info = model.info()
    assert {"relus", "macs", "params", "l", "f", "layers"} <= info.keys()
    x = images[2]
    assert model.run_float(x).shape == (10,)
    fixed = model.run_fixed_point(x)
    checked = model.check(images[:4], labels=None)
    assert {"agreement", "margin_bits"} <= checked.keys()
    with pinfer.Server(model, protocol="client-garbler", store=str(tmp_path / "s"),
                       capacity="20GB", host="127.0.0.1", port=0, tls=True) as server:
        assert server.port > 0 and len(server.fingerprint) == 64
        client = pinfer.Client(server=f"127.0.0.1:{server.port}", store=str(tmp_path / "c"),
                               pin=server.fingerprint, insecure=False)
        client.register()
        (offline,) = client.precompute(count=1)
        result = client.infer(x)
        # The default server reveals only the label: no logits, the fixed-point engine's class.
        assert result.logits is None
        assert result.prediction == int(np.argmax(fixed))
        assert not result.offline_on_demand
        cost = result.cost
        assert cost["online"]["components"] and cost["online"]["upload_bytes"] > 0
        assert offline["client_storage_bytes"] > 0 and offline["server_storage_bytes"] > 0
        client.close()
    server.close()
    assert server.closed
    for name in ("characterize", "simulate", "from_torch", "builtin_models", "__version__"):
        assert hasattr(pinfer, name)
