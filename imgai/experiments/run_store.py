"""The run store: every training run's settings and metric history, in one SQLite file many sessions share.

    store = RunStore(); store.save(record); store.runs(owner="ab12"); store.publish(run_id, owner, "Ada")

One file (`$IMGAI_RUNS_DB`, default `runs.sqlite` in the data folder) in WAL mode: readers never wait for a
writer, and writers queue on SQLite's own lock (busy timeout), so the web server's threads, a CLI and a Ray
actor on the same machine can all write at once. Each call opens its own short connection, so a RunStore is
safe to share between threads and to pickle. Runs outlive the server: the Experiments page and the class
board read them from here.

`record_job(store, job)` writes an ended job (done, stopped or error); both job registries call it when a job
ends (their on_end), so a run is recorded whether or not a page still watches it.
Standard library only (plus torch, lazily, to judge GAN samples); no Streamlit.
"""
import json
import math
import os
import random
import sqlite3
import time
import uuid
from pathlib import Path

from imgai.inference.quality import sample_quality
from imgai.training.history import thin_indices

MAX_HISTORY = 1500      # per-batch rows kept per run (evenly thinned); epoch-end rows are always kept
LABEL_MAX = 40          # characters of a run's own name: a few words, short enough for a legend
NICKNAME_MAX = 24       # characters: long enough for "Ada L. (table 3)", short enough for a chart legend
_JITTER = random.Random()  # its own generator: a retry must not move the global one a seeded run may use
STATUSES = ("done", "stopped", "error")
FINAL_KEYS = ("val_acc", "val_loss", "train_loss", "loss", "acc", "loss_d", "loss_g", "d_x", "d_g_z",
              "seconds", "images_per_s", "step", "epoch",
              "frechet", "frechet_real", "readable", "classes_drawn")   # a GAN's judgement (inference.quality)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    dataset TEXT,
    status TEXT NOT NULL,
    error TEXT,
    started REAL,
    finished REAL,
    settings TEXT NOT NULL,      -- JSON: preset, training config, model config
    final TEXT NOT NULL,         -- JSON: the last value of each metric, plus "quality" for GANs
    history TEXT NOT NULL,       -- JSON: list of metric rows
    nickname TEXT,               -- set when published to the class board
    published REAL,
    label TEXT                   -- the owner's own name for the run ("lr 0.1, no augment"); NULL: none
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, finished);
CREATE INDEX IF NOT EXISTS runs_published ON runs(published);
"""


# every column but the history, which only get(..., history=True) reads
_COLS = "id, owner, kind, dataset, status, error, started, finished, settings, final, nickname, published, label"


class RunStoreError(RuntimeError):
    """A store request that cannot be done (unknown run, not yours, bad nickname); str(e) is one line."""


def store_path() -> Path:
    """IMGAI_RUNS_DB, else runs.sqlite in the data folder (IMGAI_DATA, default ~/.cache/imgai/data)."""
    if os.environ.get("IMGAI_RUNS_DB"):
        return Path(os.environ["IMGAI_RUNS_DB"])
    from imgai.data.datasets import data_dir
    return data_dir() / "runs.sqlite"


def clean_nickname(text) -> str:
    """A nickname as stored: printable, single-line, trimmed, at most NICKNAME_MAX characters. It is still
    user text: every page escapes it before it reaches markdown, HTML or a chart."""
    name = " ".join("".join(ch for ch in str(text or "") if ch.isprintable()).split())[:NICKNAME_MAX].strip()
    if not name:
        raise RunStoreError("choose a nickname (letters, digits, spaces; up to 24 characters)")
    return name


def clean_label(text) -> str | None:
    """A run's name as stored: printable, single-line, trimmed, at most LABEL_MAX characters; None for an empty
    one (the run has no name). Still user text: escaped wherever it is shown."""
    kept = "".join(" " if ch.isspace() else ch for ch in str(text or "") if ch.isprintable() or ch.isspace())
    return " ".join(kept.split())[:LABEL_MAX].strip() or None


def _finite(v):
    """JSON has no NaN/inf: a diverged run's last loss is stored as null."""
    return v if not isinstance(v, float) or math.isfinite(v) else None


def thin_history(rows: list, max_rows: int = MAX_HISTORY) -> list:
    """Keep every epoch-end row (it carries val_acc) and at most max_rows others, spread evenly."""
    return [rows[i] for i in thin_indices(len(rows), max_rows, keep=lambda i: "val_acc" in rows[i])]


