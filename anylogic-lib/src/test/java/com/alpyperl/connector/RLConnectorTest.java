package com.alpyperl.connector;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.Test;
import org.junit.function.ThrowingRunnable;

/**
 * The connector with and without a host. A host binds itself to a thread for good (a ThreadLocal),
 * so every test that binds one does it on a fresh thread ({@link #onFreshThread}); the JUnit
 * thread never has a host.
 */
public class RLConnectorTest {

    /** A model whose every call can be made to fail. */
    static class FakeModel implements RLModel {
        double[] observation = {1, 2};
        double reward = 0.5;
        boolean finished;
        boolean truncated;
        String failIn = "";
        Throwable failure = new IllegalStateException("broken model");
        final List<RLAction> actions = new ArrayList<>();

        @Override
        public double[] getObservation() {
            failIf("getObservation");
            return observation;
        }

        @Override
        public void takeAction(RLAction action) {
            failIf("takeAction");
            actions.add(action);
        }

        @Override
        public double getReward() {
            failIf("getReward");
            return reward;
        }

        @Override
        public boolean hasFinished() {
            failIf("hasFinished");
            return finished;
        }

        @Override
        public boolean isTruncated() {
            failIf("isTruncated");
            return truncated;
        }

        private void failIf(String method) {
            if (failIn.equals(method)) {
                if (failure instanceof RuntimeException) {
                    throw (RuntimeException) failure;
                }
                throw (Error) failure;
            }
        }
    }

    /** A host that answers every decision with action 1 of Discrete(2), and records what it saw. */
    static final class TestHost extends ConnectorHost {
        final long seed;
        Space observationSpace;
        Space actionSpace;
        final List<RLConnector> attached = new ArrayList<>();
        final List<double[]> observations = new ArrayList<>();

        TestHost(long seed) {
            this.seed = seed;
        }

        void bind() {
            bindToCurrentThread();
        }

        @Override
        protected void attach(RLConnector connector) {
            attached.add(connector);
        }

        @Override
        protected void decide(RLConnector connector) {
            observations.add(observe(connector, Spaces.box(0, 10, 2)));
            apply(connector, new RLAction(Spaces.discrete(2), new double[] {1}));
        }

        @Override
        protected long episodeSeed() {
            return seed;
        }

        @Override
        protected Space observationSpace() {
            return observationSpace;
        }

        @Override
        protected Space actionSpace() {
            return actionSpace;
        }
    }

    /** A model that defines its spaces in Java. */
    static final class ModelWithSpaces extends FakeModel {
        @Override
        public Space getObservationSpace() {
            return Spaces.box(0, 1, 2);
        }

        @Override
        public Space getActionSpace() {
            return Spaces.discrete(4);
        }
    }

    @Test
    public void withoutAHostRequestActionExplainsBothWaysToRun() throws Exception {
        onFreshThread(() -> {
            assertNull(ConnectorHost.forCurrentThread());
            RLConnector connector = new RLConnector(new FakeModel());
            IllegalStateException e = assertThrows(IllegalStateException.class, connector::requestAction);
            assertTrue(e.getMessage(), e.getMessage().contains("runs neither under alpyperl training nor with a policy"));
            assertTrue(e.getMessage(), e.getMessage().contains("To train it, open the exported model from Python"));
            assertTrue(e.getMessage(), e.getMessage().contains("AnyLogicEnv"));
            assertTrue(e.getMessage(), e.getMessage().contains("usePolicy(\"policy.onnx\")"));
            assertTrue(e.getMessage(), e.getMessage().contains("-Dalpyperl.policy=policy.onnx"));
            assertTrue(connector.getRandom() != null);
        });
    }

