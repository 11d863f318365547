"""Run libtextmodel beside fastText, PyTorch and scikit-learn on the same data and
print one table. bench/run.sh sets up everything and calls this; see bench/README.md.

    python bench/compare.py [--tweets DIR] [--corpus DIR] [--reps 3] [--corpus-reps 1]
                            [--lstm-lines 20000] [--transformer-lines 20000] [--no-transformer]
                            [--pairs bag,lstm,transformer,ref] [--only tweets|corpus]
    python bench/compare.py --render bench/.out/runs-....json   # table from saved runs

Each run is its own subprocess (bench/run_*.py). Per dataset and repetition the order
is: threads 2 then 1; within each, pair A then B (libtextmodel bag.json, fastText,
libtextmodel lstm.json, PyTorch packed[, PyTorch padded], libtextmodel transformer.json,
PyTorch transformer); then scikit-learn (1 thread). So the systems of a pair alternate
A B A B and the table shows medians over the repetitions. --pairs runs some pairs only.

A libtextmodel run that fails (e.g. the library refuses a config, or
examples/configs/transformer.json is not there yet) is recorded as a FAILED run with the
last line of its log; the benchmark goes on and the table shows it in the last column.

Around every run the parent records the 1-minute load average at start and end and
the CPU time the rest of the machine used meanwhile (busy time in /proc/stat minus the
child's own user+system time); a run during which others used more than 0.25 of a core
on average, or the hypervisor stole more than 5 % of the CPU, is flagged noisy.
"""
import argparse
import csv
import datetime
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import common

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
OUT = BENCH / ".out"
PY = sys.executable
HZ = os.sysconf("SC_CLK_TCK")
NOISY_CORES, NOISY_STEAL = 0.25, 0.05
TIMEOUT = float(os.environ.get("RUN_TIMEOUT", 1200))  # seconds per run, then it is killed
BAG = ROOT / "examples" / "configs" / "bag.json"
LSTM = ROOT / "examples" / "configs" / "lstm.json"
TRANSFORMER = ROOT / "examples" / "configs" / "transformer.json"

# (key, label, pair it belongs to, whether it is libtextmodel)
SYSTEMS = [
    ("tm_bag", "libtextmodel bag.json", "bag", True),
    ("fasttext", "fastText supervised", "bag", False),
    ("tm_lstm", "libtextmodel lstm.json", "lstm", True),
    ("torch", "PyTorch LSTM (packed)", "lstm", False),
    ("torch_padded", "PyTorch LSTM (padded+mask)", "lstm", False),
    ("tm_transformer", "libtextmodel transformer.json", "transformer", True),
    ("torch_transformer", "PyTorch Transformer", "transformer", False),
    ("sklearn", "sklearn tf-idf 1-2g + LR", "ref", False),
]
LABELS = {k: label for k, label, _, _ in SYSTEMS}
PAIRS = ("bag", "lstm", "transformer", "ref")
# the dataset field with the train tokens/s numerator of each system (default tokens_bag)
TOKENS = {"tm_lstm": "tokens_lstm", "torch": "tokens_lstm", "torch_padded": "tokens_lstm",
          "tm_transformer": "tokens_transformer", "torch_transformer": "tokens_transformer"}


# ------------------------------------------------------------------ data prep

def first_lines(source, work, lines, total):
    """The training CSV, or (when `lines` < its `total` lines) its first `lines` rows
    written to work/train.firstLINES.csv; with the number of lines used."""
    if not lines or lines >= total:
        return source / "train.csv", total
    path = work / f"train.first{lines}.csv"
    with open(source / "train.csv", newline="", encoding="utf-8") as f, \
            open(path, "w", newline="", encoding="utf-8") as g:
        r, w = csv.reader(f), csv.writer(g)
        w.writerow(next(r))
        for _, row in zip(range(lines), r):
            w.writerow(row)
    return path, lines


