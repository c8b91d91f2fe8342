package com.alpype;

/**
 * ALPypeRL 1.x's randomness setting of the connector. As in 1.x, it changes nothing by itself:
 * {@link ALPypeRLConnector#getRNG()} follows the connector's {@code seed}, whose default is the
 * episode's seed under alpyperl (so {@code reset(seed=...)} replays an episode); a model that sets
 * a fixed {@code seed} gets the same numbers in every episode, as in 1.x.
 */
public enum RandomnessMode {
    UNIQUE_RUNS,
    FIXED_SEED
}
