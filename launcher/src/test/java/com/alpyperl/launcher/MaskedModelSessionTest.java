package com.alpyperl.launcher;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.testmodels.CountingModel;
import com.alpyperl.launcher.testmodels.MaskedModel3;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * A single-agent model with an action mask ({@code MaskedModel}) run by a group, as Python runs it:
 * the observation carries the mask, and a masked action is refused before the model runs.
 */
public class MaskedModelSessionTest {
    private static final Space ACTIONS = Spaces.discrete(3);
    private static final Space MASKED_OBSERVATION = ActionMask.observationSpace(Spaces.unboundedBox(2), ACTIONS);

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private ModelSessionGroup group;
    private LongBuffer commands;
    private DoubleBuffer rows;
    private int rowSize;

    @Before
    public void clear() {
        MaskedModel3.APPLIED.clear();
    }

    @After
    public void close() {
        if (group != null) {
            group.close();
        }
    }

    private String open(Class<?> model, int size) throws IOException {
        ModelFolder folder = TestFolders.open(temporary, model);
        ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * size * 8).order(ByteOrder.nativeOrder());
        group = ModelSessionGroup.open(folder, size, "platform", 0, commandBytes);
        commands = commandBytes.asLongBuffer();
        return group.describeModel(10);
    }

    private void configure(Space observation, int size) {
        rowSize = ACTIONS.flatSize() + observation.flatSize() + 1;
        ByteBuffer bytes = ByteBuffer.allocateDirect(size * rowSize * 8).order(ByteOrder.nativeOrder());
        group.configure(observation.toJson(), ACTIONS.toJson(), 10, bytes);
        rows = bytes.asDoubleBuffer();
    }

    private int run(long... commandsOfSessions) {
        for (int i = 0; i < commandsOfSessions.length; i++) {
            commands.put(i, commandsOfSessions[i]);
        }
        return group.stepAll();
    }

    private double[] observation(int session) {
        double[] out = new double[MASKED_OBSERVATION.flatSize()];
        for (int k = 0; k < out.length; k++) {
            out[k] = rows.get(session * rowSize + ACTIONS.flatSize() + k);
        }
        return out;
    }

    private void action(int session, double value) {
        rows.put(session * rowSize, value);
    }

    @Test
    public void aMaskedModelSaysSoAndOthersDoNot() throws IOException {
        assertTrue(open(MaskedModel3.class, 1).contains("\"action_mask\":true"));
        group.close();
        assertFalse(open(CountingModel.class, 1).contains("action_mask"));
    }

    @Test
    public void theObservationCarriesTheMaskFirst() throws IOException {
        open(MaskedModel3.class, 1);
        configure(MASKED_OBSERVATION, 1);
        run(7);
        assertArrayEquals("decision 0 masks action 0", new double[] {0, 1, 1, 0, 0}, observation(0), 0);
        action(0, 2);
        run(ModelSessionGroup.STEP);
        assertArrayEquals("decision 1 masks action 1", new double[] {1, 0, 1, 1, 2}, observation(0), 0);
    }

    @Test
    public void aMaskedActionIsRefusedBeforeTheModelRunsAndTheSameDecisionWaits() throws IOException {
        open(MaskedModel3.class, 1);
        configure(MASKED_OBSERVATION, 1);
        run(7);
        action(0, 0);
        ActionOutsideSpaceException refused = assertThrows(ActionOutsideSpaceException.class,
                () -> run(ModelSessionGroup.STEP));
        assertEquals("the action is masked: 0 is not valid now; the valid actions are 1, 2", refused.getMessage());
        assertTrue("the model did not run", MaskedModel3.APPLIED.isEmpty());
        action(0, 1);
        run(ModelSessionGroup.STEP);
        assertEquals(List.of(1), MaskedModel3.APPLIED);
    }

    @Test
    public void inAGroupTheRefusalNamesTheEnvironmentAndNoModelRuns() throws IOException {
        open(MaskedModel3.class, 2);
        configure(MASKED_OBSERVATION, 2);
        run(1, 2);
        assertArrayEquals("the second instance has the mask too", new double[] {0, 1, 1, 0, 0}, observation(1), 0);
        action(0, 2);
        action(1, 0);
        ActionOutsideSpaceException refused = assertThrows(ActionOutsideSpaceException.class,
                () -> run(ModelSessionGroup.STEP, ModelSessionGroup.STEP));
        assertEquals("the action of environment 1 is masked: 0 is not valid now; the valid actions are 1, 2",
                refused.getMessage());
        assertTrue("no model ran", MaskedModel3.APPLIED.isEmpty());
    }

    @Test
    public void aMaskThatAllowsNothingFailsTheEpisodeNamingIt() throws IOException {
        open(MaskedModel3.class, 1);
        configure(MASKED_OBSERVATION, 1);
        group.setParameters("{\"noChoiceAt\": 1}");
        run(7);
        action(0, 1);
        ModelException failed = assertThrows(ModelException.class, () -> run(ModelSessionGroup.STEP));
        assertTrue(failed.getMessage(), failed.getMessage().contains("getActionMask() of the model allows no choice"
                + " of its action space Discrete(3)"));
    }

    @Test
    public void spacesWithoutTheMaskAreRefusedForAMaskedModel() throws IOException {
        open(MaskedModel3.class, 1);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> configure(Spaces.unboundedBox(2), 1));
        assertTrue(refused.getMessage(), refused.getMessage().startsWith("the model uses an action mask (it implements "
                + "MaskedModel), so its observation space must be Dict(action_mask: Box(0, 1, (3,)), observations:"));
    }
}
