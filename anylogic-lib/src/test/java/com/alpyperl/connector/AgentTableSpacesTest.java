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
import org.junit.Test;

/**
 * Agent types whose spaces the model leaves to Python: {@link AgentTable#describe} reports them as
 * null, and the table takes the spaces Python agreed (its layout and mask sizes follow them); a
 * space that differs from the model's, or one that nobody gives, is an error naming the type.
 */
public class AgentTableSpacesTest {

    /** "robot" leaves both spaces to Python (masked); "drone" defines Box(3) -> Discrete(4). */
    static final class Fleet implements MultiAgentModel {
        @Override
        public List<String> getAgentTypes() {
            return Arrays.asList("robot", "drone");
        }

        @Override
        public Space getObservationSpace(String agentType) {
            return agentType.equals("robot") ? null : Spaces.box(0, 1, 3);
        }

        @Override
        public Space getActionSpace(String agentType) {
            return agentType.equals("robot") ? null : Spaces.discrete(4);
        }

        @Override
        public boolean usesActionMask(String agentType) {
            return agentType.equals("robot");
        }

        @Override
        public boolean hasFinished() {
            return false;
        }
    }

    private static Object agreed(String robotObservation, String robotAction, String droneObservation) {
        return Json.parse("[{\"observation_space\":" + robotObservation + ",\"action_space\":" + robotAction + "},"
                + "{\"observation_space\":" + droneObservation + ",\"action_space\":" + Spaces.discrete(4).toJson() + "}]");
    }

    @Test
    public void describeReportsTheSpacesLeftToPythonAsNull() {
        String json = AgentTable.describe(new Fleet());
        assertTrue(json, json.startsWith("{\"types\":[{\"name\":\"robot\",\"observation_space\":null,\"action_space\":null,"
                + "\"action_mask\":true,"));
        assertTrue(json, json.contains("\"observation_space\":" + Spaces.box(0, 1, 3).toJson()));
    }

    @Test
    public void theTableTakesTheSpacesPythonAgreed() {
        AgentTable table = new AgentTable(new Fleet(), null);
        table.settleSpaces(agreed(Spaces.box(0, 1, 5).toJson(), Spaces.discrete(6).toJson(), Spaces.box(0, 1, 3).toJson()));
        assertEquals(5, table.observationSpaces[0].flatSize());
        assertEquals(6, table.maskSizes[0]); // the mask's size comes from the agreed action space
        assertEquals(0, table.maskSizes[1]);
        assertEquals(5, table.observationWidth);
        assertEquals(AgentTable.SLOT_HEAD + 5 + 6, table.slotWidth);
    }

    @Test
    public void aSpaceThatDiffersFromTheModelsIsRefusedNamingTheType() {
        AgentTable table = new AgentTable(new Fleet(), null);
        ModelException error = assertThrows(ModelException.class, () -> table.settleSpaces(
                agreed(Spaces.box(0, 1, 5).toJson(), Spaces.discrete(6).toJson(), Spaces.box(0, 1, 4).toJson())));
        assertTrue(error.getMessage(), error.getMessage().contains("observation space of agent type 'drone'"));
        assertTrue(error.getMessage(), error.getMessage().contains("getObservationSpace(\"drone\")"));
    }

    @Test
    public void aSpaceNobodyGivesIsAnErrorSayingWhatToPass() {
        AgentTable table = new AgentTable(new Fleet(), null);
        ModelException error = assertThrows(ModelException.class, () -> table.settleSpaces(null));
        assertTrue(error.getMessage(), error.getMessage().contains(
                "the observation space of agent type 'robot' is defined neither in the model (its "
                + "getObservationSpace(\"robot\") returns null) nor in Python (pass observation_spaces={'robot': ...}"));
    }

    /** Robots that leave both spaces to Python (masked). */
    static final class SpacelessRobots implements MultiAgentModel {
        @Override
        public List<String> getAgentTypes() {
            return Collections.singletonList("robot");
        }

        @Override
        public Space getObservationSpace(String agentType) {
            return null;
        }

        @Override
        public Space getActionSpace(String agentType) {
            return null;
        }

        @Override
        public boolean usesActionMask(String agentType) {
            return true;
        }

        @Override
        public boolean hasFinished() {
            return false;
        }
    }

    @Test
    public void inEvaluationModeATypeWithoutSpacesHasItsPolicys() throws Exception {
        Path policyFile = Files.createTempFile("argmax", ".onnx");
        try {
            Files.write(policyFile, PolicyFiles.argmaxOfTwo());
            RLConnectorTest.onFreshThread(() -> {
                List<String> log = new ArrayList<>();
                MultiAgentConnector connector = new MultiAgentConnector(new SpacelessRobots())
                        .usePolicy("robot", policyFile.toString());
                String first = connector.addAgent("robot", new MultiAgentConnectorTest.Robot(
                        "a", new double[] {1, 0}, new boolean[] {false, true}, log));
                String second = connector.addAgent("robot", new MultiAgentConnectorTest.Robot("b", new double[] {0, 1}, null, log));
                connector.requestAction(first);
                connector.requestAction(second);
                connector.decide();
                assertEquals(Arrays.asList("a=1", "b=1"), log); // a's choice 0 is masked (mask size from the policy's space)
            });
        } finally {
            Files.deleteIfExists(policyFile);
        }
    }
}
