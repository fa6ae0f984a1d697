"""ONNX export: the exported graph answers as PyTorch does; int8 nearly so; the Classifier serves from either."""
import numpy as np
import pytest

from studio import export
from studio.inference import Classifier, InferenceError, load_classifier

from conftest import SENTIMENT

TEXTS = [text for text, _ in SENTIMENT] + ["", "x", "a much longer text " * 40]


@pytest.fixture(scope="module")
def confident_model_dir(tmp_path_factory, tiny_model_dir):
    """The tiny BERT trained on the sentiment rows until its two classes separate (confident, both labels)."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification
    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("confident") / "model"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = BertForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2,
                                                          id2label={0: "negative", 1: "positive"})
    batch = tokenizer([t for t, _ in SENTIMENT], padding=True, return_tensors="pt")
    labels = torch.tensor([int(label == "positive") for _, label in SENTIMENT])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(40):
        optimizer.zero_grad()
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
    model.eval().save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def exported(confident_model_dir):
    return export.export_onnx(confident_model_dir.parent, int8=True)


def test_onnx_gives_pytorchs_probabilities_and_labels(confident_model_dir, exported):
    assert exported["onnx"] == str(confident_model_dir / "onnx" / "model.onnx") and exported["max_difference"] < 1e-4
    reference = Classifier(confident_model_dir, backend="torch").probabilities(TEXTS)
    onnx = Classifier(confident_model_dir, backend="onnx").probabilities(TEXTS)
    assert len(set(reference.argmax(-1))) == 2 and reference.max(-1).mean() > 0.8   # the classes separate
    np.testing.assert_allclose(onnx, reference, atol=1e-4)
    assert (onnx.argmax(-1) == reference.argmax(-1)).all()


def test_int8_agrees_on_the_labels(confident_model_dir, exported):
    reference = Classifier(confident_model_dir, backend="torch").probabilities(TEXTS)
    int8 = Classifier(confident_model_dir, backend="onnx-int8").probabilities(TEXTS)
    assert (int8.argmax(-1) == reference.argmax(-1)).mean() >= 0.9
    assert np.abs(int8 - reference).max() < 0.2
    assert 0 < exported["int8_mb"] <= exported["onnx_mb"]


def test_the_classifier_serves_from_onnx_when_it_is_there(confident_model_dir, exported, tmp_path):
    classifier = load_classifier(confident_model_dir)
    assert classifier.backend == "onnx" and classifier.predict(["hello"])[0].label in ("negative", "positive")
    table = tmp_path / "in.csv"
    table.write_text("text\nhello there\nbye now\n", encoding="utf-8")
    assert classifier.classify_file(table, tmp_path / "out.csv")["rows"] == 2
    with pytest.raises(InferenceError, match="Unknown backend"):
        Classifier(confident_model_dir, backend="tensorrt")


def test_export_of_a_folder_without_a_model_says_so(tmp_path):
    with pytest.raises(export.ExportError, match="holds no trained model"):
        export.export_onnx(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InferenceError, match="export RUN_DIR --onnx --int8"):
        Classifier(tmp_path, backend="onnx-int8")


def test_cli_export_and_predict_from_onnx(confident_model_dir, exported, capsys):
    import json
    from studio.__main__ import main
    run_dir = confident_model_dir.parent
    assert main(["export", str(run_dir), "--onnx"]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {confident_model_dir / 'onnx' / 'model.onnx'}" in out and "match PyTorch's" in out
    assert main(["predict", str(run_dir), "I love it", "--backend", "onnx-int8", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["label"] in ("negative", "positive") and set(answer["scores"]) == {"negative", "positive"}
    assert main(["export", str(run_dir)]) == 2   # --onnx is the only format: asked for plainly
    assert "--onnx" in capsys.readouterr().err
