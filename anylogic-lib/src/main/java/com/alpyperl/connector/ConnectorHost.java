package com.alpyperl.connector;

import java.nio.DoubleBuffer;

/**
 * The side that answers {@link RLConnector#requestAction()}: alpyperl's launcher during training.
 * A host binds itself to the thread that runs a model; connectors created on that thread use it.
 * Model code never uses this class.
 */
public abstract class ConnectorHost {
    private static final ThreadLocal<ConnectorHost> CURRENT = new ThreadLocal<>();

    /** Connectors created on the calling thread from now on are answered by this host. */
    protected final void bindToCurrentThread() {
        CURRENT.set(this);
    }

    static ConnectorHost forCurrentThread() {
        return CURRENT.get();
    }

    /** Model code created a connector on a thread bound to this host. */
    protected abstract void attach(RLConnector connector);

    /** Model code called {@code requestAction()}: choose an action and apply it before returning. */
    protected abstract void decide(RLConnector connector);

    /** The seed of the episode being run on the calling thread. */
    protected abstract long episodeSeed();

    /** The observation space agreed with Python, or {@code null} while it is not known yet. */
    protected Space observationSpace() {
        return null;
    }

    /** The action space agreed with Python, or {@code null} while it is not known yet. */
    protected Space actionSpace() {
        return null;
    }

    /**
     * For a multi-agent model: the spaces of its agent types agreed with Python, as the parsed JSON
     * list {@code [{"observation_space", "action_space"}, ...]} (in the order of the types) that Python
     * sends as {@code "agent_types"} of the table's observation space; {@code null} if none was sent.
     */
    protected Object agentTypeSpaces() {
        return null;
    }

    /** The {@code "agent_types"} member of a space's parsed JSON (see {@link #agentTypeSpaces()}), or null. */
    protected static Object agentTypesOf(Object parsedSpace) {
        return parsedSpace instanceof java.util.Map ? ((java.util.Map<?, ?>) parsedSpace).get("agent_types") : null;
    }

    // ---- calls into model code, each failure naming the call that failed ----------------------

    /** The model's observation, checked to have the size of {@code space}. */
    protected static double[] observe(RLConnector connector, Space space) {
        double[] observation = call("getObservation()", () -> connector.getModel().getObservation());
        if (observation == null) {
            throw new ModelException("getObservation() of the model returned null; the observation space is " + space);
        }
        if (observation.length != space.flatSize()) {
            throw new ModelException("getObservation() of the model returned " + observation.length
                    + " values, but the observation space " + space + " has " + space.flatSize());
        }
        return observation;
    }

    /** The model's reward since the previous decision point. */
    protected static double reward(RLConnector connector) {
        return call("getReward()", () -> connector.getModel().getReward());
    }

    /** Whether the model says it has finished. */
    protected static boolean finished(RLConnector connector) {
        return call("hasFinished()", () -> connector.getModel().hasFinished());
    }

    /** Whether the model says the episode is truncated. */
    protected static boolean truncated(RLConnector connector) {
        return call("isTruncated()", () -> connector.getModel().isTruncated());
    }

    /** The action of {@code space} whose flat values start at {@code offset} in {@code buffer} (read once). */
    protected static RLAction readAction(Space space, DoubleBuffer buffer, int offset) {
        double[] values = new double[space.flatSize()];
        for (int i = 0; i < values.length; i++) {
            values[i] = buffer.get(offset + i);
        }
        return new RLAction(space, values, 0);
    }

    /** Applies {@code action} to the model. */
    protected static void apply(RLConnector connector, RLAction action) {
        call("takeAction()", () -> {
            connector.getModel().takeAction(action);
            return null;
        });
    }

    private interface ModelCall<T> {
        T run();
    }

    private static <T> T call(String method, ModelCall<T> call) {
        try {
            return call.run();
        } catch (EpisodeAbandoned | ModelException e) { // the connector's own, naming the call already
            throw e;
        } catch (Throwable t) {
            throw new ModelException(method + " of the model threw " + t, t);
        }
    }
}
