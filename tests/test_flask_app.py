"""The bundled Flask example (a real Flask app, 200 requests through its
test client): what a new user sees first.  The user's own code leads the
tree and the top rows, the import system is folded, every output opens,
and memory profiling works on it."""
import json
import os
from pathlib import Path

import pytest

from conftest import run_python

APP = Path(__file__).resolve().parent.parent / "examples" / "flask_app.py"

pytest.importorskip("flask")


def test_the_users_code_leads(tmp_path):
    r = run_python(["-m", "pyrometer", "run", str(APP)], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("200 requests served\n")
    tree = out.split("Call tree: ", 1)[1].split("\n\n", 2)[1]
    assert "visit  flask_app.py" in tree and "index  flask_app.py" in tree
    assert len(out.splitlines()) < 120                    # a screen, not 2 000 rows
    assert "importlib._bootstrap>:" not in out.split("Ordered by")[1].split("\n\n")[0] or \
        "<import system>" in out                          # imports folded
    prof = tmp_path / "flask.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(prof), str(APP)], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = run_python(["-m", "pyrometer", "report", str(prof), "--limit", "10"], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    rows = r.stdout.split("filename:lineno(function)")[1].strip().splitlines()[:10]
    assert any("flask_app.py" in row and "(visit)" in row for row in rows), rows
    r = run_python(["-m", "pyrometer", "report", str(prof), "--tree", "--only-mine"],
                   cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "visit" in r.stdout and "werkzeug" not in r.stdout.split("\n\n", 1)[1]
    for name in ("flask.html", "flask.svg", "flask.json", "callgrind.out.flask"):
        r = run_python(["-m", "pyrometer", "convert", str(prof), "-o", str(tmp_path / name)])
        assert r.returncode == 0, (name, r.stderr)
    data = json.loads((tmp_path / "flask.json").read_text())
    assert data["profiles"][0]["samples"]


def test_memory_of_the_flask_app(tmp_path):
    r = run_python(["-m", "pyrometer", "run", "--memory", str(APP)], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "\nMemory: " in r.stdout and "Call tree, net: " in r.stdout
