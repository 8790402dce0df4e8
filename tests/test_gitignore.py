"""The files the README's and docs' commands write in the checkout are ignored by git, at the
root only: a file of the same name under tests/ or examples/ is never hidden by accident."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The documents whose commands a newcomer runs from the root of the checkout.
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs/ci/README.md"]
#: A file a command writes: the value of an output option, a redirection, the shell's save.
_WRITTEN = re.compile(
    r"(?:--(?:junit|markdown|json|html|csv|transcript|log|coverage|state)|-o|>|\bsave)"
    r"[ =]([A-Za-z0-9_.*-]+\.[a-z]+)\b"
)


def written_files() -> list[str]:
    """Every file name the documents' commands write, ``*`` made a character (shard-1.json)."""
    names = {
        name.replace("*", "1").replace("-I.", "-1.")
        for document in DOCUMENTS
        for name in _WRITTEN.findall(document.read_text(encoding="utf-8"))
    }
    return sorted(names)


def ignored(path: str) -> bool:
    """Whether git's ignore rules hide ``path`` (tracked or not, existing or not)."""
    result = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


@pytest.fixture(scope="module", autouse=True)
def _a_git_checkout() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")


def test_the_documents_name_the_files_their_commands_write() -> None:
    # The README's tour and its sections: if these are no longer found, the pattern broke.
    expected = {"scenario.schema.json", "junit.xml", "summary.md", "frames.jsonl"}
    expected |= {"session.jsonl", "regression.yaml", "load.json", "load.html", "shard-1.json"}
    assert expected <= set(written_files())


@pytest.mark.parametrize("name", written_files())
def test_what_a_command_writes_is_ignored_at_the_root_only(name: str) -> None:
    assert ignored(name), f"add /{name} to .gitignore"
    for folder in ("tests", "tests/data", "examples", "examples/failure", "docs"):
        assert not ignored(f"{folder}/{name}"), f"{folder}/{name} is hidden by .gitignore"


def test_the_sources_are_not_ignored() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert tracked.stdout == ""  # no file git keeps matches an ignore rule
