"""Shared test fixtures.

Tests read the public reference material only through `shared_reference`, which skips with a reason when
the research folder is absent (as on a fresh CI machine); everything else a test needs is in
tests/fixtures/ (copies, see tests/fixtures/SOURCES.txt) or generated.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def _no_register_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs as on a fresh CI machine, whatever the shell running the suite exports: a developer's own
    REGISTER_API_TOKEN or REGISTER_API_URL changed what the commands under test did (a sync into the embedded emulator
    is refused with a token: review149 F3). A test that needs one sets it itself."""
    for name in [name for name in os.environ if name.startswith("REGISTER_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_backoff, request: pytest.FixtureRequest) -> Path:
    """This process in `tmp_path`, with the test module's TOKEN as REGISTER_API_TOKEN, no proxy of its environment
    and no rate budget shared with other runs: a command run in-process as a user's shell would run it."""
    for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
    monkeypatch.setenv("REGISTER_API_TOKEN", request.module.TOKEN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The research folder ../shared/reference/ (skips when this checkout does not have it)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"{SHARED_REFERENCE} is not present (only the research checkout has it)")
    return SHARED_REFERENCE


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def hesa_samples() -> Path:
    return FIXTURES / "hesa_samples"


@pytest.fixture(scope="session")
def register_csv_fixtures() -> Path:
    return FIXTURES / "register_csv"


@pytest.fixture
def no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process with no HOME whose uid has no entry in the user database (a container or a service run with an
    arbitrary uid): no home folder can be found, and no XDG_CACHE_HOME names a cache folder."""
    import pwd

    def unknown_uid(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", unknown_uid)


def pytest_configure(config: pytest.Config) -> None:
    """Caches the product keeps between runs (report.html's compiled template) go to a folder of this test
    session, not the home folder of whoever runs the tests; subprocesses inherit it."""
    config._register_batch_cache = tempfile.mkdtemp(prefix="register-batch-test-cache-")  # type: ignore[attr-defined]
    os.environ["XDG_CACHE_HOME"] = config._register_batch_cache  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_register_batch_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def no_backoff():
    """The client's retries in this process without their waits (stamina's test mode, capped at each request's own
    attempts, so the count of tries is the client's): for a test about how often a request is tried and what the run
    then does, not about how long it waits between tries. The retries' overall time limit is off as well."""
    import stamina

    with stamina.set_testing(True, attempts=1_000, cap=True):
        yield


@pytest.fixture
def unclosed_files():
    """The files a test leaves open for the garbage collector to close (their ResourceWarnings), as a list a test
    reads after the code under test has returned or raised and every reference to it is gone (`gc.collect()`)."""
    import gc
    import warnings

    gc.collect()  # what earlier tests left for the collector is theirs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)

        def unclosed() -> list[str]:
            gc.collect()
            return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]

        yield unclosed


@pytest.fixture
def temporary_files_limited(monkeypatch: pytest.MonkeyPatch):
    """`limit(n)`: the first n temporary files (`tempfile.TemporaryFile`) asked for from then on are made, the next
    refused as a process at its limit of open files is refused one (EMFILE)."""
    import errno

    made = tempfile.TemporaryFile

    def limit(n: int) -> None:
        left = n

        def temporary_file(*args, **kwargs):
            nonlocal left
            if left == 0:
                raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
            left -= 1
            return made(*args, **kwargs)

        monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)

    return limit


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 100 KB, so a test file of a few MB is shared in many pieces (validate's chunked path for one HESA
    XML file); the numbers of chunks of the chunked runs."""
    from register_batch.readers import hesa_xml
    from register_batch.validation import parallel

    monkeypatch.setattr(hesa_xml, "CHUNK_BYTES", 100_000)
    chunked = []
    real = parallel._chunked_records

    def spy(checker, path, chunks, *rest):
        chunked.append(len(chunks))
        return real(checker, path, chunks, *rest)

    monkeypatch.setattr(parallel, "_chunked_records", spy)
    return chunked
