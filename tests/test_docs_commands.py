"""Every shell command shown in README.md and docs/*.md is real.

Commands come from fenced ```bash / ```sh / ```console / ```shell blocks (``$ `` prompts
and ``\\`` continuations handled, ``#`` comments dropped). Each program has a check:

* ``churnml``: parsed by the CLI's own argparse parser, and every ``--option`` must be
  spelled exactly as the subcommand defines it (no abbreviations). ``churnml compose``
  and ``cp`` are *run*, block by block, in a temporary copy of ``conf/``;
* ``dvc``: parsed by DVC's own parser (subcommands and options must exist);
* ``make``: the target is in the Makefile; ``jupytext`` conversions are run on a
  temporary copy of the notebooks, ``jupyter execute`` options are checked against
  nbclient's app; ``.venv/bin/python script.py``: the script exists and defines each
  ``--option``; ``pip install 'churnml[extra]'``: the extra is in pyproject.toml;
* ``mlflow``: the executable exists (fast); its subcommand and options are checked
  against ``mlflow <sub> --help`` in a slow test (importing MLflow takes seconds).

A command whose program has no check fails the test, so a new kind of command in the
docs gets a check (or an entry in ``EXTERNAL``) instead of going unverified.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:bash|sh|console|shell)[ \t]*\n(.*?)^```", re.S | re.M)
BIN = Path(sys.executable).parent
# Programs the docs may show without a check here: shell builtins and system tools.
EXTERNAL = {"source", "export", "java"}


ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def fenced_blocks(text: str) -> list[list[list[str]]]:
    """The commands of each shell block: a list of argv lists per block."""
    blocks = []
    for match in FENCE.finditer(text):
        joined = re.sub(r"\\\n\s*", " ", match.group(1))
        commands = []
        for line in joined.splitlines():
            line = re.sub(r"^\s*\$\s+", "", line)
            argv = shlex.split(line, comments=True)
            while argv and ENV_ASSIGNMENT.match(argv[0]):  # VAR=value cmd ...: check cmd
                argv = argv[1:]
            if argv:
                commands.append(argv)
        blocks.append(commands)
    return blocks


def doc_commands() -> list[tuple[str, int, list[list[str]]]]:
    """``(file name, block number, commands)`` for every shell block of the docs."""
    return [(path.name, i, block) for path in DOCS
            for i, block in enumerate(fenced_blocks(path.read_text(encoding="utf-8")))]


def all_commands() -> list[tuple[str, list[str]]]:
    """``(file name, argv)`` for every command of the docs."""
    return [(name, argv) for name, _, block in doc_commands() for argv in block]


def program(argv: list[str]) -> str:
    """The program's name (``.venv/bin/python`` -> ``python``)."""
    return Path(argv[0]).name


def parse_strictly(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """None if ``argv`` parses and every option is spelled exactly as defined, else why."""
    current = parser
    for token in argv:
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            if name not in current._option_string_actions:
                return f"{name} is not an option of `{current.prog}`"
            continue
        sub = next((a for a in current._actions
                    if isinstance(a, argparse._SubParsersAction)), None)
        if sub is not None and token in sub.choices:
            current = sub.choices[token]
    try:
        parser.parse_args(argv)
    except SystemExit:
        return f"`{parser.prog} {shlex.join(argv)}` does not parse"
    return None


def churnml_parser() -> argparse.ArgumentParser:
    from churnml.cli import build_parser

    return build_parser()


def dvc_parser() -> argparse.ArgumentParser:
    from dvc.cli.parser import get_main_parser

    return get_main_parser()


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.M))


def test_docs_show_commands():
    names = {name for name, _ in all_commands()}
    assert {"README.md", "configuration.md", "models.md", "spark.md", "workflows.md",
            "scoring.md"} <= names


def test_every_program_shown_has_a_check():
    checked = {"churnml", "dvc", "make", "mlflow", "jupytext", "jupyter", "python", "cp",
               "pip"} | EXTERNAL
    unknown = sorted({f"{name}: {shlex.join(argv)}" for name, argv in all_commands()
                      if program(argv) not in checked})
    assert not unknown, f"commands without a check in {Path(__file__).name}: {unknown}"


def test_churnml_commands_use_real_subcommands_and_options(capsys):
    parser = churnml_parser()
    bad = [f"{name}: {why}" for name, argv in all_commands() if program(argv) == "churnml"
           if (why := parse_strictly(parser, argv[1:]))]
    capsys.readouterr()
    assert not bad, bad


def test_inline_churnml_commands_use_real_options(capsys):
    """`churnml ...` in running text: subcommand and options (values may be placeholders)."""
    parser = churnml_parser()
    subcommands = next(a for a in parser._actions
                       if isinstance(a, argparse._SubParsersAction)).choices
    bad = []
    for path in DOCS:
        for span in re.findall(r"`churnml ([^`]+)`", FENCE.sub("", path.read_text())):
            argv = shlex.split(span)
            if argv[0].startswith("<"):  # `churnml <stage>`: a placeholder
                continue
            if argv[0] not in subcommands:
                bad.append(f"{path.name}: `churnml {span}`: no subcommand {argv[0]}")
                continue
            options = subcommands[argv[0]]._option_string_actions
            bad += [f"{path.name}: `churnml {span}`: no option {t}" for t in argv[1:]
                    if t.startswith("--") and t.split("=", 1)[0] not in options]
    capsys.readouterr()
    assert not bad, bad


