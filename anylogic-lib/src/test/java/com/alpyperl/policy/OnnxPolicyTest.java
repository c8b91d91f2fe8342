package com.alpyperl.policy;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.Test;

/**
 * The policy layer over the network: observation layout (copy, one-hot), action layout
 * (categorical, gaussian), sampling and the checks of the metadata. The network here is the
 * identity, so the action parts read the input values back and the expected actions are plain.
 */
public class OnnxPolicyTest {

    private static final String OBSERVATION = "{\"type\": \"Dict\", \"spaces\": [[\"a\", {\"type\": \"Box\", \"shape\": [2], "
            + "\"low\": [-Infinity, -Infinity], \"high\": [Infinity, Infinity], \"dtype\": \"float32\"}], "
            + "[\"d\", {\"type\": \"Discrete\", \"n\": 3, \"start\": 1}]]}";
    private static final String ACTION = "{\"type\": \"Tuple\", \"spaces\": [{\"type\": \"Discrete\", \"n\": 2, \"start\": 0}, "
            + "{\"type\": \"Box\", \"shape\": [1], \"low\": [0.0], \"high\": [10.0], \"dtype\": \"float32\"}]}";
    /** The one-hot of d comes first in the input, then a: input = [d==1, d==2, d==3, a0, a1]. */
    private static final String INPUT_LAYOUT = "[{\"from\": 2, \"one_hot\": 3, \"start\": 1}, {\"from\": 0, \"size\": 2}]";
    /** Logits are the input's a0, a1; the gaussian's mean is d==1 and its log std d==2. */
    private static final String CATEGORICAL = "{\"kind\": \"categorical\", \"from\": 3, \"n\": 2, \"start\": 0}";

    private static String metadata(String inputLayout, String gaussian, int version) {
        return "{\"format_version\": " + version + ", \"observation_space\": " + OBSERVATION + ", \"action_space\": " + ACTION
                + ", \"input\": \"obs\", \"input_size\": 5, \"output\": \"action_dist_inputs\", \"output_size\": 5, "
                + "\"observation_layout\": " + inputLayout + ", \"action_layout\": [" + CATEGORICAL + ", " + gaussian + "]}";
    }

    private static String gaussian(boolean normalized) {
        return "{\"kind\": \"gaussian\", \"from\": 0, \"size\": 1, \"low\": [0.0], \"high\": [10.0], \"normalized\": "
                + normalized + "}";
    }

