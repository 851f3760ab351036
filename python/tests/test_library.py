"""The library search order of svae/_library.py: SVAE_LIBRARY, the package's copy, install
prefixes (SVAE_PREFIX first), pkg-config, the system loader; and the error when nothing is found."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import svae
from svae import _library


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """A search in which nothing exists: no SVAE_LIBRARY, an empty package directory, one empty
    prefix, no pkg-config entry, nothing from the system loader."""
    monkeypatch.delenv("SVAE_LIBRARY", raising=False)
    monkeypatch.setattr(_library, "_PACKAGE_LIB_DIR", tmp_path / "package" / "_lib")
    monkeypatch.setattr(_library, "_install_prefixes", lambda: [tmp_path / "prefix"])
    monkeypatch.setattr(_library, "_pkg_config_libdir", lambda: None)
    monkeypatch.setattr(_library.ctypes.util, "find_library", lambda name: None)
    return tmp_path


def test_missing_library_names_what_was_searched(nowhere):
    with pytest.raises(svae.LibraryNotFoundError) as e:
        _library._find()
    message = str(e.value)
    assert isinstance(e.value, OSError)
    assert "SVAE_LIBRARY" in message
    for searched in (nowhere / "package" / "_lib" / "libsvae.so", nowhere / "prefix" / "lib" / "libsvae.so.1",
                     nowhere / "prefix" / "lib" / "libsvae.so"):
        assert str(searched) in message
    assert "find_library" in message
    assert message.index("package") < message.index("prefix")  # in search order


def test_an_install_prefix_is_found(nowhere):
    lib = nowhere / "prefix" / "lib"
    lib.mkdir(parents=True)
    (lib / "libsvae.so").symlink_to(svae.library_path())
    assert _library._find().path == str(lib / "libsvae.so")


def test_the_package_copy_comes_before_prefixes(nowhere):
    for d in (nowhere / "package" / "_lib", nowhere / "prefix" / "lib"):
        d.mkdir(parents=True)
        (d / "libsvae.so").symlink_to(svae.library_path())
    assert _library._find().path == str(nowhere / "package" / "_lib" / "libsvae.so")


def test_svae_library_wins_and_is_checked(nowhere, monkeypatch):
    monkeypatch.setenv("SVAE_LIBRARY", str(nowhere / "absent.so"))
    with pytest.raises(svae.LibraryNotFoundError, match="SVAE_LIBRARY is set to .*absent.so"):
        _library._find()
    junk = nowhere / "libjunk.so"
    junk.write_text("not a shared library")
    monkeypatch.setenv("SVAE_LIBRARY", str(junk))
    with pytest.raises(svae.LibraryNotFoundError, match="exists but could not be loaded"):
        _library._find()
    monkeypatch.setenv("SVAE_LIBRARY", svae.library_path())
    assert _library._find().path == svae.library_path()


def test_svae_prefix_is_searched_first_among_prefixes(monkeypatch, tmp_path):
    monkeypatch.setenv("SVAE_PREFIX", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    prefixes = _library._install_prefixes()
    assert prefixes[:2] == [tmp_path / "a", tmp_path / "b"]
    assert Path(sys.prefix) in prefixes


def test_import_needs_no_library_and_the_error_reaches_the_user(tmp_path):
    # In a fresh interpreter: importing svae works without a library; opening a model says why not.
    code = ("import svae\n"
            "try:\n"
            "    svae.Model('x.svae')\n"
            "except svae.LibraryNotFoundError as e:\n"
            "    print('ERROR', e)\n")
    env = dict(os.environ, SVAE_LIBRARY=str(tmp_path / "nope.so"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERROR SVAE_LIBRARY is set to" in out.stdout and "nope.so" in out.stdout