def test_compose_and_cp_commands_run(tmp_path, monkeypatch):
    """Each block's `churnml compose` / `cp` commands, in order, on a copy of conf/."""
    from churnml.cli import main

    blocks = [(name, block) for name, _, block in doc_commands()
              if any(program(a) == "churnml" and a[1:2] == ["compose"] for a in block)]
    assert blocks
    for n, (name, block) in enumerate(blocks):
        work = tmp_path / f"block{n}"
        shutil.copytree(ROOT / "conf", work / "conf")
        monkeypatch.chdir(work)
        for argv in block:
            if program(argv) == "cp":
                shutil.copy(work / argv[1], work / argv[2])
            elif program(argv) == "churnml" and argv[1:2] == ["compose"]:
                assert main(argv[1:]) == 0, f"{name}: `{shlex.join(argv)}` failed"
                out = argv[argv.index("--out") + 1] if "--out" in argv else "params.yaml"
                assert (work / out).is_file()


def test_cp_sources_exist():
    sources = [argv[1] for _, argv in all_commands() if program(argv) == "cp"]
    assert all((ROOT / s).is_file() for s in sources), sources


def test_dvc_commands_parse(capsys):
    parser = dvc_parser()
    bad = [f"{name}: {why}" for name, argv in all_commands() if program(argv) == "dvc"
           if (why := parse_strictly(parser, argv[1:]))]
    capsys.readouterr()
    assert not bad, bad


def test_make_targets_exist():
    targets = makefile_targets()
    shown = {t for _, argv in all_commands() if program(argv) == "make"
             for t in argv[1:] if "=" not in t and not t.startswith("-")}
    assert shown and shown <= targets, sorted(shown - targets)


def test_python_scripts_and_their_options_exist():
    shown = [(name, argv) for name, argv in all_commands() if program(argv) == "python"]
    for name, argv in shown:
        script = ROOT / argv[1]
        assert script.is_file(), f"{name}: {argv[1]} not found"
        source = script.read_text()
        for option in (t.split("=", 1)[0] for t in argv[2:] if t.startswith("--")):
            assert f'"{option}"' in source, f"{name}: {argv[1]} has no option {option}"


def test_pip_extras_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for name, argv in all_commands():
        if program(argv) != "pip":
            continue
        assert argv[1] == "install", f"{name}: {shlex.join(argv)}"
        for requirement in argv[2:]:
            match = re.fullmatch(r"churnml\[(\w+)\]", requirement)
            assert match and match.group(1) in extras, f"{name}: {requirement}"


def test_notebook_commands_run(tmp_path):
    """`jupytext` conversions run on a copy of notebooks/; `jupyter execute` options exist
    and the notebook it names is the one the conversion wrote."""
    from nbclient.cli import NbClientApp

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    flags = {f"--{k}" for k in (*NbClientApp.flags, *NbClientApp.aliases)}
    shown = [argv for _, argv in all_commands() if program(argv) in ("jupytext", "jupyter")]
    assert shown
    for argv in shown:
        if program(argv) == "jupytext":
            done = subprocess.run([str(BIN / "jupytext"), *argv[1:]], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            continue
        assert argv[1] == "execute", shlex.join(argv)
        options = [t.split("=", 1)[0] for t in argv[2:] if t.startswith("--")]
        assert set(options) <= flags, options
        notebooks = [t for t in argv[2:] if t.endswith(".ipynb")]
        assert notebooks and all((tmp_path / nb).is_file() for nb in notebooks), notebooks


def test_mlflow_executable_exists():
    assert any(program(argv) == "mlflow" for _, argv in all_commands())
    assert (BIN / "mlflow").is_file()


@pytest.mark.slow
def test_mlflow_commands_exist_with_their_options():
    shown = [argv for _, argv in all_commands() if program(argv) == "mlflow"]
    for sub in sorted({argv[1] for argv in shown}):
        done = subprocess.run([str(BIN / "mlflow"), sub, "--help"], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"mlflow {sub}: {done.stderr[-500:]}"
        for argv in (a for a in shown if a[1] == sub):
            for option in (t.split("=", 1)[0] for t in argv[2:] if t.startswith("--")):
                assert re.search(rf"^\s+(?:-\w, )?{re.escape(option)}\b", done.stdout, re.M), (
                    f"mlflow {sub} has no option {option}")


def test_the_checker_rejects_what_does_not_exist(capsys):
    """The checks above can fail: made-up subcommands, options and abbreviations."""
    parser = churnml_parser()
    assert parse_strictly(parser, ["score", "--as-of", "2025-01-01"]) is None
    assert parse_strictly(parser, ["score", "--as", "2025-01-01"])  # abbreviation
    assert parse_strictly(parser, ["score", "--budget", "5"])
    assert parse_strictly(parser, ["predict"])
    assert parse_strictly(dvc_parser(), ["exp", "run", "--no-such-flag"])
    assert parse_strictly(dvc_parser(), ["metrics", "diff"]) is None
    assert fenced_blocks("```console\n$ churnml score \\\n  --out x  # c\n```\n") == [
        [["churnml", "score", "--out", "x"]]]
    capsys.readouterr()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces -> '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_between_docs_resolve():
    """Relative links in README and docs name existing files (and headings)."""
    bad = []
    for path in DOCS:
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file) if file else path
            if not dest.exists():
                bad.append(f"{path.name}: {target}")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+\s+(.*)$", dest.read_text(encoding="utf-8"), re.M)
                if anchor not in {_slug(h) for h in headings}:
                    bad.append(f"{path.name}: {target} (no such heading)")
    assert not bad, bad
