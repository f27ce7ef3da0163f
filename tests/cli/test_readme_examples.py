"""The README's example commands never write over each other's folders (run one after another,
each keeps what the others wrote; a solve and a sweep once shared results/what-if)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"solve": "", "sweep": "-sweep", "pareto": "-pareto", "alternatives": "-alternatives"}
FLAGS = {"--quiet", "--yes", "--outputs", "--no-cache", "--log", "--debug"}


def _commands(text: str) -> list[list[str]]:
    """Every ``siting ...`` command of the README's bash blocks (continued lines joined)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["siting"]:
                out.append(words[1:])
    return out


def _folder(words: list[str]) -> str | None:
    """The folder a writing command writes: its --out, else results/<scenario name><suffix>."""
    command, rest = words[0], words[1:]
    if command not in WRITERS:
        return None
    out, scenario, i = None, None, 0
    while i < len(rest):
        w = rest[i]
        if w.startswith("--"):
            if w == "--out":
                out = rest[i + 1]
            i += 1 if w in FLAGS else 2
            continue
        scenario = scenario or w
        i += 1
    if out:
        return str(Path(out))
    name = yaml.safe_load((ROOT / (scenario or "models/default.yaml")).read_text())["name"]
    return f"results/{name}{WRITERS[command]}"


def test_the_readme_examples_write_distinct_folders():
    commands = _commands((ROOT / "README.md").read_text())
    folders = [(f, " ".join(c)) for c in commands if (f := _folder(c)) is not None]
    assert len(folders) >= 10  # the parse found the examples
    seen: dict[str, str] = {}
    for folder, command in folders:
        assert folder not in seen, f"`siting {command}` writes {folder}, as `siting {seen[folder]}` does"
        seen[folder] = command


def test_the_readme_says_how_to_run_the_notebooks_and_the_dev_extra_installs_it():
    import shutil
    import sys
    import tomllib

    text = (ROOT / "README.md").read_text()
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", text, flags=re.S))
    commands = {"jupyter lab": ("jupyterlab", "jupyter-lab"), "jupyter execute": ("nbclient", "jupyter-execute")}
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    names = {re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower() for d in dev}
    for command, (package, script) in commands.items():
        assert command in blocks, f"the README does not say `{command} ...`"
        assert package in names, f"`{command}` needs {package}, which the dev extra does not install"
        assert shutil.which(script, path=str(Path(sys.executable).parent)), f"{script} is not installed"
    for nb in ("what_if", "pareto", "alternatives"):
        assert (ROOT / "notebooks" / f"{nb}.ipynb").exists() and f"{nb}.ipynb" in text
