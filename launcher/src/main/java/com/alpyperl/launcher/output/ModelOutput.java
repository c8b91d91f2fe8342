package com.alpyperl.launcher.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.Arrays;

/**
 * What model threads print. Once installed, {@code System.out} and {@code System.err} are replaced
 * by streams that route what is written by the thread that writes it:
 *
 * <ul>
 * <li>A thread that {@linkplain #route routes} its output to a {@link Route} (a model thread: every
 * session routes its model thread's output to its own {@link InstanceOutput}) has its output cut into
 * whole lines, which go where that instance's output is sent: to the console unchanged (the
 * default), to the caller (Python drains them after a call), to a file, or nowhere.
 * <li>Any other thread's output passes through to the original streams unchanged.
 * <li>Independently of that, a capturing thread (see {@link #capture()}) keeps the tail of what it
 * prints, out and err interleaved. The AnyLogic engine catches the exceptions of model code and
 * prints them on {@code System.err} of the thread that runs it, so that is the only place the
 * cause of a failed run can be read.
 * </ul>
 *
 * <p>A capture belongs to one thread (a thread-local) and only that thread writes to it or reads
 * it; a route synchronizes itself (its model thread writes, the caller drains);
 * the original streams synchronize themselves.
 */
public final class ModelOutput {
    /** How much of a thread's output is kept: the tail, where an error report is. */
    static final int KEPT_BYTES = 64 * 1024;

    private static final ThreadLocal<Capture> CAPTURES = new ThreadLocal<>();
    private static final ThreadLocal<Route> ROUTES = new ThreadLocal<>();
    private static PrintStream installedOut;
    private static PrintStream installedErr;
    private static volatile PrintStream originalOut = System.out;
    private static volatile PrintStream originalErr = System.err;

    private ModelOutput() {
    }

    /** Where a routed thread's output goes (an {@link InstanceOutput}). */
    public interface Route {
        /**
         * Takes bytes the routed thread printed ({@code isErr}: on {@code System.err}); returns
         * false if they are to pass through to the original stream unchanged.
         */
        boolean take(boolean isErr, byte[] bytes, int offset, int length);
    }

    /**
     * Starts keeping what the calling thread prints, from empty, until the capture is closed.
     * Installs the routing streams first, again if someone replaced them meanwhile.
     */
    public static Capture capture() {
        install();
        Capture capture = new Capture();
        CAPTURES.set(capture);
        return capture;
    }

    /**
     * Drops what the calling thread prints from now until its capture is closed: the episode it
     * runs was abandoned, and what the engine reports while it unwinds is no error of the model.
     */
    public static void silenceCurrentThread() {
        Capture capture = CAPTURES.get();
        if (capture != null) {
            capture.silenced = true;
        }
    }

    /**
     * Sends what the calling thread prints from now on (for the rest of its life) to {@code output}.
     * Installs the routing streams first, again if someone replaced them meanwhile.
     */
    public static void route(Route output) {
        install();
        ROUTES.set(output);
    }

    /** The output stream that was there before ours (where a line goes that must reach the console). */
    static PrintStream originalOut() {
        return originalOut;
    }

    /** The error stream that was there before ours (where alpyperl's own complaints go). */
    static PrintStream originalErr() {
        return originalErr;
    }

    private static synchronized void install() {
        if (System.out != installedOut) {
            originalOut = System.out;
            installedOut = new PrintStream(new Router(System.out, false), true);
            System.setOut(installedOut);
        }
        if (System.err != installedErr) {
            originalErr = System.err;
            installedErr = new PrintStream(new Router(System.err, true), true);
            System.setErr(installedErr);
        }
    }

    /** The output a thread printed since its capture began (the last {@value #KEPT_BYTES} bytes). */
    public static final class Capture implements AutoCloseable {
        private byte[] kept = new byte[1024];
        private int size;
        private boolean silenced;

        /** What the thread printed (the tail), decoded as the streams encode it. */
        public String text() {
            return new String(kept, 0, size, Charset.defaultCharset());
        }

        /** Stops capturing on this thread. */
        @Override
        public void close() {
            if (CAPTURES.get() == this) {
                CAPTURES.remove();
            }
        }

        private void keep(byte[] bytes, int offset, int length) {
            if (length >= KEPT_BYTES) {
                System.arraycopy(bytes, offset + length - KEPT_BYTES, ensure(KEPT_BYTES), 0, KEPT_BYTES);
                size = KEPT_BYTES;
                return;
            }
            if (size + length > KEPT_BYTES) {
                int drop = size + length - KEPT_BYTES;
                System.arraycopy(kept, drop, kept, 0, size - drop);
                size -= drop;
            }
            System.arraycopy(bytes, offset, ensure(size + length), size, length);
            size += length;
        }

        private byte[] ensure(int capacity) {
            if (kept.length < capacity) {
                kept = Arrays.copyOf(kept, Math.min(KEPT_BYTES, Math.max(capacity, 2 * kept.length)));
            }
            return kept;
        }
    }

    /**
     * Passes what a thread writes to its instance's output if it has one, else to the original
     * stream; also keeps what a capturing thread writes.
     */
    private static final class Router extends OutputStream {
        private final PrintStream original;
        private final boolean isErr;

        Router(PrintStream original, boolean isErr) {
            this.original = original;
            this.isErr = isErr;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            Capture capture = CAPTURES.get();
            if (capture != null) {
                if (capture.silenced) {
                    return;
                }
                capture.keep(bytes, offset, length);
            }
            Route output = ROUTES.get();
            if (output == null || !output.take(isErr, bytes, offset, length)) {
                original.write(bytes, offset, length);
            }
        }

        @Override
        public void flush() throws IOException {
            original.flush();
        }
    }
}
