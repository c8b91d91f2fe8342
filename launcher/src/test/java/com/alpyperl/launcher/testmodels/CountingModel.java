package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small, fully predictable model for the launcher's tests. Each decision takes an action of
 * Discrete(3); the observation is {@code [decisions so far, sum of actions, a draw from the
 * episode's random generator]}; the reward of a step is {@code stepReward * action}. After
 * {@code maxSteps} decisions the run ends, finished if {@code terminate} is set.
 *
 * <p>The static fields let a test see what happened inside (the launcher's class loader delegates
 * to the test's, so both see the same class).
 */
public class CountingModel implements PlainJavaModel {
    /** Episodes whose run() started. */
    public static final AtomicInteger EPISODES = new AtomicInteger();
    /** Runs whose finally block ran. */
    public static final AtomicInteger FINALLY_RUNS = new AtomicInteger();
    /** Runs that ended by EpisodeAbandoned. */
    public static final AtomicInteger ABANDONED = new AtomicInteger();
    /** The instance of the latest episode. */
    public static volatile CountingModel last;

    @ModelParameter
    public int maxSteps = 3;
    @ModelParameter
    public double stepReward = 1.0;
    @ModelParameter
    public boolean terminate = true;
    @ModelParameter
    public long offset = 0;
    @ModelParameter
    public float scale = 1f;
    @ModelParameter
    public String label = "counting";

    /** The spaces the connector reported when the episode started. */
    public volatile Space observationSpaceInUse;
    public volatile Space actionSpaceInUse;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;
    private double sum;
    private double draw;
    private int action;
    private double pendingReward;
    private boolean finished;

    /** Resets the static counters (call before each test). */
    public static void clear() {
        EPISODES.set(0);
        FINALLY_RUNS.set(0);
        ABANDONED.set(0);
        last = null;
    }

    @Override
    public void run() {
        EPISODES.incrementAndGet();
        last = this;
        observationSpaceInUse = connector.getObservationSpace();
        actionSpaceInUse = connector.getActionSpace();
        draw = connector.getRandom().nextDouble();
        try {
            for (int step = 0; step < maxSteps; step++) {
                connector.requestAction(); // takeAction() has set the action when this returns
                decisions++;
                sum += action;
                pendingReward += stepReward * action;
            }
            finished = terminate;
        } catch (EpisodeAbandoned e) {
            ABANDONED.incrementAndGet();
            throw e;
        } finally {
            FINALLY_RUNS.incrementAndGet();
        }
    }

    @Override
    public double[] getObservation() {
        return new double[] {decisions, sum, draw};
    }

    @Override
    public void takeAction(RLAction chosen) {
        action = chosen.asInt();
    }

    @Override
    public double getReward() {
        double reward = pendingReward;
        pendingReward = 0;
        return reward;
    }

    @Override
    public boolean hasFinished() {
        return finished;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.unboundedBox(3);
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(3);
    }
}
