"""Exercises of 09 Embedding geometry: leave-one-out Recall@1, and verification by a distance threshold."""

from __future__ import annotations

import torch

from utils.checks import Exercise, Mistake, register

NOTEBOOK = "ex09_embedding_geometry"


# --------------------------------------------------------------------------- recall_at_1
def _clustered(generator, n, dim, classes, spread):
    """Class centres plus noise, each row rescaled by a random factor (so cosine and Euclidean disagree)."""
    labels = torch.randint(0, classes, (n,), generator=generator)
    centres = torch.randn(classes, dim, generator=generator, dtype=torch.float64)
    x = centres[labels] + spread * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    x = x * (0.2 + 3.0 * torch.rand(n, 1, generator=generator, dtype=torch.float64))
    return x, labels


def _retrieval_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    # the notebook's worked example: 0 and 1 retrieve each other (hits), 2 retrieves 1 and 3 retrieves 0
    # (misses); 4 is alone in its class and is left out of the average: Recall@1 = 2/4
    cases = [dict(embeddings=torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.2], [6.0, 1.0], [10.0, 10.0]],
                                          dtype=torch.float64),
                  labels=torch.tensor([0, 0, 1, 1, 2]))]
    shapes = ((20, 2, 3, 0.7), (60, 8, 5, 0.9), (30, 3, 4, 0.6), (45, 5, 3, 0.8))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: one class of two points, few or many points, wide embeddings
        shapes = ((2, 3, 1, 0.1), (12, 2, 3, 0.8), (150, 16, 10, 0.9), (301, 4, 7, 1.2))
    ### END HIDDEN
    for index, (n, dim, classes, spread) in enumerate(shapes):
        x, labels = _clustered(generator, n, dim, classes, spread)
        if index % 2 == 1:  # one point alone in its class (left out of the average)
            labels[0] = classes
        cases.append(dict(embeddings=x, labels=labels))
    ### BEGIN HIDDEN
    if hidden:  # one pair of class 0 among points that are each alone in their class
        cases.append(dict(embeddings=torch.randn(5, 3, generator=generator, dtype=torch.float64),
                          labels=torch.tensor([0, 1, 0, 2, 3])))
    ### END HIDDEN
    return cases


def _reference_recall(embeddings, labels):
    y = labels.tolist()
    hits, queries = 0, 0
    for i in range(len(y)):
        if y.count(y[i]) < 2:
            continue  # alone in its class: no possible hit, not a query
        squared = ((embeddings - embeddings[i]) ** 2).sum(dim=1).tolist()
        others = [j for j in range(len(y)) if j != i]
        nearest = min(others, key=lambda j: squared[j])
        hits += y[nearest] == y[i]
        queries += 1
    return hits / queries


def _queries(labels):
    return (labels[:, None] == labels[None, :]).sum(dim=1) > 1


def _neighbour_hits(ranking, labels):
    return (labels[ranking] == labels).double()[_queries(labels)].mean().item()


