"""The command line's promises: help, version, listing, and one-line errors with exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlsd.registry import PATTERNS, STAGES


def test_help_lists_every_command(cli):
    result = cli("--help")
    assert result.code == 0
    for command in ("list", "learn", "run", "compare", "patterns"):
        assert command in result.out


def test_no_arguments_shows_help(cli):
    result = cli()
    assert result.code == 0 and "Usage" in result.out


def test_version(cli):
    import mlsd

    result = cli("--version")
    assert result.code == 0 and result.out.strip() == f"mlsd {mlsd.__version__}"


def test_every_subcommand_has_help_with_examples(cli):
    for args in (["list"], ["learn"], ["run"], ["patterns"], ["compare", "latency"]):
        result = cli(*args, "--help")
        assert result.code == 0, args
        assert "mlsd " in result.out, f"{args} --help shows no example"


def test_list_json_has_ten_designs_in_learning_order(cli):
    designs = cli("list", "--json").json()
    assert [d["order"] for d in designs] == list(range(1, 11))
    assert [d["slug"] for d in designs] == [
        "captioning", "image-search", "recommendation", "search-ranking", "fraud",
        "personalization", "ads", "feature-platform", "translation", "speech"]
    fraud = next(d for d in designs if d["slug"] == "fraud")
    assert fraud["executable"] and fraud["latency_budget_ms"] == 100


def test_list_table_marks_what_runs(cli):
    out = cli("list").out
    assert "fraud" in out and "runs" in out and "not yet" in out


def test_patterns_cover_the_catalogue(cli):
    rows = cli("patterns", "--json").json()
    assert [r["pattern"] for r in rows] == list(PATTERNS)
    rules_ml = next(r for r in rows if r["pattern"] == "rules+ML")
    assert {"slug": "fraud", "executable": True} in rules_ml["designs"]


def test_learn_renders_one_stage(cli):
    result = cli("learn", "fraud", "--stage", "model")
    assert result.code == 0
    assert "Rubric key points" in result.out and "Serving" not in result.out


@pytest.mark.parametrize("args, fragment", [
    (["run", "frad"], "Did you mean 'fraud'"),
    (["run", "ads"], "not implemented yet"),
    (["run", "fraud", "--stage", "modle"], "Did you mean 'model'"),
    (["run", "fraud", "--scale", "huge"], "Scales are: tiny, default, large"),
    (["run", "fraud", "--set", "n_user=5"], "Did you mean 'n_users'"),
    (["run", "fraud", "--set", "n_users=many"], "expects a whole number"),
    (["run", "fraud", "--set", "n_users"], "key=value"),
    (["run", "fraud", "--set", "days=5"], "days must be at least"),
    (["run", "fraud", "--export", "/proc/no/such/place"], "cannot write export folder"),
    (["run", "fraud", "--sclae", "tiny"], "No such option"),
    (["learn", "translation"], "not written yet"),
    (["learn", "fraud", "--stage", "deploy"], "unknown stage"),
    (["compare", "latency", "--scale", "xl"], "unknown scale"),
    (["bogus"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, fragment):
    result = cli(*args)
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert fragment in lines[0] and "Traceback" not in result.err


def test_help_does_not_import_heavy_libraries():
    code = ("import sys, mlsd.cli.main; "
            "print(' '.join(m for m in ('torch','faiss','sklearn','lightgbm','torchaudio','numpy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_stage_names_match_the_framework():
    assert STAGES == ("problem", "data", "model", "serving", "monitoring")


def test_export_refuses_a_folder_holding_files_mlsd_did_not_write(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("mlsd.runner.run_design", lambda *a, **k: pytest.fail("the run started"))
    (tmp_path / "results.json").write_text("mine")
    result = cli("run", "fraud", "--scale", "tiny", "--export", str(tmp_path))
    assert result.code == 2 and "did not write" in result.err
    assert (tmp_path / "results.json").read_text() == "mine"


def test_export_reuses_its_own_folder(tmp_path):
    from mlsd.export import MARKER, ensure_folder

    target = tmp_path / "run"
    ensure_folder(target)
    assert (target / MARKER).exists()
    (target / "model_old.csv").write_text("a\n1\n")
    ensure_folder(target)  # a folder mlsd wrote may be written again
