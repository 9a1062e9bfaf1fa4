"""The examples in examples/python run as documented (docs/PYTHON.md)."""

import subprocess
import sys

from conftest import ROOT


def run_example(*args):
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_ten_line_private_prediction():
    out = run_example("examples/python/private_prediction.py")
    assert "private prediction 7 bit-exact: True" in out


def test_end_to_end_example_on_a_few_images():
    out = run_example("examples/python/digits_end_to_end.py", "--shipped", "--count", "4")
    assert "private == plaintext fixed-point accuracy for both protocols" in out
    rows = [line.split() for line in out.splitlines()
            if line.startswith(("server-garbler", "client-garbler"))]
    assert [r[0] for r in rows] == ["server-garbler", "client-garbler"]
    assert all(r[1] == r[2] for r in rows)  # private accuracy == plaintext accuracy
