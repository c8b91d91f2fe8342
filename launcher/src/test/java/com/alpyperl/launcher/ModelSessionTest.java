package com.alpyperl.launcher;

import static com.alpyperl.launcher.ModelSession.RUNNING;
import static com.alpyperl.launcher.ModelSession.TERMINATED;
import static com.alpyperl.launcher.ModelSession.TRUNCATED;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.Json;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.runtime.ModelLoadException;
import com.alpyperl.launcher.testmodels.CountingModel;
import com.alpyperl.launcher.testmodels.FailingModel;
import com.alpyperl.launcher.testmodels.LoopingModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/** A session driven from Java exactly as Python drives it: statuses, buffer contents, errors, life cycle. */
public class ModelSessionTest {
    private static final Space COUNTING_OBSERVATION = Spaces.unboundedBox(3);
    private static final Space COUNTING_ACTION = Spaces.discrete(3);
    private static final Space ONE_VALUE = Spaces.unboundedBox(1);
    private static final Space TWO_ACTIONS = Spaces.discrete(2);

    /**
     * The CountingModel's random draw in the observation of the episode with this seed, as it
     * crosses: its observation space is a Box of float32, so the row carries it rounded to float32.
     */
    private static double firstDraw(long seed) {
        return (float) RLConnector.randomOfEpisode(seed).nextDouble();
    }

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private final List<ModelSession> sessions = new ArrayList<>();

    @Before
    public void clearModelRecords() {
        CountingModel.clear();
        LoopingModel.lastThread = null;
    }

    @After
    public void closeSessions() {
        for (ModelSession session : sessions) {
            session.close();
        }
    }

    // ---- describing and configuring ----------------------------------------------------------

    @Test
    public void describeModelGivesTheSpacesAndParametersOfTheModel() throws IOException {
        ModelSession session = session(CountingModel.class);
        String description = session.describeModel(10);
        assertTrue(description, description.startsWith("{\"observation_space\":" + COUNTING_OBSERVATION.toJson()
                + ",\"action_space\":" + COUNTING_ACTION.toJson() + ",\"parameters\":"));
        Map<?, ?> parsed = (Map<?, ?>) Json.parse(description);
        assertEquals(new HashSet<>(Arrays.asList("maxSteps", "stepReward", "terminate", "offset", "scale", "label")),
                new HashSet<>((List<?>) parsed.get("parameters")));
        assertEquals("describing creates an instance but runs no episode", 0, CountingModel.EPISODES.get());
    }

    @Test
    public void describeModelGivesNullForSpacesLeftToPython() throws IOException {
        ModelSession session = session(FailingModel.class);
        Map<?, ?> parsed = (Map<?, ?>) Json.parse(session.describeModel(10));
        assertTrue(parsed.containsKey("observation_space"));
        assertNull(parsed.get("observation_space"));
        assertTrue(parsed.containsKey("action_space"));
        assertNull(parsed.get("action_space"));
        assertEquals(new HashSet<>(Arrays.asList("failIn", "failAt", "maxSteps")),
                new HashSet<>((List<?>) parsed.get("parameters")));
    }

