package com.alpyperl.connector;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.policy.PolicyFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The multi-agent connector without alpyperl: agents join and ask, decide() answers all waiting
 * agents in the order they asked, each by its type's policy and never against its mask; mistakes
 * of the model are named. The policy chooses 0 when an agent's first observation value is at
 * least its second, else 1.
 */
public class MultiAgentConnectorTest {
    private Path policyFile;

    /** Robots: observation Box(2), action Discrete(2), masked; at most 3 of them. */
    static final class Robots implements MultiAgentModel {
        @Override
        public List<String> getAgentTypes() {
            return Collections.singletonList("robot");
        }

        @Override
        public Space getObservationSpace(String agentType) {
            return Spaces.box(-10, 10, 2);
        }

        @Override
        public Space getActionSpace(String agentType) {
            return Spaces.discrete(2);
        }

        @Override
        public boolean usesActionMask(String agentType) {
            return true;
        }

        @Override
        public int getPossibleAgents(String agentType) {
            return 3;
        }

        @Override
        public boolean hasFinished() {
            return false;
        }
    }

    /** A robot that records the actions it is given (its name and the action) in {@code log}. */
    static final class Robot implements RLAgent {
        final String name;
        final double[] observation;
        final boolean[] mask;
        final List<String> log;

        Robot(String name, double[] observation, boolean[] mask, List<String> log) {
            this.name = name;
            this.observation = observation;
            this.mask = mask;
            this.log = log;
        }

        @Override
        public double[] getObservation() {
            return observation;
        }

        @Override
        public void takeAction(RLAction action) {
            log.add(name + "=" + action.asInt());
        }

        @Override
        public double getReward() {
            return 0;
        }

        @Override
        public boolean[] getActionMask() {
            return mask;
        }
    }

    @Before
    public void writePolicy() throws Exception {
        policyFile = Files.createTempFile("argmax", ".onnx");
        Files.write(policyFile, PolicyFiles.argmaxOfTwo());
    }

    @After
    public void deletePolicy() throws Exception {
        Files.deleteIfExists(policyFile);
    }

    @Test
    public void decideAnswersEveryWaitingAgentInTheOrderTheyAskedAndHonoursMasks() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            List<String> log = new ArrayList<>();
            MultiAgentConnector connector = new MultiAgentConnector(new Robots()).usePolicy("robot", policyFile.toString());
            String first = connector.addAgent("robot", new Robot("a", new double[] {1, 0}, new boolean[] {false, true}, log));
            String second = connector.addAgent("robot", new Robot("b", new double[] {0, 1}, null, log));
            String third = connector.addAgent("robot", new Robot("c", new double[] {2, 0}, null, log));
            assertEquals(Arrays.asList("robot_0", "robot_1", "robot_2"), Arrays.asList(first, second, third));
            connector.decide();
            assertTrue("nothing waits, nothing is answered", log.isEmpty());
            connector.requestAction(third);
            connector.requestAction(first);
            connector.requestAction(second);
            assertEquals(3, connector.waitingAgents());
            assertTrue("requests only queue", log.isEmpty());
            connector.decide();
            // a's policy choice 0 is masked: it gets 1, the only valid action
            assertEquals(Arrays.asList("c=0", "a=1", "b=1"), log);
            assertEquals(0, connector.waitingAgents());
            connector.requestActionNow(second);
            assertEquals("b=1", log.get(3));
        });
    }

    @Test
    public void mistakesOfTheModelAreNamed() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            List<String> log = new ArrayList<>();
            MultiAgentConnector connector = new MultiAgentConnector(new Robots());
            String id = connector.addAgent("robot", new Robot("a", new double[] {1, 0}, null, log));
            assertMessage(assertThrows(IllegalArgumentException.class, () -> connector.addAgent("drone", null)),
                    "unknown agent type 'drone'; the model's agent types are [robot]");
            assertMessage(assertThrows(IllegalStateException.class,
                    () -> connector.addAgent("robot", 0, new Robot("b", null, null, log))),
                    "agent robot_0 is in the episode already");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> connector.addAgent("robot", 3, new Robot("b", null, null, log))),
                    "agent number 3 of type 'robot' is not below 3");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> connector.requestAction("robot_7")),
                    "requestAction(\"robot_7\"): no agent with this id is in the episode; its agents are [robot_0]");
            connector.requestAction(id);
            assertMessage(assertThrows(IllegalStateException.class, () -> connector.requestAction(id)),
                    "agent robot_0 requested an action again before decide() answered");
            assertMessage(assertThrows(IllegalStateException.class, connector::decide),
                    "Nobody answers the agents of type 'robot'", "alpyperl export --module-id robot",
                    "connector.usePolicy(\"robot\", \"policy.onnx\")");
            connector.removeAgent(id);
            assertEquals(0, connector.waitingAgents());
            assertEquals(Collections.emptyList(), connector.getAgentIds());
        });
    }

    private static void assertMessage(Throwable error, String... fragments) {
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' missing from: " + error.getMessage(), error.getMessage().contains(fragment));
        }
    }
}
