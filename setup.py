"""Build of pyrometer's C engine; metadata lives in pyproject.toml."""
import glob
import os

from setuptools import Extension, setup

SANITIZE = os.environ.get("PYROMETER_SANITIZE")  # e.g. "address,undefined"

extra_compile = ["-std=c11", "-Wall", "-Wextra", "-O2", "-fno-strict-aliasing"]
extra_link = []
if os.environ.get("PYROMETER_WERROR"):
    extra_compile.append("-Werror")
if SANITIZE:
    extra_compile += [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-O1", "-g"]
    extra_link += [f"-fsanitize={SANITIZE}"]

# One folder per floor of the engine (docs/architecture.md); every include
# names its floor: #include "core/clock.h".
engine = Extension(
    "pyrometer._engine",
    sources=sorted(glob.glob("src/engine/*.c") + glob.glob("src/engine/*/*.c")),
    depends=sorted(glob.glob("src/engine/*/*.h")),
    include_dirs=["src/engine"],
    extra_compile_args=extra_compile,
    extra_link_args=extra_link,
)

setup(ext_modules=[engine])