def prepare(name, source, lstm_lines=None, transformer_lines=None):
    """Paths and token counts for one dataset; writes the tokenised fastText training
    file and the LSTM and transformer training subsets (if any) under bench/.data/NAME/
    once."""
    work = DATA / name
    work.mkdir(parents=True, exist_ok=True)
    stamp = work / "prepared.json"
    key = {"source": str(source), "mtime": os.path.getmtime(source / "train.csv"),
           "lstm_lines": lstm_lines, "transformer_lines": transformer_lines}
    if stamp.exists() and json.loads(stamp.read_text())["key"] == key:
        return json.loads(stamp.read_text())["dataset"]
    started = time.perf_counter()
    texts, labels = common.read_csv(source / "train.csv")
    ft = work / "train.tok.ft.txt"
    words1024 = lstm_words = transformer_words = 0
    lstm_n, transformer_n = lstm_lines or len(texts), transformer_lines or len(texts)
    with open(ft, "w", encoding="utf-8") as f:
        for i, (text, label) in enumerate(zip(texts, labels)):
            tokens = common.tokenize(text, 1024)
            words1024 += len(tokens)
            if i < lstm_n:
                lstm_words += min(len(tokens), 128)   # lstm.json max_length
            if i < transformer_n:
                transformer_words += min(len(tokens), 64)   # transformer.json max_length
            f.write(f"__label__{label} {' '.join(tokens)}\n")
    lstm_train, lstm_lines = first_lines(source, work, lstm_lines, len(texts))
    transformer_train, transformer_lines = first_lines(source, work, transformer_lines, len(texts))
    dataset = {
        "name": name, "train": str(source / "train.csv"), "test": str(source / "test.csv"),
        "train_tok_ft": str(ft), "train_lines": len(texts),
        "test_lines": len(common.read_csv(source / "test.csv")[0]),
        "tokens_bag": words1024, "tokens_lstm": lstm_words,
        "lstm_train": str(lstm_train), "lstm_lines": lstm_lines,
        "tokens_transformer": transformer_words,
        "transformer_train": str(transformer_train), "transformer_lines": transformer_lines,
    }
    stamp.write_text(json.dumps({"key": key, "dataset": dataset}, indent=1))
    print(f"prepared {name} in {time.perf_counter() - started:.1f} s: {len(texts):,} train "
          f"lines, {words1024:,} tokens", flush=True)
    return dataset


# -------------------------------------------------------------------- running

def cpu_times():
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return user + nice + system + irq + softirq, steal, user + nice + system + idle + iowait + irq + softirq + steal


def command(system, ds, threads, model, result):
    common_args = ["--threads", str(threads), "--model", str(model), "--result", str(result)]
    if system == "tm_bag":
        return [PY, BENCH / "run_textmodel.py", BAG, ds["train"], ds["test"], *common_args]
    if system == "tm_lstm":
        return [PY, BENCH / "run_textmodel.py", LSTM, ds["lstm_train"], ds["test"], *common_args]
    if system == "fasttext":
        bucket = json.loads(BAG.read_text())["tokenizer"]["buckets"]
        return [PY, BENCH / "run_fasttext.py", ds["train_tok_ft"], ds["test"],
                "--bucket", str(bucket), *common_args]
    if system in ("torch", "torch_padded"):
        return [PY, BENCH / "run_torch.py", ds["lstm_train"], ds["test"], *common_args,
                *(["--padded"] if system == "torch_padded" else [])]
    if system == "tm_transformer":
        return [PY, BENCH / "run_textmodel.py", TRANSFORMER, ds["transformer_train"], ds["test"],
                *common_args]
    if system == "torch_transformer":
        return [PY, BENCH / "run_torch_transformer.py", ds["transformer_train"], ds["test"],
                *common_args]
    if system == "sklearn":
        return [PY, BENCH / "run_sklearn.py", ds["train"], ds["test"], *common_args]
    raise ValueError(system)


