package com.alpyperl.launcher.output;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Capturing what a model thread prints, while all output still reaches the original streams. */
public class ModelOutputTest {
    private PrintStream savedOut;
    private PrintStream savedErr;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @Before
    public void redirect() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
    }

    @After
    public void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    public void keepsWhatTheCapturingThreadPrintsAndPassesEverythingThrough() throws InterruptedException {
        try (ModelOutput.Capture capture = ModelOutput.capture()) {
            System.out.println("trace line");
            Thread other = new Thread(() -> System.err.println("another thread"));
            other.start();
            other.join();
            new IllegalStateException("boom").printStackTrace();
            String kept = text(capture.text());
            assertTrue(kept, kept.startsWith("trace line\njava.lang.IllegalStateException: boom\n"
                    + "\tat com.alpyperl.launcher.output.ModelOutputTest"));
            assertFalse("other threads are not captured", kept.contains("another thread"));
        }
        System.out.println("after the capture");
        assertEquals("trace line\nafter the capture\n", text(out));
        assertTrue(text(err), text(err).startsWith("another thread\njava.lang.IllegalStateException: boom"));
    }

    @Test
    public void aSilencedThreadPrintsNothingUntilItsCaptureEnds() {
        try (ModelOutput.Capture capture = ModelOutput.capture()) {
            System.out.println("before");
            ModelOutput.silenceCurrentThread();
            System.err.println("the abandoned episode's report");
            assertEquals("before", capture.text().trim());
        }
        System.err.println("heard again");
        assertEquals("before\n", text(out));
        assertEquals("heard again\n", text(err));
    }

    @Test
    public void keepsOnlyTheTail() {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            line.append('x');
        }
        try (ModelOutput.Capture capture = ModelOutput.capture()) {
            for (int i = 0; i < 100; i++) {
                System.out.println(line);
            }
            System.out.println("the end");
            String kept = text(capture.text());
            assertTrue(kept.length() <= ModelOutput.KEPT_BYTES && kept.length() > ModelOutput.KEPT_BYTES - 10);
            assertTrue(kept.endsWith("xx\nthe end\n"));
        }
    }

    @Test
    public void aRoutedThreadsOutputGoesToItsInstanceAndOtherThreadsPassThrough() throws InterruptedException {
        InstanceOutput first = new InstanceOutput("Model#1");
        InstanceOutput second = new InstanceOutput("Model#2");
        first.sendTo(InstanceOutput.Destination.CALLER, null);
        second.sendTo(InstanceOutput.Destination.CALLER, null);
        Thread one = routedThread(first, "one");
        Thread two = routedThread(second, "two");
        one.start();
        two.start();
        System.out.println("not a model thread");
        one.join();
        two.join();
        assertEquals("Oone: first half, second half\nEone: a warning\nOone: last\n", first.takeLines());
        assertEquals("Otwo: first half, second half\nEtwo: a warning\nOtwo: last\n", second.takeLines());
        assertEquals("not a model thread\n", text(out));
        assertEquals("", text(err));
    }

    @Test
    public void aCaptureKeepsWhatARoutedThreadPrintsWhereverItGoes() throws InterruptedException {
        InstanceOutput off = new InstanceOutput("Model#1");
        off.sendTo(InstanceOutput.Destination.OFF, null);
        String[] kept = new String[1];
        Thread thread = new Thread(() -> {
            ModelOutput.route(off);
            try (ModelOutput.Capture capture = ModelOutput.capture()) {
                System.out.println("a trace");
                new IllegalStateException("boom").printStackTrace();
                kept[0] = capture.text();
            }
        });
        thread.start();
        thread.join();
        assertTrue(kept[0], text(kept[0]).startsWith("a trace\njava.lang.IllegalStateException: boom\n"));
        assertEquals("", text(out) + text(err));
        assertEquals("", off.takeLines());
    }

    /** A thread routed to {@code output} that prints lines in pieces, the last one without a newline. */
    private static Thread routedThread(InstanceOutput output, String name) {
        return new Thread(() -> {
            ModelOutput.route(output);
            for (String piece : new String[] {name, ": first half", ", second half"}) {
                System.out.print(piece);
            }
            System.out.println();
            System.err.println(name + ": a warning");
            System.out.print(name + ": last");
            output.endLines();
        });
    }

    private static String text(ByteArrayOutputStream stream) {
        return text(new String(stream.toByteArray(), Charset.defaultCharset()));
    }

    private static String text(String printed) {
        return printed.replace(System.lineSeparator(), "\n");
    }
}
