"""The build chain as one unit: directory database → rendered responses → model.

Plain answers embed the directory's numbers (bot/render.py), and the model
carries those answers in its domain. So a seed change must flow through all
three, or Rasa would serve old numbers while the actions serve new ones.
`make` runs each step when its inputs change (`make db domain train`); the
launcher calls `ensure()` at every start, which checks the three against
each other and redoes what is behind:

1. the database against the seed (`directory.build.db_state`);
2. the rendered responses against the database (rendered again in memory
   and compared with `bot/domain/responses.yml`);
3. the model against the responses (the responses in the model's own domain,
   `components/domain_provider/domain.yml` in the model archive).

`python -m bot.build_chain check` prints the state of each step and exits 1
when one is behind; `python -m bot.build_chain train` trains the model (the
one place that says how: make's `train` target calls it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, Optional

import yaml

from bot.render import DEFAULT_OUT, write_responses
from bot.settings import ROOT, child_env, environment

MODEL_DOMAIN = "components/domain_provider/domain.yml"
TRAIN_ARGS = ("train", "--config", "config.yml", "--domain", "bot/domain", "--fixed-model-name", "relais",
              "--num-threads", "2")
TRAIN_DATA = ("nlu", "bot/data")


class BuildError(RuntimeError):
    """A step of the chain failed; the message says which."""


def model_responses(model: Path) -> dict:
    """The responses the model at `model` was trained with ({} if it has none or cannot be read)."""
    try:
        with tarfile.open(model) as archive:
            member = archive.extractfile(MODEL_DOMAIN)
            domain = yaml.safe_load(member.read()) if member else {}
    except (OSError, tarfile.TarError, KeyError, yaml.YAMLError):
        return {}
    return (domain or {}).get("responses") or {}


def model_current(model: Path, responses: Path = DEFAULT_OUT) -> bool:
    """True when the model answers with exactly the rendered responses."""
    if not model.exists() or not responses.exists():
        return False
    current = (yaml.safe_load(responses.read_text(encoding="utf-8")) or {}).get("responses") or {}
    return model_responses(model) == current


def train(model: Path, data: tuple[str, ...] = TRAIN_DATA) -> None:
    """Train the model into `model` with Rasa from `data` (about 5 minutes on 2 cores); raises BuildError."""
    model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model.parent) as out:  # never over another model while training
        argv = [sys.executable, "-m", "rasa", *TRAIN_ARGS, "--data", *data, "--out", out]
        done = subprocess.run(argv, cwd=ROOT, env={**environment(), **child_env(), "PYTHONPATH": str(ROOT)})
        if done.returncode != 0:
            raise BuildError(f"training failed (rasa exited with {done.returncode})")
        (Path(out) / "relais.tar.gz").replace(model)


def ensure(db: Path, model: Path, say: Callable[[str], None], responses: Path = DEFAULT_OUT,
           curation_db: Optional[Path] = None) -> None:
    """Bring the database (with the back office's edits in `curation_db`), the responses and the model up to
    date with the seed, in that order."""
    from directory.build import build, db_state

    state = db_state(db)
    if state != "current":
        say(f"directory database {db} is {state}: rebuilding it from the seed files")
        try:
            build(db, curation_db=curation_db)
        except Exception as err:
            raise BuildError(f"could not rebuild the directory database {db}: {err}") from None
        say("directory database rebuilt")
    if write_responses(db, responses):
        say(f"responses rendered again from the directory ({responses})")
    if not model_current(model, responses):
        say(f"the model {model} does not carry the current responses: training it (about 5 minutes)")
        train(model)
        say("model trained")


def main(argv: list[str] | None = None) -> int:
    from bot import settings

    parser = argparse.ArgumentParser(prog="python -m bot.build_chain", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "ensure", "train"))
    args = parser.parse_args(argv)
    cfg = settings.load()
    if args.command == "train":
        train(cfg.model)
        return 0
    if args.command == "ensure":
        ensure(cfg.db, cfg.model, print, curation_db=cfg.curation_db)
        return 0
    from directory.build import db_state

    states = {"database": db_state(cfg.db),
              "responses": "current" if DEFAULT_OUT.exists() and not _responses_behind(cfg.db) else "behind",
              "model": "current" if model_current(cfg.model) else "behind"}
    for step, state in states.items():
        print(f"{step}: {state}")
    return 0 if set(states.values()) == {"current"} else 1


def _responses_behind(db: Path) -> bool:
    from bot.render import rendered_file

    return DEFAULT_OUT.read_text(encoding="utf-8") != rendered_file(db)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as err:
        sys.exit(f"[relais] {err}")
