import sys
import threading
import time

import numpy as np
import torch

from core.model.cpu_threads import configured_cpu_threads
from core.model.inference import predict_split
from core.model.network import TemporalClassifier, TemporalModelConfig
from tests.factories import TINY_CONFIG, make_feature_set, make_model


def test_video_alone_equals_video_in_padded_batch_with_longer_videos():
    model = make_model(
        TemporalModelConfig(feature_dim=32, hidden_dim=24, num_lstm_layers=2, num_attention_heads=4)
    )
    torch.manual_seed(1)
    short = torch.randn(1, 9, 32)
    batch = torch.randn(3, 30, 32)
    batch[1, :9] = short[0]
    batch[1, 9:] = 5.0  # garbage in the padding must not leak into the prediction
    with torch.inference_mode():
        alone = torch.softmax(model(short, torch.tensor([9])), dim=1)
        together = torch.softmax(model(batch, torch.tensor([30, 9, 22])), dim=1)
    assert torch.allclose(alone[0], together[1], atol=1e-5)


def test_pooling_weights_are_zero_on_padding_and_sum_to_one():
    model = make_model(
        TemporalModelConfig(feature_dim=8, hidden_dim=8, num_lstm_layers=1, num_attention_heads=2)
    )
    with torch.inference_mode():
        _, weights = model.forward_with_attention(torch.randn(2, 10, 8), torch.tensor([10, 4]))
    assert weights.shape == (2, 10)
    assert torch.all(weights[1, 4:] == 0)
    assert torch.allclose(weights.sum(dim=1), torch.ones(2))


def test_split_probabilities_do_not_depend_on_batch_size():
    feature_set = make_feature_set(num_videos=10)
    model = make_model(TINY_CONFIG)
    one = predict_split([model], feature_set, batch_size=1)
    many = predict_split([model], feature_set, batch_size=7)
    assert one.shape == (1, 4, 10, 4)
    np.testing.assert_allclose(one, many, atol=1e-5)


def test_full_size_module_names_match_the_original_contract():
    names = dict(TemporalClassifier(TemporalModelConfig()).state_dict())
    assert names["input_projection.0.weight"].shape == (768, 1280)
    assert names["lstm.weight_ih_l0_reverse"].shape == (4 * 768, 768)
    assert names["lstm.weight_ih_l3_reverse"].shape == (4 * 768, 2 * 768)
    assert names["attention.in_proj_weight"].shape == (3 * 1536, 1536)
    assert names["attention_pooling.4.weight"].shape == (1, 768)
    assert names["classifier.0.weight"].shape == (768, 1536)
    assert names["classifier.12.weight"].shape == (4, 256)


def thread_count_of_a_new_thread() -> int:
    counts = []
    thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return counts[0]


def test_overlapping_split_predictions_restore_the_thread_count():
    """Run B enters while run A holds the one-thread override and leaves after A: the count
    torch had before A must come back, for this thread and for threads started later, and both
    results must be unaffected."""
    torch.set_num_threads(2)
    feature_set = make_feature_set(num_videos=16)
    models = [make_model(TINY_CONFIG, seed=s) for s in range(2)]
    alone = predict_split(models, feature_set, batch_size=4)
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()
    results, seen_by_b = {}, []

    def run_a():
        def progress(done, total):
            a_inside.set()
            b_inside.wait(timeout=30)

        try:
            results["a"] = predict_split(models, feature_set, batch_size=4, progress=progress)
        finally:
            # Set even when A fails, so B does not wait out its timeout on every unit.
            a_done.set()

    def run_b():
        a_inside.wait(timeout=30)

        def progress(done, total):
            seen_by_b.append(configured_cpu_threads())
            b_inside.set()
            a_done.wait(timeout=30)

        results["b"] = predict_split(models, feature_set, batch_size=4, progress=progress)

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {"a", "b"}
    assert torch.get_num_threads() == 2
    assert thread_count_of_a_new_thread() == 2
    assert set(seen_by_b) == {2}, "B began with one thread but must report the configured count"
    for result in results.values():
        np.testing.assert_allclose(result, alone, atol=1e-6)


def test_split_predictions_sharing_models_across_threads_do_not_disturb_each_other():
    """The app's cached models serve a page's unaugmented pass while its background TTA pass runs
    them: a pass must not touch models already on its device, or it breaks the other's forward."""
    feature_set = make_feature_set(num_videos=4)
    model = make_model(TINY_CONFIG)
    alone = predict_split([model], feature_set, ("original",), batch_size=1)
    stop, errors, results = threading.Event(), [], []

    def keep_predicting():
        try:
            while not stop.is_set():
                results.append(predict_split([model], feature_set, ("original",), batch_size=1))
        except Exception as exc:
            errors.append(exc)

    previous_interval = sys.getswitchinterval()
    # Switch threads as often as possible, so a race between the passes shows within seconds.
    sys.setswitchinterval(1e-6)
    others = [threading.Thread(target=keep_predicting) for _ in range(2)]
    try:
        for other in others:
            other.start()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not errors:
            results.append(predict_split([model], feature_set, ("original",), batch_size=1))
    finally:
        stop.set()
        for other in others:
            other.join()
        sys.setswitchinterval(previous_interval)
    assert errors == []
    for result in results:
        np.testing.assert_allclose(result, alone, atol=1e-6)
