"""Which models can be used right now, and whether one reads the data: studio.models, and `studio models`."""
from __future__ import annotations

import json

from studio import __main__ as cli
from studio import models

CHINESE = ["外卖送得很快，味道不错", "太难吃了，再也不点了", "包装很好，服务周到"]


def test_where_each_kind_of_model_loads_from(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.availability(models.DEFAULT_MODEL).state == "bundled"
    assert models.availability(str(tiny_model_dir)).state == "folder"
    assert models.availability(str(tmp_path / "nowhere")).state == "missing_folder"
    (tmp_path / "pickles").mkdir()
    (tmp_path / "pickles" / "config.json").write_text("{}")
    (tmp_path / "pickles" / "pytorch_model.bin").write_bytes(b"x")
    assert models.availability(str(tmp_path / "pickles")).state == "not_a_model"
    assert models.availability("bert-base-chinese").state == "offline"  # offline, and not in the cache
    monkeypatch.setattr(models, "in_local_cache", lambda repo: repo == "google-bert/bert-base-chinese")
    found = models.availability("bert-base-chinese")
    assert found.state == "cached" and found.usable


def test_an_english_vocabulary_cannot_read_chinese():
    tokenizer = models.load_tokenizer(models.DEFAULT_MODEL)
    assert models.unknown_share(tokenizer, CHINESE) > models.UNREADABLE_SHARE
    assert models.unknown_share(tokenizer, ["the parcel arrived late"]) == 0
    assert models.has_cjk(CHINESE) and not models.has_cjk(["the parcel arrived late"])
    assert all(e.languages != "English" for e in models.readers_of(cjk=True))


def test_the_models_command_says_which_can_be_used_and_read_the_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = tmp_path / "waimai.csv"
    path.write_text("review,label\n" + "".join(f"{t}{i},{i % 2}\n" for i in range(10) for t in CHINESE),
                    encoding="utf-8")
    assert cli.main(["models", str(path), "--json"]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[models.DEFAULT_MODEL]["usable"] and rows[models.DEFAULT_MODEL]["reads_the_data"] is False
    assert not rows["bert-base-chinese"]["usable"]
    assert cli.main(["models", str(path)]) == 0
    assert "No usable model reads this data" in capsys.readouterr().out
