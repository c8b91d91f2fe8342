package com.alpyperl.launcher.output;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Where the output of one model instance goes. {@link ModelOutput} hands it the bytes its model
 * thread prints on {@code System.out} and {@code System.err}; it cuts them into whole lines (one
 * partial line per stream, so pieces printed with {@code print()} come out as one line) and
 * sends each line to the instance's destination:
 *
 * <ul>
 * <li>{@link Destination#CONSOLE}: the bytes pass through to the console unchanged, not cut into
 * lines (what printing does without alpyperl; the default);
 * <li>{@link Destination#CALLER}: lines wait here until the caller {@linkplain #takeLines() takes}
 * them (Python logs them, labelled with the instance); at most {@value #MAX_WAITING_CHARS}
 * characters wait, further lines are counted and dropped;
 * <li>{@link Destination#FILE}: lines are appended to a file (UTF-8), flushed line by line;
 * <li>{@link Destination#OFF}: lines are dropped.
 * </ul>
 *
 * A partial last line is completed by {@link #endLines()} (the model worker calls it when an
 * episode ends). A line printed while a multi-agent model's connector calls an agent's method is
 * labelled with the agent's id (see {@link #labelAgentsWith}): in {@link #takeLines()} after its
 * stream character, between two {@value #AGENT} characters; in a file, as {@code [agent] } before it. Thread-safe: the model thread writes, the caller takes, and after a step timeout an
 * abandoned model thread may still write while a new one does.
 */
public final class InstanceOutput implements ModelOutput.Route {
    /** Where the lines go. */
    public enum Destination { CONSOLE, CALLER, FILE, OFF }

    /** A line longer than this many bytes is cut into pieces of this size. */
    static final int MAX_LINE_BYTES = 64 * 1024;
    /** How many characters of lines wait for the caller at most; further lines are dropped. */
    static final int MAX_WAITING_CHARS = 1024 * 1024;
    /** In {@link #takeLines()}: the first character of a line printed on {@code System.out}. */
    static final char OUT = 'O';
    /** In {@link #takeLines()}: the first character of a line printed on {@code System.err}. */
    static final char ERR = 'E';
    /** In {@link #takeLines()}: before and after the id of the agent that printed the line, if any. */
    static final char AGENT = '\u001f';

    private final String label;
    private final LineBuffer out = new LineBuffer();
    private final LineBuffer err = new LineBuffer();
    private Destination destination = Destination.CONSOLE;
    private Writer file;
    private String filePath;
    private final StringBuilder waiting = new StringBuilder();
    private long droppedLines;
    /** Whether lines wait for the caller: read on every step, so it is a plain volatile flag. */
    private volatile boolean linesWaiting;
    /** The agent whose method runs on the printing thread, or null (see {@link #labelAgentsWith}). */
    private Supplier<String> agentInCall = () -> null;

    /** The output of the instance {@code label} (used in alpyperl's own messages), going to the console. */
    public InstanceOutput(String label) {
        this.label = label;
    }

    /**
     * Labels each line completed by the model's thread with what {@code agentInCall} returns then
     * (on that thread): the id of the agent whose method is running, or null for none.
     */
    public synchronized void labelAgentsWith(Supplier<String> agentInCall) {
        this.agentInCall = agentInCall;
    }

    /** The current destination. */
    synchronized Destination destination() {
        return destination;
    }

    /**
     * Sends the lines from now on to {@code newDestination}; {@code path} is the file for {@link
     * Destination#FILE} (appended to, its folder must exist) and ignored otherwise. A partial line
     * goes to the old destination first.
     *
     * @throws IllegalArgumentException if the file cannot be opened for writing (with the reason)
     */
    public synchronized void sendTo(Destination newDestination, String path) {
        Writer opened = null;
        if (newDestination == Destination.FILE) {
            if (path == null || path.isEmpty()) {
                throw new IllegalArgumentException("the model's output can only go to a file if its path is given");
            }
            try {
                opened = new OutputStreamWriter(new FileOutputStream(path, true), StandardCharsets.UTF_8);
            } catch (IOException | SecurityException e) {
                throw new IllegalArgumentException("cannot write the output of the model instance " + label
                        + " to " + path + ": " + e.getMessage(), e);
            }
        }
        endLines();
        closeFile();
        destination = newDestination;
        file = opened;
        filePath = opened == null ? null : path;
    }

    /**
     * Takes bytes the instance's model thread printed; returns false if they are to pass through
     * to the console unchanged (destination {@link Destination#CONSOLE}).
     */
    @Override
    public synchronized boolean take(boolean isErr, byte[] bytes, int offset, int length) {
        if (destination == Destination.CONSOLE) {
            return false;
        }
        LineBuffer line = isErr ? err : out;
        int end = offset + length;
        int start = offset;
        for (int i = offset; i < end; i++) {
            if (bytes[i] == '\n') {
                line.append(bytes, start, i - start);
                String agent = agentInCall.get();
                while (line.size > MAX_LINE_BYTES) {
                    emit(isErr, line, agent);
                }
                emit(isErr, line, agent);
                start = i + 1;
            }
        }
        line.append(bytes, start, end - start);
        while (line.size >= MAX_LINE_BYTES) {
            emit(isErr, line, agentInCall.get());
        }
        return true;
    }

    /** Completes the partial last lines (the episode ended, or the session closes). */
    public synchronized void endLines() {
        if (out.size > 0) {
            emit(false, out, null);
        }
        if (err.size > 0) {
            emit(true, err, null);
        }
    }

    /** Whether lines wait for the caller (cheap: read after every step). */
    public boolean hasWaitingLines() {
        return linesWaiting;
    }

    /**
     * The lines that waited for the caller, and forgets them: each line starts with {@value #OUT}
     * or {@value #ERR} (the stream) and ends with {@code '\n'}; empty if none waited. If lines
     * were dropped, a last {@value #ERR} line says how many.
     */
    public synchronized String takeLines() {
        if (droppedLines > 0) {
            waiting.append(ERR).append("alpyperl: ").append(droppedLines).append(" line(s) of output of ").append(label)
                    .append(" were dropped: the model printed more than ").append(MAX_WAITING_CHARS / 1024)
                    .append(" KiB between two calls; send its output to a folder to keep all of it\n");
            droppedLines = 0;
        }
        String lines = waiting.toString();
        waiting.setLength(0);
        waiting.trimToSize();
        linesWaiting = false;
        return lines;
    }

    /** Completes the partial lines and closes the file, if any; later output is dropped. */
    public synchronized void close() {
        endLines();
        closeFile();
        destination = Destination.OFF;
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Sends the first line of {@code line} (all of it, or {@value #MAX_LINE_BYTES} bytes), labelled with
     * {@code agent} unless that is null, and removes it.
     */
    private void emit(boolean isErr, LineBuffer line, String agent) {
        int length = Math.min(line.size, MAX_LINE_BYTES);
        int textLength = length > 0 && line.bytes[length - 1] == '\r' ? length - 1 : length;
        String text = new String(line.bytes, 0, textLength, Charset.defaultCharset());
        line.remove(length);
        switch (destination) {
            case CALLER:
                if (waiting.length() + text.length() + 2 > MAX_WAITING_CHARS) {
                    droppedLines++;
                } else {
                    waiting.append(isErr ? ERR : OUT);
                    if (agent != null) {
                        waiting.append(AGENT).append(agent).append(AGENT);
                    }
                    waiting.append(text).append('\n');
                }
                linesWaiting = true;
                break;
            case FILE:
                writeToFile(isErr, agent == null ? text : "[" + agent + "] " + text);
                break;
            case CONSOLE: // only a partial line left when the destination changes to the console
                (isErr ? ModelOutput.originalErr() : ModelOutput.originalOut()).println(text);
                break;
            default:
                break;
        }
    }

    private void writeToFile(boolean isErr, String text) {
        try {
            file.write(text);
            file.write(System.lineSeparator());
            file.flush();
        } catch (IOException e) {
            String path = filePath;
            closeFile();
            destination = Destination.CONSOLE;
            ModelOutput.originalErr().println("alpyperl: cannot write the output of the model instance " + label
                    + " to " + path + " (" + e.getMessage() + "); its output goes to the console from now on");
            (isErr ? ModelOutput.originalErr() : ModelOutput.originalOut()).println(text);
        }
    }

    private void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // what could be written was flushed line by line
            }
            file = null;
            filePath = null;
        }
    }

    /** The bytes of one stream's partial line. */
    private static final class LineBuffer {
        byte[] bytes = new byte[256];
        int size;

        void append(byte[] from, int offset, int length) {
            if (size + length > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(size + length, 2 * bytes.length));
            }
            System.arraycopy(from, offset, bytes, size, length);
            size += length;
        }

        void remove(int length) {
            System.arraycopy(bytes, length, bytes, 0, size - length);
            size -= length;
            if (size == 0 && bytes.length > 4096) {
                bytes = new byte[256]; // a long line once is no reason to keep its memory
            }
        }
    }
}
