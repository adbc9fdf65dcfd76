"""Sentiment labels from VADER's mean human ratings, and the scores the model
card quotes; shared by training and evaluation (which needs no torch)."""

# Neutral band of the mean human rating (−4…+4): |mean| < BAND is dropped.
BAND = 0.5


def labelled(rows, band):
    return [(text, int(score > 0)) for score, text in rows if abs(score) >= band]


def scores(gold, predicted):
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    f1s = []
    for label in (0, 1):
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label != g for g, p in zip(gold, predicted))
        fn = sum(g == label != p for g, p in zip(gold, predicted))
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return accuracy, sum(f1s) / 2
