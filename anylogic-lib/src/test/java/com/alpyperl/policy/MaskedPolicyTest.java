package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Random;
import org.junit.Test;

/**
 * Action masks in the evaluator: a MultiDiscrete([3, 2]) policy whose network is the identity, so
 * the observation's five values are its logits. A masked choice is never taken nor drawn.
 */
public class MaskedPolicyTest {
    private static final String METADATA = "{\"format_version\": 1, "
            + "\"observation_space\": {\"type\": \"Box\", \"shape\": [5], \"low\": [-9, -9, -9, -9, -9], "
            + "\"high\": [9, 9, 9, 9, 9], \"dtype\": \"float32\"}, "
            + "\"action_space\": {\"type\": \"MultiDiscrete\", \"nvec\": [3, 2], \"start\": [0, 0]}, "
            + "\"input\": \"obs\", \"input_size\": 5, \"output\": \"action_dist_inputs\", \"output_size\": 5, "
            + "\"observation_layout\": [{\"from\": 0, \"size\": 5}], "
            + "\"action_layout\": [{\"kind\": \"categorical\", \"from\": 0, \"n\": 3, \"start\": 0}, "
            + "{\"kind\": \"categorical\", \"from\": 3, \"n\": 2, \"start\": 0}]}";
    private static final double[] LOGITS = {3, 2, 1, 0, 1};

    private static OnnxPolicy policy() throws Exception {
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 5).output("action_dist_inputs", "batch", 5);
        b.node("Identity", "same", new String[] {"obs"}, "action_dist_inputs");
        b.metadata(OnnxPolicy.METADATA_KEY, METADATA);
        return OnnxPolicy.load(b.build(), "masked.onnx");
    }

    @Test
    public void theMostLikelyAllowedChoiceOfEachEntryIsTaken() throws Exception {
        OnnxPolicy policy = policy();
        assertArrayEquals(new double[] {0, 1}, policy.act(LOGITS), 0);
        assertArrayEquals(new double[] {0, 1}, policy.act(LOGITS, null), 0);
        assertArrayEquals(new double[] {1, 0}, policy.act(LOGITS, new boolean[] {false, true, true, true, false}), 0);
        assertArrayEquals(new double[] {2, 1}, policy.act(LOGITS, new boolean[] {false, false, true, false, true}), 0);
    }

    @Test
    public void drawsNeverPickAMaskedChoice() throws Exception {
        OnnxPolicy policy = policy();
        boolean[] mask = {true, false, true, false, true};
        Random random = new Random(5);
        int[] firstCounts = new int[3];
        for (int i = 0; i < 2000; i++) {
            double[] action = policy.sample(LOGITS, mask, random);
            firstCounts[(int) action[0]]++;
            assertEquals(1, action[1], 0);
        }
        assertEquals(0, firstCounts[1]);
        assertTrue("both allowed choices are drawn: " + firstCounts[0] + ", " + firstCounts[2],
                firstCounts[0] > firstCounts[2] && firstCounts[2] > 0);
    }

    @Test
    public void aMaskOfTheWrongSizeOrAllowingNothingIsRefused() throws Exception {
        OnnxPolicy policy = policy();
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> policy.act(LOGITS, new boolean[] {true, true, true}));
        assertTrue(size.getMessage(), size.getMessage().contains("the action mask has 3 entries; the action space "
                + "MultiDiscrete([3 2]) has 5 choices"));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> policy.act(LOGITS, new boolean[] {true, true, true, false, false}));
        assertTrue(none.getMessage(), none.getMessage().contains("allows no choice"));
    }
}
