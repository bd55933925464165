import subprocess
import sys


def test_help_and_models_list():
    out = subprocess.run(
        [sys.executable, "-m", "codesign.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    for verb in ("train", "export", "golden", "energy", "models"):
        assert verb in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "codesign.cli", "models"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert any(line.startswith("digits_mlp ") for line in out.stdout.splitlines())


def test_make_help_lists_targets():
    out = subprocess.run(["make", "help"], capture_output=True, text=True)
    assert out.returncode == 0
    for target in ("setup", "demo", "test", "train", "export", "golden", "energy"):
        assert f"make {target}" in out.stdout
