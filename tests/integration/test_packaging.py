"""`pip install .` gives a working `spark-tui` whose stylesheet ships inside the wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_styles_and_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("spark_tui-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "spark_tui/styles/app.tcss" in names
    assert "spark-tui = spark_tui.__main__:main" in entry_points
    # Installed elsewhere (no checkout beside it), the package finds its own styles.
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    code = "from spark_tui.paths import styles_dir; print(styles_dir())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == target / "spark_tui" / "styles"
