package com.alpyperl.connector;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.policy.PolicyFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.DoubleBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Action masks of single-agent models ({@link MaskedModel}): the mask's checks, the observation
 * Python reads, the refusal message, and evaluation mode choosing only valid actions. The test
 * policy chooses 0 when the first observation value is at least the second.
 */
public class ActionMaskTest {
    private Path policyFile;
    private PrintStream originalOut;

    /** The two-value model of {@link EvaluationModeTest} with a mask the test sets. */
    static final class MaskedTwoValueModel implements MaskedModel {
        double[] observation = {1, 0};
        boolean[] mask;
        final List<Integer> actions = new ArrayList<>();

        @Override
        public boolean[] getActionMask() {
            return mask;
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
            return Spaces.box(-10, 10, 2);
        }

        @Override
        public Space getActionSpace() {
            return Spaces.discrete(2);
        }
    }

    @Before
    public void writePolicyAndQuietConsole() throws Exception {
        policyFile = Files.createTempFile("argmax", ".onnx");
        Files.write(policyFile, PolicyFiles.argmaxOfTwo());
        originalOut = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, "UTF-8"));
    }

    @After
    public void cleanUp() throws Exception {
        System.setOut(originalOut);
        Files.deleteIfExists(policyFile);
    }

    @Test
    public void aMaskHasAnEntryPerChoice() {
        assertEquals(5, ActionMask.size(Spaces.discrete(5)));
        assertEquals(2 + 3 + 4, ActionMask.size(Spaces.multiDiscrete(2, 3, 4)));
        ModelException box = assertThrows(ModelException.class, () -> ActionMask.size(Spaces.box(0, 1, 2)));
        assertTrue(box.getMessage(), box.getMessage().contains("is neither Discrete nor MultiDiscrete"));
    }

    @Test
    public void theObservationPythonReadsHasTheMaskFirst() {
        Space.Dict space = ActionMask.observationSpace(Spaces.box(-10, 10, 2), Spaces.multiDiscrete(2, 3));
        assertEquals(List.of("action_mask", "observations"), new ArrayList<>(space.getSpaces().keySet()));
        assertEquals(5, space.getSpaces().get("action_mask").flatSize());
        assertEquals(7, space.flatSize());
    }

    @Test
    public void theModelsMaskIsCheckedAndCopied() {
        MaskedTwoValueModel model = new MaskedTwoValueModel();
        assertNull("null allows every action", ActionMask.of(model, Spaces.discrete(2)));
        model.mask = new boolean[] {false, true};
        boolean[] got = ActionMask.of(model, Spaces.discrete(2));
        model.mask[0] = true;
        assertArrayEquals("a copy: the model may reuse its array", new boolean[] {false, true}, got);
        model.mask = new boolean[] {true, true, true};
        ModelException length = assertThrows(ModelException.class, () -> ActionMask.of(model, Spaces.discrete(2)));
        assertEquals("getActionMask() of the model returned 3 entries, but its action space Discrete(2) has 2 choices",
                length.getMessage());
        model.mask = new boolean[] {false, false};
        ModelException none = assertThrows(ModelException.class, () -> ActionMask.of(model, Spaces.discrete(2)));
        assertTrue(none.getMessage(), none.getMessage().startsWith(
                "getActionMask() of the model allows no choice of its action space Discrete(2)"));
        model.mask = new boolean[] {true, false, false, false, false};
        ModelException entry = assertThrows(ModelException.class,
                () -> ActionMask.of(model, Spaces.multiDiscrete(2, 3)));
        assertTrue(entry.getMessage(), entry.getMessage().startsWith(
                "getActionMask() of the model allows no choice for entry 1 of its action space"));
    }

    @Test
    public void aMaskedActionIsNamedWithTheValidOnes() {
        boolean[] mask = {true, true, false};
        assertEquals("2 is not valid now; the valid actions are 0, 1",
                ActionMask.problem(Spaces.discrete(3), mask, DoubleBuffer.wrap(new double[] {2}), 0));
        assertNull(ActionMask.problem(Spaces.discrete(3), mask, DoubleBuffer.wrap(new double[] {1}), 0));
        assertNull("no mask: all valid",
                ActionMask.problem(Spaces.discrete(3), null, DoubleBuffer.wrap(new double[] {2}), 0));
        assertEquals("entry 1 is 0, which is not valid now; its valid choices are 1, 2",
                ActionMask.problem(Spaces.multiDiscrete(2, 3), new boolean[] {true, true, false, true, true},
                        DoubleBuffer.wrap(new double[] {1, 0}), 0));
    }

    @Test
    public void inEvaluationThePolicyPicksTheBestValidAction() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            MaskedTwoValueModel model = new MaskedTwoValueModel();
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString());
            connector.requestAction();                 // no mask: the policy's choice, 0
            model.mask = new boolean[] {false, true};  // 0 masked: the other one
            connector.requestAction();
            model.observation = new double[] {-1, 3};  // the policy prefers 1, which is masked now
            model.mask = new boolean[] {true, false};
            connector.requestAction();
            assertEquals(List.of(0, 1, 0), model.actions);
        });
    }

    @Test
    public void sampledActionsInEvaluationAreValid() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            MaskedTwoValueModel model = new MaskedTwoValueModel();
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString()).sampleActions(true);
            model.observation = new double[] {0, 0}; // equal logits: either action half the time, unmasked
            model.mask = new boolean[] {false, true};
            for (int i = 0; i < 200; i++) {
                connector.requestAction();
            }
            assertEquals("only the valid action", 200, model.actions.stream().filter(a -> a == 1).count());
        });
    }

    @Test
    public void inEvaluationAMaskThatAllowsNothingIsAnError() throws Exception {
        RLConnectorTest.onFreshThread(() -> {
            MaskedTwoValueModel model = new MaskedTwoValueModel();
            model.mask = new boolean[2];
            RLConnector connector = new RLConnector(model).usePolicy(policyFile.toString());
            ModelException failed = assertThrows(ModelException.class, connector::requestAction);
            assertTrue(failed.getMessage(), failed.getMessage().contains("allows no choice"));
            assertTrue(model.actions.isEmpty());
        });
    }
}
