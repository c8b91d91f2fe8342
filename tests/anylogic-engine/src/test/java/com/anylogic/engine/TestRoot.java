package com.anylogic.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A root agent shaped like AnyLogic's generated code: a serialVersionUID, a cyclic event {@code
 * tick} started in doStart and destroyed in onDestroy. Each test sets the faults it needs.
 */
class TestRoot extends Agent {
    private static final long serialVersionUID = 1L;

    final EventTimeout tick = new EventTimeout(this);
    final List<Double> tickTimes = new ArrayList<>();
    EventTimeout.Mode mode = EventTimeout.Mode.EVENT_TIMEOUT_MODE_CYCLIC;
    double firstTick = 0;
    double period = 0.02;
    RuntimeException initialValueFault;
    /** Makes the exception On startup throws (made there, so its stack trace is On startup's). */
    Supplier<RuntimeException> startupFault;
    /** Makes the exception or error the event throws. */
    Supplier<Throwable> eventFault;
    boolean destroysItsEvents = true;
    boolean finished;
    boolean destroyed;

    TestRoot(Engine engine) {
        super(engine, null, null);
    }

    @Override
    public void doCreate() {
        super.doCreate();
        if (initialValueFault != null) {
            throw initialValueFault;
        }
    }

    @Override
    public void doStart() {
        super.doStart();
        tick.start();
    }

    @Override
    public void onStartup() {
        if (startupFault != null) {
            throw startupFault.get();
        }
    }

    @Override
    public EventTimeout.Mode getModeOf(EventTimeout event) {
        return mode;
    }

    @Override
    public double getFirstOccurrenceTime(EventTimeout event) {
        return firstTick;
    }

    @Override
    public double evaluateTimeoutOf(EventTimeout event) {
        return period;
    }

    @Override
    public void executeActionOf(EventTimeout event) {
        tickTimes.add(time());
        Throwable fault = eventFault == null ? null : eventFault.get();
        if (fault instanceof RuntimeException) {
            throw (RuntimeException) fault;
        }
        if (fault instanceof Error) {
            throw (Error) fault;
        }
    }

    @Override
    public void doFinish() {
        finished = true;
    }

    @Override
    public void onDestroy() {
        destroyed = true;
        if (destroysItsEvents) {
            tick.onDestroy();
        }
        super.onDestroy();
    }
}
