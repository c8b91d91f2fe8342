package com.alpyperl.examples.inventory;

import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * A minimal discrete-event scheduler, the part of a simulation engine this example needs: actions
 * scheduled at model times run in time order; actions scheduled for the same time run in the order
 * they were scheduled, so a run is reproducible. Model time is measured in days.
 *
 * <p>In AnyLogic the engine does this for you: an Event object, a Schedule or a {@code create_...}
 * call puts entries into the engine's queue, and its experiment advances the clock.
 */
final class EventQueue {

    /** One scheduled action. */
    private static final class Event {
        final double time;
        final long sequence;
        final Runnable action;

        Event(double time, long sequence, Runnable action) {
            this.time = time;
            this.sequence = sequence;
            this.action = action;
        }
    }

    private final PriorityQueue<Event> events = new PriorityQueue<>(
            Comparator.comparingDouble((Event event) -> event.time).thenComparingLong(event -> event.sequence));
    private long scheduled;
    private double now;

    /** The current model time (days): the time of the event being run, or of the last one run. */
    double now() {
        return now;
    }

    /** Schedules {@code action} to run at model time {@code time}, which must not lie in the past. */
    void scheduleAt(double time, Runnable action) {
        if (!(time >= now)) {
            throw new IllegalArgumentException("cannot schedule an event at " + time + ", before the current time " + now);
        }
        events.add(new Event(time, scheduled++, action));
    }

    /** Schedules {@code action} to run {@code delay} days from now. */
    void scheduleIn(double delay, Runnable action) {
        scheduleAt(now + delay, action);
    }

    /** The time of the next event, or positive infinity when nothing is scheduled. */
    double nextTime() {
        Event next = events.peek();
        return next == null ? Double.POSITIVE_INFINITY : next.time;
    }

    /** Advances the clock to {@code time} without running anything (no event may be due before it). */
    void advanceTo(double time) {
        if (!(time >= now && time <= nextTime())) {
            throw new IllegalArgumentException("cannot advance the clock from " + now + " to " + time
                    + "; the next event is at " + nextTime());
        }
        now = time;
    }

    /** Advances the clock to the next event and runs it. */
    void runNext() {
        Event next = events.remove();
        now = next.time;
        next.action.run();
    }
}
