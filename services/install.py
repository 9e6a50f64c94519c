"""Download the pinned OpenSearch and Tika releases from Maven Central into the cache, once.

Every download is checked against the SHA-256 pinned in `services.versions`; a file that
fails the check is deleted and the install stops with the reason. Extraction goes to a
temporary folder that is renamed into place, so an interrupted install never leaves a
half-written distribution that looks complete.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from services import versions
from services.settings import Settings

ProgressHook = Callable[[str], None]


class InstallError(RuntimeError):
    """A pinned release could not be fetched, verified or unpacked."""


def downloads_dir(settings: Settings) -> Path:
    return settings.home / "downloads"


def opensearch_home(settings: Settings) -> Path:
    return settings.home / "dist" / f"opensearch-{versions.OPENSEARCH_VERSION}"


def tika_jar(settings: Settings) -> Path:
    return downloads_dir(settings) / versions.TIKA_JAR.file_name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(artifact: versions.Artifact, folder: Path, say: ProgressHook = print) -> Path:
    """Return the verified local copy of `artifact`, downloading it if it is not cached yet."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / artifact.file_name
    if target.exists() and _sha256(target) == artifact.sha256:
        return target
    say(f"downloading {artifact.url}")
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with httpx.stream("GET", artifact.url, follow_redirects=True, timeout=120) as response:
            response.raise_for_status()
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 20):
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise InstallError(f"could not download {artifact.url}: {exc}") from exc
    actual = _sha256(partial)
    if actual != artifact.sha256:
        partial.unlink(missing_ok=True)
        raise InstallError(f"checksum mismatch for {artifact.url}: expected {artifact.sha256}, got {actual}")
    partial.replace(target)
    return target


def _extract_zip_with_modes(archive: Path, dest: Path) -> None:
    """Unzip keeping the Unix permission bits (zipfile drops them; bin/opensearch must stay executable)."""
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            extracted = Path(zipped.extract(member, dest))
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                extracted.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _module_descriptor(name: str, classname: str) -> str:
    return (
        f"description=OpenSearch module {name}\n"
        f"version={versions.OPENSEARCH_VERSION}\n"
        f"name={name}\n"
        f"classname={classname}\n"
        "java.version=11\n"
        f"opensearch.version={versions.OPENSEARCH_VERSION}\n"
        "extended.plugins=\n"
        "has.native.controller=false\n"
    )


def install_opensearch(settings: Settings, say: ProgressHook = print) -> Path:
    """Install the pinned OpenSearch (plus extra modules) and return its home folder."""
    home = opensearch_home(settings)
    marker = home / ".lantern-installed"
    if marker.exists():
        return home
    archive = fetch(versions.OPENSEARCH_ZIP, downloads_dir(settings), say)
    staging = home.parent / (home.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    say(f"unpacking {archive.name}")
    _extract_zip_with_modes(archive, staging)
    unpacked = staging / f"opensearch-{versions.OPENSEARCH_VERSION}"
    for name, classname, artifact in versions.OPENSEARCH_MODULES:
        jar = fetch(artifact, downloads_dir(settings), say)
        module_dir = unpacked / "modules" / name
        module_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(jar, module_dir / jar.name)
        (module_dir / "plugin-descriptor.properties").write_text(_module_descriptor(name, classname))
    (unpacked / ".lantern-installed").write_text(versions.OPENSEARCH_VERSION + "\n")
    shutil.rmtree(home, ignore_errors=True)
    unpacked.replace(home)
    shutil.rmtree(staging, ignore_errors=True)
    return home


def install_tika(settings: Settings, say: ProgressHook = print) -> Path:
    """Return the verified Tika server jar, downloading it if needed."""
    return fetch(versions.TIKA_JAR, downloads_dir(settings), say)


def install_all(settings: Settings, say: ProgressHook = print) -> None:
    """Install whichever local services are not replaced by configured URLs."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.home.chmod(0o755)
    if not settings.opensearch_url:
        install_opensearch(settings, say)
    if not settings.tika_url:
        install_tika(settings, say)