    private static byte[] identityPolicy(String metadata) {
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 5).output("action_dist_inputs", "batch", 5);
        b.node("Identity", "same", new String[] {"obs"}, "action_dist_inputs");
        if (metadata != null) {
            b.metadata(OnnxPolicy.METADATA_KEY, metadata);
        }
        return b.build();
    }

    private static OnnxPolicy policy(boolean normalized) throws Exception {
        return OnnxPolicy.load(identityPolicy(metadata(INPUT_LAYOUT, gaussian(normalized), 1)), "test.onnx");
    }

    @Test
    public void buildsTheInputAndReadsTheActionAsTheLayoutsSay() throws Exception {
        OnnxPolicy policy = policy(false);
        assertArrayEquals(new float[] {0, 1, 0, 0.5f, -0.25f}, policy.distributionInputs(new double[] {0.5, -0.25, 2}), 0f);
        // logits [0.5, -0.25] -> 0; mean 0 (d is not 1) stays 0, inside [0, 10]
        assertArrayEquals(new double[] {0, 0}, policy.act(new double[] {0.5, -0.25, 2}), 0);
        // logits [-1, 3] -> 1; mean 1 (d == 1)
        assertArrayEquals(new double[] {1, 1}, policy.act(new double[] {-1, 3, 1}), 0);
        assertEquals(3, policy.getObservationSpace().flatSize());
        assertTrue(policy.toString(), policy.toString().contains("test.onnx"));
    }

    @Test
    public void equalLogitsChooseTheFirst() throws Exception {
        assertArrayEquals(new double[] {0, 0}, policy(false).act(new double[] {2, 2, 3}), 0);
    }

    @Test
    public void normalizedMeansAreUnsquashedToTheBoundsAndClipped() throws Exception {
        OnnxPolicy policy = policy(true);
        assertArrayEquals(new double[] {0, 5}, policy.act(new double[] {0, 0, 2}), 1e-12);  // mean 0 -> middle of [0, 10]
        assertArrayEquals(new double[] {0, 10}, policy.act(new double[] {0, 0, 1}), 1e-12); // mean 1 -> high
    }

    @Test
    public void sampledActionsFollowTheDistribution() throws Exception {
        OnnxPolicy policy = policy(false);
        Random random = new Random(7);
        double[] observation = {0.5, -0.25, 3};            // logits [0.5, -0.25]; gaussian mean 0, log std 0
        int ones = 0;
        double sum = 0;
        int draws = 20_000;
        for (int i = 0; i < draws; i++) {
            double[] action = policy.sample(observation, random);
            ones += (int) action[0];
            sum += action[1];
        }
        double p1 = 1 / (1 + Math.exp(0.75));
        assertEquals(p1, ones / (double) draws, 0.015);
        // a standard normal clipped at 0 from below: mean of max(Z, 0) = 1 / sqrt(2 pi)
        assertEquals(1 / Math.sqrt(2 * Math.PI), sum / draws, 0.02);
        assertEquals(policy.sample(observation, new Random(3))[0], policy.sample(observation, new Random(3))[0], 0);
    }

    @Test
    public void observationsOutsideTheSpaceAreRefused() throws Exception {
        OnnxPolicy policy = policy(false);
        IllegalArgumentException wrongSize = assertThrows(IllegalArgumentException.class, () -> policy.act(new double[2]));
        assertTrue(wrongSize.getMessage(), wrongSize.getMessage().contains("(3 values), got 2 values"));
        IllegalArgumentException badIndex = assertThrows(IllegalArgumentException.class,
                () -> policy.act(new double[] {0, 0, 4}));
        assertTrue(badIndex.getMessage(), badIndex.getMessage().contains("whole number from 1 to 3"));
    }

    @Test
    public void aFileWithoutPolicyMetadataIsRefused() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxPolicy.load(identityPolicy(null), "net.onnx"));
        assertTrue(e.getMessage(), e.getMessage().contains("not an ALPypeRL policy") && e.getMessage().contains("alpyperl export"));
    }

    @Test
    public void anotherFormatVersionIsRefused() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxPolicy.load(identityPolicy(metadata(INPUT_LAYOUT, gaussian(false), 2)), "new.onnx"));
        assertTrue(e.getMessage(), e.getMessage().contains("format version 2"));
    }

    @Test
    public void layoutsThatDoNotFitTheNetworkOrSpacesAreRefused() {
        String shortInput = "[{\"from\": 0, \"size\": 3}]";
        OnnxFormatException tooFew = assertThrows(OnnxFormatException.class,
                () -> OnnxPolicy.load(identityPolicy(metadata(shortInput, gaussian(false), 1)), "p.onnx"));
        assertTrue(tooFew.getMessage(), tooFew.getMessage().contains("makes 3 input values, the network takes 5"));

        String outside = "[{\"from\": 2, \"size\": 5}]";
        OnnxFormatException beyond = assertThrows(OnnxFormatException.class,
                () -> OnnxPolicy.load(identityPolicy(metadata(outside, gaussian(false), 1)), "p.onnx"));
        assertTrue(beyond.getMessage(), beyond.getMessage().contains("outside the 3 values"));

        String wideGaussian = "{\"kind\": \"gaussian\", \"from\": 3, \"size\": 2, \"low\": [0, 0], \"high\": [1, 1]}";
        OnnxFormatException overrun = assertThrows(OnnxFormatException.class,
                () -> OnnxPolicy.load(identityPolicy(metadata(INPUT_LAYOUT, wideGaussian, 1)), "p.onnx"));
        assertTrue(overrun.getMessage(), overrun.getMessage().contains("reads outputs 3..6, but the network has 5"));

        String unknown = "{\"kind\": \"beta\", \"from\": 0, \"size\": 1}";
        OnnxFormatException kind = assertThrows(OnnxFormatException.class,
                () -> OnnxPolicy.load(identityPolicy(metadata(INPUT_LAYOUT, unknown, 1)), "p.onnx"));
        assertTrue(kind.getMessage(), kind.getMessage().contains("unknown action kind 'beta'"));
    }

    @Test
    public void aMissingFileIsNamed() {
        Path missing = Path.of("no-such-policy.onnx");
        FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> OnnxPolicy.load(missing));
        assertTrue(e.getMessage(), e.getMessage().contains("no-such-policy.onnx") && e.getMessage().contains("does not exist"));
    }

    @Test
    public void loadsFromAFile() throws Exception {
        Path file = Files.createTempFile("policy", ".onnx");
        try {
            Files.write(file, identityPolicy(metadata(INPUT_LAYOUT, gaussian(false), 1)));
            assertArrayEquals(new double[] {1, 1}, OnnxPolicy.load(file).act(new double[] {-1, 3, 1}), 0);
        } finally {
            Files.delete(file);
        }
    }
}
