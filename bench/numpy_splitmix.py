"""SplitMix64 draws and the bootstrap's B x n resample matrix, as src/engine/evaluation/bootstrap.ts, vectorised in
numpy's uint64 arithmetic (shared by numpy_reference.py and numpy_evaluation.py)."""
import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
RESAMPLES = 1000


def splitmix_uniforms(seed, count, start=0):
    """Uniforms u = (z >> 11) * 2^-53 of draws start..start+count-1 of a SplitMix64 stream seeded with `seed`."""
    with np.errstate(over="ignore"):
        state = np.uint64(seed) + GAMMA * np.arange(start + 1, start + count + 1, dtype=np.uint64)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def resample_matrix(seed, n, resamples=RESAMPLES):
    """Row b: the n unit indices floor(u * n) of resample b, drawn in order from one stream."""
    return np.floor(splitmix_uniforms(seed, resamples * n) * n).astype(np.int64).reshape(resamples, n)
