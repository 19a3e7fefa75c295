import numpy as np
import pytest

from cxlens.analytics._quantiles import weighted_quantiles


def test_weighted_quantiles_equal_numpy() -> None:
    sample = np.array([0, 0, 3, 3, 3, 7, 10, 10, 50])
    values, counts = np.unique(sample, return_counts=True)
    assert weighted_quantiles(values, counts, (0.5, 0.9, 0.0, 1.0)) == pytest.approx(
        list(np.quantile(sample, [0.5, 0.9, 0.0, 1.0])))
    assert weighted_quantiles(np.array([5.0]), np.array([1])) == [5.0, 5.0]
