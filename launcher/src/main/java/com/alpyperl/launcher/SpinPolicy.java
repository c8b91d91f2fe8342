package com.alpyperl.launcher;

/**
 * How one side of a hand-off waits for the other: spin first or park at once. Spinning makes a
 * hand-off cost well under a microsecond when both threads have a core of their own; it wastes a
 * core when the other side takes long (a slow model step, a neural network in Python, a machine
 * with more busy threads than cores). So a side spins while spinning pays off, and after a spin
 * that did not, parks at once for the next 1, 2, 4, ... 256 waits before it tries again.
 * Used by one thread at a time.
 */
final class SpinPolicy {
    /**
     * How long a waiting side spins before it parks, when spinning pays off: 50 µs, 0 on a single
     * CPU; the system property {@code alpyperl.spinMicros} sets it for every hand-off of the JVM.
     */
    static final long DEFAULT_SPIN_NANOS = Long.getLong("alpyperl.spinMicros",
            Runtime.getRuntime().availableProcessors() > 1 ? 50 : 0) * 1000L;
    private static final int MAX_WAITS_PARKED = 256;

    private final long spinNanos;
    private int waitsToPark;
    private int backoff = 1;

    /** {@code spinNanos}: how long a wait spins before parking, when it spins at all (0: never). */
    SpinPolicy(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    /** How long the next wait should spin before parking. */
    long nextSpin() {
        if (waitsToPark > 0) {
            waitsToPark--;
            return 0;
        }
        return spinNanos;
    }

    /** Records a wait that spun for up to {@code spun} and took {@code waited} in all. */
    void waited(long spun, long waited) {
        if (spun == 0) {
            return;
        }
        if (waited > spun) {
            waitsToPark = backoff;
            backoff = Math.min(2 * backoff, MAX_WAITS_PARKED);
        } else {
            backoff = 1;
        }
    }
}
