package com.alpyperl.launcher;

/**
 * The step of a session group as alpyperl's native extension calls it: a static method that takes
 * the group's handle and returns {@link ModelSessionGroup#stepAll()}'s flags, called through JNI
 * without JPype's method dispatch. A step that throws returns {@link #FAILED} instead, and
 * {@link #takeFailure} gives Python the exception (the extension translates no Java exceptions).
 *
 * <p>A handle is a slot number and a generation: a handle of a closed group, whose slot a newer
 * group took, steps nothing and fails with "the environment is closed".
 */
public final class DirectStep {
    /** What {@link #stepAll(int)} returns when the step threw; flags are never negative. */
    public static final int FAILED = -1;

    private static final int SLOT_BITS = 16;
    private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;

    private static final class Entry {
        final int handle;
        final ModelSessionGroup group;
        Throwable failure;

        Entry(int handle, ModelSessionGroup group) {
            this.handle = handle;
            this.group = group;
        }
    }

    private static volatile Entry[] slots = new Entry[16];
    private static int generation;

    private DirectStep() {
    }

    /** Gives {@code group} a handle for {@link #stepAll(int)}; {@link #release} frees it. */
    static synchronized int register(ModelSessionGroup group) {
        Entry[] current = slots;
        int slot = 0;
        while (slot < current.length && current[slot] != null) {
            slot++;
        }
        if (slot == current.length) {
            if (slot > SLOT_MASK) {
                throw new IllegalStateException("more than " + (SLOT_MASK + 1) + " environments are open in this JVM");
            }
            current = java.util.Arrays.copyOf(current, Math.min(2 * current.length, SLOT_MASK + 1));
        }
        generation = (generation + 1) & 0x7fff;
        int handle = (generation << SLOT_BITS) | slot;
        current[slot] = new Entry(handle, group);
        slots = current;
        return handle;
    }

    /** Frees the handle of a closed group. */
    static synchronized void release(int handle) {
        Entry[] current = slots;
        int slot = handle & SLOT_MASK;
        if (slot < current.length && current[slot] != null && current[slot].handle == handle) {
            current[slot] = null;
            slots = current;
        }
    }

    /** Steps the group of {@code handle}: its flags, or {@link #FAILED} (see {@link #takeFailure}). */
    public static int stepAll(int handle) {
        Entry entry = entry(handle);
        if (entry == null) {
            return FAILED;
        }
        try {
            return entry.group.stepAll();
        } catch (Throwable t) {
            entry.failure = t;
            return FAILED;
        }
    }

    /** The exception of the last step of {@code handle} that returned {@link #FAILED}, taken once. */
    public static Throwable takeFailure(int handle) {
        Entry entry = entry(handle);
        if (entry == null) {
            return new IllegalStateException("the environment is closed");
        }
        Throwable failure = entry.failure;
        entry.failure = null;
        return failure != null ? failure : new IllegalStateException("the last step of this environment did not fail");
    }

    private static Entry entry(int handle) {
        Entry[] current = slots;
        int slot = handle & SLOT_MASK;
        Entry entry = slot < current.length ? current[slot] : null;
        return entry != null && entry.handle == handle ? entry : null;
    }
}
