"""The ``ckmkg`` command on a real data dir: load, validate, export, dump/restore."""

from __future__ import annotations

from pathlib import Path

import rdflib
from click.testing import CliRunner

from kg_service.cli import cli
from kg_service.namespaces import CKM


def run(data: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args], input=input,
                              catch_exceptions=False)


def test_load_validate_export_dump_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run(data, "load")
    assert result.exit_code == 0, result.output
    assert "gibbert-five-styles.yaml" in result.output  # progress per file
    assert "loaded" in result.output

    result = run(data, "validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid:")

    result = run(data, "export", "--format", "ttl")
    assert result.exit_code == 0
    g = rdflib.Graph().parse(data=result.output, format="turtle")
    assert (CKM.MutualInnovation, rdflib.RDF.type, CKM.CKMStyle) in g
    assert run(data, "export", "--format", "ttl").output == result.output  # stable

    dump = tmp_path / "all.nq"
    assert run(data, "dump", str(dump)).exit_code == 0
    other = tmp_path / "other"
    result = run(other, "restore", str(dump))
    assert result.exit_code == 0, result.output
    dump2 = tmp_path / "again.nq"
    run(other, "dump", str(dump2))
    assert sorted(dump.read_bytes().splitlines()) == sorted(dump2.read_bytes().splitlines())


def test_load_of_a_bad_file_names_file_and_line_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "load").exit_code == 0
    before = run(data, "dump", "-").output
    bad = tmp_path / "cases"
    bad.mkdir()
    (bad / "bad.yaml").write_text(
        "case:\n  slug: bad\n  label: Bad\n  source: {paper: gibbert-2002, locator: p. 1}\n"
        "practices:\n  - slug: p1\n    label: P\n    company: nobody\n"
        "    styles: [NoSuchStyle]\n    source: {paper: gibbert-2002, locator: p. 1}\n")
    result = run(data, "load", str(bad))
    assert result.exit_code != 0
    assert "bad.yaml:" in result.output
    assert run(data, "dump", "-").output == before


def test_restore_of_a_broken_dump_keeps_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "load").exit_code == 0
    before = run(data, "dump", "-").output
    broken = tmp_path / "broken.nq"
    broken.write_text('<http://e/s> <http://e/p> "ok" <http://e/g> .\n<http://e/s> oops\n')
    result = run(data, "restore", str(broken))
    assert result.exit_code != 0
    assert "broken.nq" in result.output
    assert run(data, "dump", "-").output == before


def test_settings_table_lists_every_setting(tmp_path: Path) -> None:
    result = run(tmp_path, "settings", "--markdown")
    assert "`KG_QUERY_TIMEOUT`" in result.output and "`KG_DATA_DIR`" in result.output


def test_readme_settings_table_is_the_generated_one() -> None:
    from kg_service.settings import markdown_table

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert markdown_table() in readme
