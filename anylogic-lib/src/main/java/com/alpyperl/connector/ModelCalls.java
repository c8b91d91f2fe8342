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
        try {
            return call.run();
        } catch (EpisodeAbandoned | ModelException e) {
            throw e;
        } catch (Throwable t) {
            throw new ModelException(what + " threw " + t, t);
        }
    }

    /**
     * Runs {@code call}, the method {@code method} of agent {@code agentId}; an exception it throws
     * becomes a {@link ModelException} naming both (the text is built only then: this is called
     * several times per agent and crossing).
     */
    static <T> T call(String method, String agentId, ModelCall<T> call) {
        try {
            return call.run();
        } catch (EpisodeAbandoned | ModelException e) {
            throw e;
        } catch (Throwable t) {
            throw new ModelException(method + " of agent " + agentId + " threw " + t, t);
        }
    }
}