def _lone_counted(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    d.fill_diagonal_(float("inf"))
    return (labels[d.argmin(dim=1)] == labels).double().mean().item()


def _with_self(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    return _neighbour_hits(d.argmin(dim=1), labels)


def _recall_at_2(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    d.fill_diagonal_(float("inf"))
    two = d.topk(2, dim=1, largest=False).indices
    return (labels[two] == labels[:, None]).any(dim=1).double()[_queries(labels)].mean().item()


def _cosine(embeddings, labels):
    z = embeddings / embeddings.norm(dim=1, keepdim=True)
    s = z @ z.T
    s.fill_diagonal_(-float("inf"))
    return _neighbour_hits(s.argmax(dim=1), labels)


def _dot_product(embeddings, labels):
    s = embeddings @ embeddings.T
    s.fill_diagonal_(-float("inf"))
    return _neighbour_hits(s.argmax(dim=1), labels)


def _farthest(embeddings, labels):
    d = torch.cdist(embeddings, embeddings)
    return _neighbour_hits(d.argmax(dim=1), labels)


RECALL_AT_1 = register(Exercise(
    name="recall_at_1",
    notebook=NOTEBOOK,
    function="recall_at_1",
    points=3,
    reference=_reference_recall,
    make_cases=_retrieval_cases,
    mistakes=(
        Mistake("query matched with itself",
                "every point is its own nearest neighbour (distance 0), so your recall is always 1. Leave the "
                "query out: set the diagonal of the distance matrix to +inf before taking the minimum.",
                _with_self),
        Mistake("Recall@2 instead of Recall@1",
                "you count a hit when either of the two nearest other points shares the label; Recall@1 looks "
                "at the single nearest one.", _recall_at_2),
        Mistake("cosine instead of Euclidean",
                "your neighbours are the closest in angle (cosine similarity of normalised rows); the exercise "
                "asks for the Euclidean distance between the embeddings as given.", _cosine),
        Mistake("dot product as similarity",
                "the largest inner product x_i·x_j is not the nearest point: long vectors win whatever their "
                "direction. Use the Euclidean distance (torch.cdist) and take the smallest.", _dot_product),
        Mistake("farthest instead of nearest",
                "you take the largest distance: the nearest neighbour is the argmin of the distances "
                "(with the query itself excluded).", _farthest),
        Mistake("lone points counted as misses",
                "a point alone in its class cannot have a same-class neighbour: it is not a query and is "
                "left out of the average (the convention of utils.retrieval and of Musgrave et al. 2020). "
                "Average over the points whose label occurs at least twice.", _lone_counted),
    ),
    description="Leave-one-out Recall@1 with Euclidean nearest neighbours, over points that have a classmate.",
))


# --------------------------------------------------------------------------- verification_accuracy
def _verification_cases(generator: torch.Generator, hidden: bool) -> list[dict]:
    # distances on a grid of 1/8 so that ties with the threshold are exact
    cases = [dict(distances=torch.tensor([0.25, 0.5, 1.0, 1.5, 0.75], dtype=torch.float64),
                  same=torch.tensor([True, True, False, False, True]), threshold=1.0)]
    sizes = ((12, 1.0), (40, 0.5))
    ### BEGIN HIDDEN
    if hidden:  # the grader's cases: other sizes (one pair, odd, large) and thresholds
        sizes = ((1, 0.5), (9, 1.0), (100, 1.25), (257, 0.75))
    ### END HIDDEN
    for n, threshold in sizes:
        same = torch.rand(n, generator=generator) < 0.5
        # same pairs tend to be closer, with overlap; some pairs exactly at the threshold
        grid = torch.randint(0, 12, (n,), generator=generator).to(torch.float64) / 8
        distances = torch.where(same, grid, grid + 0.5)
        distances[torch.rand(n, generator=generator) < 0.15] = threshold
        cases.append(dict(distances=distances, same=same, threshold=threshold))
    return cases


def _reference_verification(distances, same, threshold):
    right = 0
    for d, s in zip(distances.tolist(), same.tolist()):
        declared_same = d < threshold
        right += declared_same == bool(s)
    return right / len(distances.tolist())


VERIFICATION_ACCURACY = register(Exercise(
    name="verification_accuracy",
    notebook=NOTEBOOK,
    function="verification_accuracy",
    points=2,
    reference=_reference_verification,
    make_cases=_verification_cases,
    mistakes=(
        Mistake("decision reversed",
                "you declare a pair 'same' when it is far apart: a pair is the same identity when its "
                "distance is BELOW the threshold.",
                lambda distances, same, threshold: ((distances > threshold) == same).double().mean().item()),
        Mistake("pair at the threshold declared same",
                "a pair exactly at the threshold must be declared different (d < threshold is 'same'): "
                "use a strict inequality.",
                lambda distances, same, threshold: ((distances <= threshold) == same).double().mean().item()),
        Mistake("accuracy on the same pairs only",
                "you measure the fraction of SAME pairs accepted (true accept rate); accuracy counts every "
                "pair, same and different, that is classified correctly.",
                lambda distances, same, threshold: (distances[same] < threshold).double().mean().item()),
        Mistake("error rate instead of accuracy",
                "you return the fraction of pairs classified WRONGLY (which is also what declaring 'same' for "
                "d >= threshold gives); return the fraction classified correctly, with 'same' for d < threshold.",
                lambda distances, same, threshold: ((distances < threshold) != same).double().mean().item()),
    ),
    description="Accuracy of declaring a pair 'same' when its distance is below a threshold.",
))
