#!/usr/bin/env python3
"""Run the test suite under every CPython 3.9-3.15.

Interpreters are looked up under the pyenv root (`pyenv root`, $PYENV_ROOT or
~/.pyenv), in .pythons/X.Y/ of this checkout and on PATH (python3.9 ...
python3.15).  3.14 and 3.15, which Debian's stable release lacks, are
installed into .pythons/ from Debian's packages by tools/debian-python when
missing (as root, on Debian or Ubuntu).  For each version a virtual
environment under .venvs/ gets pyrometer and its test requirements, then
pytest runs.  Fails if a version is missing or any run fails.

Usage: python3 tools/test_all.py [--versions 3.12,3.13] [pytest args...]
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
FROM_DEBIAN = ["3.14", "3.15"]   # tools/debian-python installs them


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


def local_python(minor):
    return ROOT / ".pythons" / minor / "bin" / f"python{minor}"


def install_from_debian(minor):
    """Unpack Debian's CPython `minor` into .pythons/ (tools/debian-python)."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("dpkg"):
        print(f"test_all: CPython {minor} is missing; tools/debian-python installs it "
              "(as root, on Debian or Ubuntu)", file=sys.stderr)
        return None
    print(f"test_all: installing CPython {minor} from Debian's packages", flush=True)
    if run(["bash", ROOT / "tools" / "debian-python", minor, ROOT / ".pythons" / minor]) != 0:
        return None
    exe = local_python(minor)
    return exe if exe.exists() else None


def find_interpreters(wanted):
    found = {}
    versions_dir = pyenv_root() / "versions"
    if versions_dir.is_dir():
        for d in sorted(versions_dir.iterdir(), key=lambda p: version_key(p.name)):
            minor = ".".join(d.name.split(".")[:2])
            exe = d / "bin" / "python"
            if minor in wanted and exe.exists() and d.name[0].isdigit():
                found[minor] = exe     # the newest patch release wins
    for minor in wanted:
        if minor not in found and local_python(minor).exists():
            found[minor] = local_python(minor)
        if minor not in found:
            exe = shutil.which(f"python{minor}")
            if exe:
                found[minor] = Path(exe)
        if minor not in found and minor in FROM_DEBIAN:
            exe = install_from_debian(minor)
            if exe:
                found[minor] = exe
    return {m: found[m] for m in wanted if m in found}


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kw).returncode


def main():
    args = sys.argv[1:]
    wanted = VERSIONS
    if args and args[0].startswith("--versions"):
        value = args[0].split("=", 1)[1] if "=" in args[0] else (args[1] if len(args) > 1 else "")
        args = args[1:] if "=" in args[0] else args[2:]
        wanted = [v for v in value.split(",") if v]
        unknown = [v for v in wanted if v not in VERSIONS]
        if not wanted or unknown:
            print(f"test_all: --versions takes some of {','.join(VERSIONS)}", file=sys.stderr)
            return 2
    interpreters = find_interpreters(wanted)
    print("CPython versions found:", ", ".join(
        f"{v} ({p})" for v, p in interpreters.items()) or "none", flush=True)
    missing = [v for v in wanted if v not in interpreters]
    if missing:
        print(f"test_all: CPython {', '.join(missing)} not found (pyenv, .pythons/ or PATH)",
              file=sys.stderr)
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
        if run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
               cwd=ROOT) != 0:
            failed.append(minor)
    if failed:
        print(f"test_all: failed on {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"test_all: all tests passed on {', '.join(interpreters)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
