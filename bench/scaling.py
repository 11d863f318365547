"""Scaling figures (issue 16, deliverable 4): training tokens/s and peak memory of the
bag (the default model) and LSTM (examples/configs/lstm.json) from 10^4 to 10^6 lines
(10^7 with --lines) of the generated corpus (bench/make_corpus.py, seed 1). Model
`lstm-sparse` (--models bag,lstm,lstm-sparse) is lstm.json with training.sparse_updates:
Adam then updates only the embedding rows a step used, so a step's cost does not grow
with the vocabulary.

    python3 bench/scaling.py [--lines 10000,100000,1000000] [--threads 2]
        [--lstm-epochs 1] [--lstm-max-lines 1000000] [--bag-epochs N] [--plot bench/scaling.svg]
        [--max-seconds S] [--sample-rss S] [--data DIR]
    python3 bench/scaling.py --render ROWS.json[,MORE.json] [--plot bench/scaling.svg]

Each run is the command-line tool in a child process (`textmodel train TRAIN.csv
--config C --set training.threads=N --json`); its peak RSS is the child's own ru_maxrss
from os.wait4 (the tool loads only the library: no Python in the figure). Tokens/s =
the report's train_tokens × epochs ÷ its training seconds (from reading the file, which
training does in two passes a chunk at a time since 2026-12-03 13:30, to the trained
model; loading the tool and saving the model are in the wall seconds only), where
train_tokens is the word count for the LSTM but the bag's encoded features (words,
bigrams and character n-grams, ~16 per word): the bag's tokens/s here counts words as
bench/common.tokenize splits them (max_length 1024), as bench/compare.py does. The bag trains
its 5 default epochs (--bag-epochs N: N, e.g. 1 for 10^7 lines when time is short; peak
memory does not depend on it); the LSTM 1 epoch (--lstm-epochs), on at most --lstm-max-lines
lines, since one epoch of 10^6 lines takes minutes on this machine. Prints a Markdown
table and writes the plot (matplotlib).

--max-seconds S: each run stops at its first progress report past S seconds (`train
--max-seconds`, reading the file included) and saves the model trained so far; such a row
is marked "stopped" and its epochs are the fraction trained (examples trained at the last
report ÷ training lines), so tokens/s is over what was trained (those examples' share of
the epoch's tokens, the shuffle being uniform) and peak RSS is up to the stop (and the
save). For the LSTM at 10^7 lines, whose epoch would take hours here. --sample-rss S adds
the child's VmRSS every S seconds (/proc/PID/status) to the row: which phase (reading,
encoding, training, saving) holds the memory. --data DIR: where the corpora are
(corpus-N/, made if missing; default bench/.data, git-ignored; 10^7 lines is 2.4 GB).
"""
import argparse
import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

BENCH = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import common  # noqa: E402
ROOT = BENCH.parent
TOOL = ROOT / ".build" / "release" / "textmodel"
DATA = BENCH / ".data"


def corpus(lines, data=DATA):
    out = pathlib.Path(data) / f"corpus-{lines}"
    subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), "--lines", str(lines), "--seed", "1",
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out / "train.csv"


