package com.alpyperl.policy;

/** Small exported-policy files for tests in other packages. */
public final class PolicyFiles {
    private PolicyFiles() {
    }

    /**
     * A policy for observations Box(2) and actions Discrete(2) whose network is the identity: it
     * chooses 0 when the first observation value is at least the second, else 1.
     */
    public static byte[] argmaxOfTwo() {
        String metadata = "{\"format_version\": 1, "
                + "\"observation_space\": {\"type\": \"Box\", \"shape\": [2], \"low\": [-10.0, -10.0], \"high\": [10.0, 10.0], "
                + "\"dtype\": \"float32\"}, "
                + "\"action_space\": {\"type\": \"Discrete\", \"n\": 2, \"start\": 0}, "
                + "\"input\": \"obs\", \"input_size\": 2, \"output\": \"action_dist_inputs\", \"output_size\": 2, "
                + "\"observation_layout\": [{\"from\": 0, \"size\": 2}], "
                + "\"action_layout\": [{\"kind\": \"categorical\", \"from\": 0, \"n\": 2, \"start\": 0}]}";
        OnnxBuilder b = new OnnxBuilder().input("obs", "batch", 2).output("action_dist_inputs", "batch", 2)
                .metadata(OnnxPolicy.METADATA_KEY, metadata);
        b.node("Identity", "same", new String[] {"obs"}, "action_dist_inputs");
        return b.build();
    }
}
