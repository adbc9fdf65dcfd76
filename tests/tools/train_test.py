#!/usr/bin/python3
"""tools/train's evaluation pieces without torch: the BLEU and ROUGE scorers on
textbook examples with published results, the hash split, the split by
near-duplicate cluster, the extra Debian descriptions, and the summarizer's
training examples."""
import random
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "train"))
import bleu  # noqa: E402
import corpora  # noqa: E402
import debian_archive  # noqa: E402
import rouge  # noqa: E402
import summarization_data  # noqa: E402


class BleuTest(unittest.TestCase):
    def test_sacrebleu_readme_example(self):
        # sacreBLEU's README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943
        # ratio = 0.944 hyp_len = 17 ref_len = 18)
        hyps = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
        refs = [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
                ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]]
        score, p, bp, hyp_len, ref_len = bleu.corpus_bleu(hyps, refs)
        self.assertEqual((hyp_len, ref_len), (17, 18))
        self.assertAlmostEqual(score, 48.53, places=2)
        self.assertEqual([round(x, 1) for x in p], [82.4, 50.0, 45.5, 37.5])
        self.assertAlmostEqual(bp, 0.943, places=3)

    def test_papineni_modified_precision(self):
        # BLEU paper §2.1 (lowercase references): "the the the the the the the" has unigram precision 2/7.
        _, p, _, _, _ = bleu.corpus_bleu(["the the the the the the the"],
                                         [["the cat is on the mat"], ["there is a cat on the mat"]])
        self.assertAlmostEqual(p[0], 100 * 2 / 7)

    def test_identical_is_100_and_empty_is_0(self):
        self.assertAlmostEqual(bleu.corpus_bleu(["A man rides a red bike ."],
                                                [["A man rides a red bike ."]])[0], 100.0)
        self.assertEqual(bleu.corpus_bleu([""], [["Something."]])[0], 0.0)

    def test_13a_tokenization(self):
        self.assertEqual(bleu.tokenize_13a('He said: "3.5 (or 4,000)" -- ok.'),
                         ["He", "said", ":", '"', "3.5", "(", "or", "4,000", ")", '"', "--", "ok", "."])
        self.assertEqual(bleu.tokenize_13a("a &amp; b"), ["a", "&", "b"])


class RougeTest(unittest.TestCase):
    def test_rouge_score_readme_example(self):
        # google-research rouge-score README: rouge1 P 0.75 R 0.667 F 0.706,
        # rougeL P 0.625 R 0.556 F 0.588.
        ref, hyp = "The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log."
        p, r, f = rouge.rouge_n(ref, hyp, 1)
        self.assertAlmostEqual(p, 0.75)
        self.assertAlmostEqual(r, 6 / 9)
        self.assertAlmostEqual(f, 0.7058823529411765)
        p, r, f = rouge.rouge_l(ref, hyp)
        self.assertAlmostEqual(p, 0.625)
        self.assertAlmostEqual(f, 0.5882352941176471)

    def test_bigrams(self):
        p, r, f = rouge.rouge_n("the cat sat on the mat", "the cat on the mat", 2)
        self.assertAlmostEqual(p, 3 / 4)
        self.assertAlmostEqual(r, 3 / 5)


class SplitTest(unittest.TestCase):
    def test_split_is_a_fixed_five_percent_by_text(self):
        texts = [f"sentence number {i}" for i in range(20000)]
        held_out = [t for t in texts if corpora.split_of(t) == "test"]
        self.assertAlmostEqual(len(held_out) / len(texts), 0.05, delta=0.005)
        self.assertEqual([corpora.split_of(t) for t in held_out], ["test"] * len(held_out))
        # SHA-1 based, so the split never depends on the run or the order.
        self.assertEqual(corpora.split_of("A dog runs across the green field."),
                         corpora.split_of("A dog runs across the green field."))



TRANSLATION_EN = """Package: 0ad-data
Description-md5: 26581e685027d5ae84824362a4ba59ee
Description-en: Real-time strategy game of ancient warfare (data files)
 0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform
 real-time strategy (RTS) game of ancient warfare.
 .
 This package contains the main data files required by 0 A.D.

Package: tiny
Description-md5: 0
Description-en: Too short to learn from
 Only a few words here.
"""