def words(train_csv):
    """Word tokens of a training CSV, split as the bag reads them (bench/common.tokenize),
    a row at a time (10^7 lines' texts would be gigabytes of Python strings). Cached
    beside the corpus (words.json, keyed by the file's size and mtime): at 10^7 lines the
    count took longer than the training it measures."""
    train_csv = pathlib.Path(train_csv)
    cache = train_csv.parent / "words.json"
    st = train_csv.stat()
    key = {"file": train_csv.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if cache.exists():
        saved = json.loads(cache.read_text())
        if {k: saved.get(k) for k in key} == key:
            return saved["words"]
    total = count_words(train_csv)
    cache.write_text(json.dumps({**key, "words": total}))
    return total


def count_words(train_csv):
    csv.field_size_limit(sys.maxsize)
    total = 0
    with open(train_csv, newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            if row["text"].strip() and row["label"]:   # the rows training keeps (common.read_csv)
                total += len(common.tokenize(row["text"], 1024))
    return total


def train(model, train_csv, threads, epochs, work, max_seconds=None, sample_every=None):
    config = work / f"{model}.json"
    config.write_text("{}" if model == "bag" else (ROOT / "examples" / "configs" / "lstm.json").read_text())
    cmd = [str(TOOL), "train", str(train_csv), "--config", str(config), "--set", f"training.threads={threads}",
           "-o", str(work / "model.tmmodel"), "--json", "--quiet"]
    cmd += MODELS[model]["set"]
    if epochs:
        cmd += ["--set", f"training.epochs={epochs}"]
    if max_seconds:
        cmd += ["--max-seconds", str(max_seconds)]
    started = time.perf_counter()
    load = os.getloadavg()[0]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    samples = []
    if sample_every:
        threading.Thread(target=sample_rss, args=(child.pid, started, sample_every, samples), daemon=True).start()
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with status {status}")
    report = json.loads(stdout)
    size = (work / "model.tmmodel").stat().st_size
    epochs_run = len(report["epochs"])
    row = {"model": model, "train_lines": report["train_examples"], "tokens": report["train_tokens"],
           "epochs": epochs_run, "train_seconds": report["seconds"], "wall_seconds": wall,
           "tokens_per_second": report["train_tokens"] * epochs_run / report["seconds"],
           "peak_rss_mb": usage.ru_maxrss / 1024, "vocabulary": report["vocabulary_size"],
           "model_mb": size / 1e6, "threads": report["threads"], "load": load,
           "load_after": os.getloadavg()[0], "cpu_seconds": usage.ru_utime + usage.ru_stime}
    stopped = report.get("stopped_by_max_seconds")
    if stopped:
        # Epochs: the fraction of the training lines trained (the tool's progress reports
        # count examples); the report's epoch list holds only the completed ones.
        first, last = stopped["first_report"], stopped["last_report"]
        row.update(stopped=True, max_seconds=max_seconds, examples_trained=last["examples"],
                   epochs=last["examples"] / report["train_examples"],
                   first_report=first, last_report=last)
        row["tokens_per_second"] = report["train_tokens"] * row["epochs"] / report["seconds"]
        if last["seconds"] > first["seconds"]:
            # Training alone (after the first report, so without reading the file).
            row["training_only_tokens_per_second"] = (report["train_tokens"] / report["train_examples"]
                                                      * (last["examples"] - first["examples"])
                                                      / (last["seconds"] - first["seconds"]))
    if samples:
        row["rss_samples"] = samples
    return row


def sample_rss(pid, started, every, samples):
    """[seconds since the start, VmRSS MB] of process `pid` every `every` seconds until it ends."""
    while True:
        try:
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
        if rss is None:   # a zombie: ended, not yet reaped
            return
        samples.append([round(time.perf_counter() - started, 1), round(int(rss) / 1024, 1)])
        time.sleep(every)


# The models a run can train: the plot's marker and label, and `--set`s on the tool's config.
MODELS = {
    "bag": {"marker": "o", "label": "bag (default model)", "set": []},
    "lstm": {"marker": "s", "label": "lstm.json (1 epoch)", "set": []},
    "lstm-sparse": {"marker": "^", "label": "lstm.json + sparse_updates (1 epoch)",
                    "set": ["--set", "training.sparse_updates=true"]},
}


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.5))
    for model, spec in MODELS.items():
        marker, label = spec["marker"], spec["label"]
        rs = [r for r in rows if r["model"] == model]
        if not rs:
            continue
        xs = [r["train_lines"] for r in rs]
        wall = left.plot(xs, [r["tokens_per_second"] for r in rs], marker=marker, label=label + ", per wall s")[0]
        cpu = left.plot(xs, [r["tokens_per_cpu_second"] for r in rs], marker=marker, linestyle="--", label=label + ", per CPU s")[0]
        rss = right.plot(xs, [r["peak_rss_mb"] for r in rs], marker=marker, label=label)[0]
        # A run stopped by --max-seconds: an open marker over its point (a part of an epoch).
        for line, key in ((wall, "tokens_per_second"), (cpu, "tokens_per_cpu_second"), (rss, "peak_rss_mb")):
            ax = left if line is not rss else right
            stopped = [r for r in rs if r.get("stopped")]
            if stopped:
                ax.plot([r["train_lines"] for r in stopped], [r[key] for r in stopped], marker=marker, markersize=11,
                        linestyle="none", markerfacecolor="none", color=line.get_color(),
                        label=f"{model}: stopped after {stopped[0]['max_seconds']:g} s" if line is not cpu else None)
    for ax, title in ((left, "training tokens/s"), (right, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training lines (90 % of the generated corpus)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", default="10000,100000,1000000")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lstm-epochs", type=int, default=1)
    p.add_argument("--lstm-max-lines", type=int, default=1_000_000)
    p.add_argument("--bag-epochs", type=int, help="bag epochs (default: the model's 5)")
    p.add_argument("--models", default="bag,lstm")
    p.add_argument("--plot", default=str(BENCH / "scaling.svg"))
    p.add_argument("--json", help="also write the rows here")
    p.add_argument("--render", help="only print the table and draw the plot of rows a --json run wrote")
    p.add_argument("--max-seconds", type=float, help="stop each run at its first progress report past S seconds "
                   "(train --max-seconds); the row reports what was trained")
    p.add_argument("--sample-rss", type=float, help="record the child's VmRSS every S seconds")
    p.add_argument("--data", default=str(DATA), help="directory of the corpora (corpus-N/)")
    a = p.parse_args()
    unknown = [m for m in a.models.split(",") if m not in MODELS]
    if unknown:
        p.error(f"--models: unknown {', '.join(unknown)} (known: {', '.join(MODELS)})")
    if a.render:
        rows = [r for path in a.render.split(",") for r in json.loads(pathlib.Path(path).read_text())]
        rows.sort(key=lambda r: (r["train_lines"], r["model"]))
        for r in rows:
            if r["model"] == "bag" and "words" not in r:   # rows of a run before words were counted
                r["words"] = words(pathlib.Path(a.data) / f"corpus-{round(r['train_lines'] / 0.9)}" / "train.csv")
        render(rows, a.plot)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for lines in [int(x) for x in a.lines.split(",")]:
            train_csv = corpus(lines, a.data)   # corpus lines; make_corpus keeps 90 % of them for training
            for model in a.models.split(","):
                if model != "bag" and lines > a.lstm_max_lines:
                    continue
                r = train(model, train_csv, a.threads, a.bag_epochs if model == "bag" else a.lstm_epochs, work,
                          a.max_seconds, a.sample_rss)
                if model == "bag":
                    r["words"] = words(train_csv)
                rows.append(r)
                print(json.dumps(r), flush=True)
                if a.json:   # after each row: a long run stopped later keeps the rows done
                    pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))
    render(rows, a.plot)


