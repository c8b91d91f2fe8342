package com.alpyperl.launcher;

import java.util.concurrent.locks.LockSupport;

/**
 * The hand-off with a model thread that is an OS thread of its own: each side spins for its turn
 * while spinning pays off ({@link SpinPolicy}), else parks. A stuck model always times out with
 * its stack shown, and its thread can be given up on.
 */
final class PlatformHandoff extends Handoff {
    private final SpinPolicy modelSpin = new SpinPolicy(SpinPolicy.DEFAULT_SPIN_NANOS);

    PlatformHandoff(String modelName) {
        super(modelName);
    }

    @Override
    Thread newThread(ModelWorker worker, String name) {
        Thread thread = new Thread(worker, name);
        thread.setDaemon(true);
        return thread;
    }

    @Override
    void awaitModelTurn(ModelWorker self) {
        long start = System.nanoTime();
        long spin = modelSpin.nextSpin();
        while (!isModelTurn() && !self.orphaned) {
            if (System.nanoTime() - start < spin) {
                Thread.onSpinWait();
                continue;
            }
            modelParked = true;
            if (!isModelTurn()) {
                LockSupport.park(this);
            }
            modelParked = false;
        }
        modelSpin.waited(spin, System.nanoTime() - start);
    }
}
