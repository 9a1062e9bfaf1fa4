"""pinfer.Client in a fleet: two `pinfer serve` nodes coordinated through a private PostgreSQL;
a client registered through node a and then pointed at node b is redirected by b to its home a,
follows the redirect once with the same TLS pin, and gets logits bit-exact with the fixed-point
engine. The Python binding opens sessions through the C++ client session opener, so this checks
that the redirect path is wired through the binding (and Client.last_server reports it)."""

import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import numpy as np
import pytest

import pinfer
from conftest import DIGITS, run_pinfer_command

START_TIMEOUT_S = 120  # model load plus HE weight encoding of a node, with headroom for CI


def _pg_bindir():
    """initdb/pg_ctl's folder: $PINFER_PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin."""
    env = os.environ.get("PINFER_PG_BINDIR")
    if env:
        return pathlib.Path(env) if (pathlib.Path(env) / "initdb").exists() else None
    found = [d / "bin" for d in pathlib.Path("/usr/lib/postgresql").glob("*")
             if (d / "bin" / "initdb").exists() and (d / "bin" / "pg_ctl").exists()]
    found = [b for b in found if b.parent.name.isdigit()]
    return max(found, key=lambda b: int(b.parent.name)) if found else None


@pytest.fixture(scope="module")
def postgres_url():
    """A private PostgreSQL on a Unix socket only (no TCP port to collide with anything)."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian "
                    "package 'postgresql' (scripts/install-deps.sh)")
    # Short path under /tmp: the socket name must stay below the 107-byte limit, and the
    # postgres user must be able to reach it.
    folder = pathlib.Path(tempfile.mkdtemp(prefix="pinfer-pg-", dir="/tmp"))
    prefix = []
    if os.geteuid() == 0:  # initdb refuses root: run it (and pg_ctl) as the package's user
        shutil.chown(folder, "postgres", "postgres")
        prefix = ["/usr/sbin/runuser", "-u", "postgres", "--"]

    def pg(*args):
        proc = subprocess.run(prefix + [str(a) for a in args], capture_output=True, text=True,
                              timeout=90, check=False)
        log = folder / "server.log"
        assert proc.returncode == 0, (proc.stdout + proc.stderr +
                                      (log.read_text() if log.exists() else ""))

    data = folder / "data"
    pg(bindir / "initdb", "-D", data, "-A", "trust", "-U", "pinfer", "-E", "UTF8", "--no-sync",
       "--no-instructions")
    options = f"-c listen_addresses='' -k {folder} -p 5432 -c fsync=off"
    try:
        pg(bindir / "pg_ctl", "-D", data, "-l", folder / "server.log", "-w", "-t", "60", "-o",
           options, "start")
        yield f"postgresql://pinfer@/postgres?host={folder}&port=5432"
        pg(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "60", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _pinfer_exe():
    built = pathlib.Path(pinfer.__file__).resolve().parents[2] / "src" / "cli" / "pinfer"
    exe = str(built) if built.exists() else shutil.which("pinfer")
    if exe is None:
        pytest.skip("no pinfer executable next to this build or on PATH")
    return exe


def _start_node(tmp, name, url, extra, procs):
    """Starts `pinfer serve` as fleet node `name`; returns (address, its stderr so far) once it
    listens (it joins the fleet before printing the 'serving' line)."""
    out, err = tmp / f"{name}.out", tmp / f"{name}.err"
    with open(out, "w") as o, open(err, "w") as e:  # files, not pipes: nothing can block
        proc = subprocess.Popen(
            [_pinfer_exe(), "serve", "--model", str(DIGITS), "--protocol", "client-garbler",
             "--reveal", "logits", "--store", str(tmp / name), "--capacity", "1GB", "--port", "0",
             "--cluster", url, "--node-id", f"node-{name}", "--advertise", "127.0.0.1:0",
             "--heartbeat-ms", "100", "--dead-after-ms", "60000", *extra], stdout=o, stderr=e)
    procs.append(proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        m = re.search(r"^serving .* on 127\.0\.0\.1:(\d+) \(", out.read_text(), re.M)
        if m:
            return f"127.0.0.1:{m.group(1)}", err.read_text()
        assert proc.poll() is None, f"node {name} exited {proc.returncode}: {err.read_text()}"
        time.sleep(0.1)
    pytest.fail(f"node {name} did not start in {START_TIMEOUT_S} s: {err.read_text()}")


@pytest.fixture(scope="module")
def fleet(postgres_url, tmp_path_factory):
    """(address of a, address of b, the certificate pin both serve under)."""
    tmp = tmp_path_factory.mktemp("fleet")
    run_pinfer_command("cluster", "init", "--db", postgres_url)
    procs = []
    try:
        a, a_err = _start_node(tmp, "a", postgres_url, [], procs)
        # A redirected client keeps its trust (one pin), so b serves a's self-signed certificate.
        cert = re.search(r"TLS certificate (\S+) \(key (\S+), mode", a_err)
        pin = re.search(r"clients: --pin ([0-9a-f]{64})", a_err)
        assert cert and pin, a_err
        b, b_err = _start_node(tmp, "b", postgres_url,
                               ["--cert", cert.group(1), "--key", cert.group(2)], procs)
        assert f"--pin {pin.group(1)}" in b_err
        yield a, b, pin.group(1)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


def test_client_follows_the_redirect_to_its_home_node(fleet, model, images, tmp_path):
    a, b, pin = fleet
    store = tmp_path / "client"
    with pinfer.Client(a, store=store, pin=pin, capacity="1GB") as client:
        client.register()  # through a: a is this client's home
    with pinfer.Client(b, store=store, pin=pin, capacity="1GB") as client:
        client.precompute(1)
        assert client.last_server == a  # b redirected the session to a
        x = images[3]
        result = client.infer(x)
        assert client.last_server == a
        assert np.array_equal(result.logits_ring, model.run_fixed_point(x, ring=True))
        # The precompute made through the redirect lives at a and was used there.
        assert not result.offline_on_demand


def test_client_at_its_home_is_not_redirected(fleet, model, images, tmp_path):
    a, _, pin = fleet
    with pinfer.Client(a, store=tmp_path / "client", pin=pin, capacity="1GB") as client:
        client.register()
        x = images[0]
        result = client.infer(x)
        assert client.last_server == a
        assert np.array_equal(result.logits_ring, model.run_fixed_point(x, ring=True))
