"""Hand-written wrong solutions of exercises/ex09_embedding_geometry, each rejected with its own hint."""

import pytest
import torch
import torch.nn.functional as F

from utils import checks


def _has_classmate(labels):
    return torch.tensor([int((labels == y).sum()) > 1 for y in labels])


def recall_self_included(embeddings, labels):
    hits, queries = 0, 0
    for i in range(len(labels)):
        if (labels == labels[i]).sum() < 2:
            continue
        d = ((embeddings - embeddings[i]) ** 2).sum(1)
        hits += int(labels[torch.argmin(d)] == labels[i])
        queries += 1
    return hits / queries


def recall_two_neighbours(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    order = d.argsort(dim=1)[:, 1:3]  # skip the query (column 0), then look at two neighbours
    return (labels[order] == labels.unsqueeze(1)).any(1)[_has_classmate(labels)].float().mean().item()


def recall_cosine(embeddings, labels):
    z = F.normalize(embeddings, dim=1)
    d = torch.cdist(z, z) + torch.diag(torch.full((len(labels),), 1e9, dtype=z.dtype))
    return (labels[d.argmin(1)] == labels)[_has_classmate(labels)].float().mean().item()


def recall_dot(embeddings, labels):
    sim = embeddings @ embeddings.t() - torch.diag(torch.full((len(labels),), 1e12, dtype=embeddings.dtype))
    return (labels[sim.argmax(1)] == labels)[_has_classmate(labels)].float().mean().item()


def recall_farthest(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    d.fill_diagonal_(-1.0)
    keep = _has_classmate(labels)
    return (labels[d.max(dim=1).indices] == labels)[keep].sum().item() / keep.sum().item()


def recall_all_points(embeddings, labels):
    d = torch.cdist(embeddings, embeddings) + torch.diag(torch.full((len(labels),), float("inf")))
    return (labels[d.argmin(1)] == labels).float().mean().item()


def verification_reversed(distances, same, threshold):
    predicted_same = distances > threshold
    return (predicted_same == same).float().mean().item()


def verification_inclusive(distances, same, threshold):
    right = sum(int((d <= threshold) == s) for d, s in zip(distances.tolist(), same.tolist()))
    return right / len(distances)


def verification_tar(distances, same, threshold):
    accepted = (distances < threshold) & same
    return accepted.sum().item() / same.sum().item()


def verification_error(distances, same, threshold):
    return 1.0 - ((distances < threshold) == same).float().mean().item()


MUTANTS = [
    ("recall_at_1", "query matched with itself", recall_self_included),
    ("recall_at_1", "Recall@2 instead of Recall@1", recall_two_neighbours),
    ("recall_at_1", "cosine instead of Euclidean", recall_cosine),
    ("recall_at_1", "dot product as similarity", recall_dot),
    ("recall_at_1", "farthest instead of nearest", recall_farthest),
    ("recall_at_1", "lone points counted as misses", recall_all_points),
    ("verification_accuracy", "decision reversed", verification_reversed),
    ("verification_accuracy", "pair at the threshold declared same", verification_inclusive),
    ("verification_accuracy", "accuracy on the same pairs only", verification_tar),
    ("verification_accuracy", "error rate instead of accuracy", verification_error),
]


@pytest.mark.parametrize("name, mistake, mutant", MUTANTS, ids=[f"{n}-{m}" for n, m, _ in MUTANTS])
def test_mutant_is_rejected_with_its_hint(name, mistake, mutant):
    report = checks.evaluate(name, mutant)
    assert report.status != "pass"
    assert f"Likely mistake — {mistake}:" in report.message, report.message


def test_every_catalogued_mistake_has_a_mutant():
    for name in {n for n, _, _ in MUTANTS}:
        covered = {m for n, m, _ in MUTANTS if n == name}
        assert covered == {m.name for m in checks.get(name).mistakes}, name


def test_the_library_recall_agrees_with_the_exercise():
    from utils.retrieval import recall_at_k

    report = checks.evaluate("recall_at_1", lambda embeddings, labels: recall_at_k(embeddings, labels, k=1))
    assert report.status == "pass", report.message
