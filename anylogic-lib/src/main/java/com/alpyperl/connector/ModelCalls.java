package com.alpyperl.connector;

/** Calls into model code whose failures name the call that failed (a {@link ModelException}). */
final class ModelCalls {
    private ModelCalls() {
    }

    /** Model code that returns a value. */
    interface ModelCall<T> {
        T run();
    }

    /**
     * Runs {@code call}; an exception it throws becomes a {@link ModelException} naming {@code what}
     * (the connector's own ModelExceptions and the signal of an abandoned episode pass unchanged).
     */
    static <T> T call(String what, ModelCall<T> call) {
        return call(what, null, call);
    }

    /**
     * Runs {@code call}, the method {@code method} of the agent {@code agentId} (or of the model,
     * if null); the name is put together only when the call fails, as calls per agent are many.
     */
    static <T> T call(String method, String agentId, ModelCall<T> call) {
        try {
            return call.run();
        } catch (EpisodeAbandoned | ModelException e) {
            throw e;
        } catch (Throwable t) {
            throw new ModelException(method + (agentId == null ? "" : " of agent " + agentId) + " threw " + t, t);
        }
    }
}
