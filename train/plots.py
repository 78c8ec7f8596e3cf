"""The loss and accuracy curves of a training run, as a PNG."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: training runs on machines with no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_history(history: dict[str, list[float]], path: Path, title: str) -> None:
    epochs = range(1, len(history["loss"]) + 1)
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, history[metric], marker="o", label="train")
        axes.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100, format="png")
    plt.close(figure)
