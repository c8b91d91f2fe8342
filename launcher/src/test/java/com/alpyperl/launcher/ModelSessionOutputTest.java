package com.alpyperl.launcher;

import static com.alpyperl.launcher.ModelSession.OUTPUT_WAITING;
import static com.alpyperl.launcher.ModelSession.RUNNING;
import static com.alpyperl.launcher.ModelSession.TERMINATED;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.testmodels.PrintingModel;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/** What a session's model thread prints, sent where {@link ModelSession#setOutput} says. */
public class ModelSessionOutputTest {
    private static final Space OBSERVATION = Spaces.unboundedBox(1);
    private static final Space ACTION = Spaces.discrete(2);

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private final List<ModelSession> sessions = new ArrayList<>();
    private PrintStream savedOut;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @Before
    public void redirect() {
        savedOut = System.out;
        System.setOut(new PrintStream(out, true));
    }

    @After
    public void closeAndRestore() {
        for (ModelSession session : sessions) {
            session.close();
        }
        System.setOut(savedOut);
    }

    @Test
    public void theCallerTakesWholeLinesAndTheStatusSaysWhenTheyWait() throws IOException {
        ModelSession session = printing("a", false);
        session.setOutput("caller", null);
        assertEquals(RUNNING | OUTPUT_WAITING, session.reset(1));
        assertEquals("Oa starts\n", session.takeOutput());
        assertEquals(RUNNING | OUTPUT_WAITING, session.step());
        assertEquals("Oa decision 1\nEa warning 1\n", session.takeOutput());
        assertEquals("the partial last line is complete when the episode ends", TERMINATED | OUTPUT_WAITING,
                session.step());
        assertEquals("Oa decision 2\nEa warning 2\nOa ends\n", session.takeOutput());
        assertEquals("", text(out));
    }

    @Test
    public void withoutOutputTheStatusIsPlain() throws IOException {
        ModelSession session = printing("a", false);
        session.setOutput("off", null);
        assertEquals(RUNNING, session.reset(1));
        assertEquals(RUNNING, session.step());
        assertEquals(TERMINATED, session.step());
        assertEquals("", session.takeOutput());
        assertEquals("", text(out));
    }

    @Test
    public void theConsoleGetsEverythingUnchangedByDefault() throws IOException {
        ModelSession session = printing("a", false);
        assertEquals(RUNNING, session.reset(1));
        assertEquals(RUNNING, session.step());
        assertEquals(TERMINATED, session.step());
        String printed = text(out);
        assertEquals("a starts\na decision 1\na decision 2\na ends", printed);
        assertEquals("", session.takeOutput());
    }

    @Test
    public void aThreadTheModelStartsIsNoModelThread() throws IOException {
        ModelSession session = printing("a", true);
        session.setOutput("caller", null);
        session.reset(1);
        assertEquals("Oa starts\n", session.takeOutput());
        assertEquals("a not a model thread\n", text(out));
    }

    @Test
    public void aFileGetsTheLinesOfItsInstance() throws IOException {
        ModelSession session = printing("a", false);
        File file = new File(temporary.getRoot(), "a.log");
        session.setOutput("file", file.getPath());
        session.reset(1);
        session.step();
        session.step();
        String expected = "a starts\na decision 1\na warning 1\na decision 2\na warning 2\na ends\n";
        assertEquals(expected, new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8)
                .replace(System.lineSeparator(), "\n"));
        assertEquals(RUNNING, session.reset(2));
        session.close();
        assertEquals("closing completes and closes the file", expected + "a starts\n",
                new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
    }

    @Test
    public void closingCompletesThePartialLineOfARunningEpisode() throws IOException {
        ModelSession session = printing("a", false);
        session.setOutput("caller", null);
        session.reset(1);
        session.step();
        session.takeOutput();
        session.close();
        assertEquals("", session.takeOutput());
    }

    @Test
    public void anUnknownDestinationIsRefused() throws IOException {
        ModelSession session = printing("a", false);
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> session.setOutput("logfile", null));
        assertEquals("the model's output can go to \"console\", \"caller\", \"file\" or \"off\", not \"logfile\"",
                error.getMessage());
    }

    @Test
    public void aGroupSaysWhetherLinesWaitAndKeepsEachInstancesOwn() throws IOException {
        ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * 2 * 8).order(ByteOrder.nativeOrder());
        ModelSessionGroup group = ModelSessionGroup.open(TestFolders.open(temporary, PrintingModel.class), 2,
                "platform", 0, commandBytes);
        ModelSession first = printing(group.session(0), "first", false);
        ModelSession second = printing(group.session(1), "second", false);
        first.setOutput("caller", null);
        second.setOutput("caller", null);
        commandBytes.asLongBuffer().put(0, 1).put(1, 2);
        assertEquals(ModelSessionGroup.OUTPUT_WAITING, group.stepAll());
        assertEquals("statuses stay plain", RUNNING, commandBytes.asLongBuffer().get(2));
        assertEquals("Ofirst starts\n", first.takeOutput());
        assertEquals("Osecond starts\n", second.takeOutput());
        commandBytes.asLongBuffer().put(0, ModelSessionGroup.STEP).put(1, ModelSessionGroup.STEP);
        assertEquals(ModelSessionGroup.OUTPUT_WAITING, group.stepAll());
        assertEquals("Ofirst decision 1\nEfirst warning 1\n", first.takeOutput());
        assertEquals("Osecond decision 1\nEsecond warning 1\n", second.takeOutput());
        first.setOutput("off", null);
        second.setOutput("off", null);
        commandBytes.asLongBuffer().put(0, ModelSessionGroup.STEP).put(1, ModelSessionGroup.STEP);
        assertEquals(ModelSessionGroup.EPISODES_ENDED, group.stepAll());
        assertEquals("the status of the first session", TERMINATED, commandBytes.asLongBuffer().get(2));
    }

    private ModelSession printing(String tag, boolean otherThread) throws IOException {
        return printing(new ModelSession(TestFolders.open(temporary, PrintingModel.class)), tag, otherThread);
    }

    /** Configures {@code session} (closed after the test) to print with {@code tag}. */
    private ModelSession printing(ModelSession session, String tag, boolean otherThread) {
        sessions.add(session);
        session.configure(OBSERVATION.toJson(), ACTION.toJson(), 10, ByteBuffer.allocateDirect(3 * 8));
        session.setParameters("{\"tag\":\"" + tag + "\",\"otherThread\":" + otherThread + "}");
        return session;
    }

    private static String text(ByteArrayOutputStream stream) {
        return new String(stream.toByteArray(), Charset.defaultCharset()).replace(System.lineSeparator(), "\n");
    }
}
