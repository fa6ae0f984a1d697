"""Train / validation / test: stratified, from separate files, from a split column, or carved out of train."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from .errors import DataError, list_columns, quoted
from .examples import Examples, sort_labels
from .reading import Table

MIN_PER_CLASS = 3           # a class needs 3 examples to appear in train, validation and test


@dataclass
class Splits:
    train: Examples
    validation: Examples
    test: Examples
    labels: list[str]   # all class names, sorted (numerically when all are integers)
    description: str    # one sentence, e.g. "7,002 rows for training, 1,500 for validation, 1,501 for testing (...)."


SPLIT_NAMES = {"train": "train", "training": "train", "validation": "validation", "val": "validation",
               "valid": "validation", "dev": "validation", "eval": "validation", "test": "test", "testing": "test"}


def _carve(examples: Examples, fraction: float, seed: int) -> tuple[Examples, Examples, bool]:
    """Take `fraction` of the rows out, stratified by label; classes too small to split stay behind."""
    from sklearn.model_selection import train_test_split
    counts = Counter(examples.labels)
    splittable = [i for i, y in enumerate(examples.labels) if counts[y] >= MIN_PER_CLASS]
    small = [i for i, y in enumerate(examples.labels) if counts[y] < MIN_PER_CLASS]
    n_take = min(round(fraction * len(examples)), len(splittable) - 1)
    if n_take < 1:
        return examples, examples.take([]), True
    try:
        keep, taken = train_test_split(splittable, test_size=n_take, random_state=seed,
                                       stratify=[examples.labels[i] for i in splittable])
        return examples.take(sorted(keep + small)), examples.take(sorted(taken)), True
    except ValueError:  # more classes than rows to take: one row from each of n_take random classes instead
        rng, by_class = random.Random(seed), {}
        for i in splittable:
            by_class.setdefault(examples.labels[i], []).append(i)
        classes = sorted(by_class)
        rng.shuffle(classes)
        taken = {rng.choice(by_class[y]) for y in classes[:n_take]}
        keep = [i for i in range(len(examples)) if i not in taken]
        return examples.take(keep), examples.take(sorted(taken)), False


def partition_by_split(examples: Examples, split_values: list) -> dict[str, Examples]:
    """{"train", "validation", "test"} from one value per example naming its split (train, val, dev, eval, test...)."""
    if len(split_values) != len(examples):
        raise DataError(f"The split column has {len(split_values):,} values for {len(examples):,} rows; "
                        "give one split value per row.", code="split_count",
                        values=len(split_values), rows=len(examples))
    kinds = [SPLIT_NAMES.get(str(v).strip().lower()) for v in split_values]
    unknown = sorted({str(v) for v, k in zip(split_values, kinds) if k is None})
    if unknown:
        raise DataError(f"The split column holds {quoted(unknown)}; use train, validation (or val, dev) or test.",
                        code="unknown_split", values=unknown)
    part = {k: examples.take([i for i, kind in enumerate(kinds) if kind == k]) for k in SPLIT_NAMES.values()}
    if not len(part["train"]):
        raise DataError("No row of the split column says train; mark the rows to learn from as train.",
                        code="no_train_split")
    return part


def split_values_of(table: Table, column: str, examples: Examples) -> list:
    """The split column's value for each example (examples skip rows without text or label)."""
    if column not in table.frame.columns:
        raise DataError(f"There is no column called {column!r} to split by; the columns are {list_columns(table.frame)}.",
                        code="no_split_column", column=column, columns=[str(c) for c in table.frame.columns])
    return table.frame[column].iloc[examples.rows].tolist()


def make_splits(examples: Examples, validation: Examples | None = None, test: Examples | None = None,
                split_values: list[str] | None = None, val_fraction=0.15, test_fraction=0.15, seed=42) -> Splits:
    source = {"validation": "from the validation file", "test": "from the test file"}
    train = examples
    if split_values is not None:
        part = partition_by_split(examples, split_values)
        train = part["train"]
        if validation is None and len(part["validation"]):
            validation, source["validation"] = part["validation"], "from the split column"
        if test is None and len(part["test"]):
            test, source["test"] = part["test"], "from the split column"
    everything = train.labels + (validation.labels if validation else []) + (test.labels if test else [])
    if not everything:
        raise DataError("There are no examples with both a text and a label to train on; check the columns.", code="no_examples")
    if len(set(everything)) < 2:
        raise DataError(f'Training needs at least two labels, but every example is labelled "{everything[0]}"; '
                        "add examples of another class.", code="single_class", label=everything[0])
    stratified, carved = True, []
    if test is None:
        train, test, ok = _carve(train, test_fraction, seed)
        stratified, carved = stratified and ok, carved + ["test"]
    if validation is None:
        share = val_fraction / (1 - test_fraction) if "test" in carved else val_fraction
        train, validation, ok = _carve(train, share, seed)
        stratified, carved = stratified and ok, carved + ["validation"]
    labels = sort_labels(train.labels)
    unseen = sort_labels(set(validation.labels + test.labels) - set(labels))
    if unseen:
        raise DataError(f"The labels {quoted(unseen)} appear in validation or test data but never in training; "
                        "add training examples for them or remove those rows.",
                        code="unseen_labels", labels=unseen)
    how = "stratified" if stratified else "random"
    if carved == ["test", "validation"]:
        shares = f"{100 * (1 - val_fraction - test_fraction):.0f}/{100 * val_fraction:.0f}/{100 * test_fraction:.0f}"
        description = (f"{len(train):,} rows for training, {len(validation):,} for validation, "
                       f"{len(test):,} for testing ({how} {shares}, seed {seed}).")
    else:
        for k in carved:
            source[k] = f"carved out of training, {how}, seed {seed}"
        description = (f"{len(train):,} rows for training, {len(validation):,} for validation "
                       f"({source['validation']}), {len(test):,} for testing ({source['test']}).")
    return Splits(train, validation, test, labels, description)


def stratified_sample(examples: Examples, n: int, seed=42) -> Examples:
    """n examples in the same class proportions, with every class present where n allows (for --max-rows)."""
    from sklearn.model_selection import train_test_split
    if n >= len(examples):
        return examples
    rng = random.Random(seed)
    by_class = {}
    for i, y in enumerate(examples.labels):
        by_class.setdefault(y, []).append(i)
    firsts = [rng.choice(idx) for idx in by_class.values()]  # one of each class first
    if len(firsts) >= n:
        return examples.take(sorted(rng.sample(firsts, n)))
    chosen = set(firsts)
    rest = [i for i in range(len(examples)) if i not in chosen]
    try:
        more, _ = train_test_split(rest, train_size=n - len(firsts), random_state=seed,
                                   stratify=[examples.labels[i] for i in rest])
    except ValueError:  # some class too small to stratify
        more = rng.sample(rest, n - len(firsts))
    return examples.take(sorted(firsts + list(more)))