class ExtraDescriptionsTest(unittest.TestCase):
    def test_translation_en_is_formatted_as_the_corpus(self):
        # As descriptions.tsv.gz: paragraphs joined by one space, the " ."
        # separators dropped, descriptions under 20 words skipped.
        self.assertEqual(debian_archive.parse_translation(TRANSLATION_EN), [(
            '0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform '
            "real-time strategy (RTS) game of ancient warfare. This package contains the "
            "main data files required by 0 A.D.",
            "Real-time strategy game of ancient warfare (data files)")])

    def test_extras_near_a_held_out_pair_are_dropped(self):
        def text(topic, i):
            return (f"{topic} is a library for {topic} work number {i} with many distinct "
                    f"words about {topic} alone so that clusters stay apart {i} {topic}")
        splits = {"train": [(text("alpha", 1), "a")], "val": [(text("beta", 2), "b")],
                  "test": [(text("gamma", 3), "c")]}
        extra = [(text("gamma", 4), "near test"), (text("beta", 5), "near val"),
                 (text("alpha", 6), "near train"), (text("delta", 7), "new"),
                 (text("alpha", 1), "already known")]
        self.assertEqual([s for _, s in corpora.training_extras(splits, extra)],
                         ["near train", "new"])


class SummarizationDataTest(unittest.TestCase):
    class Tokenizer:  # <s> one id per word </s>, as ByteLevelBpe.encode frames them
        def encode(self, text):
            return [0] + [10 + int(w) for w in text.split()] + [2]

    def test_sources_end_with_one_eos_as_heed_encodes_them(self):
        tokenizer = self.Tokenizer()
        self.assertEqual(summarization_data.source_ids(tokenizer, "1 2 3", 5), [0, 11, 12, 13, 2])
        self.assertEqual(summarization_data.source_ids(tokenizer, "1 2 3 4", 5),
                         [0, 11, 12, 13, 2])

    def test_copy_example_masks_one_span_and_asks_for_the_opening(self):
        mask = 99
        source = [0] + list(range(10, 50)) + [2]
        for seed in range(50):
            src, decoder_input, labels = summarization_data.copy_example(
                source, random.Random(seed), 24, mask)
            self.assertEqual(labels, [0] + list(range(10, 34)) + [2])
            self.assertEqual(decoder_input, [2] + labels[:-1])
            self.assertEqual(src[:2], [0, mask])  # the task's tag
            self.assertEqual(src[-1], 2)
            self.assertLessEqual(len(src), len(source))
            self.assertEqual(src.count(mask), 2)
            span = src.index(mask, 2)
            # Before the span the description is intact; 1-3 tokens are gone at it.
            self.assertEqual(src[2:span], list(range(10, 10 + span - 2)))
            self.assertLess(span - 2, 24)
            self.assertIn(src[span + 1] - (10 + span - 2), (1, 2, 3))

    def test_copy_example_of_a_short_description_keeps_every_token(self):
        mask = 99
        source = [0, 10, 11, 12, 2]  # shorter than the opening
        for seed in range(50):
            src, _, labels = summarization_data.copy_example(source, random.Random(seed), 24,
                                                             mask)
            self.assertEqual(labels, source)
            span = src.index(mask, 2)
            cut = src[span + 1] - 10 if src[span + 1] != 2 else 3
            # Everything but the masked span is there, the last token included.
            self.assertEqual(src[2:span] + [mask] + src[span + 1:],
                             [10 + i for i in range(span - 2)] + [mask]
                             + [10 + i for i in range(cut, 3)] + [2])

    def test_an_epoch_draws_at_most_per_cluster_pairs_of_each_cluster(self):
        examples = [([0, 10 + i, 2], [2, 0], [0, 2]) for i in range(30)]
        clusters = [0] * 20 + [1] * 3 + list(range(2, 9))
        drawn = summarization_data.epoch_examples(examples, clusters, random.Random(1), 4, 0.0,
                                                  24, 99)
        by_cluster = [clusters[examples.index(e)] for e in drawn]
        self.assertEqual(sorted(set(by_cluster)), list(range(9)))
        self.assertEqual(by_cluster.count(0), 4)
        self.assertEqual(by_cluster.count(1), 3)
        self.assertEqual(len(drawn), 4 + 3 + 7)
        with_copies = summarization_data.epoch_examples(examples, clusters, random.Random(1), 4,
                                                        1.0, 24, 99)
        self.assertEqual(len(with_copies), 2 * len(drawn))
        self.assertTrue(all(e[0][1] == 99 for e in with_copies[len(drawn):]))


if __name__ == "__main__":
    unittest.main()
