"""One plain sentence per training setting. The command line's --help and the page's hints both read these, so
the two never explain a knob differently (the page shows its Chinese translation in the other language)."""
from __future__ import annotations

HELP: dict[str, str] = {
    "model": "The base model to start from: a catalog name, a Hugging Face model id, or a model folder on this "
             "machine.",
    "method": "How much of the model trains. Auto decides from your data when training starts: the whole model, or "
              "only the new output layer when there are few examples.",
    "freeze_layers": "With \"freeze\": how many bottom layers stay as they are; at the maximum only the new output "
                     "layer trains.",
    "lora_r": "With LoRA: the size of the small add-on matrices that train instead of the model's own weights; "
              "higher learns more and uses more memory. 8 is a good start.",
    "preset": "A tested set of training values: quick, balanced (the default) or best.",
    "learning_rate": "How big each correction step is. Too high: training jumps around; too low: it crawls.",
    "epochs": "How many times the model reads all training rows.",
    "batch_size": "Texts per step. Lower it if memory runs out.",
    "max_length": "Texts are cut after this many tokens (a token is a word or a piece of one). Longer costs time and "
                  "memory.",
    "warmup_ratio": "The share of training spent slowly raising the learning rate at the start, so the first "
                    "steps do not undo what the model knows.",
    "weight_decay": "A gentle pull of the weights towards zero at every step, against memorising the training rows.",
    "patience": "Stop after this many checks on the validation rows without improvement (0: never stop early).",
    "evals_per_epoch": "How many times per pass the model is checked on the validation rows; early stopping counts "
                       "these checks.",
    "class_weights": "Count mistakes on rare labels more, when some labels have far fewer examples.",
    "seed": "The same seed gives the same split and the same result.",
    "max_rows": "Train on a sample of this many rows (every label kept in proportion), for a quick first try on a "
                "big file.",
    "encoding": "The file's text encoding, when the detected one shows garbled characters (e.g. gb18030 for Chinese "
                "files from Excel, cp1252 for Western European ones).",
    "split_column": "A column saying train, validation or test for each row, when your data comes with a fixed split.",
}


def help_for(knob: str) -> str:
    return HELP[knob]
