"""Running the ``evalcore`` command in-process for the CLI tests."""

from __future__ import annotations

import json

from evalcore.cli import main


def strict_loads(text: str):
    """JSON that refuses NaN and Infinity: the CLI's contract."""
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant!r}")

    return json.loads(text, parse_constant=refuse)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return strict_loads(out)
