package com.alpyperl.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.testmodels.CountingModel;
import com.alpyperl.launcher.testmodels.LoopingModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/** Which threads a group gets, and what happens when a virtual model thread cannot let go of its carrier. */
public class VirtualModelThreadsTest {
    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    @Test
    public void autoUsesVirtualThreadsExactlyWhereTheJvmHasThem() throws IOException {
        boolean available = Runtime.version().feature() >= VirtualThreads.MINIMUM_JAVA;
        assertEquals(available, VirtualThreads.available());
        ModelFolder folder = TestFolders.open(temporary, CountingModel.class);
        ByteBuffer commands = ByteBuffer.allocateDirect(2 * 3 * 8);
        ModelSessionGroup auto = ModelSessionGroup.open(folder, 3, "auto", 0, commands);
        ModelSessionGroup one = ModelSessionGroup.open(folder, 1, "auto", 0, commands);
        try {
            int lanes = ModelSessionGroup.defaultParallelism(3);
            assertEquals(!available ? "platform" : lanes == 1 ? "caller" : "virtual", auto.threadKind());
            assertEquals(available ? lanes : 3, auto.parallelism());
            assertEquals("one model runs on its caller's thread", available ? "caller" : "platform", one.threadKind());
        } finally {
            auto.close();
            one.close();
        }
        if (!available) {
            UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class,
                    () -> ModelSessionGroup.open(folder, 2, "virtual", 0, commands));
            assertTrue(refused.getMessage(), refused.getMessage().startsWith(
                    "virtual model threads need Java 24 or newer; this JVM is Java " + System.getProperty("java.version")));
        }
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ModelSessionGroup.open(folder, 2, "green", 0, commands)).getMessage().contains("\"green\""));
    }

    @Test
    public void aModelPinnedToItsCarrierIsGivenUpOnAndTheLaneGoesOn() throws IOException {
        assertAPinnedModelIsGivenUpOn("virtual", "pin", "model_threads=\"platform\"");
    }

    @Test
    public void aModelPinnedToItsCallersThreadIsGivenUpOnAndTheOthersGoOn() throws IOException {
        // The watchdog sees it, and the model lets go of the caller with an error.
        assertAPinnedModelIsGivenUpOn("caller", "pinAgain", "did not let go of its caller's thread");
    }

    /**
     * Three models on one carrier of the kind {@code threads} (one lane, or the caller); the second
     * step makes model 0 decide inside a class initializer ({@code stall}: each works once per
     * JVM), which pins its virtual thread: it is given up on with an error that says {@code says},
     * the others finish their step, and the next reset works.
     */
    private void assertAPinnedModelIsGivenUpOn(String threads, String stall, String says) throws IOException {
        assumeTrue("virtual model threads need Java 24+; tests/test_vector_env.py runs this on it",
                VirtualThreads.available());
        ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * 3 * 8).order(ByteOrder.nativeOrder());
        ModelSessionGroup group = ModelSessionGroup.open(TestFolders.open(temporary, LoopingModel.class), 3,
                threads, 1, commandBytes);
        try {
            group.configure(Spaces.unboundedBox(1).toJson(), Spaces.discrete(2).toJson(), 0.3,
                    ByteBuffer.allocateDirect(3 * 3 * 8));
            group.session(0).setParameters("{\"loopAt\":1,\"stall\":\"" + stall + "\"}");
            LongBuffer commands = commandBytes.asLongBuffer();
            commands.put(0, 0).put(1, 1).put(2, 2);
            group.stepAll();
            // The seeds were used once: the commands are STEP again.
            StepTimeoutException pinned = assertThrows(StepTimeoutException.class, group::stepAll);
            assertTrue(pinned.getMessage(), pinned.getMessage().startsWith("[environment 0] The model LoopingModel "
                    + "handed its decision back, but its virtual thread alpyperl-model-LoopingModel#"));
            assertTrue(pinned.getMessage(), pinned.getMessage().contains(says));
            assertEquals("the others finished their step", ModelSession.RUNNING, commands.get(3 + 1));
            group.session(0).setParameters("{}");
            commands.put(0, 10).put(1, 11).put(2, 12);
            assertEquals(0, group.stepAll());
        } finally {
            group.close();
        }
    }

    @Test
    public void aModelBlockedOnItsCallersThreadTimesOutAndTheOthersGoOn() throws IOException {
        assumeTrue("models on the caller's thread need Java 24+; tests/test_vector_env.py runs this on it",
                VirtualThreads.available());
        ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * 3 * 8).order(ByteOrder.nativeOrder());
        ModelSessionGroup group = ModelSessionGroup.open(TestFolders.open(temporary, LoopingModel.class), 3,
                "caller", 0, commandBytes);
        try {
            group.configure(Spaces.unboundedBox(1).toJson(), Spaces.discrete(2).toJson(), 0.3,
                    ByteBuffer.allocateDirect(3 * 3 * 8));
            group.session(1).setParameters("{\"loopAt\":1,\"stall\":\"block\"}");
            LongBuffer commands = commandBytes.asLongBuffer();
            commands.put(0, 0).put(1, 1).put(2, 2);
            group.stepAll();
            StepTimeoutException blocked = assertThrows(StepTimeoutException.class, group::stepAll);
            assertTrue(blocked.getMessage(), blocked.getMessage().startsWith("[environment 1] The model LoopingModel "
                    + "did not reach its next requestAction() within 0.3 s (step_timeout)"));
            assertTrue(blocked.getMessage(), blocked.getMessage().contains("LoopingModel.stall("));
            assertEquals(ModelSession.RUNNING, commands.get(3));
            assertEquals(ModelSession.RUNNING, commands.get(3 + 2));
            group.session(1).setParameters("{}");
            commands.put(0, 10).put(1, 11).put(2, 12);
            assertEquals(0, group.stepAll());
        } finally {
            group.close();
        }
    }
}
