package com.alpyperl.launcher;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

/**
 * Steps many sessions of one JVM with one call, their models running concurrently on their own
 * threads. The caller says per session what to do through a shared buffer of longs (one per
 * session): {@link #STEP} to apply the action in that session's buffer, or a seed (zero or more)
 * to start a new episode with it. {@link #stepAll()} hands the turn to every model, waits for all
 * of them, and writes each session's status (see {@link ModelSession#RUNNING}) over its command.
 * It returns whether lines the models printed wait for {@link ModelSession#takeOutput()}.
 */
public final class ModelSessionGroup {
    /** Command: apply the action in the session's buffer. */
    public static final long STEP = -1;

    private final ModelSession[] sessions;
    private final LongBuffer commands;

    /** A group of configured sessions; {@code commandBuffer} holds one long per session (native byte order). */
    public ModelSessionGroup(ModelSession[] sessions, ByteBuffer commandBuffer) {
        if (sessions.length == 0) {
            throw new IllegalArgumentException("a session group needs at least one session");
        }
        this.sessions = sessions.clone();
        this.commands = commandBuffer.order(ByteOrder.nativeOrder()).asLongBuffer();
        if (commands.capacity() < sessions.length) {
            throw new IllegalArgumentException("the command buffer holds " + commands.capacity()
                    + " longs; the group has " + sessions.length + " sessions");
        }
    }

    /**
     * Carries out every session's command, the models running concurrently, and writes the
     * statuses. If a session fails, the others still finish their step first; then the failure
     * of the lowest-numbered failing session is thrown, naming that session. Returns true if
     * some session has lines of output waiting for {@link ModelSession#takeOutput()} (their
     * destination is {@code "caller"}), so that a caller without output pays nothing.
     */
    public synchronized boolean stepAll() {
        int started = 0;
        RuntimeException firstFailure = null;
        try {
            for (; started < sessions.length; started++) {
                long command = commands.get(started);
                if (command == STEP) {
                    sessions[started].beginStep();
                } else if (command >= 0) {
                    sessions[started].beginReset(command);
                } else {
                    throw new IllegalArgumentException("command " + command + " for session " + started
                            + " is neither STEP (-1) nor a seed (>= 0)");
                }
            }
        } catch (RuntimeException e) {
            firstFailure = inSession(started, e);
        }
        for (int i = 0; i < started; i++) {
            try {
                commands.put(i, sessions[i].finishExchange());
            } catch (RuntimeException e) {
                if (firstFailure == null) {
                    firstFailure = inSession(i, e);
                }
            }
        }
        if (firstFailure != null) {
            throw firstFailure;
        }
        int waiting = 0;
        for (ModelSession session : sessions) {
            waiting |= session.outputWaiting();
        }
        return waiting != 0;
    }

    /** The number of sessions. */
    public int size() {
        return sessions.length;
    }

    private static RuntimeException inSession(int index, RuntimeException e) {
        String where = "[environment " + index + "] ";
        if (e instanceof ModelFailure) {
            return new ModelFailure(where + e.getMessage(), e.getCause());
        }
        if (e instanceof StepTimeoutException) {
            return new StepTimeoutException(where + e.getMessage());
        }
        if (e instanceof ModelLoadException) {
            return new ModelLoadException(where + e.getMessage(), e);
        }
        if (e instanceof IllegalStateException) {
            return new IllegalStateException(where + e.getMessage(), e);
        }
        return e;
    }
}
