"""Small helpers the Relax notebooks share: run the `relax` CLI, load a run directory
(`run.json` + NPY arrays), and save figures in one consistent style.

    from relaxio import relax, load_run, save_figure
    run = relax("figure", "fig1", out="runs/fig1")   # runs the CLI, returns load_run(out)
    run.x, run["u_vhj"], run.manifest["inputs"]
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def relax_binary() -> str:
    """The `relax` executable: $RELAX, else the release build, else `relax` on PATH."""
    env = os.environ.get("RELAX")
    if env:
        return env
    build = ROOT / ".build" / "release" / "relax"
    if build.exists():
        return str(build)
    found = shutil.which("relax")
    if found:
        return found
    raise FileNotFoundError("relax binary not found: run `make build` or set RELAX=/path/to/relax")


def output_dir() -> Path:
    """Where figures go: $RELAX_OUT, else ROOT/output."""
    out = Path(os.environ.get("RELAX_OUT", ROOT / "output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


class Run:
    """A run directory: `manifest` is run.json; `run[name]` loads NAME.npy (cached)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path / "run.json") as fh:
            self.manifest = json.load(fh)
        self._arrays: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            self._arrays[name] = np.load(self.path / f"{name}.npy")
        return self._arrays[name]

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except FileNotFoundError as exc:
            raise AttributeError(name) from exc

    def has(self, name: str) -> bool:
        return (self.path / f"{name}.npy").exists()


def load_run(path) -> Run:
    return Run(Path(path))


def relax(*args: str, out: str | os.PathLike | None = None, check: bool = True) -> Run | None:
    """Runs `relax ARGS [--out OUT]`; stderr passes through. Returns the loaded run."""
    cmd = [relax_binary(), *map(str, args)]
    if out is not None:
        out = Path(out)
        if not out.is_absolute():
            out = output_dir() / "runs" / out
        cmd += ["--out", str(out)]
    subprocess.run(cmd, check=check)
    return load_run(out) if out is not None else None


def style():
    """One figure style for every notebook."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 110,
        "font.size": 10,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.25,
        "legend.frameon": False,
        "image.cmap": "viridis",
    })


def save_figure(fig, name: str, colors: int | None = None) -> Path:
    """Saves FIG as output/NAME.png (optimised PNG) and returns the path.

    `colors=256` (or fewer) stores the PNG with an adaptive palette of that many colours,
    without dithering: smooth heatmaps then take a third of the bytes at no visible cost.
    """
    path = output_dir() / f"{name}.png"
    fig.savefig(path, bbox_inches="tight", pil_kwargs={"optimize": True})
    if colors is not None:
        from PIL import Image

        with Image.open(path) as image:
            rgb = image.convert("RGB")
        rgb.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path
