"""One scikit-learn run: tf-idf of word 1- and 2-grams + logistic regression, the
accuracy reference.

    python bench/run_sklearn.py TRAIN.csv TEST.csv --threads N --model M --result R.json

Tokens from common.tokenize; TfidfVectorizer(ngram_range=(1, 2), min_df=2,
sublinear_tf=True); LogisticRegression(C=10, max_iter=1000, lbfgs, multinomial).
Threads are capped with threadpoolctl (BLAS/OpenMP); the sparse lbfgs fit itself is
mostly single-threaded. The model file is the pickled pipeline (without the
vectorizer's stop_words_, which only serves introspection).
"""
import argparse
import pickle
import time

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

import common


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--result", required=True)
    a = p.parse_args()
    threadpool_limits(a.threads)
    rss_before = common.max_rss_mb()

    started = time.perf_counter()
    texts, labels = common.read_csv(a.train)
    pipeline = make_pipeline(
        TfidfVectorizer(tokenizer=common.tokenize, lowercase=False, token_pattern=None,
                        ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32),
        LogisticRegression(C=10.0, max_iter=1000))
    pipeline.fit(texts, labels)
    train_seconds = time.perf_counter() - started
    rss_after = common.max_rss_mb()
    del texts

    test_texts, test_labels = common.read_csv(a.test)
    result = common.time_inference(lambda b: list(pipeline.predict(b)),
                                   lambda t: pipeline.predict([t])[0], test_texts, test_labels)
    pipeline[0].stop_words_ = None
    with open(a.model, "wb") as f:
        pickle.dump(pipeline, f, protocol=pickle.HIGHEST_PROTOCOL)
    common.finish_run(
        a, result, rss_before, rss_after,
        system="scikit-learn",
        version=sklearn.__version__,
        train_seconds=train_seconds,
        epochs=1,
        effective_threads=a.threads,
        features=len(pipeline[0].vocabulary_),
    )


if __name__ == "__main__":
    main()
