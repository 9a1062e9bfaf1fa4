"""Private inference through pinfer.Server / pinfer.Client over loopback TLS 1.3: bit-exact
with the fixed-point engine for both protocols, precomputes, errors, threads."""

import threading
import time

import numpy as np
import pytest

import pinfer


def test_private_inference_is_bit_exact(served, model, images):
    server, client = served
    assert server.fingerprint and len(server.fingerprint) == 64
    assert server.endpoint == f"127.0.0.1:{server.port}" and server.port > 0
    for x in images[:3]:
        result = client.infer(x)
        assert isinstance(result, pinfer.InferenceResult)
        assert np.array_equal(result.logits_ring, model.run_fixed_point(x, ring=True))
        assert np.array_equal(result.logits, model.run_fixed_point(x))
        assert result.prediction == int(np.argmax(model.run_fixed_point(x)))
        assert result.offline_on_demand
    cost = result.cost
    assert cost["protocol"] == server.protocol
    for phase in ("offline", "online"):
        assert cost[phase]["seconds"] > 0
        assert cost[phase]["upload_bytes"] > 0 and cost[phase]["download_bytes"] > 0
        assert cost[phase]["components"]
    assert cost["client_storage_bytes"] > 0 and cost["server_storage_bytes"] > 0
    assert server.stats()["sessions_completed"] >= 3


def test_precompute_then_infer(served, model, images):
    server, client = served
    reports = client.precompute(count=2)
    assert len(reports) == 2 and all(r["offline"]["seconds"] > 0 for r in reports)
    assert client.stored_precomputes() == 2
    x = images[5]
    first = client.infer(x, on_demand=False)
    second = client.infer(x, on_demand=False)
    assert not first.offline_on_demand and not second.offline_on_demand
    assert first.precompute_id != second.precompute_id
    assert np.array_equal(first.logits_ring, model.run_fixed_point(x, ring=True))
    assert client.stored_precomputes() == 0
    with pytest.raises(pinfer.StoreError) as empty:
        client.infer(x, on_demand=False)
    assert empty.value.reason == "store"


def test_client_by_address_and_pin(cg_server, model, images, tmp_path):
    client = pinfer.Client(cg_server.endpoint, store=tmp_path, pin=cg_server.fingerprint,
                           protocol="client-garbler")
    client_id = client.register()
    assert client_id and (tmp_path / "CREDENTIALS").exists()
    with pytest.raises(pinfer.InvalidArgument, match="already registered"):
        client.register()
    result = client.infer(images[7].tolist())
    assert np.array_equal(result.logits_ring, model.run_fixed_point(images[7], ring=True))
    client.close()
    with pytest.raises(pinfer.InvalidArgument, match="closed"):
        client.infer(images[7])


def test_server_checks(cg_server, images, tmp_path):
    with pytest.raises(pinfer.InvalidArgument, match="identity"):
        pinfer.Client(cg_server.endpoint, store=tmp_path / "a").register()
    wrong_pin = pinfer.Client(cg_server.endpoint, store=tmp_path / "b", pin="00" * 32)
    with pytest.raises(pinfer.IoError):
        wrong_pin.register()
    with pytest.raises(pinfer.InvalidArgument, match="fingerprint"):
        pinfer.Client(cg_server.endpoint, store=tmp_path / "c", pin="xyz").register()
    unregistered = pinfer.Client(cg_server, store=tmp_path / "d")
    with pytest.raises(pinfer.IoError, match="CREDENTIALS"):
        unregistered.infer(images[0])
    other_protocol = pinfer.Client(cg_server, store=tmp_path / "e", protocol="server-garbler")
    other_protocol.register()
    with pytest.raises(pinfer.ProtocolError, match="server-garbler"):
        other_protocol.infer(images[0])


def test_wrong_input_shape_at_the_client(cg_server, tmp_path):
    client = pinfer.Client(cg_server, store=tmp_path)
    client.register()
    with pytest.raises(pinfer.InvalidArgument, match=r"\(1, 1, 8, 8\)"):
        client.infer(np.zeros((8, 9), np.float32))


def test_server_gone(model, images, tmp_path):
    server = pinfer.Server(model, store=tmp_path / "server", capacity="1GB")
    client = pinfer.Client(server, store=tmp_path / "client")
    client.register()
    server.close()
    assert server.closed
    server.close()  # idempotent
    with pytest.raises(pinfer.IoError):
        client.infer(images[0])


def test_plain_tcp_on_loopback(model, images, tmp_path):
    with pinfer.Server(model, "server-garbler", store=tmp_path / "s", tls=False,
                       reveal="logits") as server:
        assert server.fingerprint is None
        with pinfer.Client(server.endpoint, store=tmp_path / "c", insecure=True) as client:
            client.register()
            result = client.infer(images[1])
            assert np.array_equal(result.logits_ring, model.run_fixed_point(images[1], ring=True))


