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
}
