"""The engine imports without the UI or model stacks: checked in a fresh interpreter, since
this test session may already have imported them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import evalcore

FORBIDDEN = ("streamlit", "tensorflow", "plotly", "duckdb", "pyspark")  # engines: on request
ENGINE = ("evalcore", "evalcore.cli", "evalcore.curves", "evalcore.decisions",
          "evalcore.operating", "evalcore.io")

PROGRAM = f"""
import json, sys
import {", ".join(ENGINE)}
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(json.dumps({{"file": evalcore.__file__, "loaded": loaded}}))
"""


def test_engine_imports_neither_streamlit_nor_tensorflow_nor_plotly(tmp_path):
    # the same evalcore as this session's, whatever the working directory
    source = str(Path(evalcore.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["file"]).resolve() == Path(evalcore.__file__).resolve()
    loaded = set(result["loaded"])
    assert "evalcore" in loaded and "numpy" in loaded  # the program really ran the imports
    for name in FORBIDDEN:
        assert name not in loaded, f"importing the engine imported {name}"
