"""Single-text latency (issue 16, deliverable 2): p50/p99 of one-text predictions through
libtextmodel's C ABI (tm_model_predict_one, and tm_model_predict with count 1) and its
Python binding (TextClassifier.predict_one), beside fastText's Python predict([text])
and its C++ FastText::predictLine, alternating the systems A B A B.

    python3 bench/latency.py [--reps 3] [--calls 20000] [--tweets DIR] [--models bag,default,cnn,lstm,transformer]

Models are trained once on the tweets and cached in bench/.data/latency/ (delete it to
retrain): bag = examples/configs/bag.json and default = the empty config on all 29,794
training texts (fastText: the same settings each, as bench/default_vs_fasttext.py
trains them); cnn.json, lstm.json, transformer.json on the first 10,000 texts, 1 epoch
(latency does not depend on how well a model learned). Every call predicts one test
text (3,725 tweets in turn) on one thread. libtextmodel reads the raw text; fastText
reads it tokenised beforehand by bench/common.tokenize, so its figures exclude
tokenisation and ours include it.

C programs: bench/latency/latency_textmodel.c (against .build/release/libtextmodel.so)
and bench/latency/latency_fasttext.cpp (against Debian's libfasttext-dev 0.9.2:
`apt-get install libfasttext-dev`); both are compiled into bench/.out/latency/.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
LIB = pathlib.Path(os.environ.get("TEXTMODEL_LIBRARY", ROOT / ".build" / "release" / "libtextmodel.so")).resolve()
os.environ["TEXTMODEL_LIBRARY"] = str(LIB)
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(BENCH))
import common  # noqa: E402
import compare  # noqa: E402
from textmodel import TextClassifier  # noqa: E402

WORK = BENCH / ".data" / "latency"
OUT = BENCH / ".out" / "latency"
CONFIGS = ROOT / "examples" / "configs"
NEURAL_LINES, NEURAL_EPOCHS = 10_000, 1
FASTTEXT = {"bag": dict(lr=0.25, minn=0, maxn=0), "default": dict(lr=1.0, minn=3, maxn=5)}


def build_programs():
    OUT.mkdir(parents=True, exist_ok=True)
    ours, theirs = OUT / "latency_textmodel", OUT / "latency_fasttext"
    # The library under test under the names the linker and the loader look for
    # (its SONAME is libtextmodel.so.0), whatever $TEXTMODEL_LIBRARY calls it.
    libdir = OUT / "lib"
    libdir.mkdir(exist_ok=True)
    for name in ("libtextmodel.so", "libtextmodel.so.0"):
        link = libdir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(LIB)
    subprocess.run(["cc", "-O2", "-std=c99", "-I", str(ROOT / "include"), "-o", str(ours),
                    str(BENCH / "latency" / "latency_textmodel.c"), "-L", str(libdir),
                    f"-Wl,-rpath,{libdir}", "-ltextmodel"], check=True)
    built = subprocess.run(["c++", "-O2", "-std=c++17", "-o", str(theirs),
                            str(BENCH / "latency" / "latency_fasttext.cpp"), "-lfasttext"])
    return ours, theirs if built.returncode == 0 else None


def train_models(names, tweets):
    WORK.mkdir(parents=True, exist_ok=True)
    texts, labels = common.read_csv(tweets / "train.csv")
    dataset = compare.prepare("tweets", tweets)
    models = {}
    for name in names:
        path = WORK / f"{name}.tmmodel"
        if not path.exists():
            config = {} if name == "default" else json.loads((CONFIGS / f"{name}.json").read_text())
            n = len(texts)
            if name not in FASTTEXT:
                config.setdefault("training", {})["epochs"] = NEURAL_EPOCHS
                n = NEURAL_LINES
            config.setdefault("training", {})["threads"] = 2
            started = time.perf_counter()
            with TextClassifier(config) as clf:
                clf.fit(texts[:n], labels[:n])
                clf.save(path)
            print(f"trained {name} in {time.perf_counter() - started:.1f} s", flush=True)
        models[name] = {"textmodel": path}
        if name in FASTTEXT:
            ft_path = WORK / f"{name}.fasttext.bin"
            if not ft_path.exists():
                import fasttext
                s = FASTTEXT[name]
                model = fasttext.train_supervised(
                    input=dataset["train_tok_ft"], dim=100, wordNgrams=2, lr=s["lr"], epoch=5,
                    bucket=200000, minCount=1, minn=s["minn"], maxn=s["maxn"], loss="softmax",
                    thread=2, seed=1, verbose=0)
                model.save_model(str(ft_path))
            models[name]["fasttext"] = ft_path
    return models


def percentile_pair(ns):
    ns = sorted(ns)
    return ns[len(ns) // 2] / 1000, ns[int(0.99 * len(ns))] / 1000


def python_textmodel(path, texts, calls):
    with TextClassifier.load(path, threads=1) as clf:
        for t in texts[:200]:
            clf.predict_one(t)
        one, listed = [], []
        clock = time.perf_counter_ns
        # One pass per call over the same texts (see latency_textmodel.c for why).
        for i in range(calls):
            t = texts[i % len(texts)]
            a = clock()
            clf.predict_one(t)
            one.append(clock() - a)
        for i in range(calls):
            t = texts[i % len(texts)]
            a = clock()
            clf.predict([t])
            listed.append(clock() - a)
    return {"predict_one": percentile_pair(one), "predict([text])": percentile_pair(listed)}


def python_fasttext(path, texts, calls):
    import fasttext
    model = fasttext.load_model(str(path))
    for t in texts[:200]:
        model.predict([t])
    ns, clock = [], time.perf_counter_ns
    for i in range(calls):
        t = texts[i % len(texts)]
        a = clock()
        model.predict([t])   # predict(str) fails under numpy 2 in fasttext 0.9.3
        ns.append(clock() - a)
    return {"predict([text])": percentile_pair(ns)}


def program(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--tweets", default=str(ROOT.parent / "shared" / "data" / "tweets"))
    p.add_argument("--models", default="bag,default,cnn,lstm,transformer")
    a = p.parse_args()
    tweets = pathlib.Path(a.tweets)
    names = a.models.split(",")
    ours, theirs = build_programs()
    if theirs is None:
        print("fastText C++ not built (apt-get install libfasttext-dev): its column stays empty")
    models = train_models(names, tweets)
    raw, _ = common.read_csv(tweets / "test.csv")
    tokenised = [" ".join(common.tokenize(t)) for t in raw]
    raw_file, tok_file = OUT / "texts.txt", OUT / "texts.tok.txt"
    raw_file.write_text("".join(t.replace("\n", " ") + "\n" for t in raw))
    tok_file.write_text("".join(t + "\n" for t in tokenised))
    runs, cpus = {}, {}
    for rep in range(a.reps):
        for name in names:
            m = models[name]
            r = runs.setdefault(name, {})
            c = program([str(ours), str(m["textmodel"]), str(raw_file), str(a.calls)])
            r.setdefault("C tm_model_predict_one", []).append((c["predict_one_p50_us"], c["predict_one_p99_us"]))
            r.setdefault("C tm_model_predict (count 1)", []).append((c["predict_count1_p50_us"], c["predict_count1_p99_us"]))
            cpu = cpus.setdefault(name, {})
            cpu.setdefault("C tm_model_predict_one", []).append(c["predict_one_cpu_us"])
            cpu.setdefault("C tm_model_predict (count 1)", []).append(c["predict_count1_cpu_us"])
            if "fasttext" in m and theirs is not None:
                f = program([str(theirs), str(m["fasttext"]), str(tok_file), str(a.calls)])
                r.setdefault("fastText C++ predictLine", []).append((f["predict_p50_us"], f["predict_p99_us"]))
                cpus[name].setdefault("fastText C++ predictLine", []).append(f["predict_cpu_us"])
            py = python_textmodel(m["textmodel"], raw, a.calls)
            r.setdefault("Python predict_one", []).append(py["predict_one"])
            r.setdefault("Python predict([text])", []).append(py["predict([text])"])
            if "fasttext" in m:
                fp = python_fasttext(m["fasttext"], tokenised, a.calls)
                r.setdefault("fastText Python predict([text])", []).append(fp["predict([text])"])
            print(f"rep {rep + 1} {name}: " + ", ".join(f"{k} {v[-1][0]:.2f}/{v[-1][1]:.2f} µs" for k, v in r.items()),
                  flush=True)
    print()
    print(f"Medians of {a.reps} alternating repetitions, {a.calls:,} calls each; p50 / p99 in µs, 1 thread.")
    print()
    print("| model | call | p50 µs | p99 µs | p50 of each rep |")
    print("|---|---|---:|---:|---|")
    for name in names:
        for call, values in runs[name].items():
            p50 = statistics.median(v[0] for v in values)
            p99 = statistics.median(v[1] for v in values)
            print(f"| {name} | {call} | {p50:.2f} | {p99:.2f} | {', '.join(f'{v[0]:.2f}' for v in values)} |")
    print()
    print("CPU time per call (process CPU clock over each pass ÷ calls; medians of the repetitions), µs:")
    print()
    print("| model | call | CPU µs per call |")
    print("|---|---|---:|")
    for name in names:
        for call, values in cpus.get(name, {}).items():
            print(f"| {name} | {call} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