class RunStore:
    def __init__(self, path=None, timeout_s: float = 30.0):
        self.path = Path(path) if path else store_path()
        self.timeout_s = timeout_s
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        first = not self._ready
        if first:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)  # autocommit; BEGIN by hand
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout_s * 1000)}")
        if first:
            try:
                self._prepare(con)
            except BaseException:
                con.close()   # a store that could not be set up leaves no open file handle behind
                raise
            self._ready = True
        con.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across a crash of the app
        return con

    def _prepare(self, con: sqlite3.Connection) -> None:
        """Turn on WAL and create the tables: both persist in the file and are idempotent. Several processes
        opening a new file at once can each hold a read lock while asking for the write lock that the switch
        to WAL needs; SQLite then answers "database is locked" at once instead of calling the busy handler
        (waiting could deadlock), so this retries by hand, with a jittered pause, up to the same timeout."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    con.execute("PRAGMA journal_mode = WAL")
                con.executescript(_SCHEMA)
                if "label" not in {row[1] for row in con.execute("PRAGMA table_info(runs)")}:
                    con.execute("ALTER TABLE runs ADD COLUMN label TEXT")   # a store made before runs had names
                return
            except sqlite3.OperationalError as e:
                if "duplicate column" in str(e):     # another process added the column first
                    continue
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(_JITTER.uniform(0.005, 0.05))

    def _write(self, sql: str, args=()) -> int:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")  # take the write lock now, waiting up to the busy timeout
            n = con.execute(sql, args).rowcount
            con.execute("COMMIT")
            return n
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def _read(self, sql: str, args=()) -> list:
        con = self._connect()
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    # ---- writing ----
    def save(self, run: dict) -> str:
        """Insert or replace a run. run: id (made if absent), owner, kind, dataset, status, error, started,
        finished, settings (dict), final (dict), history (list of dicts). Publishing is kept as it was."""
        rid = str(run.get("id") or uuid.uuid4().hex[:12])
        status = run.get("status", "done")
        if status not in STATUSES:
            raise RunStoreError(f"a stored run ends done, stopped or error, not {status!r}")
        history = [{k: _finite(v) for k, v in r.items()} for r in thin_history(list(run.get("history") or []))]
        final = {k: _finite(v) for k, v in (run.get("final") or {}).items()}
        self._write(
            "INSERT INTO runs (id, owner, kind, dataset, status, error, started, finished, settings, final, history)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET owner=excluded.owner, kind=excluded.kind,"
            " dataset=excluded.dataset, status=excluded.status, error=excluded.error, started=excluded.started,"
            " finished=excluded.finished, settings=excluded.settings, final=excluded.final, history=excluded.history",
            (rid, str(run.get("owner") or ""), str(run.get("kind") or "?"), run.get("dataset"), status,
             run.get("error"), run.get("started"), run.get("finished") or time.time(),
             json.dumps(run.get("settings") or {}, default=str), json.dumps(final, allow_nan=False),
             json.dumps(history, allow_nan=False, default=str)))
        return rid

    def publish(self, run_id: str, owner: str, nickname: str) -> dict:
        """Show one of your finished runs on the class board under a nickname (again: a new nickname)."""
        name = clean_nickname(nickname)
        run = self.get(run_id, history=False)
        if run is None or run["owner"] != owner:
            raise RunStoreError("no such run of yours: only the browser that trained a run can publish it")
        if run["status"] == "error":
            raise RunStoreError("a run stopped by an error has no result to publish")
        self._write("UPDATE runs SET nickname = ?, published = ? WHERE id = ? AND owner = ?",
                    (name, time.time(), run_id, owner))
        return self.get(run_id, history=False)

    def rename(self, run_id: str, owner: str, label) -> dict:
        """Give one of your runs a name of your own (empty: no name); returns the run."""
        if self._write("UPDATE runs SET label = ? WHERE id = ? AND owner = ?",
                       (clean_label(label), run_id, owner)) == 0:
            raise RunStoreError("no such run of yours: only the browser that trained a run can name it")
        return self.get(run_id, history=False)

    def unpublish(self, run_id: str, owner: str) -> bool:
        return self._write("UPDATE runs SET nickname = NULL, published = NULL WHERE id = ? AND owner = ?",
                           (run_id, owner)) > 0

    def delete(self, run_id: str, owner: str) -> bool:
        return self._write("DELETE FROM runs WHERE id = ? AND owner = ?", (run_id, owner)) > 0

    # ---- reading ----
    @staticmethod
    def _row(r: sqlite3.Row, history: bool) -> dict:
        d = {k: r[k] for k in r.keys() if k not in ("settings", "final", "history")}
        d["settings"], d["final"] = json.loads(r["settings"]), json.loads(r["final"])
        if history:
            d["history"] = json.loads(r["history"])
        return d

    def get(self, run_id: str, history: bool = True) -> dict | None:
        cols = "*" if history else _COLS
        rows = self._read(f"SELECT {cols} FROM runs WHERE id = ?", (run_id,))
        return self._row(rows[0], history) if rows else None

    def runs(self, owner: str | None = None, limit: int = 200, history: bool = False) -> list:
        """Runs newest first: one owner's (owner given) or everyone's."""
        cols = "*" if history else _COLS
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        return [self._row(r, history) for r in
                self._read(f"SELECT {cols} FROM runs {where} ORDER BY finished DESC LIMIT ?", (*args, int(limit)))]

    def visible(self, owner: str, limit: int = 200) -> list:
        """What one browser may see: its own runs and every published run, newest first."""
        rows = self._read(f"SELECT {_COLS} FROM runs WHERE owner = ? OR published IS NOT NULL "
                          "ORDER BY finished DESC LIMIT ?", (owner, int(limit)))
        return [self._row(r, False) for r in rows]

    def board(self, kind: str | None = None, dataset: str | None = None, limit: int = 500) -> list:
        """Published runs, best first: by validation accuracy (classifiers) or sample quality (GANs),
        ties by fewer seconds."""
        rows = self._read(f"SELECT {_COLS} FROM runs WHERE published IS NOT NULL ORDER BY published DESC LIMIT ?",
                          (int(limit),))
        runs = [self._row(r, False) for r in rows]
        runs = [r for r in runs if (kind is None or r["kind"] == kind) and (dataset is None or r["dataset"] == dataset)]
        return sorted(runs, key=board_rank)


def score(run: dict) -> float | None:
    """A run's one number in a list: validation accuracy for classifiers, sample quality for GANs."""
    final = run.get("final") or {}
    return final.get("val_acc") if run.get("kind") == "cnn" else final.get("quality")