def run(system, ds, threads, rep, log_dir):
    tag = f"{ds['name']}-{system}-t{threads}-r{rep}"
    model = log_dir / f"{tag}.model"
    result = log_dir / f"{tag}.json"
    cmd = [str(c) for c in command(system, ds, threads, model, result)]
    load_start = os.getloadavg()[0]
    busy0, steal0, total0 = cpu_times()
    started = time.perf_counter()
    with open(log_dir / f"{tag}.log", "w") as log:
        child = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if not timed_out and time.perf_counter() - started > TIMEOUT:
                child.kill()
                timed_out = True
            time.sleep(0.1)
    wall = time.perf_counter() - started
    busy1, steal1, total1 = cpu_times()
    child_cpu = usage.ru_utime + usage.ru_stime
    r = {
        "dataset": ds["name"], "system": system, "threads": threads, "rep": rep,
        "exit_status": os.waitstatus_to_exitcode(status), "wall_seconds": wall,
        "timed_out": timed_out,
        "wait4_maxrss_mb": usage.ru_maxrss / 1024, "child_cpu_seconds": child_cpu,
        "load_start": load_start, "load_end": os.getloadavg()[0],
        "foreign_cores": max(0.0, ((busy1 - busy0) / HZ - child_cpu) / wall),
        "steal_share": (steal1 - steal0) / max(1, total1 - total0),
    }
    r["noisy"] = r["foreign_cores"] > NOISY_CORES or r["steal_share"] > NOISY_STEAL
    if r["exit_status"] == 0 and result.exists():
        child_result = json.loads(result.read_text())
        child_result["implementation"] = child_result.pop("system")
        r.update(child_result)
        r["train_tokens_per_second"] = ds[TOKENS.get(system, "tokens_bag")] * r["epochs"] / r["train_seconds"]
        model.unlink(missing_ok=True)
    else:
        tail = (log_dir / f"{tag}.log").read_text(errors="replace")[-2000:]
        r["error"] = (f"TIMEOUT after {TIMEOUT:.0f} s\n" if timed_out else "") + tail
    child.returncode = r["exit_status"]
    return r


def describe(r):
    if "error" in r:
        what = "TIMEOUT" if r["timed_out"] else f"FAILED (exit {r['exit_status']})"
        return f"{what}: {r['error'].strip().splitlines()[-1:]}"
    return (f"train {r['train_seconds']:.1f} s ({r['train_tokens_per_second']:,.0f} tok/s), "
            f"acc {r['accuracy']:.4f} F1 {r['macro_f1']:.4f}, "
            f"{r['batch_texts_per_second']:,.0f} texts/s, p50 {r['latency_p50_ms']:.3f} ms, "
            f"RSS {r.get('peak_rss_mb') or 0:.0f} MB")


# --------------------------------------------------------------------- table

UNTIMED = ("accuracy", "macro_f1", "peak_rss_mb", "model_mb")  # noise does not change these


def med(runs, key):
    """Median of `key` over pick(runs), or over every successful run for UNTIMED keys."""
    runs = [r for r in runs if "error" not in r] if key in UNTIMED else pick(runs)
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def fmt(x, spec):
    return "–" if x is None else format(x, spec)


def ratio(a, b, spec=".2f"):
    return "–" if a is None or b in (None, 0) else f"{a / b:{spec}}×"


def delta(a, b):
    return "–" if a is None or b is None else f"{100 * (a - b):+.1f} pt"


METRICS = [  # key, header, format
    ("train_seconds", "train s", ".1f"),
    ("train_tokens_per_second", "train tokens/s", ",.0f"),
    ("accuracy", "test acc", ".4f"),
    ("macro_f1", "macro-F1", ".4f"),
    ("batch_texts_per_second", "batch texts/s", ",.0f"),
    ("latency_p50_ms", "p50 ms", ".3f"),
    ("latency_p99_ms", "p99 ms", ".3f"),
    ("peak_rss_mb", "peak RSS MB", ",.0f"),
    ("model_mb", "model MB", ".1f"),
]


def pick(runs):
    """The runs a cell's median is taken over: the successful runs that were not noisy,
    or all successful runs when every one was noisy."""
    ok = [r for r in runs if "error" not in r]
    return [r for r in ok if not r["noisy"]] or ok


