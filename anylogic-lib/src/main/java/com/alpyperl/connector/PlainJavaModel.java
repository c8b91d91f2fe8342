package com.alpyperl.connector;

/**
 * A model written in plain Java, run without the AnyLogic engine. The launcher creates a new
 * instance for each episode (public no-argument constructor), sets its {@link ModelParameter}
 * fields and calls {@link #run()}.
 */
public interface PlainJavaModel extends RLModel {

    /**
     * Runs one episode to its end, calling {@link RLConnector#requestAction()} at each decision.
     * Parameters are set after construction and before this call, so read them here.
     */
    void run();
}
