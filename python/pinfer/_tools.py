"""pinfer.characterize and pinfer.simulate.

Both run the `pinfer` executable built (or installed) with this package: the measured-profile
construction of `pinfer characterize` and the result schema of `pinfer simulate --json` live in
its command code, so the same code answers from Python and from the shell.
"""

import json
import os
import shutil
import subprocess
import tempfile

from ._pinfer import Error, InvalidArgument, Unsupported

try:
    from ._paths import CLI as _BUILT_CLI
except ImportError:  # a package copied without its generated _paths.py
    _BUILT_CLI = None


def _cli():
    for candidate in (os.environ.get("PINFER_CLI"), _BUILT_CLI, shutil.which("pinfer")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise Error(
        "the pinfer executable was not found (set PINFER_CLI, or build/install pinfer with this "
        "package)"
    )


def _run(args):
    proc = subprocess.run([_cli(), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        message = lines[-1] if lines else f"pinfer {args[0]} failed ({proc.returncode})"
        # src/cli/main.cpp: exit 2 invalid argument, 3 unsupported, 1 other errors; CLI11's own
        # option errors exit above 100.
        kind = {2: InvalidArgument, 3: Unsupported}.get(proc.returncode, Error)
        if proc.returncode > 100:
            kind = InvalidArgument
        for prefix in ("pinfer: invalid argument: ", "pinfer: unsupported: ", "pinfer: error: "):
            if message.startswith(prefix):
                message = message[len(prefix):]
        raise kind(message)
    return proc.stdout


def _model_spec(model):
    spec = getattr(model, "spec", None)
    if spec is None:
        return os.fspath(model)
    if getattr(model, "calibration", None):
        raise InvalidArgument("characterize loads the model by path with its default calibration")
    return spec


def characterize(model, protocol=None, *, capacity="200GB", store_dir=None, insecure=False):
    """Measures one offline and one online run on this machine (client and server in one
    process over loopback TLS) and returns the simulator cost profile (dict, the schema of
    `pinfer characterize --out`). protocol: a name, a list of names, or None for both."""
    protocols = [protocol] if isinstance(protocol, str) else list(protocol or [])
    with tempfile.TemporaryDirectory(prefix="pinfer-characterize-") as tmp:
        out = os.path.join(tmp, "profile.json")
        args = ["characterize", _model_spec(model), "--out", out, "--capacity", str(capacity)]
        for p in protocols:
            args += ["--protocol", p]
        if store_dir is not None:
            args += ["--store-dir", os.fspath(store_dir)]
        if insecure:
            args.append("--insecure")
        _run(args)
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def simulate(profile="paper:cifar10/resnet18", **settings):
    """Runs the discrete-event simulator and returns the dict `pinfer simulate --json` prints.

    profile: "paper:<dataset>/<network>", a profile file, or a profile dict (e.g. from
    characterize). settings: the options of `pinfer simulate` with underscores, e.g.
    protocol="client-garbler", client_storage="16GB", rates="0.01,0.02", runs=5; True for a flag.
    """
    with tempfile.TemporaryDirectory(prefix="pinfer-simulate-") as tmp:
        if isinstance(profile, dict):
            path = os.path.join(tmp, "profile.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(profile, f)
            profile = path
        args = ["simulate", "--profile", os.fspath(profile), "--json"]
        for key, value in settings.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                args.append(flag)
            elif value is False or value is None:
                continue
            elif isinstance(value, (list, tuple)):
                for v in value:
                    args += [flag, str(v)]
            else:
                args += [flag, str(value)]
        return json.loads(_run(args))
