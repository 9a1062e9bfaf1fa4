#!/usr/bin/python3
"""A test of scripts/check-includes.py (ctest include_check_planted): on a copy of the tree with
wrong includes planted, the checker must fail and name each planted file, line and header, and
nothing else; includes the graph allows (also through a dependency's dependency) must pass; a
broken layer table is a usage error, not a pass.

Usage: check_includes_test.py SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = None
CHECKER = None
COPIED = ("include", "src", "tests", "bench", "python", "cmake")
# "path:line: <layer> may not include <header> (...)" or "... includes <header>: there is no ..."
VIOLATION_RE = re.compile(r"^(\S+?:\d+): \w+ (?:may not include|includes) ([^\s:]+)")


def run_checker(root, *extra):
    return subprocess.run([sys.executable, CHECKER, "--root", root, *extra],
                          capture_output=True, text=True, check=False)


def plant(root, relpath, line_number, text):
    """Inserts `text` as line `line_number` (1-based) of root/relpath."""
    path = os.path.join(root, relpath)
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    lines.insert(line_number - 1, text + "\n")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


class CheckIncludesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pinfer-include-check-")
        for folder in COPIED:
            shutil.copytree(os.path.join(SOURCE, folder), os.path.join(self.tmp, folder),
                            ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "*.npy"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_copy_of_tree_passes(self):
        r = run_checker(self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "check-includes: every include follows the layer graph")

    def test_planted_wrong_includes_fail_naming_file_line_and_header(self):
        # nn is independent of the other engines and below protocol.
        plant(self.tmp, "src/nn/model.cpp", 3, '#include "pinfer/protocol/inference_server.hpp"')
        # protocol talks to its peer through core's Channel only: no transport, not even its
        # private headers.
        plant(self.tmp, "src/protocol/architecture.cpp", 2, '#include "transport/socket_util.hpp"')
        # A public header, in angle brackets.
        plant(self.tmp, "include/pinfer/sim/random.hpp", 2, "#include <pinfer/service/background_service.hpp>")
        # A test sees what its layer sees.
        plant(self.tmp, "tests/gc/circuit_test.cpp", 2, '#include "pinfer/he/context.hpp"')
        # The old layer name: no such layer any more.
        plant(self.tmp, "src/transport/endpoint.cpp", 2, '#include "pinfer/net/endpoint.hpp"')
        r = run_checker(self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        reported = sorted(" ".join(m.groups()) if m else line for line in r.stdout.splitlines()
                          for m in [VIOLATION_RE.match(line)])
        self.assertEqual(reported, sorted([
            "include/pinfer/sim/random.hpp:2 pinfer/service/background_service.hpp",
            "src/nn/model.cpp:3 pinfer/protocol/inference_server.hpp",
            "src/protocol/architecture.cpp:2 transport/socket_util.hpp",
            "src/transport/endpoint.cpp:2 pinfer/net/endpoint.hpp",
            "tests/gc/circuit_test.cpp:2 pinfer/he/context.hpp",
        ]), r.stdout)
        self.assertIn("src/nn/model.cpp:3: nn may not include pinfer/protocol/inference_server.hpp",
                      r.stdout)
        self.assertIn("there is no layer 'net'", r.stdout)

    def test_allowed_includes_pass(self):
        # service uses protocol and transport directly, nn through protocol; cli may use all.
        plant(self.tmp, "src/service/inference_service.cpp", 2, '#include "pinfer/nn/model.hpp"')
        plant(self.tmp, "src/service/inference_service.cpp", 2, '#include "pinfer/transport/endpoint.hpp"')
        plant(self.tmp, "src/cli/main.cpp", 1, '#include "pinfer/characterize/arrival_run.hpp"')
        r = run_checker(self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_graph_comes_from_the_table(self):
        # Includes that pass on the real table fail once the table takes a dependency away.
        table = os.path.join(self.tmp, "cmake", "layers.txt")
        with open(table, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("\nservice: protocol transport\n", text)
        with open(table, "w", encoding="utf-8") as f:
            f.write(text.replace("\nservice: protocol transport\n", "\nservice: protocol\n"))
        r = run_checker(self.tmp)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"src/service/inference_service\.cpp:\d+: service may not "
                                   r"include pinfer/transport/")

    def test_broken_table_is_an_error(self):
        table = os.path.join(self.tmp, "cmake", "layers.txt")
        with open(table, "a", encoding="utf-8") as f:
            f.write("widgets: gadgets\n")
        r = run_checker(self.tmp)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("widgets uses gadgets", r.stderr)


if __name__ == "__main__":
    SOURCE = os.path.abspath(sys.argv.pop(1))
    CHECKER = os.path.join(SOURCE, "scripts", "check-includes.py")
    unittest.main(verbosity=2)
