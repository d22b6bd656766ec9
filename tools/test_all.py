#!/usr/bin/env python3
"""Run the test suite under every CPython 3.9-3.13 found on this machine.

Interpreters are looked up under the pyenv root (`pyenv root`, $PYENV_ROOT or
~/.pyenv) and on PATH (python3.9 ... python3.13).  For each one a virtual
environment under .venvs/ gets pyrometer and its test requirements, then
pytest runs.  Fails if fewer than three versions were found or any run fails.

Usage: python3 tools/test_all.py [pytest args...]
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
MIN_VERSIONS = 3


def pyenv_root():
    exe = shutil.which("pyenv")
    if exe:
        out = subprocess.run([exe, "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    env = os.environ.get("PYENV_ROOT")
    return Path(env) if env else Path.home() / ".pyenv"


def version_key(name):
    parts = []
    for p in name.split("."):
        parts.append(int(p) if p.isdigit() else -1)
    return parts


def find_interpreters():
    found = {}
    versions_dir = pyenv_root() / "versions"
    if versions_dir.is_dir():
        for d in sorted(versions_dir.iterdir(), key=lambda p: version_key(p.name)):
            minor = ".".join(d.name.split(".")[:2])
            exe = d / "bin" / "python"
            if minor in VERSIONS and exe.exists() and d.name[0].isdigit():
                found[minor] = exe     # the newest patch release wins
    for minor in VERSIONS:
        if minor not in found:
            exe = shutil.which(f"python{minor}")
            if exe:
                found[minor] = Path(exe)
    return found


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kw).returncode


def main():
    interpreters = find_interpreters()
    print("CPython versions found:", ", ".join(
        f"{v} ({p})" for v, p in interpreters.items()) or "none", flush=True)
    if len(interpreters) < MIN_VERSIONS:
        print(f"test_all: found {len(interpreters)} CPython versions of 3.9-3.13, "
              f"need at least {MIN_VERSIONS}", file=sys.stderr)
        return 2
    failed = []
    for minor, exe in interpreters.items():
        venv = ROOT / ".venvs" / minor
        py = venv / "bin" / "python"
        if not py.exists():
            if run([exe, "-m", "venv", venv]) != 0:
                failed.append(minor)
                continue
        env = dict(os.environ, PYROMETER_WERROR="1")
        if run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                "-e", f"{ROOT}[test]"], cwd=ROOT, env=env) != 0:
            failed.append(minor)
            continue
        if run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[1:]],
               cwd=ROOT) != 0:
            failed.append(minor)
    if failed:
        print(f"test_all: failed on {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"test_all: all tests passed on {', '.join(interpreters)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
