package com.alpyperl.connector;

/**
 * Thrown out of {@link RLConnector#requestAction()} when the host ends the episode early (a
 * reset or close while the model waits for an action). It unwinds the model's run; model code
 * must not catch it.
 */
public final class EpisodeAbandoned extends Error {
    private static final long serialVersionUID = 1L;

    public EpisodeAbandoned() {
        super("the episode was abandoned by reset() or close()", null, false, false);
    }
}
