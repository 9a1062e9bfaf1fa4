#!/usr/bin/python3
"""Fails when a file of one layer includes a header of a layer it may not use.

The layer graph is read from cmake/layers.txt (the same lines CMake builds the layers from):
"<layer>: <the layers it uses directly>", and a layer may use those and, through them, what they
may use; "*" marks the programs on top (cli, python), which may use every layer.

Which layer a file belongs to comes from where it is:
  include/pinfer/<layer>/...   src/<layer>/...   tests/<layer>/...   bench/<layer>/...
  python/...  (layer "python")
Other files (the umbrella include/pinfer/pinfer.hpp, examples/, fuzz/, tests/system, ...) sit on
top and are not checked.

What counts as using a layer Y, in #include and __has_include:
  "pinfer/Y/..." or <pinfer/Y/...>   Y's public headers
  "Y/..."                            Y's private headers (src/Y) or test helpers (tests/Y), as
                                     the sources and tests spell them
An include of pinfer/<name>/ where <name> is no layer at all is reported too (a stale path).

Prints one line per violation, "path:line: <layer> may not include <header> (...)", and exits 1
if there is any, 0 otherwise; exits 2 on a usage error or an unreadable layer table.

Usage: check-includes.py [--root DIR] [--layers FILE]
  --root    the tree to check (default: the repository this script is in)
  --layers  the layer table (default: <root>/cmake/layers.txt)
"""

import argparse
import os
import re
import sys

SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc", ".inc")
# Folders whose first component names the layer of the files below it.
LAYERED_FOLDERS = ("src", "tests", "bench")
INCLUDE_RE = re.compile(r'^\s*#\s*(?:include|if\s+__has_include\s*\(|elif\s+__has_include\s*\()'
                        r'\s*[<"]([^>"]+)[>"]')


class TableError(Exception):
    pass


def read_layers(path):
    """Returns (deps, order): deps[layer] is the set of layers it names, or None for "*"."""
    deps = {}
    order = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise TableError(f"{path}: cannot read: {e.strerror}") from e
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([a-z_]+)\s*:\s*(.*)", line)
        if not m:
            raise TableError(f"{path}:{number}: expected '<layer>: <layers...>', got {line!r}")
        layer, rest = m.group(1), m.group(2).split()
        if layer in deps:
            raise TableError(f"{path}:{number}: layer {layer} listed twice")
        if rest == ["*"]:
            deps[layer] = None
        else:
            for dep in rest:
                if dep not in deps or deps[dep] is None:
                    raise TableError(f"{path}:{number}: {layer} uses {dep}, which is not a "
                                     "library layer listed above it")
            deps[layer] = set(rest)
        order.append(layer)
    if not deps:
        raise TableError(f"{path}: no layers")
    return deps, order


def allowed_layers(deps):
    """layer -> every layer its files may include (itself and its transitive dependencies)."""
    libraries = [layer for layer, d in deps.items() if d is not None]
    allowed = {}
    for layer, direct in deps.items():
        if direct is None:
            allowed[layer] = set(libraries) | {layer}
            continue
        seen = {layer}
        todo = list(direct)
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(deps[dep])
        allowed[layer] = seen
    return allowed


def layer_of(relpath, layers):
    """The layer a file belongs to, or None for files on top (not checked)."""
    parts = relpath.split("/")
    if len(parts) >= 4 and parts[0] == "include" and parts[1] == "pinfer" and parts[2] in layers:
        return parts[2]
    if len(parts) >= 3 and parts[0] in LAYERED_FOLDERS and parts[1] in layers:
        return parts[1]
    if parts[0] == "python" and "python" in layers:
        return "python"
    return None


def used_layer(header, layers):
    """(layer, known) for an included header: which layer it belongs to, or (None, ...)."""
    parts = header.split("/")
    if len(parts) >= 3 and parts[0] == "pinfer":
        return parts[1], parts[1] in layers
    if len(parts) >= 2 and parts[0] in layers:
        return parts[0], True
    return None, True


def files_to_check(root):
    for top in ("include", "src", "tests", "bench", "python"):
        base = os.path.join(root, top)
        for folder, subfolders, names in os.walk(base):
            subfolders.sort()
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES):
                    path = os.path.join(folder, name)
                    yield os.path.relpath(path, root).replace(os.sep, "/"), path


def check(root, table):
    deps, order = read_layers(table)
    allowed = allowed_layers(deps)
    libraries = [layer for layer in order if deps[layer] is not None]
    violations = []
    for relpath, path in files_to_check(root):
        layer = layer_of(relpath, deps)
        if layer is None:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                header = m.group(1)
                used, known = used_layer(header, deps)
                if used is None:
                    continue
                if not known:
                    violations.append(f"{relpath}:{number}: {layer} includes {header}: there is "
                                      f"no layer '{used}' (layers: {', '.join(libraries)})")
                elif used not in allowed[layer]:
                    may = sorted(allowed[layer] - {layer}, key=order.index)
                    violations.append(f"{relpath}:{number}: {layer} may not include {header} "
                                      f"({layer} may use: {', '.join(may) or 'no other layer'}; "
                                      f"see {os.path.relpath(table, root)})")
    return violations


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", default=os.path.dirname(here))
    parser.add_argument("--layers", default=None)
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    table = args.layers or os.path.join(root, "cmake", "layers.txt")
    if not os.path.isdir(root):
        print(f"check-includes: {root} is not a folder", file=sys.stderr)
        return 2
    try:
        violations = check(root, table)
    except TableError as e:
        print(f"check-includes: {e}", file=sys.stderr)
        return 2
    for v in violations:
        print(v)
    if violations:
        print(f"check-includes: {len(violations)} include(s) cross the layer graph",
              file=sys.stderr)
        return 1
    print("check-includes: every include follows the layer graph")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
