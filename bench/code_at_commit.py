"""Import a module as it was at an earlier commit (read with `git show`), to time old code beside new code
in the same run: `old = module_at("33b8452", "imgai/vision.py")`. None when git cannot show it (a shallow
or exported checkout): the caller then leaves the comparison out and says so.

    vision = module_at(ref, "imgai/vision.py", as_name="imgai.vision")  # old folder.py imports it by that name
"""
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_at(ref: str, path: str, as_name: str | None = None):
    """The module in file `path` at commit `ref`, executed from a temporary copy. as_name: also register it
    in sys.modules under that name (and as an attribute of its package), for old modules importing it."""
    try:
        src = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, check=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    name = as_name or f"old_{Path(path).stem}"
    copy = Path(tempfile.mkdtemp(prefix="imgai-old-")) / Path(path).name
    copy.write_bytes(src)
    spec = importlib.util.spec_from_file_location(name, copy)
    module = importlib.util.module_from_spec(spec)
    if as_name:
        sys.modules[as_name] = module
        package, _, leaf = as_name.rpartition(".")
        if package in sys.modules:
            setattr(sys.modules[package], leaf, module)
    spec.loader.exec_module(module)
    return module


# Packages that change how the app runs merely by being installed (uvicorn takes its C event loop and HTTP parser
# when they import): an older checkout whose requirements.txt does not list one runs without it, as it would
# have been installed, so a comparison in the same run measures that commit as it shipped.
OPTIONAL_SPEEDUPS = ("uvloop", "httptools")


def env_as_installed_at(tree: Path, scratch: Path) -> dict:
    """Environment variables for a server started from the checkout `tree`: PYTHONPATH gets a folder whose
    stand-ins make `import uvloop` (and the others of OPTIONAL_SPEEDUPS) fail for those its requirements.txt
    does not list. Empty when it lists them all."""
    listed = (tree / "requirements.txt").read_text() if (tree / "requirements.txt").exists() else ""
    missing = [m for m in OPTIONAL_SPEEDUPS if m not in listed]
    if not missing:
        return {}
    shims = scratch / f"not-installed-at-{tree.name}"
    shims.mkdir(parents=True, exist_ok=True)
    for m in missing:
        # ModuleNotFoundError, as for a package that is not installed: Streamlit's own start-up catches only that
        (shims / f"{m}.py").write_text(f'raise ModuleNotFoundError("{m} was not a requirement here", name="{m}")\n')
    return {"PYTHONPATH": os.pathsep.join([str(shims), *filter(None, [os.environ.get("PYTHONPATH")])])}