    @Test
    public void configureRefusesATooSmallBufferOrABadTimeout() throws IOException {
        ModelSession session = session(CountingModel.class);
        String observation = COUNTING_OBSERVATION.toJson();
        String action = COUNTING_ACTION.toJson();
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> session.configure(observation, action, 10, ByteBuffer.allocateDirect(4 * 8)));
        assertContains(small.getMessage(), "holds 4 doubles; 5 are needed (action 1, observation 3, reward 1)");
        assertThrows(IllegalArgumentException.class,
                () -> session.configure(observation, action, 0, ByteBuffer.allocateDirect(5 * 8)));
        assertThrows(IllegalArgumentException.class,
                () -> session.configure(observation, action, Double.NaN, ByteBuffer.allocateDirect(5 * 8)));
        assertThrows(IllegalArgumentException.class,
                () -> session.configure("{\"type\":\"Nope\"}", action, 10, ByteBuffer.allocateDirect(5 * 8)));
    }

    @Test
    public void resetAndStepNeedTheirPredecessors() throws IOException {
        ModelSession session = session(CountingModel.class);
        assertContains(assertThrows(IllegalStateException.class, () -> session.reset(1)).getMessage(),
                "configure() the session before reset()");
        DrivenSession env = new DrivenSession(session, COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        assertContains(assertThrows(IllegalStateException.class, env.session::step).getMessage(), "call reset() first");
    }

    // ---- episodes ----------------------------------------------------------------------------

    @Test
    public void anEpisodeRunsToTerminationWithObservationAndRewardInTheBuffer() throws IOException {
        DrivenSession env = counting(10);
        assertEquals(RUNNING, env.reset(1));
        double draw = firstDraw(1);
        assertArrayEquals(new double[] {0, 0, draw}, env.observation(), 0);
        assertEquals(0, env.reward(), 0);

        assertEquals(RUNNING, env.step(2));
        assertArrayEquals(new double[] {1, 2, draw}, env.observation(), 0);
        assertEquals(2, env.reward(), 0);

        assertEquals(RUNNING, env.step(1));
        assertArrayEquals(new double[] {2, 3, draw}, env.observation(), 0);
        assertEquals(1, env.reward(), 0);

        assertEquals(TERMINATED, env.step(2));
        assertArrayEquals(new double[] {3, 5, draw}, env.observation(), 0);
        assertEquals(2, env.reward(), 0);

        assertEquals(1, CountingModel.EPISODES.get());
        assertEquals(1, CountingModel.FINALLY_RUNS.get());
        assertEquals(0, CountingModel.ABANDONED.get());
        assertContains(assertThrows(IllegalStateException.class, env.session::step).getMessage(),
                "the episode has ended", "call reset() first");
    }

    @Test
    public void aRunThatEndsWithoutFinishingIsTruncated() throws IOException {
        DrivenSession env = counting(10);
        env.session.setParameters("{\"terminate\": false, \"maxSteps\": 2}");
        assertEquals(RUNNING, env.reset(3));
        assertEquals(RUNNING, env.step(0));
        assertEquals(TRUNCATED, env.step(1));
        assertArrayEquals(new double[] {2, 1}, Arrays.copyOf(env.observation(), 2), 0);
        assertEquals(1, env.reward(), 0);
        assertThrows(IllegalStateException.class, env.session::step);
    }

    @Test
    public void episodesCanFollowEachOther() throws IOException {
        DrivenSession env = counting(10);
        for (int episode = 0; episode < 5; episode++) {
            assertEquals(RUNNING, env.reset(episode));
            assertEquals(RUNNING, env.step(1));
            assertEquals(RUNNING, env.step(1));
            assertEquals(TERMINATED, env.step(1));
            assertEquals(3, env.observation()[1], 0);
        }
        assertEquals(5, CountingModel.EPISODES.get());
        assertEquals(5, CountingModel.FINALLY_RUNS.get());
        assertEquals(0, CountingModel.ABANDONED.get());
    }

    @Test
    public void theSameSeedGivesTheSameEpisode() throws IOException {
        DrivenSession env = counting(10);
        env.reset(7);
        double[] first = env.observation();
        env.reset(8);
        double[] other = env.observation();
        env.reset(7);
        double[] again = env.observation();
        assertArrayEquals(first, again, 0);
        assertNotEquals(first[2], other[2], 0);
        assertEquals(firstDraw(7), first[2], 0);
    }

    @Test
    public void resetInTheMiddleOfAnEpisodeAbandonsItBeforeReturning() throws IOException {
        DrivenSession env = counting(10);
        env.reset(1);
        env.step(2);
        CountingModel abandoned = CountingModel.last;

        assertEquals(RUNNING, env.reset(2));
        // The abandoned run unwound (its finally block ran) before reset() returned.
        assertEquals(1, CountingModel.ABANDONED.get());
        assertEquals(1, CountingModel.FINALLY_RUNS.get());
        assertEquals(2, CountingModel.EPISODES.get());
        assertNotSame(abandoned, CountingModel.last);
        assertArrayEquals(new double[] {0, 0, firstDraw(2)}, env.observation(), 0);
        assertEquals(0, env.reward(), 0);
        assertEquals(RUNNING, env.step(1));
        assertEquals(1, env.observation()[0], 0);
    }

    @Test
    public void theModelSeesTheSpacesThatWereConfigured() throws IOException {
        Space observation = Spaces.box(-100, 100, 3); // not the model's own unbounded Box
        DrivenSession env = new DrivenSession(session(CountingModel.class), observation, COUNTING_ACTION, 10);
        env.reset(1);
        assertEquals(observation, CountingModel.last.observationSpaceInUse);
        assertEquals(COUNTING_ACTION, CountingModel.last.actionSpaceInUse);
    }

    @Test
    public void twoSessionsOfOneModelDoNotDisturbEachOther() throws IOException {
        ModelFolder folder = TestFolders.open(temporary, CountingModel.class);
        DrivenSession a = new DrivenSession(track(new ModelSession(folder)), COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        DrivenSession b = new DrivenSession(track(new ModelSession(folder)), COUNTING_OBSERVATION, COUNTING_ACTION, 10);
        assertNotEquals(a.session.getLabel(), b.session.getLabel());
        a.reset(11);
        b.reset(12);
        a.step(2);
        b.step(1);
        assertEquals(RUNNING, a.step(2));
        assertArrayEquals(new double[] {2, 4, firstDraw(11)}, a.observation(), 0);
        assertArrayEquals(new double[] {1, 1, firstDraw(12)}, b.observation(), 0);
    }

    // ---- parameters --------------------------------------------------------------------------

    @Test
    public void parametersAreConvertedToTheFieldTypes() throws IOException {
        DrivenSession env = counting(10);
        env.session.setParameters("{\"maxSteps\": 5, \"stepReward\": 2, \"terminate\": false, "
                + "\"offset\": 10000000000, \"scale\": 0.5, \"label\": \"two words\"}");
        env.reset(1);
        CountingModel model = CountingModel.last;
        assertEquals(5, model.maxSteps);
        assertEquals(2.0, model.stepReward, 0);
        assertFalse(model.terminate);
        assertEquals(10_000_000_000L, model.offset);
        assertEquals(0.5f, model.scale, 0);
        assertEquals("two words", model.label);
        assertEquals(RUNNING, env.step(1));
        assertEquals(2.0, env.reward(), 0); // stepReward * action
    }

    @Test
    public void newParametersReplaceTheOldOnesAtTheNextReset() throws IOException {
        DrivenSession env = counting(10);
        env.session.setParameters("{\"maxSteps\": 7}");
        env.reset(1);
        assertEquals(7, CountingModel.last.maxSteps);
        env.session.setParameters("{\"label\": \"other\"}");
        assertEquals("the running episode keeps its parameters", 7, CountingModel.last.maxSteps);
        env.reset(1);
        assertEquals("unset parameters return to their defaults", 3, CountingModel.last.maxSteps);
        assertEquals("other", CountingModel.last.label);
        env.session.setParameters("");
        env.reset(1);
        assertEquals("counting", CountingModel.last.label);
    }

    @Test
    public void anUnknownParameterIsRefusedWithTheKnownNames() throws IOException {
        DrivenSession env = counting(10);
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> env.session.setParameters("{\"maxStep\": 5}"));
        assertContains(e.getMessage(), "no parameter 'maxStep'", "maxSteps", "stepReward", "terminate", "offset",
                "scale", "label");
        assertThrows(IllegalArgumentException.class, () -> env.session.setParameters("[1, 2]"));
        assertThrows(IllegalArgumentException.class, () -> env.session.setParameters("{\"maxSteps\": "));
        env.reset(1);
        assertEquals("refused parameters change nothing", 3, CountingModel.last.maxSteps);
    }

    @Test
    public void valuesThatDoNotFitTheParameterTypeAreRefused() throws IOException {
        DrivenSession env = counting(10);
        assertBadParameter(env, "{\"maxSteps\": 2.5}", "maxSteps", "2.5");
        assertBadParameter(env, "{\"maxSteps\": 3000000000}", "maxSteps", "3000000000");
        assertBadParameter(env, "{\"maxSteps\": \"4\"}", "maxSteps", "\"4\"");
        assertBadParameter(env, "{\"offset\": 1.5}", "offset", "1.5");
        assertBadParameter(env, "{\"terminate\": 1}", "terminate", "1");
        assertBadParameter(env, "{\"stepReward\": true}", "stepReward", "true");
        assertBadParameter(env, "{\"stepReward\": null}", "stepReward", "null");
        assertBadParameter(env, "{\"label\": 5}", "label", "5");
        // The session is still usable.
        env.session.setParameters("{\"maxSteps\": 1}");
        assertEquals(RUNNING, env.reset(1));
        assertEquals(TERMINATED, env.step(0));
    }

    // ---- failures ----------------------------------------------------------------------------

    @Test
    public void anExceptionInRunBecomesAModelFailureWithTheCause() throws IOException {
        DrivenSession env = failing("{\"failIn\": \"run\", \"failAt\": 1}");
        assertEquals(RUNNING, env.reset(1));
        ModelException e = assertThrows(ModelException.class, () -> env.step(0));
        assertTrue(e.getCause() instanceof IllegalStateException);
        assertEquals("boom from run at decision 1", e.getCause().getMessage());
        assertContains(e.getMessage(), "FailingModel", "boom from run at decision 1");
        assertContains(ModelStackTrace.of(e), "boom from run", "FailingModel.run");

        assertContains(assertThrows(IllegalStateException.class, env.session::step).getMessage(), "with an error");
        env.session.setParameters("{}");
        assertEquals("the session recovers at the next reset", RUNNING, env.reset(2));
        assertEquals(RUNNING, env.step(1));
    }

    @Test
    public void anExceptionInTakeActionNamesTheMethod() throws IOException {
        DrivenSession env = failing("{\"failIn\": \"takeAction\", \"failAt\": 0}");
        assertEquals(RUNNING, env.reset(1));
        ModelException e = assertThrows(ModelException.class, () -> env.step(1));
        assertContains(e.getMessage(), "takeAction() of the model threw",
                "IllegalArgumentException: boom from takeAction at decision 0");
        assertTrue(e.getCause() instanceof ModelException);
        assertTrue(e.getCause().getCause() instanceof IllegalArgumentException);
        assertContains(ModelStackTrace.of(e), "FailingModel.takeAction");
    }

    @Test
    public void exceptionsInTheOtherModelCallsNameTheMethod() throws IOException {
        ModelException observation = assertThrows(ModelException.class,
                () -> failing("{\"failIn\": \"getObservation\", \"failAt\": 0}").reset(1));
        assertContains(observation.getMessage(), "getObservation() of the model threw", "boom from getObservation");

        DrivenSession env = failing("{\"failIn\": \"getReward\", \"failAt\": 1}");
        assertEquals(RUNNING, env.reset(1));
        ModelException reward = assertThrows(ModelException.class, () -> env.step(0));
        assertContains(reward.getMessage(), "getReward() of the model threw", "boom from getReward at decision 1");
    }

    @Test
    public void anObservationOfTheWrongSizeIsAModelFailure() throws IOException {
        ModelException e = assertThrows(ModelException.class, () -> failing("{\"failIn\": \"wrongSize\"}").reset(1));
        assertContains(e.getMessage(), "returned 2 values", "observation space " + ONE_VALUE + " has 1");
    }

    @Test
    public void aModelThatNeverAsksForAnActionIsAModelFailure() throws IOException {
        ModelException noConnector = assertThrows(ModelException.class,
                () -> failing("{\"failIn\": \"noConnector\"}").reset(1));
        assertContains(noConnector.getMessage(), "without creating an RLConnector");
        ModelException noDecision = assertThrows(ModelException.class,
                () -> failing("{\"failIn\": \"noDecision\"}").reset(1));
        assertContains(noDecision.getMessage(), "before its first requestAction()");
    }

    // ---- timeouts ----------------------------------------------------------------------------

    @Test
    public void aModelThatNeverReachesItsFirstDecisionTimesOutAndResetStartsANewThread() throws Exception {
        DrivenSession env = new DrivenSession(session(LoopingModel.class), ONE_VALUE, TWO_ACTIONS, 0.3);
        env.session.setParameters("{\"loopAt\": 0}");
        Thread stuck = modelThreadOf(env.session);

        StepTimeoutException e = assertThrows(StepTimeoutException.class, () -> env.reset(1));
        assertContains(e.getMessage(), "did not reach its first requestAction() within 0.3 s", "step_timeout",
                "Its thread " + stuck.getName() + " is at:", "reset() starts a new model thread");
        assertContains(assertThrows(IllegalStateException.class, env.session::step).getMessage(), "call reset() first");

        env.session.setParameters("{}");
        env.configure(10);
        assertEquals(RUNNING, env.reset(2));
        assertEquals(RUNNING, env.step(1));
        assertNotSame(stuck, LoopingModel.lastThread);
        assertEquals(stuck.getName() + ".2", LoopingModel.lastThread.getName());
        stuck.join(10_000);
        assertFalse("the stuck thread was stopped", stuck.isAlive());
    }

    @Test
    public void aModelThatLoopsDuringAStepTimesOutSayingWhereItIs() throws Exception {
        DrivenSession env = new DrivenSession(session(LoopingModel.class), ONE_VALUE, TWO_ACTIONS, 10);
        // One warm-up episode, so that the short timeout below only has to cover a trivial reset.
        env.session.setParameters("{\"maxSteps\": 1}");
        env.reset(1);
        assertEquals(TRUNCATED, env.step(0));
        env.configure(1.0);
        env.session.setParameters("{\"loopAt\": 1}");
        assertEquals(RUNNING, env.reset(2));
        Thread stuck = LoopingModel.lastThread;

        StepTimeoutException e = assertThrows(StepTimeoutException.class, () -> env.step(0));
        assertContains(e.getMessage(), "did not reach its next requestAction() within 1.0 s",
                stuck.getName() + " is at:", "LoopingModel.spin", "LoopingModel.run");

        env.session.setParameters("{}");
        env.configure(10);
        assertEquals(RUNNING, env.reset(3));
        assertEquals(RUNNING, env.step(1));
        assertNotSame(stuck, LoopingModel.lastThread);
        stuck.join(10_000);
        assertFalse("the stuck thread was stopped", stuck.isAlive());
    }

    // ---- closing -----------------------------------------------------------------------------

    @Test
    public void closeEndsTheEpisodeAndTheModelThread() throws Exception {
        DrivenSession env = counting(10);
        env.reset(1);
        env.step(1);
        assertTrue(env.session.isModelThreadAlive());

        env.session.close();
        assertEquals("the episode unwound before close() returned", 1, CountingModel.FINALLY_RUNS.get());
        assertEquals(1, CountingModel.ABANDONED.get());
        awaitModelThreadEnd(env.session);

        assertContains(assertThrows(IllegalStateException.class, env.session::step).getMessage(), "closed");
        assertContains(assertThrows(IllegalStateException.class, () -> env.reset(2)).getMessage(), "closed");
        assertThrows(IllegalStateException.class, () -> env.session.setParameters("{}"));
        assertThrows(IllegalStateException.class, () -> env.session.describeModel(10));
        env.session.close(); // a second close does nothing
    }

    @Test
    public void closeWithoutAnEpisodeEndsTheModelThread() throws Exception {
        ModelSession session = session(CountingModel.class);
        assertTrue(session.isModelThreadAlive());
        session.close();
        awaitModelThreadEnd(session);
        assertEquals(0, CountingModel.EPISODES.get());
    }

    @Test
    public void closeAfterATimeoutStopsTheStuckThread() throws Exception {
        DrivenSession env = new DrivenSession(session(LoopingModel.class), ONE_VALUE, TWO_ACTIONS, 0.3);
        env.session.setParameters("{\"loopAt\": 0}");
        Thread stuck = modelThreadOf(env.session);
        assertThrows(StepTimeoutException.class, () -> env.reset(1));
        env.session.close();
        stuck.join(10_000);
        assertFalse(stuck.isAlive());
        assertFalse(env.session.isModelThreadAlive());
    }

    // ---- helpers -----------------------------------------------------------------------------

    private ModelSession session(Class<?> modelClass) throws IOException {
        return track(new ModelSession(TestFolders.open(temporary, modelClass)));
    }

    private ModelSession track(ModelSession session) {
        sessions.add(session);
        return session;
    }

    private DrivenSession counting(double timeoutSeconds) throws IOException {
        return new DrivenSession(session(CountingModel.class), COUNTING_OBSERVATION, COUNTING_ACTION, timeoutSeconds);
    }

    private DrivenSession failing(String parameters) throws IOException {
        DrivenSession env = new DrivenSession(session(FailingModel.class), ONE_VALUE, TWO_ACTIONS, 10);
        env.session.setParameters(parameters);
        return env;
    }

    /** The value is refused with a message naming the parameter and the value, at setParameters or reset. */
    private static void assertBadParameter(DrivenSession env, String json, String name, String value) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> {
            env.session.setParameters(json);
            env.reset(1);
        });
        assertContains(e.getMessage(), "parameter " + name, "value " + value + " does not fit");
    }

    /** The session's model thread, found by its name. */
    private static Thread modelThreadOf(ModelSession session) {
        String name = "alpyperl-model-" + session.getLabel();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals(name)) {
                return thread;
            }
        }
        throw new AssertionError("no thread named " + name);
    }

    /**
     * Waits (at most 10 s) for the model thread to end: close() hands control back before the
     * thread has finished exiting, so the thread may still be alive for a moment.
     */
    private static void awaitModelThreadEnd(ModelSession session) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (session.isModelThreadAlive() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertFalse("the model thread ended", session.isModelThreadAlive());
    }

    public static void assertContains(String text, String... fragments) {
        assertNotNull(text);
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' missing from: " + text, text.contains(fragment));
        }
    }
}