    @Test
    public void refusesANullModel() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> new RLConnector(null));
        assertTrue(e.getMessage(), e.getMessage().contains("model must not be null"));
    }

    @Test
    public void aBoundHostIsAttachedAndDecidesInsideRequestAction() throws Exception {
        onFreshThread(() -> {
            TestHost host = new TestHost(1);
            host.bind();
            assertSame(host, ConnectorHost.forCurrentThread());
            FakeModel model = new FakeModel();
            model.observation = new double[] {3, 4};
            RLConnector connector = new RLConnector(model);
            assertEquals(Arrays.asList(connector), host.attached);
            assertSame(model, connector.getModel());
            assertTrue(model.actions.isEmpty());

            connector.requestAction();
            assertEquals(1, model.actions.size()); // applied before requestAction returned
            assertEquals(1, model.actions.get(0).asInt());
            assertArrayEquals(new double[] {3, 4}, host.observations.get(0), 0);

            connector.requestAction();
            assertEquals(2, model.actions.size());
        });
    }

    @Test
    public void aHostServesOnlyTheThreadItIsBoundTo() throws Exception {
        onFreshThread(() -> {
            TestHost host = new TestHost(1);
            host.bind();
            AtomicReference<RLConnector> elsewhere = new AtomicReference<>();
            onFreshThread(() -> elsewhere.set(new RLConnector(new FakeModel())));
            assertTrue(host.attached.isEmpty());
            assertThrows(IllegalStateException.class, () -> elsewhere.get().requestAction());
        });
    }

    @Test
    public void theRandomGeneratorIsSeededFromTheEpisodeSeed() throws Exception {
        long[] first = drawWithSeed(42);
        long[] again = drawWithSeed(42);
        long[] other = drawWithSeed(43);
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, other));
    }

    @Test
    public void consecutiveEpisodeSeedsGiveIndependentFirstNumbers() throws Exception {
        // java.util.Random seeded with 0, 1, 2, ... itself starts with nearly equal numbers.
        double[] firsts = new double[200];
        for (int seed = 0; seed < firsts.length; seed++) {
            firsts[seed] = uniform(drawWithSeed(seed)[0]);
        }
        double mean = Arrays.stream(firsts).average().orElse(0);
        double spread = Math.sqrt(Arrays.stream(firsts).map(x -> (x - mean) * (x - mean)).average().orElse(0));
        assertEquals("mean of the first numbers", 0.5, mean, 0.07);
        assertEquals("spread of the first numbers (uniform: 0.289)", Math.sqrt(1.0 / 12), spread, 0.05);
    }

    /** A long drawn by Random.nextLong() as a number in [0, 1). */
    private static double uniform(long drawn) {
        return (drawn >>> 11) * 0x1.0p-53;
    }

    @Test
    public void eachConnectorHasItsOwnGenerator() throws Exception {
        onFreshThread(() -> {
            new TestHost(7).bind();
            RLConnector a = new RLConnector(new FakeModel());
            RLConnector b = new RLConnector(new FakeModel());
            assertNotSame(a.getRandom(), b.getRandom());
            assertEquals(a.getRandom().nextLong(), b.getRandom().nextLong());
        });
    }

    @Test
    public void withoutAHostTheSpacesAreTheModels() {
        RLConnector defining = new RLConnector(new ModelWithSpaces());
        assertEquals(Spaces.box(0, 1, 2), defining.getObservationSpace());
        assertEquals(Spaces.discrete(4), defining.getActionSpace());
        RLConnector leaving = new RLConnector(new FakeModel());
        assertNull(leaving.getObservationSpace());
        assertNull(leaving.getActionSpace());
    }

    @Test
    public void withAHostTheSpacesAreTheHosts() throws Exception {
        onFreshThread(() -> {
            TestHost host = new TestHost(1);
            host.bind();
            RLConnector connector = new RLConnector(new ModelWithSpaces());
            assertNull("not known yet", connector.getObservationSpace());
            host.observationSpace = Spaces.multiBinary(3);
            host.actionSpace = Spaces.discrete(2);
            assertEquals(Spaces.multiBinary(3), connector.getObservationSpace());
            assertEquals(Spaces.discrete(2), connector.getActionSpace());
        });
    }

    @Test
    public void helpersReturnWhatTheModelSays() {
        FakeModel model = new FakeModel();
        model.observation = new double[] {5, 6};
        model.reward = -1.5;
        model.finished = true;
        model.truncated = true;
        RLConnector connector = new RLConnector(model);
        assertArrayEquals(new double[] {5, 6}, ConnectorHost.observe(connector, Spaces.box(0, 10, 2)), 0);
        assertEquals(-1.5, ConnectorHost.reward(connector), 0);
        assertTrue(ConnectorHost.finished(connector));
        assertTrue(ConnectorHost.truncated(connector));
        RLAction action = new RLAction(Spaces.discrete(2), new double[] {0});
        ConnectorHost.apply(connector, action);
        assertSame(action, model.actions.get(0));
    }

    @Test
    public void helpersWrapModelFailuresNamingTheMethod() {
        assertWrapped("getObservation", "getObservation()", c -> ConnectorHost.observe(c, Spaces.box(0, 10, 2)));
        assertWrapped("getReward", "getReward()", ConnectorHost::reward);
        assertWrapped("hasFinished", "hasFinished()", ConnectorHost::finished);
        assertWrapped("isTruncated", "isTruncated()", ConnectorHost::truncated);
        assertWrapped("takeAction", "takeAction()",
                c -> ConnectorHost.apply(c, new RLAction(Spaces.discrete(2), new double[] {1})));
    }

    @Test
    public void helpersWrapErrorsToo() {
        FakeModel model = new FakeModel();
        model.failIn = "getReward";
        model.failure = new StackOverflowError();
        ModelException e = assertThrows(ModelException.class, () -> ConnectorHost.reward(new RLConnector(model)));
        assertSame(model.failure, e.getCause());
    }

    @Test
    public void helpersLetEpisodeAbandonedThrough() {
        FakeModel model = new FakeModel();
        model.failIn = "takeAction";
        model.failure = new EpisodeAbandoned();
        RLConnector connector = new RLConnector(model);
        EpisodeAbandoned e = assertThrows(EpisodeAbandoned.class,
                () -> ConnectorHost.apply(connector, new RLAction(Spaces.discrete(2), new double[] {1})));
        assertSame(model.failure, e);
    }

    @Test
    public void observeRefusesAnObservationOfTheWrongLength() {
        FakeModel model = new FakeModel();
        model.observation = new double[] {1, 2, 3};
        RLConnector connector = new RLConnector(model);
        Space space = Spaces.box(0, 1, 4);
        ModelException e = assertThrows(ModelException.class, () -> ConnectorHost.observe(connector, space));
        assertTrue(e.getMessage(), e.getMessage().contains("returned 3 values"));
        assertTrue(e.getMessage(), e.getMessage().contains("has 4"));
        assertTrue(e.getMessage(), e.getMessage().contains("Box(0.0, 1.0, (4,), float32)"));
    }

    @Test
    public void observeRefusesANullObservation() {
        FakeModel model = new FakeModel();
        model.observation = null;
        RLConnector connector = new RLConnector(model);
        ModelException e = assertThrows(ModelException.class, () -> ConnectorHost.observe(connector, Spaces.discrete(3)));
        assertTrue(e.getMessage(), e.getMessage().contains("getObservation() of the model returned null"));
        assertTrue(e.getMessage(), e.getMessage().contains("Discrete(3)"));
    }

    // ---- helpers ------------------------------------------------------------------------------

    private interface ConnectorCall {
        void call(RLConnector connector);
    }

    private static void assertWrapped(String failIn, String methodName, ConnectorCall call) {
        FakeModel model = new FakeModel();
        model.failIn = failIn;
        RLConnector connector = new RLConnector(model);
        ModelException e = assertThrows(ModelException.class, () -> call.call(connector));
        assertTrue(e.getMessage(), e.getMessage().startsWith(methodName + " of the model threw"));
        assertTrue(e.getMessage(), e.getMessage().contains("IllegalStateException: broken model"));
        assertSame(model.failure, e.getCause());
    }

    private static long[] drawWithSeed(long seed) throws Exception {
        long[] values = new long[5];
        onFreshThread(() -> {
            new TestHost(seed).bind();
            Random random = new RLConnector(new FakeModel()).getRandom();
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextLong();
            }
        });
        return values;
    }

    /** Runs {@code body} on a new thread (which has no host until the body binds one) and rethrows its failure. */
    static void onFreshThread(ThrowingRunnable body) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "connector-test");
        thread.start();
        thread.join();
        Throwable t = failure.get();
        if (t instanceof Error) {
            throw (Error) t;
        }
        if (t instanceof Exception) {
            throw (Exception) t;
        }
        if (t != null) {
            throw new AssertionError(t);
        }
    }
}
