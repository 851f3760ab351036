"""PEP 517 build backend of the svae Python package (in-tree, no build dependencies).

The wheel is the pure-Python package plus the C library in ``svae/_lib/``. The library comes from,
in order:

1. ``-C library=PATH`` (pip ``--config-settings``) or ``$SVAE_LIBRARY``: that file, copied;
2. otherwise the Swift package around this directory, built by its one install step,
   ``tools/install.sh --prefix TMP --configuration CONF`` (``-C configuration=debug|release``,
   default release), whose ``TMP/lib/libsvae.so.<ABI>`` is shipped: it carries the Swift
   standard library (linked in statically) and needs only libc, libm, libstdc++, libgcc_s,
   OpenBLAS and zstd at run time, so the wheel runs on machines without the Swift toolchain.

The library is loaded with ctypes, not imported as an extension module, so the wheel is tagged
``py3-none-<platform>``: any CPython 3 on that platform.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent  # python/
REPO = PROJECT.parent
PACKAGE = PROJECT / "svae"

# Native libraries libsvae links against and the wheel does not carry (Requires-External).
EXTERNAL = ["libopenblas (Debian: libopenblas0)", "libzstd (Debian: libzstd1)"]


def _project() -> dict:
    """The [project] table of pyproject.toml (the one place that names the package's metadata)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # build-system.requires installs it there
        import tomli as tomllib
    with open(PROJECT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _version() -> str:
    text = (PACKAGE / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if match is None:
        raise RuntimeError(f"{PACKAGE / '__init__.py'}: expected a line __version__ = \"X.Y.Z\"")
    return match.group(1)


def _setting(config_settings: dict | None, key: str, default: str) -> str:
    value = (config_settings or {}).get(key, default)
    return value[-1] if isinstance(value, list) else str(value)


def _platform_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", sysconfig.get_platform())


def _library_files(config_settings: dict | None, work: Path) -> list[Path]:
    """The files to ship in svae/_lib: the named library, or what tools/install.sh installs."""
    given = _setting(config_settings, "library", "") or os.environ.get("SVAE_LIBRARY", "")
    if given:
        path = Path(given)
        if not path.is_file():
            raise RuntimeError(f"svae build: the library {given} (from -C library= or SVAE_LIBRARY) is not a file")
        return [path]
    install = REPO / "tools" / "install.sh"
    if not install.is_file() or not (REPO / "Package.swift").is_file():
        raise RuntimeError(f"svae build: no Swift package around {PROJECT} (expected {install}); "
                           "set SVAE_LIBRARY to a built libsvae.so, or install a wheel from tools/build-wheel.sh")
    configuration = _setting(config_settings, "configuration", "release")
    if (config_settings or {}).get("bundle-runtime") is not None:
        raise RuntimeError("svae build: -C bundle-runtime is gone: libsvae.so.<ABI> carries the Swift runtime it needs")
    command = [str(install), "--prefix", str(work / "prefix"), "--configuration", configuration]
    print("svae build: " + " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=REPO, stdout=sys.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"svae build: {' '.join(command)} failed (exit {result.returncode}); see its output above")
    lib = work / "prefix" / "lib"
    files = sorted(p for p in lib.iterdir() if p.is_file() and not p.is_symlink() and ".so" in p.name)
    if len(files) != 1 or not re.fullmatch(r"libsvae\.so\.[0-9]+", files[0].name):
        raise RuntimeError(f"svae build: expected tools/install.sh to put one library, libsvae.so.<ABI>, into {lib}; "
                           f"found {[p.name for p in files] or 'none'}")
    return files


def _metadata(project: dict, version: str) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {version}",
             f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {r}" for r in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {r}; extra == "{extra}"' for r in reqs]
    lines += [f"Requires-External: {e}" for e in EXTERNAL]
    return "\n".join(lines) + "\n"


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project, version = _project(), _version()
    name = project["name"]
    tag = f"py3-none-{_platform_tag()}"
    filename = f"{name}-{version}-{tag}.whl"
    dist_info = f"{name}-{version}.dist-info"
    with tempfile.TemporaryDirectory(prefix="svae-build-") as tmp:
        libraries = _library_files(config_settings, Path(tmp))
        entries: list[tuple[str, bytes, int]] = []  # (name in the wheel, bytes, mode)
        for path in sorted(PACKAGE.rglob("*")):
            rel = path.relative_to(PROJECT)
            if path.is_file() and "__pycache__" not in rel.parts and "_lib" not in rel.parts:
                entries.append((rel.as_posix(), path.read_bytes(), 0o644))
        for lib in libraries:
            entries.append((f"svae/_lib/{lib.name}", lib.read_bytes(), 0o755))
        entries.append((f"{dist_info}/METADATA", _metadata(project, version).encode(), 0o644))
        entries.append((f"{dist_info}/WHEEL", (
            f"Wheel-Version: 1.0\nGenerator: svae_build\nRoot-Is-Purelib: false\nTag: {tag}\n").encode(), 0o644))
        entries.append((f"{dist_info}/top_level.txt", f"{name}\n".encode(), 0o644))
        record = [_record_line(name, data) for name, data, _ in entries] + [f"{dist_info}/RECORD,,"]
        entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))
        os.makedirs(wheel_directory, exist_ok=True)
        target = Path(wheel_directory) / filename
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
            for name, data, mode in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                wheel.writestr(info, data)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []
