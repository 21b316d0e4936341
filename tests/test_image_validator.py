"""The official IIIF Image API validator (PyPI iiif-validator) against a live server: 3.0 and 2.1, level 2."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import IN_CI, LiveServer, ingest, write_holdings

FIXTURE = Path(__file__).parent / "fixtures" / "67352ccc-d1b0-11e1-89ae-279075081939.png"
IDENTIFIER = "iiif-validator~1"


def ingest_validator_image(root: Path) -> Path:
    """HERITAGE_DATA under ``root`` with the validator's test image published as ``IDENTIFIER``."""
    holdings = write_holdings(root / "holdings", [{"id": "iiif-validator", "collection": "test", "type": "object",
                                                   "title": "Validator test image"}],
                              {"iiif-validator": [FIXTURE]})
    result = ingest(holdings, root / "data")
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "data"


@pytest.fixture(scope="module")
def validator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(ingest_validator_image(tmp_path_factory.mktemp("validator")))
    yield server
    server.stop()


def _validator() -> str:
    exe = shutil.which("iiif-validate.py")
    if exe is None:
        if IN_CI:
            pytest.fail("iiif-validate.py is not installed (pip install iiif-validator)")
        pytest.skip("iiif-validate.py is not installed")
    return exe


@pytest.mark.parametrize("version, prefix", [("3.0", "iiif/3/image"), ("2.0", "iiif/2/image")])
def test_official_validator_level2(validator_server: LiveServer, version: str, prefix: str) -> None:
    result = subprocess.run([_validator(), "-s", f"127.0.0.1:{validator_server.port}", "-p", prefix,
                             "-i", IDENTIFIER, f"--version={version}", "--level=2"],
                            capture_output=True, text=True, check=False, timeout=300)
    output = result.stdout + result.stderr
    assert "0 failures" in output and result.returncode == 0, output
    assert "FAIL" not in output, output
