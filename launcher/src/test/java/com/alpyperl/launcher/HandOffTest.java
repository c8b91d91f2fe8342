package com.alpyperl.launcher;

import static com.alpyperl.launcher.ModelSession.RUNNING;
import static com.alpyperl.launcher.ModelSession.TRUNCATED;
import static org.junit.Assert.assertEquals;

import com.alpyperl.connector.Spaces;
import com.alpyperl.launcher.testmodels.TurnCheckingModel;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.rules.Timeout;

/**
 * Invariant 2: the caller and the model thread never run at the same time. The caller raises
 * {@link TurnCheckingModel#callerRunning} whenever it is outside the session's calls and looks at
 * {@link TurnCheckingModel#modelRunning}; the model does the mirror image. With a correct hand-off
 * neither ever sees the other, whatever the scheduling; a broken one shows up as sightings.
 */
public class HandOffTest {
    private static final int EPISODES = 4;
    private static final int STEPS_PER_EPISODE = 400;

    @Rule
    public final TemporaryFolder temporary = new TemporaryFolder();
    @Rule
    public final Timeout timeout = Timeout.seconds(60);

    private ModelSession session;
    private int modelSightings;

    @Before
    public void clearFlags() {
        TurnCheckingModel.callerRunning = false;
        TurnCheckingModel.modelRunning = false;
        TurnCheckingModel.OVERLAPS.set(0);
    }

    @After
    public void close() {
        if (session != null) {
            session.close();
        }
    }

    @Test
    public void callerAndModelNeverRunTogether() throws Exception {
        session = new ModelSession(TestFolders.open(temporary, TurnCheckingModel.class));
        DrivenSession env = new DrivenSession(session, Spaces.unboundedBox(1), Spaces.discrete(2), 10);
        session.setParameters("{\"maxSteps\": " + STEPS_PER_EPISODE + "}");
        int steps = 0;
        for (int episode = 0; episode < EPISODES; episode++) {
            long seed = episode;
            int status = call(() -> env.reset(seed));
            assertEquals(RUNNING, status);
            // The third episode is abandoned half-way by the next reset, which runs model code (the unwinding) too.
            int length = episode == EPISODES - 2 ? STEPS_PER_EPISODE / 2 : STEPS_PER_EPISODE;
            for (int step = 0; step < length; step++) {
                int action = step % 2;
                status = call(() -> env.step(action));
                steps++;
            }
            assertEquals(episode == EPISODES - 2 ? RUNNING : TRUNCATED, status);
        }
        call(() -> {
            session.close();
            return 0;
        });

        assertEquals((EPISODES - 1) * STEPS_PER_EPISODE + STEPS_PER_EPISODE / 2, steps);
        assertEquals("the model ran while the caller did", 0, TurnCheckingModel.OVERLAPS.get());
        assertEquals("the caller ran while the model did", 0, modelSightings);
    }

    private interface SessionCall {
        int run();
    }

    /** Makes one call into the session, marking the caller as running before and after it. */
    private int call(SessionCall sessionCall) {
        TurnCheckingModel.callerRunning = false;
        int status = sessionCall.run();
        TurnCheckingModel.callerRunning = true;
        lookForTheModel();
        return status;
    }

    /** Spends a little time looking for the model, which would be seen if it still ran. */
    private void lookForTheModel() {
        long start = System.nanoTime();
        do {
            if (TurnCheckingModel.modelRunning) {
                modelSightings++;
                return;
            }
        } while (System.nanoTime() - start < TurnCheckingModel.WATCH_NANOS);
    }
}