def load(r):
    """The 1-minute load average at the run's start, and at its end when recorded."""
    return f"{r['load']:.1f}" + (f"–{r['load_after']:.1f}" if "load_after" in r else "")


def render(rows, plot_path):
    """The table (stdout) and the plot of `rows`; a bag row's tokens/s counts words."""
    for r in rows:
        if r["model"] == "bag":
            r.setdefault("features", r["tokens"])
            r["tokens"] = r["words"]
            r["tokens_per_second"] = r["words"] * r["epochs"] / r["train_seconds"]
        # Per CPU second of the whole child (reading, encoding, saving and every thread):
        # steadier than wall seconds on a machine others load.
        r["tokens_per_cpu_second"] = r["tokens"] * r["epochs"] / r["cpu_seconds"]
    print()
    print("| model | train lines | tokens/epoch | epochs | train s | tokens/s | CPU s | tokens/CPU-s | peak RSS MB | vocabulary | model MB | load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        epochs = f"{r['epochs']:.3f} (stopped at {r['max_seconds']:g} s)" if r.get("stopped") else f"{r['epochs']}"
        print(f"| {r['model']} | {r['train_lines']:,} | {r['tokens']:,} | {epochs} | {r['train_seconds']:.1f} "
              f"| {r['tokens_per_second']:,.0f} | {r['cpu_seconds']:.1f} | {r['tokens_per_cpu_second']:,.0f} | {r['peak_rss_mb']:.0f} | {r['vocabulary']:,} | {r['model_mb']:.1f} "
              f"| {load(r)} |")
    # Memory per training line between consecutive sizes: what grows with the corpus.
    for model in MODELS:
        rs = [r for r in rows if r["model"] == model]
        for a, b in zip(rs, rs[1:]):
            slope = (b["peak_rss_mb"] - a["peak_rss_mb"]) * 2**20 / (b["train_lines"] - a["train_lines"])
            print(f"{model}: {a['train_lines']:,} -> {b['train_lines']:,} lines: peak RSS {slope:+.1f} B a training line")
    for r in rows:
        if "training_only_tokens_per_second" in r:
            print(f"{r['model']} {r['train_lines']:,} (stopped): {r['examples_trained']:,} examples in "
                  f"{r['last_report']['seconds']:.0f} s; training alone (first to last progress report, "
                  f"{r['first_report']['seconds']:.0f}-{r['last_report']['seconds']:.0f} s): "
                  f"{r['training_only_tokens_per_second']:,.0f} tokens/s")
    plot(rows, plot_path)
    print(f"\nplot: {plot_path}")


if __name__ == "__main__":
    main()