def table(runs, datasets):
    for r in runs:
        if "model_bytes" in r:
            r["model_mb"] = r["model_bytes"] / 1e6
        if r.get("rss_source") != "VmHWM":
            # ru_maxrss from wait4 counts the parent's pages the child had before exec
            # (a floor of compare.py's own size); only the child's VmHWM is used.
            r.pop("peak_rss_mb", None)
    lines = ["| data | system | threads | " + " | ".join(h for _, h, _ in METRICS) + " | runs (noisy) |",
             "|---|---|---:|" + "---:|" * len(METRICS) + "---|"]
    order = [("bag", "tm_bag", "fasttext"), ("lstm", "tm_lstm", "torch"),
             ("lstm+", "tm_lstm", "torch_padded"), ("transformer", "tm_transformer", "torch_transformer"),
             ("ref", "tm_bag", "sklearn")]
    for ds in datasets:
        name = ds["name"]
        for pair, ours, peer in order:
            for threads in (2, 1):
                if pair == "ref" and threads == 2:
                    continue
                group = {s: [r for r in runs if r["dataset"] == name and r["system"] == s
                             and r["threads"] == threads] for s in (ours, peer)}
                if not group[peer]:
                    continue
                used_lines = ds.get(f"{pair.rstrip('+')}_lines", ds["train_lines"])
                data = name if used_lines == ds["train_lines"] \
                    else f"{name} (first {used_lines:,} train lines)"
                systems = (peer,) if pair in ("ref", "lstm+") else (ours, peer)
                for s in systems:
                    rs = group[s]
                    used = {r.get("effective_threads") for r in rs if "error" not in r}
                    thr = str(threads) if used <= {threads} else f"{threads} ({'/'.join(map(str, sorted(used)))} used)"
                    cells = [fmt(med(rs, k), spec) for k, _, spec in METRICS]
                    failed = sum("error" in r for r in group[s])
                    timeouts = sum(r.get("timed_out", False) for r in group[s])
                    ok = len(group[s]) - failed
                    note = (f"{ok} ({sum(r['noisy'] for r in group[s] if 'error' not in r)})"
                            + (" all noisy" if ok and all(r["noisy"] for r in pick(rs)) else "")
                            + (f", {failed - timeouts} FAILED" if failed - timeouts else "")
                            + (f", {timeouts} TIMEOUT" if timeouts else ""))
                    lines.append(f"| {data} | {LABELS[s]} | {thr} | " + " | ".join(cells) + f" | {note} |")
                a, b = group[ours], group[peer]
                cells = []
                for k, _, _ in METRICS:
                    if k in ("accuracy", "macro_f1"):
                        cells.append(delta(med(a, k), med(b, k)))
                    else:
                        cells.append(ratio(med(a, k), med(b, k)))
                lines.append(f"| {data} | **{LABELS[ours]} ÷ {LABELS[peer]}** | {threads} | "
                             + " | ".join(cells) + " | |")
    return "\n".join(lines)


# ----------------------------------------------------------------------- facts

def machine_facts():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    versions = {p: importlib.metadata.version(p) for p in ("fasttext", "torch", "scikit-learn", "numpy")}
    sys.path.insert(0, str(ROOT / "bindings" / "python"))
    from textmodel import library_version
    try:
        version = library_version()
    except OSError as e:  # no library: its runs fail and are reported, the peers still run
        version = f"not loadable ({e})"
    lib = os.environ.get("TEXTMODEL_LIBRARY", str(ROOT / ".build-bench" / "release" / "libtextmodel.so"))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "Sources"],
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu": cpu, "avx512": " avx512f" in flags,
        "memory_gib": round(int(mem) / 2**20, 1), "kernel": platform.release(),
        "python": platform.python_version(), "libtextmodel": version,
        "library": lib, "commit": commit + (" + uncommitted changes in Sources/" if dirty else ""),
        **versions,
    }


def print_report(facts, datasets, runs, started, finished):
    print(f"\n## Results ({facts['date']})\n")
    print(f"Machine: {facts['nproc']} cores, {facts['cpu']}{' (AVX-512)' if facts['avx512'] else ''}, "
          f"{facts['memory_gib']} GiB, Linux {facts['kernel']}, Python {facts['python']}")
    print(f"Versions: libtextmodel {facts['libtextmodel']} (commit {facts['commit']}), "
          f"fasttext {facts['fasttext']}, torch {facts['torch']}, scikit-learn {facts['scikit-learn']}, "
          f"numpy {facts['numpy']}")
    for ds in datasets:
        print(f"Data {ds['name']}: {ds['train_lines']:,} train lines ({ds['tokens_bag']:,} tokens), "
              f"{ds['test_lines']:,} test lines; LSTM pair trained on {ds['lstm_lines']:,} lines "
              f"({ds['tokens_lstm']:,} tokens)"
              + (f", transformer pair on {ds['transformer_lines']:,} lines ({ds['tokens_transformer']:,} "
                 "tokens)" if "transformer_lines" in ds else ""))
    noisy = sum(r["noisy"] for r in runs)
    print(f"Runs: {len(runs)}, noisy {noisy}; load average {runs[0]['load_start']:.2f} at the start, "
          f"{runs[-1]['load_end']:.2f} at the end; total {(finished - started) / 60:.1f} min\n")
    print(table(runs, datasets))
    print("\nTimings: medians over the runs that were not noisy (over all runs where every run was noisy); "
          "accuracy, F1, RSS, model size: medians over all runs. "
          "Last column: runs (of them noisy). Ratio rows: libtextmodel ÷ peer (train s > 1× = we are slower; "
          "tokens/s and texts/s < 1× = we are slower; latency > 1× = we are slower); accuracy and "
          "F1 rows: libtextmodel − peer in percentage points.")


