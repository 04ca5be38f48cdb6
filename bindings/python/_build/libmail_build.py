"""A PEP 517 build backend for the pure-Python libmail package, standard
library only: `pip install --no-index --no-build-isolation` must work in a
fresh venv with no network, where neither setuptools' wheel support nor
the wheel package can be assumed."""
import base64
import hashlib
import os
import zipfile

NAME = "libmail"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version() -> str:
    with open(os.path.join(HERE, NAME, "__init__.py"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError("no __version__ in libmail/__init__.py")


def _metadata() -> str:
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: SMTP/LMTP, POP3 and MIME for Python over the libmail C library (ctypes)\n"
            "License: MIT\nRequires-Python: >=3.8\n"
            "Classifier: Topic :: Communications :: Email\nClassifier: Typing :: Typed\n"
            "Description-Content-Type: text/markdown\n\n%s" % (NAME, _version(), readme))


def _wheel_file() -> str:
    return ("Wheel-Version: 1.0\nGenerator: libmail_build\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n")


def _files():
    """(archive name, bytes) of the package: its .py files and py.typed
    (plus a libmail.so.0 placed next to it, which the loader prefers)."""
    pkg = os.path.join(HERE, NAME)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") or name in ("py.typed", "libmail.so.0"):
            with open(os.path.join(pkg, name), "rb") as f:
                yield "%s/%s" % (NAME, name), f.read()


def _record_line(arc: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arc, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = "%s-%s.dist-info" % (NAME, _version())
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(metadata_directory, info, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    info = "%s-%s.dist-info" % (NAME, version)
    wheel = "%s-%s-py3-none-any.whl" % (NAME, version)
    record = ""
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w",
                         zipfile.ZIP_DEFLATED) as z:
        entries = list(_files()) + [(info + "/METADATA", _metadata().encode()),
                                    (info + "/WHEEL", _wheel_file().encode())]
        for arc, data in entries:
            z.writestr(arc, data)
            record += _record_line(arc, data)
        record += info + "/RECORD,,\n"
        z.writestr(info + "/RECORD", record)
    return wheel


def build_sdist(sdist_directory, config_settings=None):
    import tarfile
    base = "%s-%s" % (NAME, _version())
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz") as t:
        for rel in ("pyproject.toml", "README.md", "_build/libmail_build.py"):
            t.add(os.path.join(HERE, rel), arcname="%s/%s" % (base, rel))
        for arc, _ in _files():
            t.add(os.path.join(HERE, arc), arcname="%s/%s" % (base, arc))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        meta = _metadata().encode()
        info.size = len(meta)
        import io
        t.addfile(info, io.BytesIO(meta))
    return os.path.basename(path)