@pytest.mark.parametrize("protocol", ["server-garbler", "client-garbler"])
def test_server_reveals_only_the_label_by_default(model, images, tmp_path, protocol):
    with pinfer.Server(model, protocol, store=tmp_path / "s", capacity="1GB") as server:
        assert server.reveals == "label"
        with pinfer.Client(server, store=tmp_path / "c", capacity="1GB") as client:
            client.register()
            for x in images[:2]:
                expected = int(np.argmax(model.run_fixed_point(x)))
                result = client.infer(x)
                assert result.logits is None
                assert result.prediction == expected and result.labels == [expected]
                assert result.cost["reveals"] == "label"
                # The client's only output: [label * 2^f].
                assert result.logits_ring.tolist() == [expected << model.info()["f"]]


def test_server_reveals_top_k(model, images, tmp_path):
    with pinfer.Server(model, store=tmp_path / "s", capacity="1GB", reveal="topk:3") as server:
        assert server.reveals == "topk:3"
        with pinfer.Client(server, store=tmp_path / "c", capacity="1GB") as client:
            client.register()
            x = images[4]
            logits = model.run_fixed_point(x)
            # Best first; equal values lower index first (a stable sort of -logits).
            expected = [int(i) for i in np.argsort(-logits, kind="stable")[:3]]
            result = client.infer(x)
            assert result.logits is None and result.labels == expected
            assert result.prediction == expected[0]


def test_bad_reveal(model, tmp_path):
    with pytest.raises(pinfer.InvalidArgument, match="reveal"):
        pinfer.Server(model, store=tmp_path / "s", reveal="everything")
    with pytest.raises(pinfer.InvalidArgument):
        pinfer.Server(model, store=tmp_path / "s", reveal="topk:11")  # 10 classes


def test_progress_callback(cg_server, images, tmp_path):
    steps = []
    client = pinfer.Client(cg_server, store=tmp_path / "a",
                           progress=lambda step, done, total: steps.append((step, done, total)))
    client.register()
    client.precompute()
    assert steps and all(0 <= done <= total for _, done, total in steps)

    def explode(step, done, total):
        raise RuntimeError("stop here")

    failing = pinfer.Client(cg_server, store=tmp_path / "b", progress=explode)
    failing.register()
    with pytest.raises(pinfer.Error, match="stop here"):
        failing.precompute()


def test_threads_share_a_client_without_deadlock(cg_server, model, images, tmp_path):
    """Four Python threads call one client and two more a second client, at once; a fifth
    Python thread keeps running meanwhile (the GIL is released during the protocol)."""
    first = pinfer.Client(cg_server, store=tmp_path / "a")
    second = pinfer.Client(cg_server, store=tmp_path / "b")
    first.register()
    second.register()
    results, errors = {}, []

    def work(client, i):
        try:
            results[i] = client.infer(images[i])
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(first if i < 4 else second, i))
               for i in range(6)]
    ticks = 0
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.005)
        assert ticks < 60 / 0.005, "private inference threads did not finish within 60 s"
    assert not errors
    for i, r in results.items():
        assert np.array_equal(r.logits_ring, model.run_fixed_point(images[i], ring=True))
    assert len(results) == 6
    assert ticks >= 10


@pytest.mark.parametrize("scheme", ["half-gates", "three-halves"])
def test_gc_scheme_and_threads(model, images, tmp_path, scheme):
    with pinfer.Server(model, "client-garbler", store=tmp_path / "s", tls=False,
                       gc_scheme=scheme, threads=3, reveal="logits") as server:
        with pinfer.Client(server.endpoint, store=tmp_path / "c", insecure=True) as client:
            client.register()
            result = client.infer(images[2])
            assert np.array_equal(result.logits_ring, model.run_fixed_point(images[2], ring=True))
            assert result.cost["gc_scheme"] == scheme


def test_unknown_gc_scheme_is_refused(model, tmp_path):
    with pytest.raises(pinfer.InvalidArgument, match="half-gates"):
        pinfer.Server(model, store=tmp_path / "s", tls=False, gc_scheme="quarter-gates")


def test_queue_and_busy_retry(model, images, tmp_path):
    """A silent connection holds the only session. Without a queue the client is refused
    (ServerBusyError, a ProtocolError with a retry-after hint) and retries after the hint until
    the silent peer is dropped; with a queue it waits its turn without a refusal."""
    import socket

    assert issubclass(pinfer.ServerBusyError, pinfer.ProtocolError)
    for queue in (0, 4):
        store = tmp_path / f"q{queue}"
        with pinfer.Server(model, store=store / "s", tls=False, reveal="logits", max_sessions=1,
                           queue=queue, queue_timeout_ms=60_000, timeout_ms=1500) as server:
            with pinfer.Client(server.endpoint, store=store / "c", insecure=True) as client:
                client.register()
                silent = socket.create_connection(("127.0.0.1", server.port))
                try:
                    time.sleep(0.1)  # accepted: it holds the only session
                    result = client.infer(images[2])
                finally:
                    silent.close()
                assert np.array_equal(result.logits_ring,
                                      model.run_fixed_point(images[2], ring=True))
            stats = server.stats()
            if queue == 0:
                assert stats["sessions_refused_busy"] >= 1
            else:
                assert stats["sessions_refused_busy"] == 0
                assert stats["sessions_queued"] >= 1
