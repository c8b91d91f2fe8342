package com.alpyperl.launcher.output;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.launcher.output.InstanceOutput.Destination;
import java.io.File;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** One instance's output cut into whole lines and sent to its destination. */
public class InstanceOutputTest {
    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();

    private final InstanceOutput output = new InstanceOutput("Model#1");

    @Test
    public void piecesBecomeWholeLinesPerStreamForTheCaller() {
        output.sendTo(Destination.CALLER, null);
        assertFalse(output.hasWaitingLines());
        print(false, "decision ");
        print(true, "warn");
        print(false, "1\nsecond line");
        print(true, "ing\r\n");
        assertTrue(output.hasWaitingLines());
        assertEquals("Odecision 1\nEwarning\n", output.takeLines());
        assertFalse("taken lines are forgotten", output.hasWaitingLines());
        assertEquals("", output.takeLines());
        print(false, " goes on\n\n");
        assertEquals("Osecond line goes on\nO\n", output.takeLines());
    }

    @Test
    public void aLineIsLabelledWithTheAgentInCallWhenItEnds() {
        String[] agent = {null};
        output.labelAgentsWith(() -> agent[0]);
        output.sendTo(Destination.CALLER, null);
        print(false, "root\n");
        agent[0] = "walker_3";
        print(false, "moving ");
        print(true, "observed\n");
        print(false, "by 1\n");
        agent[0] = null;
        assertEquals("Oroot\nE\u001fwalker_3\u001fobserved\nO\u001fwalker_3\u001fmoving by 1\n", output.takeLines());
    }

    @Test
    public void aPartialLineWaitsUntilTheLinesEnd() {
        output.sendTo(Destination.CALLER, null);
        print(false, "no newline");
        assertEquals("", output.takeLines());
        output.endLines();
        assertEquals("Ono newline\n", output.takeLines());
        output.endLines();
        assertEquals("nothing is left to complete", "", output.takeLines());
    }

    @Test
    public void theConsolePassesBytesThroughUntouched() {
        assertEquals(Destination.CONSOLE, output.destination());
        assertFalse(output.take(false, bytes("a piece"), 0, 7));
        output.endLines();
        assertEquals("", output.takeLines());
        assertFalse(output.hasWaitingLines());
    }

    @Test
    public void offDropsEverything() {
        output.sendTo(Destination.OFF, null);
        assertTrue(output.take(false, bytes("gone\n"), 0, 5));
        print(true, "also gone");
        output.endLines();
        assertFalse(output.hasWaitingLines());
        assertEquals("", output.takeLines());
    }

    @Test
    public void aFileGetsWholeLinesAppended() throws IOException {
        File file = new File(temporary.getRoot(), "Model#1.log");
        Files.write(file.toPath(), ("earlier" + System.lineSeparator()).getBytes(StandardCharsets.UTF_8));
        output.sendTo(Destination.FILE, file.getPath());
        print(false, "out ");
        print(true, "err line\n");
        print(false, "line\ntail");
        assertEquals("earlier\nerr line\nout line\n", read(file));
        output.close();
        assertEquals("closing completes the partial line", "earlier\nerr line\nout line\ntail\n", read(file));
        print(false, "after close\n");
        assertEquals("earlier\nerr line\nout line\ntail\n", read(file));
        assertFalse(output.hasWaitingLines());
    }

    @Test
    public void aFileThatCannotBeOpenedIsRefusedWithTheReason() {
        String path = new File(temporary.getRoot(), "missing-folder/Model#1.log").getPath();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> output.sendTo(Destination.FILE, path));
        assertTrue(error.getMessage(), error.getMessage().startsWith(
                "cannot write the output of the model instance Model#1 to " + path + ": "));
        assertEquals("the destination is unchanged", Destination.CONSOLE, output.destination());
    }

    @Test
    public void aVeryLongLineIsCutIntoPieces() {
        output.sendTo(Destination.CALLER, null);
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < InstanceOutput.MAX_LINE_BYTES + 10; i++) {
            line.append((char) ('a' + i % 26));
        }
        print(false, line + "\n");
        String[] lines = output.takeLines().split("\n");
        assertEquals(2, lines.length);
        assertEquals("O" + line.substring(0, InstanceOutput.MAX_LINE_BYTES), lines[0]);
        assertEquals("O" + line.substring(InstanceOutput.MAX_LINE_BYTES), lines[1]);
    }

    @Test
    public void linesBeyondTheLimitAreCountedAndDropped() {
        output.sendTo(Destination.CALLER, null);
        String line = "0123456789012345678901234567890123456789012345678901234567890123456789012345678\n";
        int fitting = InstanceOutput.MAX_WAITING_CHARS / (line.length() + 1);
        for (int i = 0; i < fitting + 5; i++) {
            print(false, line);
        }
        String[] lines = output.takeLines().split("\n");
        assertEquals(fitting + 1, lines.length);
        assertEquals("E" + "alpyperl: 5 line(s) of output of Model#1 were dropped: the model printed more than 1024 KiB "
                + "between two calls; send its output to a folder to keep all of it", lines[fitting]);
        print(false, "fits again\n");
        assertEquals("Ofits again\n", output.takeLines());
    }

    @Test
    public void changingTheDestinationSendsAPartialLineToTheOldOne() {
        output.sendTo(Destination.CALLER, null);
        print(false, "half");
        output.sendTo(Destination.OFF, null);
        assertEquals("Ohalf\n", output.takeLines());
    }

    private void print(boolean isErr, String text) {
        byte[] bytes = bytes(text);
        assertTrue(output.take(isErr, bytes, 0, bytes.length));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(Charset.defaultCharset());
    }

    private static String read(File file) throws IOException {
        return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
