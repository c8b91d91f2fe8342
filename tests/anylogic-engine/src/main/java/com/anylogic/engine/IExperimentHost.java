package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's experiment host: what shows a run (the IDE's window, an export's
 * browser UI). {@link #setPresentable} makes it animate another agent, as ALPypeRL 1.x did with
 * each new root when it restarted episodes inside a running experiment.
 */
public interface IExperimentHost {
    /** Shows {@code presentable} (an agent) from now on. */
    void setPresentable(Object presentable);
}