def frechet(run: dict) -> float | None:
    """A GAN run's Fréchet distance to its data's held-out images (lower is closer), where it was judged."""
    value = (run.get("final") or {}).get("frechet")
    return value if isinstance(value, (int, float)) else None


def board_rank(run: dict) -> tuple:
    """Best first: classifiers by validation accuracy; GANs by Fréchet distance (lowest first), those never
    judged after them by sample quality; ties by fewer seconds of training."""
    seconds = (run.get("final") or {}).get("seconds") or 0.0
    value = score(run)
    if run.get("kind") != "cnn" and frechet(run) is not None:
        return (0, frechet(run), seconds)
    return (1, -(value if isinstance(value, (int, float)) else -1.0), seconds)


def _settings(meta: dict, model_config: dict | None) -> dict:
    return {"preset": meta.get("preset"), "train": dict(meta.get("train") or {}), "model": dict(model_config or {}),
            **{k: meta[k] for k in ("sweep", "experiment") if k in meta}}


def _write_run(store: RunStore, run_id, owner: str, meta: dict, config: dict | None, status: str, error,
               started, finished, rows: list, grid) -> str:
    """The one writer of an ended run. Digit GANs also get a sample quality judged on their last sample grid;
    their Fréchet distance, where the job judged them, is in the last rows."""
    last = {}
    for r in rows:
        last.update(r)
    final = {k: last[k] for k in FINAL_KEYS if isinstance(last.get(k), (int, float))}
    if meta.get("kind") != "cnn" and grid is not None and status != "error":
        final["quality"] = sample_quality(grid)
    return store.save({"id": run_id, "owner": owner, "kind": meta.get("kind"), "dataset": meta.get("dataset"),
                       "status": status, "error": error, "started": started, "finished": finished,
                       "settings": _settings(meta, config), "final": final, "history": rows})


def _plain(row: dict) -> dict:
    return {k: v for k, v in row.items() if isinstance(v, (int, float, str, bool))}


def record_job(store: RunStore, job) -> str | None:
    """Write an ended job (imgai.jobs.threads.Job, imgai.jobs.ray_job.RayJob: anything with their reading
    interface). The thread registry calls this from the job's own thread as it ends; the Ray registry's
    watcher on the web server when it sees a job has ended (its loop ran where the store may be out of
    reach). The run id is the job id, so calling it again only rewrites the same run. Returns the id, or
    None while the job is still active."""
    if job.status not in STATUSES:
        return None
    grid = job.latest_grid()
    return _write_run(store, job.id, job.owner, job.meta, job.meta.get("config"), job.status, job.error,
                      job.started_at, job.finished_at, [_plain(r) for r in job.metrics()],
                      None if grid is None else grid[1])
