package com.alpyperl.connector;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.policy.PolicyFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Evaluation mode: with no alpyperl host, the connector answers requestAction() with an exported
 * policy. The test policy chooses 0 when the first observation value is at least the second.
 */
public class EvaluationModeTest {
    private Path policyFile;
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private PrintStream originalOut;

    /** A model with observation Box(2), action Discrete(2) (or no spaces: defined by the policy). */
    static final class TwoValueModel implements RLModel {
        double[] observation = {1, 0};
        final boolean declaresSpaces;
        final Space actionSpace;
        final List<Integer> actions = new ArrayList<>();

        TwoValueModel(boolean declaresSpaces, Space actionSpace) {
            this.declaresSpaces = declaresSpaces;
            this.actionSpace = actionSpace;
        }

        @Override
        public double[] getObservation() {
            return observation;
        }

        @Override
        public void takeAction(RLAction action) {
            actions.add(action.asInt());
        }

        @Override
        public double getReward() {
            return 0;
        }

        @Override
        public boolean hasFinished() {
            return false;
        }

        @Override
        public Space getObservationSpace() {
            return declaresSpaces ? Spaces.box(-10, 10, 2) : null;
        }

        @Override
        public Space getActionSpace() {
            return declaresSpaces ? actionSpace : null;
        }
    }

    @Before
    public void writePolicyAndCaptureConsole() throws Exception {
        policyFile = Files.createTempFile("argmax", ".onnx");
        Files.write(policyFile, PolicyFiles.argmaxOfTwo());
        originalOut = System.out;
        System.setOut(new PrintStream(console, true, "UTF-8"));
    }

    @After
    public void cleanUp() throws Exception {
        System.setOut(originalOut);
        System.clearProperty(PolicyAnswers.POLICY_PROPERTY);
        Files.deleteIfExists(policyFile);
    }

    private String consoleText() {
        return new String(console.toByteArray(), StandardCharsets.UTF_8);
    }

    @Test
    public void thePolicyGivenToTheConnectorChoosesTheActions() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            TwoValueModel model = new TwoValueModel(true, Spaces.discrete(2));
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString());
            connector.requestAction();
            model.observation = new double[] {-1, 3};
            connector.requestAction();
            model.observation = new double[] {2, 2};
            connector.requestAction();
            assertEquals(List.of(0, 1, 0), model.actions);
        });
        assertTrue(consoleText(), consoleText().contains("ALPypeRL: evaluation mode: actions from the policy "
                + policyFile.toAbsolutePath().normalize()));
        assertTrue(consoleText(), consoleText().contains("the most likely action"));
    }

    @Test
    public void aModelWithoutSpacesUsesThePolicysSpaces() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            TwoValueModel model = new TwoValueModel(false, null);
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString());
            assertEquals(Spaces.discrete(2), connector.getActionSpace());
            assertEquals(2, connector.getObservationSpace().flatSize());
            model.observation = new double[] {0, 1};
            connector.requestAction();
            assertEquals(List.of(1), model.actions);
        });
    }

    @Test
    public void theSystemPropertyNamesAPolicyForModelsThatDoNotChooseOne() throws Exception {
        System.setProperty(PolicyAnswers.POLICY_PROPERTY, policyFile.toString());
        RLConnectorTest.onFreshThread(() -> {
            TwoValueModel model = new TwoValueModel(true, Spaces.discrete(2));
            new RLConnector(model).requestAction();
            assertEquals(List.of(0), model.actions);
        });
        assertTrue(consoleText(), consoleText().contains("(-Dalpyperl.policy, "));
    }

    @Test
    public void sampledActionsUseTheConnectorsRandomNumbers() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            TwoValueModel model = new TwoValueModel(true, Spaces.discrete(2));
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString()).sampleActions(true);
            model.observation = new double[] {0, 0};  // equal logits: both actions half the time
            for (int i = 0; i < 400; i++) {
                connector.requestAction();
            }
            long ones = model.actions.stream().filter(a -> a == 1).count();
            assertTrue("ones: " + ones, ones > 100 && ones < 300);
        });
    }

    @Test
    public void aMissingPolicyFileIsNamed() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            RLConnector connector = new RLConnector(new TwoValueModel(true, Spaces.discrete(2))).usePolicy("missing.onnx");
            IllegalStateException e = assertThrows(IllegalStateException.class, connector::requestAction);
            assertTrue(e.getMessage(), e.getMessage().contains("missing.onnx (given by usePolicy()): the file does not exist"));
        });
    }

    @Test
    public void aPolicyForOtherSpacesIsRefused() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            RLConnector connector = new RLConnector(new TwoValueModel(true, Spaces.discrete(3))).usePolicy(policyFile.toString());
            IllegalStateException e = assertThrows(IllegalStateException.class, connector::requestAction);
            assertTrue(e.getMessage(), e.getMessage().contains("was trained for the action space Discrete(2), but the model "
                    + "declares Discrete(3)"));
        });
    }

    @Test
    public void underTrainingThePolicyFileIsNotUsedAndThatIsSaid() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            RLConnectorTest.TestHost host = new RLConnectorTest.TestHost(5);
            host.bind();
            RLConnector connector = new RLConnector(new RLConnectorTest.FakeModel()).usePolicy("unused.onnx");
            connector.requestAction();  // answered by the host; the file (which does not exist) is never read
            assertEquals(1, host.observations.size());
        });
        assertTrue(consoleText(), consoleText().contains("training mode: alpyperl chooses the actions; the policy file "
                + "unused.onnx given to usePolicy() is not used"));
    }
}
