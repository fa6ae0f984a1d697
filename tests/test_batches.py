import numpy as np
import torch

from studio import batches

CPU = torch.device("cpu")


def test_length_grouped_batches_cover_every_row_once():
    lengths = list(np.random.default_rng(0).integers(3, 60, size=203))
    groups = batches.length_grouped_batches(lengths, 16, np.random.default_rng(1))
    flat = sorted(int(i) for b in groups for i in b)
    assert flat == list(range(203))
    assert all(len(b) <= 16 for b in groups)
    # within a batch lengths are close: much less padding than a random batch
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in groups])
    assert spread < 20


def test_sorted_batches_go_longest_first():
    groups = batches.sorted_batches([3, 9, 5, 7], 2)
    assert [list(b) for b in groups] == [[1, 3], [2, 0]]


def test_widths_round_up_to_eight_on_a_gpu_only():
    assert batches.padded_width(13, CPU) == 13
    assert batches.padded_width(13, torch.device("cuda")) == 16


def test_epoch_order_keeps_batches_apart():
    groups = [np.array([3, 1]), np.array([0]), np.array([2, 4, 5])]
    order = batches.epoch_order(groups, CPU)
    assert [o.tolist() for o in order] == [[3, 1], [0], [2, 4, 5]]


def test_packed_ids_gather_like_padding_row_by_row():
    rows = [[101, 7, 8, 102], [101, 102], [101, 5, 6, 7, 8, 9, 102]]
    packed = batches.Packed(rows, CPU)
    index = np.array([2, 0, 1])
    width = packed.width_of(index)
    ids, mask = packed.gather(torch.as_tensor(index), width, pad_value=0)
    expected_ids, expected_mask = batches.pad_batch([rows[i] for i in index], 0, CPU)
    assert width == 7
    assert torch.equal(ids, expected_ids) and torch.equal(mask, expected_mask)


def test_packed_hidden_states_are_zero_beyond_each_row():
    torch.manual_seed(0)
    rows = [torch.randn(3, 4), torch.randn(1, 4), torch.randn(5, 4)]
    packed = batches.Packed(rows, CPU, torch.float32)
    values, mask = packed.gather(torch.tensor([1, 2]), 6)
    assert values.shape == (2, 6, 4)
    assert torch.equal(values[0, :1], rows[1]) and torch.equal(values[1, :5], rows[2])
    assert not values[0, 1:].any() and not values[1, 5:].any()
    assert mask.tolist() == [[1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]]


def test_longest_first_puts_the_batch_with_the_longest_rows_first_and_keeps_the_rest():
    lengths = list(np.random.default_rng(0).integers(3, 60, size=203))
    plain = batches.length_grouped_batches(lengths, 16, np.random.default_rng(1))
    first = batches.length_grouped_batches(lengths, 16, np.random.default_rng(1), longest_first=True)
    longest = int(np.argmax(lengths))
    assert longest in first[0] and longest not in plain[0]
    assert max(lengths[i] for i in first[0]) == max(lengths)
    moved = next(i for i, b in enumerate(plain) if longest in b)
    assert [b.tolist() for b in first] == [plain[moved].tolist()] + [b.tolist() for i, b in enumerate(plain) if i != moved]