def save(path, facts, datasets, runs, started, finished):
    """Write the runs so far (after every run: an interrupted benchmark can be rendered)."""
    path.write_text(json.dumps({"facts": facts, "datasets": datasets, "runs": runs,
                                "started": started, "finished": finished}, indent=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tweets", default=None)
    p.add_argument("--corpus", default=str(DATA / "synthetic"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--corpus-reps", type=int, default=1)
    p.add_argument("--lstm-lines", type=int, default=20_000)
    p.add_argument("--transformer-lines", type=int, default=20_000,
                   help="training lines of the transformer pair on the synthetic corpus")
    p.add_argument("--no-transformer", action="store_true", help="skip the transformer pair")
    p.add_argument("--pairs", default=",".join(PAIRS),
                   help="comma-separated pairs to run (default all: %(default)s)")
    p.add_argument("--only", choices=["tweets", "corpus"])
    p.add_argument("--no-corpus-sklearn", action="store_true",
                   help="skip scikit-learn on the synthetic corpus (the tweets still run it)")
    p.add_argument("--torch-padded", action="store_true",
                   help="also run PyTorch on padded+masked batches (same model)")
    p.add_argument("--render")
    a = p.parse_args()
    pairs = set(a.pairs.split(","))
    if not pairs <= set(PAIRS):
        p.error(f"--pairs: unknown {sorted(pairs - set(PAIRS))}; choose from {','.join(PAIRS)}")
    if a.no_transformer:
        pairs.discard("transformer")

    if a.render:
        saved = json.loads(pathlib.Path(a.render).read_text())
        print_report(saved["facts"], saved["datasets"], saved["runs"], saved["started"], saved["finished"])
        return

    tweets = pathlib.Path(a.tweets).resolve() if a.tweets else ROOT.parent / "shared" / "data" / "tweets"
    if not (tweets / "train.csv").exists():
        tweets = pathlib.Path("/work/shared/data/tweets")
    plan = []
    if a.only != "corpus" and a.reps > 0:
        plan.append((prepare("tweets", tweets), a.reps))
    if a.only != "tweets":
        corpus = pathlib.Path(a.corpus).resolve()
        lines = json.loads((corpus / "MANIFEST.json").read_text())["params"]["lines"]
        plan.append((prepare(f"synthetic-{lines}", corpus, a.lstm_lines, a.transformer_lines),
                     a.corpus_reps))

    facts = machine_facts()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = OUT / stamp
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"logs and models: {log_dir}", flush=True)
    runs, started = [], time.time()
    saved = OUT / f"runs-{stamp}.json"
    for ds, reps in plan:
        for rep in range(1, reps + 1):
            systems = [s for s, _, pair, _ in SYSTEMS if pair in pairs and s != "sklearn"
                       and (s != "torch_padded" or a.torch_padded)]
            schedule = [(s, t) for t in (2, 1) for s in systems]
            if "ref" in pairs and (ds["name"] == "tweets" or not a.no_corpus_sklearn):
                schedule.append(("sklearn", 1))
            for system, threads in schedule:
                r = run(system, ds, threads, rep, log_dir)
                runs.append(r)
                save(saved, facts, [d for d, _ in plan], runs, started, time.time())
                print(f"[{ds['name']} rep {rep}/{reps}] {LABELS[system]:<26} t={threads}: {describe(r)}; "
                      f"load {r['load_start']:.2f}->{r['load_end']:.2f}, others {r['foreign_cores']:.2f} cores, "
                      f"steal {100 * r['steal_share']:.1f}%{'  NOISY' if r['noisy'] else ''}", flush=True)
    finished = time.time()
    datasets = [ds for ds, _ in plan]
    save(saved, facts, datasets, runs, started, finished)
    print_report(facts, datasets, runs, started, finished)
    print(f"\nraw runs: {saved}")


if __name__ == "__main__":
    main()
