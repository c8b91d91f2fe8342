package com.alpyperl.launcher;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The hand-off with a virtual model thread that a {@link CarrierLane} runs together with other
 * sessions' models. The model thread never spins: parking lets its carrier run the lane's other
 * models (a continuation switch). The lane watches when the model resumed, to give up on one that
 * runs past the step timeout or stays pinned to the carrier.
 */
final class LaneHandoff extends Handoff {
    /** {@link #exchangeStartedAt()} while the model has not resumed for the current exchange. */
    static final long NOT_RESUMED = Long.MIN_VALUE;

    private final CarrierLane lane;
    /**
     * When the virtual model thread resumed for the current exchange (System.nanoTime), or
     * NOT_RESUMED; written with release stores (cheap), read only by a group whose wait ran out.
     */
    private final AtomicLong exchangeStartedAt = new AtomicLong(NOT_RESUMED);

    LaneHandoff(String modelName, CarrierLane lane) {
        super(modelName);
        this.lane = lane;
    }

    @Override
    Thread newThread(ModelWorker worker, String name) {
        return VirtualThreads.newThread(lane, name, worker);
    }

    @Override
    void handingOver() {
        exchangeStartedAt.lazySet(NOT_RESUMED);
    }

    @Override
    void awaitModelTurn(ModelWorker self) {
        parkUntilModelTurn(self);
        exchangeStartedAt.lazySet(System.nanoTime());
        lane.resumed(this);
    }

    /** When the virtual model thread resumed for the current exchange (System.nanoTime), or {@link #NOT_RESUMED}. */
    long exchangeStartedAt() {
        return exchangeStartedAt.get();
    }

    /**
     * The model handed back but its virtual thread kept the carrier thread {@code carrierName}:
     * it is pinned there (it called requestAction() from native code or a class initializer).
     * Gives up on the model thread and returns the error to report.
     */
    StepTimeoutException abandonPinned(String carrierName) {
        ModelWorker stuck = orphanWorker();
        return pinnedError(stuck, "carrier thread " + carrierName);
    }
}
