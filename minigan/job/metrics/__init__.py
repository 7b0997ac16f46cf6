"""minigan.job.metrics: is the generator getting better, and has it collapsed?

A small CNN classifier, trained on the real data (``classifier.py``, cached by
``cache.py``), looks at real and generated images; three measurements compare
what it sees:

    frechet.py    Fréchet distance between Gaussians fitted to the classifier's features (FID's recipe)
    score.py      classifier score (the Inception Score's recipe) and mode coverage by class
    conditional.py  a conditional G: conditional accuracy and the Fréchet distance within each class
    evaluate.py   evaluate_generator: all of them for n samples of a generator, as a dict
    folder_classifier.py  a folder with a sub-folder per class: the classifier trained on most of it, cached by content
    modes.py      mode collapse counted: modes, % high quality, reverse KL (2D); modes, KL (Stacked MNIST)

Typical use::

    from minigan.job.data import load_fashion_mnist
    from minigan.job.metrics import evaluate_generator, load_or_train_classifier

    clf = load_or_train_classifier("fashion-mnist")          # trained once, then loaded from the cache
    real, _ = load_fashion_mnist(train=False)                # the 10,000 test images, uint8
    result = evaluate_generator(lambda m: trainer.generate(n=m), clf, real, n=10000)
    result["frechet_distance"], result["classifier_score"], result["classes_present"]

To evaluate many checkpoints against the same real set, compute its side once:
``stats = real_statistics(clf, real)``, then ``evaluate_generator(fn, clf, real_stats=stats)``.
"""
from .cache import CorruptClassifierCache, classifier_path, load_classifier, load_or_train_classifier, save_classifier
from .classifier import Classifier, accuracy, to_input, train_classifier
from .conditional_accuracy import class_statistics, conditional_accuracy, conditional_measures
from .evaluate import RealStatistics, array_source, evaluate_generator, real_statistics
from .modes import mode_measures, reverse_kl, stacked_measures, stacked_modes
from .frechet import feature_statistics, frechet_distance, sqrtm_psd, trace_sqrt_product
from .score import class_histogram, classifier_score, coverage, reference_distribution

__all__ = [
    "Classifier", "CorruptClassifierCache", "RealStatistics", "accuracy", "array_source", "class_histogram",
    "class_statistics", "conditional_accuracy", "conditional_measures",
    "classifier_path", "classifier_score", "coverage", "evaluate_generator", "feature_statistics",
    "frechet_distance", "load_classifier", "load_or_train_classifier", "real_statistics",
    "reference_distribution", "save_classifier", "sqrtm_psd", "to_input", "trace_sqrt_product",
    "train_classifier", "mode_measures", "reverse_kl", "stacked_measures", "stacked_modes",
]
