package com.anylogic.engine;

/**
 * TEST DOUBLE of AnyLogic's timeout event. Its owner agent says, in generated code, when it
 * occurs ({@link Agent#getModeOf}, {@link Agent#getFirstOccurrenceTime}, {@link
 * Agent#evaluateTimeoutOf}) and what it does ({@link Agent#executeActionOf}). At most one
 * occurrence is scheduled at a time.
 *
 * <p>As measured on AnyLogic 8.7.12, a cyclic event's next occurrence is the time of the current
 * one plus the period, so the times drift: first occurrence 0 and period 0.02 give
 * 9.999999999999876 for the 501st occurrence (not 10). Here the next occurrence is scheduled before
 * the action runs, so an action that calls {@link #reset()} ends the cycle (assumption, not
 * measured).
 *
 * <p>Generated code destroys its events in the owner's {@link Agent#onDestroy()} with {@link
 * #onDestroy()}; an event left scheduled when the run is stopped makes {@link Engine#stop()}
 * report an internal error, as AnyLogic's engine does.
 */
public class EventTimeout {
    /** How an event recurs: cyclically, once, or only when restarted by model code. */
    public enum Mode { EVENT_TIMEOUT_MODE_CYCLIC, EVENT_TIMEOUT_MODE_ONCE, EVENT_TIMEOUT_MODE_USER }

    private final Agent owner;
    private Engine.Scheduled pending;

    /** An event of {@code owner}. */
    public EventTimeout(Agent owner) {
        this.owner = owner;
    }

    /** Schedules the first occurrence (nothing for an event in user mode); the owner's generated doStart calls it. */
    public void start() {
        if (owner.getModeOf(this) != Mode.EVENT_TIMEOUT_MODE_USER) {
            scheduleAt(owner.getFirstOccurrenceTime(this));
        }
    }

    /** Cancels the scheduled occurrence, if any, and schedules one after the event's timeout from now. */
    public void restart() {
        restart(owner.evaluateTimeoutOf(this));
    }

    /** Cancels the scheduled occurrence, if any, and schedules one {@code timeout} from now. */
    public void restart(double timeout) {
        reset();
        scheduleAt(owner.time() + timeout);
    }

    /** Cancels the scheduled occurrence, if any. */
    public void reset() {
        if (pending != null) {
            owner.getEngine().cancel(pending);
            pending = null;
        }
    }

    /** Destroys the event: cancels its scheduled occurrence. Generated code calls it in the owner's onDestroy(). */
    public void onDestroy() {
        reset();
    }

    /** Whether an occurrence is scheduled. */
    public boolean isActive() {
        return pending != null;
    }

    /** The owner agent. */
    public Agent getAgent() {
        return owner;
    }

    /** Called by the engine at the scheduled time. */
    void execute() {
        pending = null;
        if (owner.getModeOf(this) == Mode.EVENT_TIMEOUT_MODE_CYCLIC) {
            scheduleAt(owner.time() + owner.evaluateTimeoutOf(this));
        }
        owner.executeActionOf(this);
    }

    private void scheduleAt(double time) {
        reset();
        pending = owner.getEngine().schedule(time, this);
    }
}
