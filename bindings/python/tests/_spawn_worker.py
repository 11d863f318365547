"""Runs in a process started by multiprocessing's "spawn" (test_pickle.py): nothing is
inherited but what arrives pickled, so the model comes back only through its bytes."""


def predict_in_child(model, texts):
    import os
    return os.getpid(), model.predict(texts), model.predict_proba(texts)
