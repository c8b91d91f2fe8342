package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's timeout event. Its owner agent says, in generated code, when it
 * occurs ({@link Agent#getModeOf}, {@link Agent#getFirstOccurrenceTime}, {@link
 * Agent#evaluateTimeoutOf}) and what it does ({@link Agent#executeActionOf}). A cyclic event's
 * k-th occurrence is at {@code first + k * period} (no accumulated rounding).
 */
public class EventTimeout {
    /** When an event occurs: once, or cyclically. */
    public enum Mode { EVENT_TIMEOUT_MODE_ONCE, EVENT_TIMEOUT_MODE_CYCLIC }

    private final Agent owner;
    private long generation;

    /** An event of {@code owner}. */
    public EventTimeout(Agent owner) {
        this.owner = owner;
    }

    /** Schedules the first occurrence. */
    public void start() {
        long current = ++generation;
        double first = owner.getFirstOccurrenceTime(this);
        schedule(current, first, 0);
    }

    /** Cancels the event. */
    public void reset() {
        generation++;
    }

    private void schedule(long current, double first, long occurrence) {
        Engine engine = owner.getEngine();
        double period = occurrence == 0 ? 0 : owner.evaluateTimeoutOf(this);
        engine.schedule(first + occurrence * period, () -> {
            if (current != generation) {
                return;
            }
            owner.executeActionOf(this);
            if (current == generation && owner.getModeOf(this) == Mode.EVENT_TIMEOUT_MODE_CYCLIC) {
                schedule(current, first, occurrence + 1);
            }
        });
    }
}
