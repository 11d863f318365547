"""The default model (an empty config: bag of words, word bigrams and character 3-5-grams,
Hogwild on the configured threads) beside fastText with the same settings, on the same
data, alternating A B A B; prints medians and ratios (issue 16, deliverable 1).

    python3 bench/default_vs_fasttext.py [--tweets DIR] [--corpus DIR] [--reps 3]
        [--corpus-reps 1] [--threads 2,1] [--only tweets|corpus]

fastText: fasttext.train_supervised(epoch 5, lr 1.0, wordNgrams 2, minn 3, maxn 5,
bucket 200000, dim 100, minCount 1, loss softmax) on the training split tokenised as
bench/compare.py does. libtextmodel: `{"training": {"threads": N}}` (everything else
the defaults: the same epochs, rate, n-grams, buckets 200000 at most and dim 100) on the
raw CSV; its training time includes reading and tokenising the file, fastText's
reading its pre-tokenised file. Both runners (bench/run_textmodel.py,
bench/run_fasttext.py) also time batch inference and single-text latency on the test
split with the same thread count, and save the model (its size is `model MB`).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import compare  # noqa: E402  (prepare: the tokenised fastText training file)

PY = sys.executable


def run(system, dataset, threads, work, rep):
    model = work / f"{system}-{dataset['name']}-{threads}-{rep}.bin"
    result = work / f"{system}-{dataset['name']}-{threads}-{rep}.json"
    if system == "libtextmodel":
        config = work / "default.json"
        config.write_text("{}")
        cmd = [PY, str(BENCH / "run_textmodel.py"), str(config), dataset["train"], dataset["test"],
               "--threads", str(threads), "--model", str(model), "--result", str(result)]
    else:
        cmd = [PY, str(BENCH / "run_fasttext.py"), dataset["train_tok_ft"], dataset["test"],
               "--threads", str(threads), "--bucket", "200000", "--lr", "1.0", "--minn", "3", "--maxn", "5",
               "--model", str(model), "--result", str(result)]
    load = os.getloadavg()[0]
    subprocess.run(cmd, check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")})
    r = json.loads(result.read_text())
    r["load_start"] = load
    model.unlink()
    print(f"  {dataset['name']} {system} threads {threads}: train {r['train_seconds']:.2f} s "
          f"({r['train_cpu_seconds']:.2f} CPU s), "
          f"acc {r['accuracy']:.4f}, {r['model_bytes'] / 1e6:.1f} MB, batch {r['batch_texts_per_second']:,.0f}/s, "
          f"threads used {r.get('effective_threads')}, load {load:.1f}", flush=True)
    return r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tweets", default=str(ROOT.parent / "shared" / "data" / "tweets"))
    p.add_argument("--corpus", default=str(BENCH / ".data" / "corpus-1000000"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--corpus-reps", type=int, default=1)
    p.add_argument("--threads", default="2,1")
    p.add_argument("--only")
    a = p.parse_args()
    sets = [("tweets", a.tweets, a.reps), ("corpus", a.corpus, a.corpus_reps)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for name, source, reps in sets:
            if a.only and a.only != name:
                continue
            dataset = compare.prepare(name if name == "tweets" else "corpus-default",
                                      pathlib.Path(source))
            for threads in [int(t) for t in a.threads.split(",")]:
                runs = {"libtextmodel": [], "fastText": []}
                for rep in range(reps):
                    for system in runs:
                        runs[system].append(run(system, dataset, threads, work, rep))
                rows.append((name, threads, runs))
    print()
    print("| data | threads | libtextmodel train s | fastText train s | speed ratio (medians) "
          "| train CPU s tm / ft (medians), ratio | test acc tm / ft "
          "| model MB tm / ft | batch inference texts/s tm / ft, ratio | threads used (report) |")
    print("|---|---:|---|---|---:|---|---|---|---|---|")
    for name, threads, runs in rows:
        tm, ft = runs["libtextmodel"], runs["fastText"]
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        ts = lambda rs: ", ".join(f"{r['train_seconds']:.2f}" for r in rs)  # noqa: E731
        print(f"| {name} | {threads} | {ts(tm)} | {ts(ft)} | {med(ft, 'train_seconds') / med(tm, 'train_seconds'):.2f}× "
              f"| {med(tm, 'train_cpu_seconds'):.2f} / {med(ft, 'train_cpu_seconds'):.2f}, "
              f"{med(ft, 'train_cpu_seconds') / med(tm, 'train_cpu_seconds'):.2f}× "
              f"| {med(tm, 'accuracy'):.4f} / {med(ft, 'accuracy'):.4f} "
              f"| {med(tm, 'model_bytes') / 1e6:.1f} / {med(ft, 'model_bytes') / 1e6:.1f} "
              f"| {med(tm, 'batch_texts_per_second'):,.0f} / {med(ft, 'batch_texts_per_second'):,.0f}, "
              f"{med(tm, 'batch_texts_per_second') / med(ft, 'batch_texts_per_second'):.2f}× "
              f"| {sorted({r.get('effective_threads') for r in tm})} |")


if __name__ == "__main__":
    main()
