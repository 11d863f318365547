"""Calls back into the model being trained from its own progress callback: training it
again or closing it is refused with StateError (the library's non-recursive training
lock used to deadlock on the first); the outer training carries on."""

import pytest

from textmodel import StateError, TextClassifier

from test_classifier import TRAIN, tiny


def test_fit_and_close_from_own_progress_callback_are_refused():
    model = TextClassifier(tiny(epochs=2))
    other = TextClassifier(tiny(epochs=1))
    refused = []

    def progress(p):
        if p["kind"] != "epoch":
            return False
        with pytest.raises(StateError, match="already running") as fit_error:
            model.fit(*TRAIN)
        with pytest.raises(StateError, match="already running"):
            model.close()
        if not other.is_fitted:
            other.fit(*TRAIN)  # another model trains normally from here
        refused.append(fit_error.value.status_name)
        return False

    model.fit(*TRAIN, progress=progress)
    assert refused == ["TM_ERR_STATE", "TM_ERR_STATE"]
    assert model.is_fitted and other.is_fitted and not model.cancelled_
    assert len(model.predict(TRAIN[0][:3])) == 3
    model.close()  # allowed once training has returned
    other.close()
