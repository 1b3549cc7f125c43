"""docs/local.md ("Run it locally"), followed literally in a fresh clone: its ``sh`` blocks run in order in one
shell, as a newcomer would paste them (dev up -> publish a day -> its voucher in the BL stand-in -> dev down).

The one thing done for the newcomer is `make`'s first step: the clone's ``.venv`` is made here without the
network (the dependencies of this test's own environment, the clone's code installed editable into it), so `make
dev-up` finds it installed and goes straight to `dayclose-dev up`. Everything after that is the page's text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "local.md"
MARKER = re.compile(r"^=== dayclose docs command (\d+) ===$", re.MULTILINE)


def sh_commands(text: str) -> list[str]:
    """Every command line of the page's ``sh`` blocks, in order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def fresh_clone(tmp: Path) -> Path:
    clone = tmp / "dayclose"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    venv = clone / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # This environment's third-party packages (not its editable install of the repository under test), and the
    # clone's own packages and console scripts, as `pip install -e .` would make them (pip itself would need the
    # network for its build backend).
    site = Path(purelib)
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "_dayclose_clone.pth").write_text(str(clone) + "\n")
    scripts = tomllib.loads((clone / "pyproject.toml").read_text())["project"]["scripts"]
    for name, target in scripts.items():
        module, function = target.split(":")
        script = venv / "bin" / name
        script.write_text(f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n")
        script.chmod(0o755)
    (venv / ".installed-stamp").touch()  # what `make` checks before it installs
    return clone


def test_the_run_it_locally_page_works_as_written(tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("make") is None:
        pytest.fail("the page needs curl and make (installed by .ci/run)")
    commands = sh_commands(DOC.read_text(encoding="utf-8"))
    assert len(commands) >= 7, "docs/local.md lost its commands"
    clone = fresh_clone(tmp_path)
    # One shell, as a person pasting the page: each command's output is marked so it can be read back.
    script = "set -eo pipefail\n" + "".join(
        f"echo; echo '=== dayclose docs command {i} ==='\n{c}\n" for i, c in enumerate(commands)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "KAFKA_", "BL_", "DAYCLOSE_"))}
    env.pop("VIRTUAL_ENV", None)
    try:
        done = subprocess.run(
            ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    finally:
        subprocess.run(
            [clone / ".venv" / "bin" / "dayclose-dev", "down", "--dir", str(clone / ".dayclose-dev")],
            capture_output=True,
            timeout=180,
            check=False,
        )  # a failed run still stops what it started
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    parts = MARKER.split(done.stdout)
    output = {commands[int(i)]: text.strip() for i, text in zip(parts[1::2], parts[2::2], strict=True)}

    up, published = output["make dev-up"], output["dayclose-dev publish-day"]
    assert "BackOffice API" in up and "export DEV_TOKEN=" in up
    assert "BackOffice card" in up and re.search(r"export DEV_CARD_URL=\S*/card/signin\?token=", up), up
    assert re.search(r"demo-org/store-1 2026-11-24: booked as voucher D 1 \(\d+\.\d\d SEK", published), published
    vouchers_json, listing = output[_command(commands, "/vouchers")], output["dayclose exports list --org demo-org"]
    api_json = output[_command(commands, "Authorization: Bearer")]
    (voucher,) = json.loads(vouchers_json)
    assert voucher["journalEntryDate"] == "2026-11-24" and "ref DC-" in voucher["journalEntryText"]
    assert sum(round(row["amount"] * 100) for row in voucher["ledgerEntries"]) == 0
    reference = voucher["journalEntryText"].rsplit(" ref ", 1)[1]
    assert reference in listing and "booked" in listing
    (export,) = json.loads(api_json)["items"]
    assert export["reference"] == reference and export["status"] == "booked" and export["voucher_number"] == 1
    assert "local stack stopped" in output["make dev-down"]
    assert not (clone / ".dayclose-dev" / "state.json").exists()


def _command(commands: list[str], part: str) -> str:
    (found,) = [c for c in commands if part in c]
    return found
